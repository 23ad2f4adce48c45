//! The MCP server's config file: which tools are enabled, which agent-overlay rules a tool relaxes (with a
//! reason), the agents (static bearer tokens as SHA-256, scopes, blast-radius caps), the identity sources
//! `plan_reconcile` may read (an agent names one; it never passes a spec, path or URL) and the HTTP checks.
//!
//! ```toml
//! version = 1
//! approvals_url = "https://jsmctl.example.com/approvals"
//!
//! [tools]
//! enabled = ["find_user", "explain_access", "seat_report", "plan_offboard", "plan_reconcile", "show_plan",
//!            "apply_plan", "plan_status"]
//!
//! [[sources]]
//! name = "hr"
//! spec = "file:/srv/hr/people.csv"
//! mapping = "/srv/hr/mapping.toml"
//!
//! [tools.relax.plan_provision_agent]
//! rules = ["seat_grants"]
//! reason = "agent seats are pre-approved in the HR system"
//!
//! [agents.helpdesk-bot]
//! token_sha256 = "…64 hex digits…"
//! scopes = ["jsm:read", "jsm:plan", "jsm:apply"]
//! max_items_per_plan = 25
//! max_plans_per_hour = 10
//!
//! [stdio]
//! agent = "helpdesk-bot"
//!
//! [http]
//! resource = "https://mcp.example.com/mcp"
//! allowed_hosts = ["mcp.example.com"]
//! allowed_origins = ["https://chat.example.com"]
//! ```

use std::collections::{BTreeMap, BTreeSet};

use jsm_lifecycle::{AgentRule, Relaxation};
use jsm_sources::SourceConfig;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::tools::{self, Access, ToolName};

/// Version of the config file format.
pub const CONFIG_VERSION: u32 = 1;

/// Scope of the read tools.
pub const SCOPE_READ: &str = "jsm:read";
/// Scope of the tools that make and store plans.
pub const SCOPE_PLAN: &str = "jsm:plan";
/// Scope of `apply_plan`.
pub const SCOPE_APPLY: &str = "jsm:apply";
/// Every scope the server knows.
pub const SCOPES: [&str; 3] = [SCOPE_READ, SCOPE_PLAN, SCOPE_APPLY];

/// Default cap on the items of one plan an agent may make.
pub const DEFAULT_MAX_ITEMS_PER_PLAN: u32 = 25;
/// Default cap on the plans an agent may make in an hour.
pub const DEFAULT_MAX_PLANS_PER_HOUR: u32 = 10;

/// The name the stdio caller has when the config names no `[stdio] agent`.
pub const DEFAULT_STDIO_AGENT: &str = "stdio";

/// The whole config file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct McpConfig {
    /// Must be [`CONFIG_VERSION`].
    pub version: u32,
    /// Where a human approves plans (the approvals page), shown to the agent next to the CLI command.
    #[serde(default)]
    pub approvals_url: Option<String>,
    /// Which tools are enabled and what they relax.
    #[serde(default)]
    pub tools: ToolsConfig,
    /// The agents, by name.
    #[serde(default)]
    pub agents: BTreeMap<String, AgentConfig>,
    /// The identity sources `plan_reconcile` reads, by name (`[[sources]]`: name, spec, mapping).
    #[serde(default)]
    pub sources: Vec<SourceConfig>,
    /// Who the stdio caller is.
    #[serde(default)]
    pub stdio: StdioConfig,
    /// Checks of the streamable HTTP transport.
    #[serde(default)]
    pub http: HttpConfig,
}

/// `[tools]`
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolsConfig {
    /// Enabled tools; without this key the read-only tools. Write tools are enabled only by naming them.
    #[serde(default)]
    pub enabled: Option<Vec<String>>,
    /// Agent-overlay rules relaxed per plan-making tool.
    #[serde(default)]
    pub relax: BTreeMap<String, RelaxConfig>,
}

/// `[tools.relax.TOOL]`: which rules of the agent overlay this tool's plans skip, and why.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelaxConfig {
    /// `deactivations`, `removals`, `seat_grants`.
    pub rules: Vec<AgentRule>,
    /// Why; recorded in every plan the tool makes, and logged at start.
    pub reason: String,
}

/// `[agents.NAME]`
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// SHA-256 (lower-case hex) of the agent's bearer token, for HTTP; a stdio-only agent has none.
    #[serde(default)]
    pub token_sha256: Option<String>,
    /// `jsm:read`, `jsm:plan`, `jsm:apply`.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Most items one plan of this agent may have.
    #[serde(default = "default_items")]
    pub max_items_per_plan: u32,
    /// Most plans this agent may make in any hour.
    #[serde(default = "default_plans")]
    pub max_plans_per_hour: u32,
}

fn default_items() -> u32 {
    DEFAULT_MAX_ITEMS_PER_PLAN
}

fn default_plans() -> u32 {
    DEFAULT_MAX_PLANS_PER_HOUR
}

/// `[stdio]`
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StdioConfig {
    /// The agent the stdio caller is (its scopes and caps apply); default: `stdio` with `jsm:read` only.
    #[serde(default)]
    pub agent: Option<String>,
}

/// `[http]`
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// The protected resource (the audience), e.g. `https://mcp.example.com/mcp`; default the listen address.
    #[serde(default)]
    pub resource: Option<String>,
    /// Authorization servers named in the protected-resource metadata.
    #[serde(default)]
    pub authorization_servers: Vec<String>,
    /// `Host` values (`host` or `host:port`) accepted; default loopback names only.
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    /// `Origin` values (`scheme://host[:port]`) accepted; a request with any other `Origin` is refused, one
    /// without `Origin` (not a browser) passes.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
}

/// An agent as the server enforces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    /// Its name in the config.
    pub name: String,
    /// What it may do.
    pub scopes: BTreeSet<String>,
    /// Most items per plan.
    pub max_items_per_plan: u32,
    /// Most plans per hour.
    pub max_plans_per_hour: u32,
}

impl Agent {
    /// The actor recorded in plans and the audit log: `mcp:NAME`.
    pub fn actor(&self) -> String {
        format!("mcp:{}", self.name)
    }

    /// Whether it holds this scope.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.contains(scope)
    }
}

impl Default for McpConfig {
    fn default() -> Self {
        Self {
            version: CONFIG_VERSION,
            approvals_url: None,
            tools: ToolsConfig::default(),
            agents: BTreeMap::new(),
            sources: Vec::new(),
            stdio: StdioConfig::default(),
            http: HttpConfig::default(),
        }
    }
}

fn bad(path: &str, detail: impl Into<String>) -> Error {
    Error::Config {
        path: path.to_string(),
        detail: detail.into(),
    }
}

impl McpConfig {
    /// Parses and checks a config file; errors name the file and the key.
    pub fn from_toml(text: &str, path: &str) -> Result<Self> {
        let config: McpConfig =
            toml::from_str(text).map_err(|e| bad(path, e.to_string().trim_end()))?;
        config.check(path)?;
        Ok(config)
    }

    /// Checks what serde cannot: version, tool names, relaxations, tokens, scopes, the stdio agent.
    pub fn check(&self, path: &str) -> Result<()> {
        if self.version != CONFIG_VERSION {
            return Err(bad(
                path,
                format!(
                    "version = {} is not supported (this jsmctl reads version {CONFIG_VERSION})",
                    self.version
                ),
            ));
        }
        if let Some(enabled) = &self.tools.enabled {
            for name in enabled {
                tool_name(path, "tools.enabled", name)?;
            }
        }
        for (name, relax) in &self.tools.relax {
            let key = format!("tools.relax.{name}");
            let tool = tool_name(path, &key, name)?;
            if tool.access() != Access::Plan {
                return Err(bad(
                    path,
                    format!("{key}: only tools that make plans can relax the agent overlay"),
                ));
            }
            if relax.rules.is_empty() {
                return Err(bad(path, format!("{key}.rules: name at least one rule")));
            }
            if relax.reason.trim().is_empty() {
                return Err(bad(
                    path,
                    format!(
                        "{key}.reason: a relaxation needs a reason (it is recorded in every plan)"
                    ),
                ));
            }
        }
        for (name, agent) in &self.agents {
            let key = format!("agents.{name}");
            if !is_name(name) {
                return Err(bad(
                    path,
                    format!("{key}: names are 1 to 64 letters, digits, '-' or '_'"),
                ));
            }
            if let Some(hash) = &agent.token_sha256
                && (hash.len() != 64
                    || !hash
                        .chars()
                        .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)))
            {
                return Err(bad(
                    path,
                    format!(
                        "{key}.token_sha256: 64 lower-case hex digits (sha256sum of the token)"
                    ),
                ));
            }
            for scope in &agent.scopes {
                if !SCOPES.contains(&scope.as_str()) {
                    return Err(bad(
                        path,
                        format!(
                            "{key}.scopes: unknown scope {scope:?} (known: {})",
                            SCOPES.join(", ")
                        ),
                    ));
                }
            }
            if agent.max_items_per_plan == 0 || agent.max_plans_per_hour == 0 {
                return Err(bad(
                    path,
                    format!("{key}: max_items_per_plan and max_plans_per_hour are at least 1"),
                ));
            }
        }
        let hashes: Vec<&String> = self
            .agents
            .values()
            .filter_map(|a| a.token_sha256.as_ref())
            .collect();
        let unique: BTreeSet<&&String> = hashes.iter().collect();
        if unique.len() != hashes.len() {
            return Err(bad(path, "agents: two agents have the same token"));
        }
        self.check_sources(path)?;
        if let Some(agent) = &self.stdio.agent
            && !self.agents.contains_key(agent)
        {
            return Err(bad(
                path,
                format!("stdio.agent: no [agents.{agent}] in this file"),
            ));
        }
        for origin in &self.http.allowed_origins {
            if !(origin.starts_with("http://") || origin.starts_with("https://")) {
                return Err(bad(
                    path,
                    format!(
                        "http.allowed_origins: {origin:?} needs a scheme (https://host[:port])"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// `[[sources]]`: names an agent can type (the same shape as agent names), each once, each with a spec;
    /// and `plan_reconcile` enabled only with at least one source to read.
    fn check_sources(&self, path: &str) -> Result<()> {
        let mut seen = BTreeSet::new();
        for (i, s) in self.sources.iter().enumerate() {
            let key = format!("sources[{i}]");
            if !is_name(&s.name) {
                return Err(bad(
                    path,
                    format!(
                        "{key}.name: {:?}: names are 1 to 64 letters, digits, '-' or '_'",
                        s.name
                    ),
                ));
            }
            if !seen.insert(s.name.as_str()) {
                return Err(bad(
                    path,
                    format!("{key}.name: {:?} is named twice", s.name),
                ));
            }
            if s.spec.trim().is_empty() {
                return Err(bad(
                    path,
                    format!("{key}.spec: give file:PATH, scim:URL or ldap://HOST:PORT/BASE_DN"),
                ));
            }
        }
        if self.sources.is_empty() && self.enabled_tools().contains(&ToolName::PlanReconcile) {
            return Err(bad(
                path,
                "tools.enabled: plan_reconcile needs at least one [[sources]] entry (name, spec, mapping) to read",
            ));
        }
        Ok(())
    }

    /// The configured source of this name.
    pub fn source(&self, name: &str) -> Option<&SourceConfig> {
        self.sources.iter().find(|s| s.name == name)
    }

    /// The enabled tools: the configured list, else every read-only tool.
    pub fn enabled_tools(&self) -> BTreeSet<ToolName> {
        match &self.tools.enabled {
            Some(names) => names.iter().filter_map(|n| ToolName::parse(n)).collect(),
            None => ToolName::ALL
                .into_iter()
                .filter(|t| t.access() == Access::Read)
                .collect(),
        }
    }

    /// The relaxations the plans of this tool record.
    pub fn relaxations(&self, tool: ToolName) -> Vec<Relaxation> {
        self.tools
            .relax
            .get(tool.as_str())
            .map(|r| {
                r.rules
                    .iter()
                    .map(|rule| Relaxation {
                        rule: *rule,
                        reason: r.reason.trim().to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The agent of this name.
    pub fn agent(&self, name: &str) -> Option<Agent> {
        self.agents.get(name).map(|a| Agent {
            name: name.to_string(),
            scopes: a.scopes.iter().cloned().collect(),
            max_items_per_plan: a.max_items_per_plan,
            max_plans_per_hour: a.max_plans_per_hour,
        })
    }

    /// The stdio caller: the configured agent, else `stdio` with the read scope and default caps.
    pub fn stdio_agent(&self) -> Agent {
        self.stdio
            .agent
            .as_deref()
            .and_then(|n| self.agent(n))
            .unwrap_or_else(|| Agent {
                name: DEFAULT_STDIO_AGENT.into(),
                scopes: BTreeSet::from([SCOPE_READ.to_string()]),
                max_items_per_plan: DEFAULT_MAX_ITEMS_PER_PLAN,
                max_plans_per_hour: DEFAULT_MAX_PLANS_PER_HOUR,
            })
    }

    /// The `Host` values the HTTP server accepts.
    pub fn allowed_hosts(&self) -> Vec<String> {
        if self.http.allowed_hosts.is_empty() {
            vec!["127.0.0.1".into(), "localhost".into(), "::1".into()]
        } else {
            self.http.allowed_hosts.clone()
        }
    }
}

/// 1 to 64 letters, digits, `-` or `_`: agent and source names (and what an agent may pass as a source).
pub(crate) fn is_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn tool_name(path: &str, key: &str, name: &str) -> Result<ToolName> {
    let Some(tool) = ToolName::parse(name) else {
        return Err(bad(
            path,
            format!(
                "{key}: unknown tool {name:?} (known: {})",
                tools::names().join(", ")
            ),
        ));
    };
    Ok(tool)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_enable_only_read_tools() {
        let c = McpConfig::from_toml("version = 1", "mcp.toml").unwrap();
        let enabled = c.enabled_tools();
        assert!(enabled.contains(&ToolName::FindUser));
        assert!(enabled.contains(&ToolName::SeatReport));
        assert!(enabled.contains(&ToolName::CredentialStatus));
        assert!(!enabled.contains(&ToolName::PlanReconcile));
        assert!(!enabled.contains(&ToolName::ApplyPlan));
        assert!(!enabled.contains(&ToolName::PlanOffboard));
        assert!(enabled.iter().all(|t| t.access() == Access::Read));
        assert_eq!(c.stdio_agent().name, "stdio");
        assert!(!c.stdio_agent().has_scope(SCOPE_PLAN));
    }

    #[test]
    fn errors_name_the_key() {
        for (text, needle) in [
            ("version = 2", "version = 2"),
            ("version = 1\nsurprise = 1", "surprise"),
            (
                "version = 1\n[tools]\nenabled = [\"nope\"]",
                "tools.enabled",
            ),
            (
                "version = 1\n[tools.relax.find_user]\nrules=[\"removals\"]\nreason=\"x\"",
                "only tools that make plans",
            ),
            (
                "version = 1\n[tools.relax.plan_offboard]\nrules=[\"removals\"]\nreason=\" \"",
                "reason",
            ),
            (
                "version = 1\n[tools.relax.plan_offboard]\nrules=[\"everything\"]\nreason=\"x\"",
                "everything",
            ),
            (
                "version = 1\n[agents.a]\ntoken_sha256 = \"abc\"",
                "agents.a.token_sha256",
            ),
            (
                "version = 1\n[agents.a]\nscopes = [\"jsm:admin\"]",
                "jsm:admin",
            ),
            ("version = 1\n[stdio]\nagent = \"ghost\"", "stdio.agent"),
            (
                "version = 1\n[tools]\nenabled = [\"plan_reconcile\"]",
                "plan_reconcile needs at least one [[sources]]",
            ),
            (
                "version = 1\n[[sources]]\nname = \"file:/etc\"\nspec = \"file:/etc/passwd\"",
                "sources[0].name",
            ),
            (
                "version = 1\n[[sources]]\nname = \"hr\"\nspec = \"file:a.csv\"\n[[sources]]\nname = \"hr\"\nspec = \"file:b.csv\"",
                "sources[1].name: \"hr\" is named twice",
            ),
            (
                "version = 1\n[[sources]]\nname = \"hr\"\nspec = \" \"",
                "sources[0].spec",
            ),
            (
                "version = 1\n[[sources]]\nname = \"hr\"\nspec = \"file:a.csv\"\nurl = \"x\"",
                "url",
            ),
            (
                "version = 1\n[http]\nallowed_origins = [\"example.com\"]",
                "scheme",
            ),
        ] {
            let err = McpConfig::from_toml(text, "mcp.toml")
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{text:?}: {err}");
            assert!(err.starts_with("mcp.toml"), "{err}");
        }
    }

    #[test]
    fn relaxations_carry_the_reason() {
        let c = McpConfig::from_toml(
            "version = 1\n[tools.relax.plan_provision_agent]\nrules = [\"seat_grants\"]\nreason = \"HR approves\"",
            "mcp.toml",
        )
        .unwrap();
        let r = c.relaxations(ToolName::PlanProvisionAgent);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].rule, AgentRule::SeatGrants);
        assert_eq!(r[0].reason, "HR approves");
        assert!(c.relaxations(ToolName::PlanOffboard).is_empty());
    }
}
