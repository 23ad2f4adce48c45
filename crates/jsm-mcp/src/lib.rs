//! `jsm-mcp`: the MCP server of jsmctl, and the only crate that depends on rmcp.
//!
//! Agents look up people, explain access and seats, and propose changes as plans; the server enforces the
//! guardrails itself, never through the tool annotations:
//! - **read-only by default**: write tools are enabled per tool in the config ([`config`]); a disabled tool is
//!   not listed and is refused by name;
//! - **no self-approval**: no tool approves and the server sends no elicitation; `apply_plan` applies only what
//!   the engine's gate lets through (policy, or a human approval bound to the plan's hash);
//! - **stricter for agents**: every plan is marked as the agent's, so policy requires a human for each
//!   deactivation, removal and seat grant (`mcp.agent_requires_approval`), unless the config relaxes a rule for
//!   a tool with a reason the plan records;
//! - **blast radius**: items per plan and plans per hour per agent;
//! - **data is not instructions**: Atlassian text is returned in data fields; people are picked by one email or
//!   account id only, identity sources by the name the config gives them (never a spec, path or URL);
//! - **audit**: every call, with the agent, the tool, its arguments (secrets never) and the result;
//! - **over HTTP** ([`http`]): an OAuth 2.0 resource server with static bearer tokens (SHA-256, constant-time
//!   compare), 401/403 with `WWW-Authenticate` and `resource_metadata`, RFC 9728 metadata, `Host` and `Origin`
//!   checks; the client's token is never passed on.
//!
//! JWT verification against an issuer's JWKS is not built: static tokens from the config are the only bearer
//! credentials.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod args;
pub mod config;
pub mod error;
pub mod http;
mod ops;
pub mod server;
pub mod tools;
pub mod views;

pub use config::{Agent, McpConfig};
pub use error::{Error, Result};
pub use server::McpServer;
pub use tools::{ToolError, ToolName};

use rmcp::ServiceExt;

/// Serves the stdio transport (stdin/stdout carry the protocol; log to stderr only) until the client closes it.
pub async fn serve_stdio(server: McpServer) -> Result<()> {
    let running = server
        .for_stdio()
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| Error::Transport(e.to_string()))?;
    running
        .waiting()
        .await
        .map(|_| ())
        .map_err(|e| Error::Transport(e.to_string()))
}

/// Serves any byte stream (a duplex pipe in tests, a socket) as one connection of this server.
pub async fn serve_io<R, W>(server: McpServer, read: R, write: W) -> Result<()>
where
    R: tokio::io::AsyncRead + Send + Unpin + 'static,
    W: tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let running = server
        .serve((read, write))
        .await
        .map_err(|e| Error::Transport(e.to_string()))?;
    running
        .waiting()
        .await
        .map(|_| ())
        .map_err(|e| Error::Transport(e.to_string()))
}
