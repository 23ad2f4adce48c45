//! How the demo talks: a heading per job, one line of explanation per step, plans and apply reports through
//! the CLI's own output layer, notices where the demo does something a person does in real use, and checks.

use jsm_lifecycle::{ApplyReport, Plan};

use crate::output::{self, Style};

/// Prints the demo's narration.
#[derive(Debug, Clone, Copy)]
pub struct Say {
    style: Style,
}

impl Say {
    /// Colour on a terminal, plain when piped or with `NO_COLOR`.
    pub fn detect() -> Self {
        Self {
            style: Style::detect(),
        }
    }

    /// A job's heading.
    pub fn job(&self, title: &str) {
        println!();
        println!("{}", self.style.bold(&format!("== {title} ==")));
    }

    /// One line that says what happens next and why.
    pub fn step(&self, text: &str) {
        println!();
        println!("{} {text}", self.style.bold(">"));
    }

    /// A plan, as `jsmctl` shows it before applying.
    pub fn plan(&self, plan: &Plan) {
        println!();
        println!("{}", indent(&output::render_plan(plan, self.style)));
    }

    /// What apply did, as `jsmctl apply` reports it.
    pub fn report(&self, report: &ApplyReport) {
        println!("{}", indent(&output::render_report(report, self.style)));
    }

    /// Something the demo does for you that a person does in real use.
    pub fn notice(&self, text: &str) {
        println!("{}", self.style.yellow(&format!("  NOTICE: {text}")));
    }

    /// A check that passed.
    pub fn ok(&self, text: &str) {
        println!("  {} {text}", self.style.green("ok:"));
    }

    /// Plain text.
    pub fn line(&self, text: &str) {
        println!("{text}");
    }
}

/// Indents every line by two spaces, so the CLI's output stands apart from the narration.
fn indent(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("  {l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}
