//! `jsmctl emulator`: serve the emulator; the first line on stdout is the base URL alone.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use jsm_emulator::clock::Clock;
use jsm_emulator::faults::FaultRule;
use jsm_emulator::identity::{self, Identity};
use jsm_emulator::limits::LimitConfig;
use jsm_emulator::site::{Site, SiteFile};
use jsm_emulator::{Emulator, EmulatorBuilder, RunningEmulator, Seed};
use tokio::net::TcpListener;

mod integrations;

/// Flags of `jsmctl emulator`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8080", env = "JSMCTL_EMULATOR_LISTEN")]
    pub listen: SocketAddr,
    /// Starting data: `demo`, `empty`, or the path of a state file exported from the emulator.
    #[arg(long, default_value = "demo")]
    pub seed: String,
    /// Generate a large site of about N accounts instead (1% agents, the rest customers; up to 1,000,000).
    #[arg(long)]
    pub users: Option<usize>,
    /// Email of the site administrator.
    #[arg(
        long,
        default_value = "admin@example.com",
        env = "JSMCTL_EMULATOR_ADMIN_EMAIL"
    )]
    pub admin_email: String,
    /// API token of the site administrator; also the Bearer token of the `/_emulator` control plane.
    /// Generated and printed when absent.
    #[arg(long, env = "JSMCTL_EMULATOR_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Load the site from FILE when it exists, and save it there on shutdown (`--state` is jsmctl's own store).
    #[arg(long = "state-file")]
    pub state_file: Option<PathBuf>,
    /// Turn rate limiting off.
    #[arg(long)]
    pub no_rate_limits: bool,
    /// Requests per second per endpoint for GET (Atlassian's default is 100).
    #[arg(long, default_value_t = 100)]
    pub limit_get: u32,
    /// Requests per second per endpoint for POST.
    #[arg(long, default_value_t = 100)]
    pub limit_post: u32,
    /// Requests per second per endpoint for PUT.
    #[arg(long, default_value_t = 50)]
    pub limit_put: u32,
    /// Requests per second per endpoint for DELETE.
    #[arg(long, default_value_t = 50)]
    pub limit_delete: u32,
    /// Turn on the hourly points quota with this many points per hour.
    #[arg(long)]
    pub quota_per_hour: Option<u64>,
    /// Answer this share of requests (0 to 1) with 500, 503 + Retry-After, or 503.
    #[arg(long, default_value_t = 0.0)]
    pub fault_rate: f64,
    /// JSON file with fault rules (`{"rules":[...]}`, as `PUT /_emulator/faults` takes).
    #[arg(long)]
    pub faults: Option<PathBuf>,
    /// Largest accepted request body in bytes.
    #[arg(long, default_value_t = jsm_emulator::DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,
    /// Freeze the emulator clock at this instant (RFC 3339, e.g. 2026-01-01T00:00:00Z) for reproducible runs;
    /// it then moves only through `POST /_emulator/clock/advance`. Default: real time.
    #[arg(long, value_parser = parse_instant)]
    pub frozen_clock: Option<i64>,
    /// Once the server is listening, write the connection variables jsmctl reads (ATLASSIAN_SITE, ATLASSIAN_EMAIL,
    /// ATLASSIAN_API_TOKEN, ATLASSIAN_API_URL, ATLASSIAN_SCIM_URL, ATLASSIAN_SCIM_TOKEN, ATLASSIAN_ORG_ID,
    /// ATLASSIAN_ADMIN_API_KEY) to FILE as NAME=value lines, mode 0600 since they hold tokens; the file appears
    /// whole and is removed on shutdown. `set -a; . FILE; set +a` then points jsmctl at this emulator.
    #[arg(long, value_name = "FILE")]
    pub env_file: Option<PathBuf>,
    #[command(flatten)]
    pub integrations: integrations::IntegrationArgs,
    /// Id of the SCIM directory: the SCIM base is `{base}/scim/directory/{ID}`.
    #[arg(long, default_value = identity::DEFAULT_DIRECTORY_ID, env = "JSMCTL_EMULATOR_DIRECTORY_ID")]
    pub directory_id: String,
    /// The directory's SCIM API key (`Authorization: Bearer TOKEN`).
    #[arg(
        long,
        default_value = identity::DEFAULT_SCIM_TOKEN,
        env = "JSMCTL_EMULATOR_SCIM_TOKEN",
        hide_env_values = true
    )]
    pub scim_token: String,
    /// Id of the organization: the admin API is `{base}/admin/v1/orgs/{ID}`.
    #[arg(long, default_value = identity::DEFAULT_ORG_ID, env = "JSMCTL_EMULATOR_ORG_ID")]
    pub org_id: String,
    /// The organization API key of the admin and user management APIs (`Authorization: Bearer KEY`).
    #[arg(
        long,
        default_value = identity::DEFAULT_ORG_API_KEY,
        env = "JSMCTL_EMULATOR_ORG_API_KEY",
        hide_env_values = true
    )]
    pub org_api_key: String,
}

/// Builds an emulator from the flags (without binding a port).
pub fn build(args: &Args, admin_token: &str) -> anyhow::Result<Emulator> {
    let mut limits = if args.no_rate_limits {
        LimitConfig::off()
    } else {
        LimitConfig::default()
    };
    limits.get = args.limit_get;
    limits.post = args.limit_post;
    limits.put = args.limit_put;
    limits.delete = args.limit_delete;
    limits.quota_per_hour = args.quota_per_hour;
    if !(0.0..=1.0).contains(&args.fault_rate) {
        bail!(
            "--fault-rate must be between 0 and 1, got {}",
            args.fault_rate
        );
    }
    let mut rules = FaultRule::server_errors(args.fault_rate);
    rules.retain(|r| r.probability > 0.0);
    if let Some(path) = &args.faults {
        rules.extend(read_fault_rules(path)?);
    }
    let mut builder: EmulatorBuilder = Emulator::builder()
        .admin(&args.admin_email, admin_token)
        .limits(limits)
        .faults(rules)
        .max_body_bytes(args.max_body_bytes)
        .clock(match args.frozen_clock {
            Some(at) => Clock::frozen(at),
            None => Clock::real(),
        })
        .identity(Identity {
            directory_id: args.directory_id.clone(),
            scim_token: args.scim_token.clone(),
            org_id: args.org_id.clone(),
            org_api_key: args.org_api_key.clone(),
        });
    builder = args.integrations.apply(builder);
    builder = match (args.users, args.seed.as_str()) {
        (Some(users), _) => builder.seed(Seed::Generated { users }),
        (None, "demo") => builder.seed(Seed::Demo),
        (None, "empty") => builder.seed(Seed::Empty),
        (None, path) => builder.site(read_state(Path::new(path))?),
    };
    if let Some(state) = &args.state_file
        && state.exists()
    {
        builder = builder.site(read_state(state)?);
    }
    Ok(builder.build())
}

/// Parses an RFC 3339 instant into milliseconds since the epoch.
fn parse_instant(value: &str) -> Result<i64, String> {
    chrono::DateTime::parse_from_rfc3339(value)
        .map(|t| t.timestamp_millis())
        .map_err(|e| format!("expected an RFC 3339 instant such as 2026-01-01T00:00:00Z: {e}"))
}

/// Reads a JSON file; a value that does not fit names its JSON path (`accounts[3].email`).
fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut de = serde_json::Deserializer::from_str(&text);
    serde_path_to_error::deserialize(&mut de)
        .map_err(|e| anyhow::anyhow!("{}: at '{}': {}", path.display(), e.path(), e.inner()))
}

fn read_fault_rules(path: &Path) -> anyhow::Result<Vec<FaultRule>> {
    #[derive(serde::Deserialize)]
    struct Rules {
        rules: Vec<FaultRule>,
    }
    let rules: Rules = read_json(path)?;
    for (i, rule) in rules.rules.iter().enumerate() {
        if let Err(e) = rule.validate() {
            bail!("{}: rules[{i}]: {e}", path.display());
        }
    }
    Ok(rules.rules)
}

fn read_state(path: &Path) -> anyhow::Result<Site> {
    let file: SiteFile = read_json(path)?;
    Site::from_file(file).map_err(|e| anyhow::anyhow!("state file {}: {e}", path.display()))
}

/// Writes the state next to `path` first, then renames, so a crash never leaves half a file.
fn save_state(emu: &Emulator, path: &Path) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    let bytes = serde_json::to_vec(&emu.export())?;
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))?;
    Ok(())
}

/// Resolves when SIGINT or SIGTERM arrives. The handlers are installed when this is called, not when the future
/// is first polled, so a signal sent right after the URL is printed is caught rather than killing the process.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    #[cfg(unix)]
    let int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok();
    async move {
        #[cfg(unix)]
        {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = wait(term) => {},
                _ = wait(int) => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Runs `jsmctl emulator`.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let (token, generated) = match &args.admin_token {
        Some(t) => (t.clone(), false),
        None => (format!("emu-{}", uuid::Uuid::new_v4().simple()), true),
    };
    let emu = build(&args, &token)?;
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let running = emu.spawn_on(listener)?;
    let shutdown = shutdown_signal();
    if let Some(path) = &args.env_file
        && let Err(e) = write_env_file(&running, path)
    {
        // The file's error is the one to report; the server had no time to fail.
        let _ = running.stop().await;
        return Err(e);
    }
    let base = running.base_url().to_string();
    println!("{base}");
    if generated {
        println!("admin-token: {token}");
    }
    eprintln!(
        "jsmctl emulator: {} accounts; admin {} (Basic email:token); control plane {base}/_emulator (Bearer token)",
        running.emu.site().accounts.len(),
        running.admin_email()
    );
    eprintln!(
        "jsmctl emulator: SCIM {} (Bearer directory key); admin API {base}/admin/v1/orgs/{} (Bearer org key)",
        running.scim_url(),
        running.org_id()
    );
    if let Some(path) = &args.env_file {
        eprintln!(
            "jsmctl emulator: connection variables in {} (`set -a; . {0}; set +a`)",
            path.display()
        );
    }
    eprintln!("{}", args.integrations.banner(&base));
    shutdown.await;
    let emu = running.emu.clone();
    let served = running.stop().await;
    if let Some(path) = &args.env_file {
        let _ = std::fs::remove_file(path);
    }
    served?;
    if let Some(state) = &args.state_file {
        save_state(&emu, state)?;
        eprintln!("jsmctl emulator: state saved to {}", state.display());
    }
    Ok(())
}

/// Writes `NAME=value` lines for sh to source, mode 0600 from the start, next to `path` first and then renamed,
/// so whoever waits for the file never reads half of it.
fn write_env_file(running: &RunningEmulator, path: &Path) -> anyhow::Result<()> {
    let mut text = String::new();
    for (name, value) in running.env_vars() {
        text.push_str(name);
        text.push('=');
        text.push_str(&sh_quote(&value));
        text.push('\n');
    }
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&tmp).and_then(|mut file| {
        std::io::Write::write_all(&mut file, text.as_bytes())?;
        file.sync_all()
    });
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("writing --env-file {}", path.display()));
    }
    Ok(())
}

/// `value` as sh reads it back: bare when it has only characters sh takes literally, single-quoted otherwise.
fn sh_quote(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@%+,=".contains(c));
    if plain {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::sh_quote;

    #[test]
    fn values_are_quoted_only_when_sh_would_change_them() {
        assert_eq!(
            sh_quote("http://127.0.0.1:8080/scim/directory/d-1"),
            "http://127.0.0.1:8080/scim/directory/d-1"
        );
        assert_eq!(sh_quote("admin@example.com"), "admin@example.com");
        assert_eq!(sh_quote("a b$c"), "'a b$c'");
        assert_eq!(sh_quote("it's"), "'it'\\''s'");
        assert_eq!(sh_quote(""), "''");
    }
}
