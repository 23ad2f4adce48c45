//! One world per test: the demo emulator, a SQLite store, an engine, the MCP server with a test config, and
//! clients: in-process (a duplex pipe, as stdio) and HTTP.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use jsm_lifecycle::{Capabilities, Engine, Policy};
use jsm_mcp::{Agent, McpConfig, McpServer};
use jsm_store::Store;
use jsm_testkit::TestEmulator;
use rmcp::model::{CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, Tool};
use rmcp::service::RunningService;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Bearer tokens of the test agents (their SHA-256 is in the config).
pub const BOT_TOKEN: &str = "bot-token-3f9a1c";
pub const READER_TOKEN: &str = "reader-token-77d2";
pub const STRANGER_TOKEN: &str = "stranger-token-0b1e";
pub const TINY_TOKEN: &str = "tiny-token-5c5c";

/// Every tool, in listing order.
pub const ALL_TOOLS: [&str; 16] = [
    "find_user",
    "get_user",
    "list_group_members",
    "list_customers",
    "explain_access",
    "seat_report",
    "credential_status",
    "plan_provision_customer",
    "plan_provision_agent",
    "plan_offboard",
    "plan_restore",
    "plan_reconcile",
    "show_plan",
    "apply_plan",
    "plan_status",
    "audit_search",
];

pub fn sha(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The header of the desired-state files of the configured sources.
pub const PEOPLE_HEADER: &str =
    "email,display_name,external_id,kind,active,service_desks,organizations,groups";

/// The names of the configured sources; each reads `NAME.csv` in the world's directory ([`World::source_file`]).
pub const SOURCES: [&str; 2] = ["hr", "contractors"];

/// Every tool on; bot may do everything, reader only reads, stranger holds no scope, tiny has small caps; the
/// sources of [`SOURCES`] read files in `dir`.
pub fn full_config(dir: &Path) -> McpConfig {
    let tools = ALL_TOOLS
        .iter()
        .map(|t| format!("\"{t}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let text = format!(
        r#"version = 1
approvals_url = "https://jsmctl.example.com/approvals"

[tools]
enabled = [{tools}]

[agents.bot]
token_sha256 = "{bot}"
scopes = ["jsm:read", "jsm:plan", "jsm:apply"]
max_plans_per_hour = 100

[agents.reader]
token_sha256 = "{reader}"
scopes = ["jsm:read"]

[agents.stranger]
token_sha256 = "{stranger}"
scopes = []

[agents.tiny]
token_sha256 = "{tiny}"
scopes = ["jsm:read", "jsm:plan", "jsm:apply"]
max_items_per_plan = 2
max_plans_per_hour = 2

[stdio]
agent = "bot"
{sources}"#,
        sources = SOURCES
            .iter()
            .map(|n| format!(
                "\n[[sources]]\nname = \"{n}\"\nspec = \"file:{}\"\n",
                dir.join(format!("{n}.csv")).display()
            ))
            .collect::<String>(),
        bot = sha(BOT_TOKEN),
        reader = sha(READER_TOKEN),
        stranger = sha(STRANGER_TOKEN),
        tiny = sha(TINY_TOKEN),
    );
    McpConfig::from_toml(&text, "test-mcp.toml").unwrap()
}

/// Logs of the whole test binary, for the no-secret test.
pub fn logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = buf.clone();
        let _ = tracing_subscriber::fmt()
            .with_env_filter("debug")
            .with_writer(move || LogWriter(writer.clone()))
            .with_ansi(false)
            .try_init();
        buf
    })
    .clone()
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl Write for LogWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A test world.
pub struct World {
    pub emu: TestEmulator,
    pub engine: Engine,
    pub server: McpServer,
    dir: tempfile::TempDir,
}

impl World {
    pub async fn new() -> Self {
        Self::with(full_config, Policy::default()).await
    }

    /// A world whose server has the config `config` makes for the world's directory (where sources read).
    pub async fn with(config: impl FnOnce(&Path) -> McpConfig, policy: Policy) -> Self {
        let _ = logs();
        let emu = TestEmulator::start().await;
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path());
        let store = Store::open(dir.path().join("state.db").to_str().unwrap())
            .await
            .unwrap();
        let caps = Capabilities {
            scim: true,
            admin: true,
        };
        let engine = Engine::new(
            emu.client(),
            store,
            policy,
            caps,
            "mcp-host",
            emu.base_url.clone(),
        );
        let server = McpServer::new(engine.clone(), config).unwrap();
        Self {
            emu,
            engine,
            server,
            dir,
        }
    }

    /// The world's directory (sources, secret files).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The file the configured source `name` reads.
    pub fn source_file(&self, name: &str) -> PathBuf {
        self.dir().join(format!("{name}.csv"))
    }

    /// Writes the desired state of source `name`: [`PEOPLE_HEADER`] and these rows.
    pub fn write_source(&self, name: &str, rows: &[String]) {
        let mut text = format!("{PEOPLE_HEADER}\n");
        for r in rows {
            text.push_str(r);
            text.push('\n');
        }
        std::fs::write(self.source_file(name), text).unwrap();
    }

    /// The configured agent of this name (`stdio`: the stdio caller).
    pub fn agent(&self, name: &str) -> Agent {
        match name {
            "stdio" => self.server.config().stdio_agent(),
            n => self.server.config().agent(n).unwrap(),
        }
    }

    /// An rmcp client on an in-process pipe, served as this agent (what stdio does with one process per agent).
    pub async fn client(&self, agent: &str) -> Client {
        self.client_with(agent, ()).await
    }

    pub async fn client_with<H: rmcp::ClientHandler>(
        &self,
        agent: &str,
        handler: H,
    ) -> RunningService<RoleClient, H> {
        let (client_io, server_io) = tokio::io::duplex(1 << 20);
        let (sr, sw) = tokio::io::split(server_io);
        let server = self.server.for_agent(self.agent(agent));
        tokio::spawn(async move {
            let _ = jsm_mcp::serve_io(server, sr, sw).await;
        });
        handler.serve(client_io).await.unwrap()
    }

    /// Every account id of the emulator's site that is a customer with a visible email: (email, account id).
    pub fn customer(&self) -> (String, String) {
        let site = self.emu.emu.site();
        site.accounts
            .iter()
            .find(|a| {
                a.account_type == jsm_proto::jira::AccountType::Customer
                    && a.active
                    && !a.email_hidden
            })
            .map(|a| (a.email.clone(), a.account_id.clone()))
            .unwrap()
    }

    /// Active agents with a visible email in the JSM group, the admin aside: (email, account id).
    pub fn agent_people(&self) -> Vec<(String, String)> {
        let site = self.emu.emu.site();
        site.accounts
            .iter()
            .enumerate()
            .filter(|(i, a)| {
                a.active
                    && !a.email_hidden
                    && a.account_type == jsm_proto::jira::AccountType::Atlassian
                    && site.is_member_of(*i as u32, "jira-servicemanagement-users")
                    && !a.email.starts_with("admin")
            })
            .map(|(_, a)| (a.email.clone(), a.account_id.clone()))
            .collect()
    }

    /// The first of [`World::agent_people`].
    pub fn agent_person(&self) -> (String, String) {
        self.agent_people().swap_remove(0)
    }

    /// The audit records of MCP calls, oldest first.
    pub async fn mcp_calls(&self) -> Vec<jsm_store::AuditRecord> {
        self.engine
            .store
            .audit_list(0, 10_000)
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.draft.kind == jsm_mcp::server::AUDIT_KIND)
            .collect()
    }
}

pub type Client = RunningService<RoleClient, ()>;

/// Calls a tool; a protocol error fails the test (tools answer errors as results).
pub async fn call<H: rmcp::ClientHandler>(
    client: &RunningService<RoleClient, H>,
    name: &str,
    args: Value,
) -> CallToolResult {
    let mut params = CallToolRequestParams::new(name.to_string());
    params.arguments = match args {
        Value::Object(m) => Some(m),
        Value::Null => None,
        other => panic!("arguments must be an object: {other}"),
    };
    client
        .peer()
        .call_tool(params)
        .await
        .unwrap_or_else(|e| panic!("{name}: protocol error instead of a tool result: {e}"))
}

/// The structured content of a successful call.
pub fn ok(result: &CallToolResult) -> Value {
    assert_ne!(result.is_error, Some(true), "{result:?}");
    result.structured_content.clone().unwrap()
}

/// The structured content of a successful call, valid against the tool's output schema as `listed` gives it
/// (checked by a real JSON Schema validator), and the same JSON as the call's text.
pub fn validated(result: &CallToolResult, listed: &[Tool], tool: &str) -> Value {
    let value = ok(result);
    let schema = listed
        .iter()
        .find(|t| t.name == tool)
        .and_then(|t| t.output_schema.clone())
        .unwrap_or_else(|| panic!("{tool} is not listed with an output schema"));
    let validator = jsonschema::validator_for(&Value::Object(schema.as_ref().clone()))
        .unwrap_or_else(|e| panic!("{tool}: the output schema is not a valid schema: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{tool}: {errors:#?}\n{value:#}");
    let text = result.content[0].as_text().unwrap().text.clone();
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        value,
        "{tool}: the text is the same JSON"
    );
    value
}

/// The `error` object of a failed call.
pub fn err(result: &CallToolResult) -> Map<String, Value> {
    assert_eq!(result.is_error, Some(true), "{result:?}");
    result.structured_content.as_ref().unwrap()["error"]
        .as_object()
        .unwrap()
        .clone()
}

pub async fn tools<H: rmcp::ClientHandler>(client: &RunningService<RoleClient, H>) -> Vec<Tool> {
    client.peer().list_all_tools().await.unwrap()
}

/// A client config that declares elicitation support.
pub fn eliciting_client_info() -> ClientConfig {
    let mut info = ClientConfig::default();
    info.capabilities = ClientCapabilities::builder().enable_elicitation().build();
    info
}
