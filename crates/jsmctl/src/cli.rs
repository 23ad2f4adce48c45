//! The command line as clap types, apart from what the commands do (`commands`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::commands;

/// Automate the user lifecycle of Jira Service Management: every change a reviewable plan, risky ones
/// approved by a human, applied crash-safely and audited. Ships a local Atlassian emulator.
#[derive(Debug, Parser)]
#[command(name = "jsmctl", version, about)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: Global,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Format {
    /// Aligned text for people.
    #[default]
    Table,
    /// Stable JSON for scripts.
    Json,
}

/// `--output`: every command prints a table or JSON; `seats` also CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Output {
    /// Aligned text for people.
    #[default]
    Table,
    /// Stable JSON for scripts.
    Json,
    /// Comma-separated values, one row per account and product (`seats` only).
    Csv,
}

impl Output {
    /// The table-or-JSON format the other commands use (CSV falls back to the table).
    pub fn format(self) -> Format {
        match self {
            Output::Json => Format::Json,
            Output::Table | Output::Csv => Format::Table,
        }
    }
}

/// Connection, state and output options (flags beat the environment, which beats the config file).
#[derive(Debug, Clone, Default, Args)]
pub struct Global {
    /// Site base URL (e.g. https://acme.atlassian.net).
    #[arg(long, global = true, env = "ATLASSIAN_SITE")]
    pub site: Option<String>,
    /// Email of the account whose API token is used (`--email` belongs to the commands that create people).
    #[arg(long, global = true, env = "ATLASSIAN_EMAIL")]
    pub api_email: Option<String>,
    /// API token (prefer the environment: flags show in `ps`).
    #[arg(
        long,
        global = true,
        env = "ATLASSIAN_API_TOKEN",
        hide_env_values = true
    )]
    pub api_token: Option<String>,
    /// Gateway and admin API host (default https://api.atlassian.com).
    #[arg(long, global = true, env = "ATLASSIAN_API_URL")]
    pub api_url: Option<String>,
    /// The SCIM directory's full base URL (…/scim/directory/{directoryId}).
    #[arg(long, global = true, env = "ATLASSIAN_SCIM_URL")]
    pub scim_url: Option<String>,
    /// The SCIM directory's API key.
    #[arg(
        long,
        global = true,
        env = "ATLASSIAN_SCIM_TOKEN",
        hide_env_values = true
    )]
    pub scim_token: Option<String>,
    /// Organization id, for the admin API.
    #[arg(long, global = true, env = "ATLASSIAN_ORG_ID")]
    pub org_id: Option<String>,
    /// Organization admin API key.
    #[arg(
        long,
        global = true,
        env = "ATLASSIAN_ADMIN_API_KEY",
        hide_env_values = true
    )]
    pub admin_api_key: Option<String>,
    /// Profile of the config file to use.
    #[arg(long, global = true, env = "JSMCTL_PROFILE")]
    pub profile: Option<String>,
    /// Config file (default $XDG_CONFIG_HOME/jsmctl/config.toml).
    #[arg(long, global = true, env = "JSMCTL_CONFIG")]
    pub config: Option<PathBuf>,
    /// State: a SQLite path or a postgres:// URL (default $XDG_STATE_HOME/jsmctl/state.db).
    #[arg(long, global = true, env = "JSMCTL_STATE", hide_env_values = true)]
    pub state: Option<String>,
    /// Policy file (TOML); safe defaults without one.
    #[arg(long, global = true, env = "JSMCTL_POLICY")]
    pub policy: Option<PathBuf>,
    /// Who you are, recorded as requester, approver and in the audit log (default $USER).
    #[arg(long, global = true, env = "JSMCTL_ACTOR")]
    pub actor: Option<String>,
    /// Output format (`csv` for `seats` only).
    #[arg(long, global = true, value_enum, default_value_t = Output::Table)]
    pub output: Output,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Look up users.
    #[command(subcommand)]
    Users(UsersCmd),
    /// Group members: list, add, remove.
    #[command(subcommand)]
    Groups(GroupsCmd),
    /// Portal customers: create, list, remove from a desk.
    #[command(subcommand)]
    Customers(CustomersCmd),
    /// Licensed agents.
    #[command(subcommand)]
    Agents(AgentsCmd),
    /// Deactivate a person and remove their access.
    Offboard(PersonArgs),
    /// Undo a person's last offboard, from the audit log.
    Restore(PersonArgs),
    /// Plans: `plan show PLAN`, or plan a reconcile with `plan --source SOURCE [--mapping FILE] [--out PLAN]`.
    Plan(PlanArgs),
    /// Reconcile the site with an identity source: plan, policy, apply.
    Reconcile(ReconcileArgs),
    /// Explain what a reconcile would do for one person, rule by rule (changes nothing).
    Trace(TraceArgs),
    /// Identity links between source people and Atlassian accounts.
    #[command(subcommand)]
    Links(LinksCmd),
    /// Apply a plan (file, id or id prefix) exactly as it was approved.
    Apply(ApplyArgs),
    /// Pending manual steps, plans waiting for approval, quarantined items.
    Status,
    /// Approve or reject plans.
    #[command(subcommand)]
    Approvals(ApprovalsCmd),
    /// The hash-chained audit log.
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Billable seats per product, every path that grants each, what is unused and what reclaiming saves.
    Seats(SeatsArgs),
    /// Credentials integrations use: register them, list them, and check they will not expire unnoticed.
    #[command(subcommand)]
    Credentials(CredentialsCmd),
    /// Run the local Atlassian emulator (Jira v3, JSM, SCIM, admin API, OAuth, webhooks) until SIGINT or SIGTERM.
    Emulator(Box<commands::emulator::Args>),
    /// The main job, offline: provision, offboard and restore against an embedded emulator.
    Demo(commands::demo::Args),
    /// MCP server for AI agents: stdio by default (stdout carries the protocol, logs go to stderr), or
    /// streamable HTTP with --listen. Agents look up and propose; only a human approves.
    Mcp(commands::mcp::Args),
    /// The engine as a service: HTTP API (OpenAPI at /openapi.json), approvals page, Atlassian webhooks,
    /// scheduler and a job worker; several on one PostgreSQL share the work. Runs until SIGINT or SIGTERM.
    Serve(Box<commands::serve::Args>),
    /// Operators of `jsmctl serve`: add (prints a token once), list, disable.
    #[command(subcommand)]
    Operators(commands::serve::OperatorsCmd),
}

/// `users …`
#[derive(Debug, Subcommand)]
pub enum UsersCmd {
    /// One account by id.
    Get {
        /// Account id.
        account_id: String,
    },
    /// Find by email (hidden emails resolved through SCIM or the admin API) or by a name query.
    Find {
        /// Email or query.
        email_or_query: String,
    },
}

/// `groups …`
#[derive(Debug, Subcommand)]
pub enum GroupsCmd {
    /// Members of a group (active and inactive).
    Members {
        /// Group name.
        group: String,
    },
    /// Add accounts to a group.
    Add(GroupChange),
    /// Remove accounts from a group.
    Remove(GroupChange),
}

/// A group and accounts.
#[derive(Debug, Args)]
pub struct GroupChange {
    /// Group name.
    pub group: String,
    /// Account ids.
    #[arg(required = true)]
    pub account_ids: Vec<String>,
    /// How to confirm and where to save.
    #[command(flatten)]
    pub write: WriteArgs,
}

/// `customers …`
#[derive(Debug, Subcommand)]
pub enum CustomersCmd {
    /// Create a portal customer (or link the account that has the email) and add desks and organizations.
    Create(CustomerCreate),
    /// Customers of a desk.
    List {
        /// Desk key or id.
        #[arg(long = "service-desk")]
        service_desk: String,
    },
    /// Remove customers from a desk.
    Remove(CustomerRemove),
}

/// `customers create`
#[derive(Debug, Args)]
pub struct CustomerCreate {
    /// Email.
    #[arg(long)]
    pub email: String,
    /// Display name.
    #[arg(long)]
    pub name: String,
    /// Desk key or id (repeatable).
    #[arg(long = "service-desk")]
    pub service_desks: Vec<String>,
    /// Organization name or id (repeatable).
    #[arg(long = "organization")]
    pub organizations: Vec<String>,
    /// How to confirm and where to save.
    #[command(flatten)]
    pub write: WriteArgs,
}

/// `customers remove`
#[derive(Debug, Args)]
pub struct CustomerRemove {
    /// Desk key or id.
    #[arg(long = "service-desk")]
    pub service_desk: String,
    /// Account ids.
    #[arg(required = true)]
    pub account_ids: Vec<String>,
    /// How to confirm and where to save.
    #[command(flatten)]
    pub write: WriteArgs,
}

/// `agents …`
#[derive(Debug, Subcommand)]
pub enum AgentsCmd {
    /// Provision an agent: SCIM user plus JSM access, or a manual invite step without SCIM.
    Provision {
        /// Email.
        #[arg(long)]
        email: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// How to confirm and where to save.
        #[command(flatten)]
        write: WriteArgs,
    },
}

/// A person and how to confirm.
#[derive(Debug, Args)]
pub struct PersonArgs {
    /// Email or account id.
    pub email_or_account_id: String,
    /// How to confirm and where to save.
    #[command(flatten)]
    pub write: WriteArgs,
}

/// Options of every write command.
#[derive(Debug, Clone, Default, Args)]
pub struct WriteArgs {
    /// Save the plan to this file (and the store) instead of applying it.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Apply without asking.
    #[arg(long, short)]
    pub yes: bool,
}

/// `plan …`: a subcommand, or the options of a reconcile plan.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct PlanArgs {
    /// `show PLAN`.
    #[command(subcommand)]
    pub command: Option<PlanCmd>,
    /// Where the desired state comes from.
    #[command(flatten)]
    pub source: SourceArgs,
    /// Save the plan to this file (it is stored either way).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// The source of desired state and its mapping.
#[derive(Debug, Clone, Default, Args)]
pub struct SourceArgs {
    /// `file:PATH` (CSV or JSON), `scim:URL` (token: JSMCTL_SOURCE_SCIM_TOKEN) or `ldap://HOST:PORT/BASE_DN` /
    /// `ldaps://…` (bind: JSMCTL_LDAP_BIND_DN, JSMCTL_LDAP_PASSWORD).
    #[arg(long, conflicts_with = "desired")]
    pub source: Option<String>,
    /// Short for `--source file:FILE`.
    #[arg(long, value_name = "FILE")]
    pub desired: Option<PathBuf>,
    /// Mapping file (TOML): source groups to desks, organizations, groups and kind; scope; target modes.
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
}

/// `reconcile`
#[derive(Debug, Args)]
pub struct ReconcileArgs {
    /// Where the desired state comes from.
    #[command(flatten)]
    pub source: SourceArgs,
    /// Read only what changed at the source since the last applied run (a full read when one is due).
    #[arg(long)]
    pub incremental: bool,
    /// How to confirm and where to save.
    #[command(flatten)]
    pub write: WriteArgs,
}

/// `trace`
#[derive(Debug, Args)]
pub struct TraceArgs {
    /// The person's email or source id.
    pub email_or_source_id: String,
    /// Where the desired state comes from.
    #[command(flatten)]
    pub source: SourceArgs,
}

/// `links …`
#[derive(Debug, Subcommand)]
pub enum LinksCmd {
    /// Every link, or those of one source.
    List {
        /// Only this source (as given to --source).
        #[arg(long)]
        source: Option<String>,
    },
    /// The links of one source id or account id.
    Show {
        /// Source id or account id.
        who: String,
        /// The source (as given to --source), for a source id.
        #[arg(long)]
        source: Option<String>,
    },
    /// Remove a link: the next reconcile matches the person again by externalId, email and account id.
    Unlink {
        /// The source id.
        source_id: String,
        /// The source (as given to --source).
        #[arg(long)]
        source: String,
    },
}

/// `plan …` subcommands.
#[derive(Debug, Subcommand)]
pub enum PlanCmd {
    /// Show a plan (file, id or id prefix).
    Show {
        /// Plan file, id or id prefix.
        plan: String,
    },
}

/// `apply`
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Plan file, id or id prefix.
    pub plan: String,
    /// Apply without asking.
    #[arg(long, short)]
    pub yes: bool,
}

/// `approvals …`
#[derive(Debug, Subcommand)]
pub enum ApprovalsCmd {
    /// Plans waiting for an approval.
    List,
    /// Approve a plan (bound to its hash, single-use, expiring).
    Approve {
        /// Plan id or id prefix.
        plan_id: String,
        /// Approver (default: --actor, $JSMCTL_ACTOR or $USER).
        #[arg(long = "as")]
        as_name: Option<String>,
    },
    /// Reject a plan.
    Reject {
        /// Plan id or id prefix.
        plan_id: String,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
    },
}

/// `audit …`
#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// The latest records.
    List {
        /// How many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Check the hash chain; names the first record that does not verify.
    Verify,
    /// Every record as JSON lines.
    Export {
        /// File to write (default stdout).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// `seats [reclaim]`
#[derive(Debug, Args)]
pub struct SeatsArgs {
    /// `reclaim`; the report without it.
    #[command(subcommand)]
    pub command: Option<SeatsCmd>,
    /// What to report on.
    #[command(flatten)]
    pub report: SeatsReportArgs,
}

/// Options of the seat report.
#[derive(Debug, Clone, Default, Args)]
pub struct SeatsReportArgs {
    /// Product key (`jira-servicedesk`, `jira-software`; repeatable); every product the site reports by default.
    #[arg(long = "product")]
    pub products: Vec<String>,
    /// Days without activity after which a seat is reclaimable (default: the policy's, 90).
    #[arg(long)]
    pub inactive_days: Option<u32>,
    /// Only accounts holding a seat through this group.
    #[arg(long)]
    pub group: Option<String>,
    /// Price of one seat per month, for the saving (default: the policy's).
    #[arg(long)]
    pub price_per_seat: Option<f64>,
    /// Day of the month the monthly billing cycle starts, for when the saving lands.
    #[arg(long)]
    pub cycle_day: Option<u32>,
}

/// `seats …`
#[derive(Debug, Subcommand)]
pub enum SeatsCmd {
    /// Plan the reclaim of unused seats (remove granting groups, or suspend on the site), then apply it.
    Reclaim(SeatsReclaimArgs),
}

/// `seats reclaim`
#[derive(Debug, Args)]
pub struct SeatsReclaimArgs {
    /// Product key (repeatable; default jira-servicedesk).
    #[arg(long = "product")]
    pub products: Vec<String>,
    /// Days without activity after which a seat is reclaimed (default: the policy's, 90).
    #[arg(long)]
    pub inactive_days: Option<u32>,
    /// Price of one seat per month, for the saving.
    #[arg(long)]
    pub price_per_seat: Option<f64>,
    /// Day of the month the monthly billing cycle starts, for when the saving lands.
    #[arg(long)]
    pub cycle_day: Option<u32>,
    /// How to confirm and where to save.
    #[command(flatten)]
    pub write: WriteArgs,
}

/// Kinds of credentials, as `--kind` takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CredentialKind {
    /// An Atlassian API token (give --owner EMAIL).
    ApiToken,
    /// A SCIM directory API key.
    ScimKey,
    /// An organization admin API key.
    AdminKey,
    /// An OAuth 2.0 grant (give --secret-file with the token file).
    Oauth,
    /// An LDAP bind account.
    Ldap,
}

/// `credentials …`
#[derive(Debug, Subcommand)]
pub enum CredentialsCmd {
    /// Register a credential: metadata in the store, the secret left in the environment or a 0600 file.
    Add(CredentialAdd),
    /// Every registered credential.
    List,
    /// Forget a credential (its secret is left where it is).
    Remove {
        /// Its name.
        name: String,
    },
    /// One line per credential with its state; exit 0 all fine, 1 something expires within the window, 2
    /// something is already dead.
    Check {
        /// Warn this many days before expiry (default: the policy's, 30).
        #[arg(long)]
        warn_days: Option<u32>,
        /// Make one cheap authenticated call per credential.
        #[arg(long)]
        verify: bool,
    },
}

/// `credentials add`
#[derive(Debug, Args)]
pub struct CredentialAdd {
    /// What it is.
    #[arg(long, value_enum)]
    pub kind: CredentialKind,
    /// The name jsmctl knows it by.
    #[arg(long)]
    pub name: String,
    /// The owning account's email (API tokens, OAuth) or the team responsible.
    #[arg(long)]
    pub owner: Option<String>,
    /// When it expires (YYYY-MM-DD), when known.
    #[arg(long, value_parser = parse_date)]
    pub expires: Option<chrono::NaiveDate>,
    /// The environment variable that holds the secret.
    #[arg(long, conflicts_with = "secret_file")]
    pub secret_env: Option<String>,
    /// The file that holds the secret (mode 0600 or narrower).
    #[arg(long)]
    pub secret_file: Option<PathBuf>,
}

fn parse_date(s: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|e| format!("{s:?} is not a date as YYYY-MM-DD: {e}"))
}
