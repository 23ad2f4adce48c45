//! The binary's error: a message and the exit code that scripts rely on (0 done, 1 failed, 2 usage or refused
//! input, 3 waiting for an approval).

use std::fmt;
use std::process::ExitCode;

use jsm_lifecycle::ErrorKind;

/// Exit codes of the command contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: done.
    Done,
    /// 1: failed.
    Failed,
    /// 2: usage error or refused input; nothing was written.
    Usage,
    /// 3: a plan waits for an approval.
    AwaitingApproval,
    /// `credentials check`: 0 all fine, 1 something expires within the window, 2 something is already dead.
    Check(u8),
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Done => 0,
            Exit::Failed => 1,
            Exit::Usage => 2,
            Exit::AwaitingApproval => 3,
            Exit::Check(code) => code,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e.code())
    }
}

/// An error with its exit code.
#[derive(Debug)]
pub struct CliError {
    /// Exit code.
    pub exit: Exit,
    /// What to tell the user.
    pub message: String,
}

impl CliError {
    /// A usage error or refused input (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            exit: Exit::Usage,
            message: message.into(),
        }
    }

    /// A failure (exit 1).
    pub fn failed(message: impl Into<String>) -> Self {
        Self {
            exit: Exit::Failed,
            message: message.into(),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

impl From<jsm_lifecycle::Error> for CliError {
    fn from(e: jsm_lifecycle::Error) -> Self {
        let exit = match e.kind() {
            ErrorKind::Refused => Exit::Usage,
            ErrorKind::Failed => Exit::Failed,
            ErrorKind::AwaitingApproval => Exit::AwaitingApproval,
        };
        Self {
            exit,
            message: e.to_string(),
        }
    }
}

impl From<jsm_client::Error> for CliError {
    fn from(e: jsm_client::Error) -> Self {
        let exit = match &e {
            jsm_client::Error::Config { .. } => Exit::Usage,
            e if e.is_not_found() => Exit::Usage,
            _ => Exit::Failed,
        };
        Self {
            exit,
            message: e.to_string(),
        }
    }
}

impl From<jsm_store::Error> for CliError {
    fn from(e: jsm_store::Error) -> Self {
        Self::from(jsm_lifecycle::Error::from(e))
    }
}

impl From<jsm_sources::Error> for CliError {
    fn from(e: jsm_sources::Error) -> Self {
        Self::from(jsm_lifecycle::Error::from(e))
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        Self::failed(e.to_string())
    }
}

/// Result of a command.
pub type CliResult<T = Exit> = Result<T, CliError>;
