//! The output layer: tables and colour for people, stable JSON for scripts, the Terraform-like plan view and a
//! progress bar on a terminal. Commands hand it data; nothing else prints results.

mod plan_view;
mod progress;
mod seats_view;
mod table;

use std::io::IsTerminal;

pub use plan_view::{plan_json, render_plan, render_report};
pub use progress::Bar;
pub use seats_view::{render_check, render_credentials, render_seats, seats_csv};
pub use table::table;

/// ANSI colours, only when stdout is a terminal and `NO_COLOR` is unset.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    on: bool,
}

impl Style {
    /// Colour decided from the terminal and `NO_COLOR`.
    pub fn detect() -> Self {
        Self {
            on: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    /// No colour.
    pub fn plain() -> Self {
        Self { on: false }
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// Green.
    pub fn green(self, t: &str) -> String {
        self.paint("32", t)
    }
    /// Yellow.
    pub fn yellow(self, t: &str) -> String {
        self.paint("33", t)
    }
    /// Red.
    pub fn red(self, t: &str) -> String {
        self.paint("31", t)
    }
    /// Bold.
    pub fn bold(self, t: &str) -> String {
        self.paint("1", t)
    }
    /// Dim.
    pub fn dim(self, t: &str) -> String {
        self.paint("2", t)
    }
}

/// Prints a JSON value on stdout, pretty and with stable key order.
pub fn print_json(value: &serde_json::Value) {
    match serde_json::to_string_pretty(value) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("error: cannot encode the output: {e}"),
    }
}
