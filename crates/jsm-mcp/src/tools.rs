//! The tools: their names, what access each needs, their truthful annotations, and the error every tool answers
//! with instead of failing the protocol.

use rmcp::model::ToolAnnotations;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::config::{SCOPE_APPLY, SCOPE_PLAN, SCOPE_READ};

/// What a tool can change, which decides its scope and whether it is enabled by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reads only (Atlassian or the local store); enabled by default.
    Read,
    /// Reads the site and stores a plan (and an audit record); never changes the site. Off by default.
    Plan,
    /// Changes the site by applying a stored plan. Off by default.
    Apply,
}

impl Access {
    /// The scope a caller needs.
    pub fn scope(self) -> &'static str {
        match self {
            Access::Read => SCOPE_READ,
            Access::Plan => SCOPE_PLAN,
            Access::Apply => SCOPE_APPLY,
        }
    }
}

/// Every tool the server knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ToolName {
    /// Find people by email (hidden emails resolved) or name.
    FindUser,
    /// One account by id.
    GetUser,
    /// Members of a Jira group.
    ListGroupMembers,
    /// Customers of a service desk.
    ListCustomers,
    /// The access trace of one person.
    ExplainAccess,
    /// Billed and reclaimable seats per product.
    SeatReport,
    /// Expiry and state of the credentials jsmctl uses (never their secrets).
    CredentialStatus,
    /// Plan a portal customer.
    PlanProvisionCustomer,
    /// Plan an agent.
    PlanProvisionAgent,
    /// Plan an offboarding.
    PlanOffboard,
    /// Plan the undo of an offboarding.
    PlanRestore,
    /// Plan a reconcile against a configured identity source.
    PlanReconcile,
    /// Show a stored plan.
    ShowPlan,
    /// Apply a stored plan that policy or a human let through.
    ApplyPlan,
    /// Journal state of a plan.
    PlanStatus,
    /// Search the audit log.
    AuditSearch,
}

impl ToolName {
    /// Every tool, in listing order.
    pub const ALL: [ToolName; 16] = [
        ToolName::FindUser,
        ToolName::GetUser,
        ToolName::ListGroupMembers,
        ToolName::ListCustomers,
        ToolName::ExplainAccess,
        ToolName::SeatReport,
        ToolName::CredentialStatus,
        ToolName::PlanProvisionCustomer,
        ToolName::PlanProvisionAgent,
        ToolName::PlanOffboard,
        ToolName::PlanRestore,
        ToolName::PlanReconcile,
        ToolName::ShowPlan,
        ToolName::ApplyPlan,
        ToolName::PlanStatus,
        ToolName::AuditSearch,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ToolName::FindUser => "find_user",
            ToolName::GetUser => "get_user",
            ToolName::ListGroupMembers => "list_group_members",
            ToolName::ListCustomers => "list_customers",
            ToolName::ExplainAccess => "explain_access",
            ToolName::SeatReport => "seat_report",
            ToolName::CredentialStatus => "credential_status",
            ToolName::PlanProvisionCustomer => "plan_provision_customer",
            ToolName::PlanProvisionAgent => "plan_provision_agent",
            ToolName::PlanOffboard => "plan_offboard",
            ToolName::PlanRestore => "plan_restore",
            ToolName::PlanReconcile => "plan_reconcile",
            ToolName::ShowPlan => "show_plan",
            ToolName::ApplyPlan => "apply_plan",
            ToolName::PlanStatus => "plan_status",
            ToolName::AuditSearch => "audit_search",
        }
    }

    /// The tool with this wire name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// What it can change.
    pub fn access(self) -> Access {
        match self {
            ToolName::PlanProvisionCustomer
            | ToolName::PlanProvisionAgent
            | ToolName::PlanOffboard
            | ToolName::PlanRestore
            | ToolName::PlanReconcile => Access::Plan,
            ToolName::ApplyPlan => Access::Apply,
            _ => Access::Read,
        }
    }

    /// Whether the tool reaches Atlassian or an identity source (the open world) or only the local store.
    /// `credential_status` reads Atlassian's clock, the owners' accounts and the admin API's token listing.
    fn reaches_atlassian(self) -> bool {
        !matches!(
            self,
            ToolName::ShowPlan | ToolName::PlanStatus | ToolName::AuditSearch
        )
    }

    /// Annotations that say what the tool really does. They are hints for clients; the server enforces access
    /// itself and never relies on them.
    pub fn annotations(self, title: &str) -> ToolAnnotations {
        let a = ToolAnnotations::with_title(title).open_world(self.reaches_atlassian());
        match self.access() {
            Access::Read => a.read_only(true).destructive(false).idempotent(true),
            // Stores a new plan and an audit record each call; never changes the site.
            Access::Plan => a.read_only(false).destructive(false).idempotent(false),
            // May deactivate and remove; applying the same plan again changes nothing more (journal).
            Access::Apply => a.read_only(false).destructive(true).idempotent(true),
        }
    }
}

/// Wire names of every tool.
pub fn names() -> Vec<&'static str> {
    ToolName::ALL.iter().map(|t| t.as_str()).collect()
}

/// Why a call answered an error; stable strings agents and tests can match.
pub mod code {
    /// An argument is missing, of the wrong type, too large or not acceptable.
    pub const INVALID_ARGUMENT: &str = "invalid_argument";
    /// No tool has this name.
    pub const UNKNOWN_TOOL: &str = "unknown_tool";
    /// The tool exists but the server's config does not enable it.
    pub const TOOL_DISABLED: &str = "tool_disabled";
    /// The caller lacks the scope the tool needs.
    pub const INSUFFICIENT_SCOPE: &str = "insufficient_scope";
    /// Over the caller's blast-radius cap (items per plan or plans per hour).
    pub const BLAST_RADIUS: &str = "blast_radius";
    /// The plan needs a human approval that it does not have.
    pub const AWAITING_APPROVAL: &str = "awaiting_approval";
    /// The person, group, desk or plan does not exist (or is not the caller's).
    pub const NOT_FOUND: &str = "not_found";
    /// The engine refused the request (bad state, edited plan, …).
    pub const REFUSED: &str = "refused";
    /// Atlassian or the store failed.
    pub const FAILED: &str = "failed";
}

/// A tool error: answered as `isError` with `{"error": {code, message, argument?, …}}` as structured content and
/// the message as text.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolError {
    /// One of [`code`].
    pub code: &'static str,
    /// For people and agents.
    pub message: String,
    /// The argument at fault, when one is.
    pub argument: Option<String>,
    /// More fields (plan id, limits, where to approve).
    pub extra: Map<String, Value>,
}

impl ToolError {
    /// An error of this code.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            argument: None,
            extra: Map::new(),
        }
    }

    /// A bad argument, named.
    pub fn argument(name: impl Into<String>, detail: impl std::fmt::Display) -> Self {
        let name = name.into();
        Self {
            code: code::INVALID_ARGUMENT,
            message: format!("argument `{name}`: {detail}"),
            argument: Some(name),
            extra: Map::new(),
        }
    }

    /// Adds a field to the error object.
    pub fn with(mut self, key: &str, value: impl Serialize) -> Self {
        self.extra.insert(
            key.to_string(),
            serde_json::to_value(value).unwrap_or(Value::Null),
        );
        self
    }

    /// The structured content: `{"error": {...}}`.
    pub fn to_value(&self) -> Value {
        let mut error = Map::new();
        error.insert("code".into(), json!(self.code));
        error.insert("message".into(), json!(self.message));
        if let Some(a) = &self.argument {
            error.insert("argument".into(), json!(a));
        }
        for (k, v) in &self.extra {
            error.insert(k.clone(), v.clone());
        }
        json!({ "error": error })
    }
}

impl std::fmt::Display for ToolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// Result of a tool.
pub type ToolResult<T> = std::result::Result<T, ToolError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_access_is_as_documented() {
        for t in ToolName::ALL {
            assert_eq!(ToolName::parse(t.as_str()), Some(t));
        }
        assert_eq!(ToolName::parse("approve_plan"), None);
        assert!(names().iter().all(|n| !n.contains("approve")));
        assert_eq!(ToolName::ApplyPlan.access(), Access::Apply);
        assert_eq!(ToolName::PlanOffboard.access(), Access::Plan);
        let a = ToolName::ApplyPlan.annotations("Apply");
        assert_eq!(a.read_only_hint, Some(false));
        assert_eq!(a.destructive_hint, Some(true));
        let r = ToolName::AuditSearch.annotations("Audit");
        assert_eq!(r.read_only_hint, Some(true));
        assert_eq!(r.open_world_hint, Some(false));
        for read in [ToolName::SeatReport, ToolName::CredentialStatus] {
            let a = read.annotations("Report");
            assert_eq!(read.access(), Access::Read);
            assert_eq!(a.read_only_hint, Some(true));
            assert_eq!(a.open_world_hint, Some(true), "it asks Atlassian");
        }
        let p = ToolName::PlanReconcile.annotations("Reconcile");
        assert_eq!(ToolName::PlanReconcile.access(), Access::Plan);
        assert_eq!(p.read_only_hint, Some(false));
        assert_eq!(p.destructive_hint, Some(false));
        assert_eq!(p.idempotent_hint, Some(false));
    }

    #[test]
    fn an_error_names_its_argument() {
        let e = ToolError::argument("email", "is empty").to_value();
        assert_eq!(e["error"]["argument"], "email");
        assert_eq!(e["error"]["code"], code::INVALID_ARGUMENT);
        assert!(e["error"]["message"].as_str().unwrap().contains("`email`"));
    }
}
