//! The apply progress bar: drawn on a terminal (stderr), silent when piped.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use jsm_lifecycle::{ItemReport, Progress};

/// An indicatif bar, or nothing when stderr is not a terminal.
#[derive(Debug)]
pub struct Bar {
    bar: Option<ProgressBar>,
}

impl Bar {
    /// A bar when stderr is a terminal.
    pub fn detect() -> Self {
        Self {
            bar: std::io::stderr().is_terminal().then(ProgressBar::hidden),
        }
    }
}

impl Progress for Bar {
    fn start(&self, total: usize) {
        if let Some(bar) = &self.bar {
            bar.set_length(total as u64);
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(
                "{spinner} applying [{bar:30}] {pos}/{len} {msg} ({eta})",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
        }
    }

    fn item(&self, report: &ItemReport) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
            bar.set_message(report.outcome.as_str());
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
