//! The crate's errors: what stops the server from starting or serving. A tool call never fails with one of
//! these: it answers a tool error ([`crate::tools::ToolError`]) instead.

use thiserror::Error;

/// Result of the server.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can stop the server.
#[derive(Debug, Error)]
pub enum Error {
    /// The config file does not fit.
    #[error("{path}: {detail}")]
    Config {
        /// The file.
        path: String,
        /// What is wrong, naming the key.
        detail: String,
    },
    /// The transport failed (stdio closed with an error, the listener failed).
    #[error("mcp transport: {0}")]
    Transport(String),
}
