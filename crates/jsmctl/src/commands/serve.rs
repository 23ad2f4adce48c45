//! `jsmctl serve` (the engine as a service: API, approvals page, webhooks, scheduler, a worker) and
//! `jsmctl operators` (who may use it). The first stdout line of `serve` is its base URL alone.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use jsm_client::{Clock, SystemClock};
use jsm_serve::{AppState, ClientFactory, ServeConfig, ServeFile};
use secrecy::SecretString;
use serde_json::json;
use tokio::net::TcpListener;

use crate::cli::Format;
use crate::context::Context;
use crate::error::{CliError, CliResult, Exit};

/// Flags of `jsmctl serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on; port 0 picks a free port (the first stdout line is the base URL).
    #[arg(long, default_value = "127.0.0.1:8090", env = "JSMCTL_SERVE_LISTEN")]
    pub listen: SocketAddr,
    /// Serve config (TOML: schedules, lease and heartbeat, source).
    #[arg(long, env = "JSMCTL_SERVE_CONFIG")]
    pub serve_config: Option<PathBuf>,
    /// The secret Atlassian signs webhooks with (X-Hub-Signature); beats `webhook_secret` in the serve config;
    /// without either every webhook is refused.
    #[arg(long, env = "JSMCTL_WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<String>,
    /// Serve the API and the page only; run no worker and no scheduler in this process.
    #[arg(long)]
    pub no_worker: bool,
    /// This worker's id (default: host, pid and a random part).
    #[arg(long, env = "JSMCTL_WORKER_ID")]
    pub worker_id: Option<String>,
    /// Seconds a job lease lasts without a heartbeat (a dead worker's job is taken over after it).
    #[arg(long)]
    pub lease_seconds: Option<u64>,
    /// Seconds between heartbeats.
    #[arg(long)]
    pub heartbeat_seconds: Option<u64>,
    /// Also serve the MCP server (`jsmctl mcp`) at /mcp, behind its own agent tokens.
    #[arg(long)]
    pub mcp: bool,
    /// The MCP config for --mcp (as `jsmctl mcp --mcp-config` takes).
    #[arg(long = "mcp-config", env = "JSMCTL_MCP_CONFIG")]
    pub mcp_config: Option<PathBuf>,
}

/// `jsmctl operators …`
#[derive(Debug, clap::Subcommand)]
pub enum OperatorsCmd {
    /// Add an operator and print their bearer token (shown this once; only its hash is stored).
    Add {
        /// The operator's name (recorded as the actor of what they do).
        name: String,
    },
    /// Operators and whether they are enabled.
    List,
    /// Disable an operator and end their sessions.
    Disable {
        /// The operator's name.
        name: String,
    },
}

fn worker_id() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    let rand = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "{host}-{}-{}",
        std::process::id(),
        rand.get(..6).unwrap_or(&rand)
    )
}

#[cfg(unix)]
fn private(path: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 == 0)
}

#[cfg(not(unix))]
fn private(_path: &std::path::Path) -> bool {
    true
}

/// Runs `jsmctl serve` until SIGINT or SIGTERM.
pub async fn run(ctx: &Context, args: &Args) -> CliResult {
    let site = ctx
        .settings
        .site
        .clone()
        .ok_or_else(|| CliError::usage("no site: set ATLASSIAN_SITE or pass --site"))?;
    // Fail now, not at the first job, when the credentials are incomplete.
    ctx.client_builder()?;
    let mut config = ServeConfig::new(site, args.worker_id.clone().unwrap_or_else(worker_id));
    if let Some(path) = &args.serve_config {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| CliError::usage(format!("serve config {shown}: {e}")))?;
        let file = ServeFile::parse(&text, &shown).map_err(|e| CliError::usage(e.to_string()))?;
        if file.webhook_secret.is_some() && !private(path) {
            return Err(CliError::usage(format!(
                "serve config {shown} holds the webhook secret but other users can read it: chmod 600 {shown}"
            )));
        }
        file.apply(&mut config, &shown)
            .map_err(|e| CliError::usage(e.to_string()))?;
    }
    if let Some(s) = args.lease_seconds {
        config.lease = Duration::from_secs(s.max(1));
    }
    if let Some(s) = args.heartbeat_seconds {
        config.heartbeat = Duration::from_secs(s.max(1));
    }
    if config.heartbeat >= config.lease {
        return Err(CliError::usage(
            "the heartbeat must be shorter than the lease",
        ));
    }
    if let Some(secret) = args.webhook_secret.clone().filter(|s| !s.is_empty()) {
        config.webhook_secret = Some(SecretString::from(secret));
    }
    config.run_worker = !args.no_worker;
    // Plain-HTTP loopback (tests, a laptop) cannot carry Secure cookies; anything else must.
    config.secure_cookies = !args.listen.ip().is_loopback();
    let store = ctx.store().await?;
    if store.backend() == "sqlite" && config.run_worker {
        // SQLite is the single-process default: a second worker on the same file is refused, not raced.
        let live_since = SystemClock.now()
            - chrono::Duration::from_std(config.heartbeat * 3)
                .unwrap_or(chrono::Duration::seconds(9));
        if let Some(other) = store
            .workers_live(live_since)
            .await?
            .into_iter()
            .find(|w| w.id != config.worker_id)
        {
            return Err(CliError::usage(format!(
                "another jsmctl serve worker ({}) is running on this SQLite state, which holds one; use a \
                 postgres:// state for several, or --no-worker for a second API and page",
                other.id
            )));
        }
    }
    let settings = ctx.settings.clone();
    let clients: ClientFactory = Arc::new(move |params| {
        let builder = settings
            .client_builder()
            .map_err(|e| jsm_client::Error::Config { reason: e.message })?;
        builder
            .limiter(params.limiter)
            .observer(params.observer)
            .build()
    });
    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(|e| CliError::failed(format!("binding {}: {e}", args.listen)))?;
    let addr = listener.local_addr()?;
    let mut builder = AppState::builder(store.clone(), config, clients)
        .policy(ctx.policy()?)
        .capabilities(ctx.settings.capabilities());
    if args.mcp {
        let mcp_config = super::mcp::read_config(args.mcp_config.as_deref())?;
        let server = jsm_mcp::McpServer::new(ctx.engine().await?, mcp_config)
            .map_err(|e| CliError::usage(e.to_string()))?;
        builder = builder.mcp(jsm_mcp::http::app(server, &format!("http://{addr}")));
    }
    let state = builder
        .build()
        .map_err(|e| CliError::failed(e.to_string()))?;
    println!("http://{addr}");
    let cfg = state.config();
    if store.backend() == "sqlite" {
        eprintln!(
            "jsmctl serve: SQLite state: this process runs the only worker (use a postgres:// state for several)"
        );
    }
    eprintln!(
        "jsmctl serve: worker {} ({}), page http://{addr}/ui, API http://{addr}/api/v1 (OpenAPI at /openapi.json), \
         webhooks http://{addr}/webhooks/atlassian{}{}",
        cfg.worker_id,
        if cfg.run_worker {
            "running jobs"
        } else {
            "no worker"
        },
        if cfg.webhook_secret.is_some() {
            ""
        } else {
            " (refused: no JSMCTL_WEBHOOK_SECRET)"
        },
        if args.mcp {
            format!(", MCP http://{addr}/mcp")
        } else {
            String::new()
        },
    );
    jsm_serve::serve(listener, state, super::emulator::shutdown_signal()).await?;
    store.close().await;
    Ok(Exit::Done)
}

/// Runs `jsmctl operators …`.
pub async fn operators(ctx: &Context, cmd: &OperatorsCmd) -> CliResult {
    let store = ctx.store().await?;
    let now = SystemClock.now();
    match cmd {
        OperatorsCmd::Add { name } => {
            let token = jsm_serve::auth::add_operator(&store, name, &ctx.settings.actor, now)
                .await
                .map_err(|e| match e {
                    jsm_serve::Error::BadRequest(m) => CliError::usage(m),
                    jsm_serve::Error::Store(jsm_store::Error::Conflict { what }) => {
                        CliError::usage(what)
                    }
                    other => CliError::failed(other.to_string()),
                })?;
            match ctx.format {
                Format::Json => println!("{}", json!({ "operator": name.trim(), "token": token })),
                Format::Table => {
                    println!("{token}");
                    eprintln!(
                        "operator {} added; the token above is shown once (only its hash is stored)",
                        name.trim()
                    );
                }
            }
        }
        OperatorsCmd::List => {
            let ops = store.operators().await?;
            match ctx.format {
                Format::Json => {
                    let list: Vec<_> = ops
                        .iter()
                        .map(|o| json!({ "operator": o.name, "created_at": o.created_at, "created_by": o.created_by, "disabled_at": o.disabled_at }))
                        .collect();
                    println!("{}", serde_json::Value::Array(list));
                }
                Format::Table => {
                    for o in &ops {
                        let state = if o.disabled_at.is_some() {
                            "disabled"
                        } else {
                            "enabled"
                        };
                        println!(
                            "{:<24} {state:<9} added {} by {}",
                            o.name,
                            o.created_at.format("%Y-%m-%d"),
                            o.created_by
                        );
                    }
                }
            }
        }
        OperatorsCmd::Disable { name } => {
            if !store.operator_disable(name, now).await? {
                return Err(CliError::usage(format!("no enabled operator {name:?}")));
            }
            eprintln!("operator {name} disabled; their sessions are ended");
        }
    }
    store.close().await;
    Ok(Exit::Done)
}
