//! `jsmctl mcp`: the MCP server for AI agents (crate `jsm-mcp`), over stdio or streamable HTTP, on the engine of
//! this context (the server's own Atlassian credentials; no token of an MCP client is ever passed on).

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use jsm_mcp::{McpConfig, McpServer};

use crate::context::Context;
use crate::error::{CliError, CliResult, Exit};

/// Flags of `jsmctl mcp`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Serve streamable HTTP on this address instead of stdio (port 0 picks a free port); the first stdout line
    /// is then the base URL alone, and the MCP endpoint is its /mcp.
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// The MCP config (TOML: enabled tools, agents and their token hashes, HTTP checks). Without one: the
    /// read-only tools, a stdio caller with scope jsm:read, and no HTTP agent.
    #[arg(long = "mcp-config", env = "JSMCTL_MCP_CONFIG")]
    pub mcp_config: Option<PathBuf>,
}

/// Reads and checks the MCP config, or the defaults without one.
pub fn read_config(path: Option<&std::path::Path>) -> CliResult<McpConfig> {
    let Some(path) = path else {
        return Ok(McpConfig::default());
    };
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::usage(format!("mcp config {shown}: {e}")))?;
    McpConfig::from_toml(&text, &shown).map_err(|e| CliError::usage(e.to_string()))
}

/// Runs the server until stdin closes (stdio) or SIGINT/SIGTERM (HTTP).
pub async fn run(ctx: &Context, args: &Args) -> CliResult {
    let config = read_config(args.mcp_config.as_deref())?;
    let engine = ctx.engine().await?;
    let server = McpServer::new(engine, config).map_err(|e| CliError::usage(e.to_string()))?;
    match args.listen {
        None => {
            tracing::info!("serving MCP over stdio");
            jsm_mcp::serve_stdio(server)
                .await
                .map_err(|e| CliError::failed(e.to_string()))?;
        }
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| CliError::failed(format!("cannot listen on {addr}: {e}")))?;
            let local = listener.local_addr()?;
            let mut stdout = std::io::stdout();
            writeln!(stdout, "http://{local}")?;
            stdout.flush()?;
            eprintln!("jsmctl mcp: streamable HTTP at http://{local}/mcp");
            jsm_mcp::http::serve(listener, server, super::emulator::shutdown_signal())
                .await
                .map_err(|e| CliError::failed(e.to_string()))?;
        }
    }
    Ok(Exit::Done)
}
