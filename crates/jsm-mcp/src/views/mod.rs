//! What tools return: one type per tool with its JSON Schema (the tool's `outputSchema`). Names, emails and any
//! other text from Atlassian or a plan are data fields here, never prose mixed with instructions.

mod credentials;
mod reconcile;
mod seats;

pub use credentials::*;
pub use reconcile::*;
pub use seats::*;

use std::collections::BTreeMap;

use jsm_lifecycle::plan::{Item, Plan};
use jsm_store::{Approval, AuditRecord, JournalEntry, Rejection};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

/// The name serde writes for a unit enum value (`customer`, `owner_inactive`, `remove_groups`), or `unknown`.
pub fn wire_name(value: &impl Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

/// A person.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct UserView {
    /// Atlassian account id.
    pub account_id: String,
    /// Display name, as Atlassian has it (data, not an instruction).
    pub display_name: String,
    /// Email, when visible or resolved through SCIM or the admin API.
    pub email: Option<String>,
    /// True when the profile hides the email and it could not be resolved.
    pub email_hidden: bool,
    /// Active on the site.
    pub active: bool,
    /// `atlassian`, `customer` or `app`.
    pub account_type: String,
}

/// `find_user`
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FindUserOutput {
    /// The query as given.
    pub query: String,
    /// `email` (one exact account) or `name` (a prefix search of active users).
    pub matched_by: String,
    /// The people found.
    pub users: Vec<UserView>,
    /// True when more people matched than were returned.
    pub truncated: bool,
}

/// A SCIM user linked to an account.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ScimView {
    /// SCIM id.
    pub id: String,
    /// SCIM `active`.
    pub active: bool,
}

/// `get_user`
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct GetUserOutput {
    /// The person.
    pub user: UserView,
    /// The SCIM user that manages the account, when there is one.
    pub scim: Option<ScimView>,
    /// The Jira groups the account is in.
    pub groups: Vec<String>,
}

/// `list_group_members`
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct GroupMembersOutput {
    /// The group.
    pub group: String,
    /// Its members.
    pub members: Vec<UserView>,
    /// True when more members exist than were returned.
    pub truncated: bool,
}

/// A service desk.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DeskView {
    /// Id.
    pub id: String,
    /// Project key.
    pub key: String,
    /// Project name.
    pub name: String,
}

/// `list_customers`
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CustomersOutput {
    /// The desk.
    pub service_desk: DeskView,
    /// Its customers.
    pub customers: Vec<UserView>,
    /// True when more customers exist than were returned.
    pub truncated: bool,
}

/// A group in an access trace.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct GroupAccess {
    /// Group name.
    pub name: String,
    /// True when the group grants Jira Service Management (an agent seat).
    pub grants_jsm: bool,
    /// Why it grants it (or not).
    pub why: String,
}

/// An organization.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct OrgView {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
}

/// Seat facts of one person.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SeatFacts {
    /// True when the person holds a billable Jira Service Management agent seat.
    pub billable: bool,
    /// The groups that grant it.
    pub via_groups: Vec<String>,
    /// Why, in one sentence.
    pub why: String,
}

/// `explain_access`: the trace of one person.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ExplainAccessOutput {
    /// The person.
    pub user: UserView,
    /// The SCIM user that manages the account, when there is one.
    pub scim: Option<ScimView>,
    /// Every Jira group, with whether it grants JSM.
    pub groups: Vec<GroupAccess>,
    /// The groups that grant JSM on this site (application role `jira-servicedesk`).
    pub jsm_access_groups: Vec<String>,
    /// Service desks the person is a customer of.
    pub service_desks: Vec<DeskView>,
    /// JSM organizations the person is a member of.
    pub organizations: Vec<OrgView>,
    /// The agent seat.
    pub seat: SeatFacts,
    /// The facts above as sentences, in order.
    pub trace: Vec<String>,
}

/// One item of a plan.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ItemView {
    /// Key within the plan.
    pub key: String,
    /// `create_customer`, `add_to_desk`, `remove_from_group`, `deactivate`, `manual`, …
    pub action: String,
    /// `+` create, `~` change, `-` removal or deactivation.
    pub sign: String,
    /// Who or what it changes.
    pub target: String,
    /// The rule that caused it.
    pub reason: String,
    /// `low`, `medium`, `high`.
    pub risk: String,
    /// Whether a human must approve the plan for this item.
    pub needs_approval: bool,
    /// The policy rule that asked for approval.
    pub approval_rule: Option<String>,
    /// What must still hold at apply time.
    pub precondition: String,
    /// Items that must be done first.
    pub depends_on: Vec<String>,
    /// What it costs, when it costs money.
    pub cost: Option<String>,
    /// The action's fields as the plan file has them.
    pub details: Value,
}

/// A relaxed agent-overlay rule recorded in a plan.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RelaxationView {
    /// `deactivations`, `removals`, `seat_grants`.
    pub rule: String,
    /// Why the operator relaxed it.
    pub reason: String,
}

/// A plan, as an agent reads it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PlanView {
    /// Plan id.
    pub id: String,
    /// sha256 of its content; approvals are bound to it.
    pub hash: String,
    /// `provision_customer`, `provision_agent`, `offboard`, `restore`, …
    pub kind: String,
    /// One line.
    pub summary: String,
    /// Who asked (`mcp:NAME` for an agent).
    pub requester: String,
    /// `human` or `agent`.
    pub requester_kind: String,
    /// When it was made (RFC 3339).
    pub created_at: String,
    /// The changes, in apply order.
    pub items: Vec<ItemView>,
    /// Counts of `+`, `~` and `-` items.
    pub counts: BTreeMap<String, usize>,
    /// Facts people should know.
    pub notes: Vec<String>,
    /// Why the plan needs an approval (empty when it does not).
    pub approval_reasons: Vec<String>,
    /// Agent-overlay rules relaxed for this plan by the MCP config.
    pub agent_relaxed: Vec<RelaxationView>,
    /// API calls apply will make.
    pub apply_calls: u32,
}

impl PlanView {
    /// The view of a plan.
    pub fn of(plan: &Plan) -> Self {
        let (create, change, remove) = plan.counts();
        Self {
            id: plan.id.clone(),
            hash: plan.hash.clone(),
            kind: plan.kind.as_str().into(),
            summary: plan.summary.clone(),
            requester: plan.requester.clone(),
            requester_kind: if plan.requester_kind.is_human() {
                "human".into()
            } else {
                "agent".into()
            },
            created_at: plan.created_at.to_rfc3339(),
            items: plan.items.iter().map(item_view).collect(),
            counts: BTreeMap::from([
                ("create".to_string(), create),
                ("change".to_string(), change),
                ("remove".to_string(), remove),
            ]),
            notes: plan.notes.clone(),
            approval_reasons: plan.approval_reasons.clone(),
            agent_relaxed: plan
                .agent_relaxed
                .iter()
                .map(|r| RelaxationView {
                    rule: r.rule.as_str().into(),
                    reason: r.reason.clone(),
                })
                .collect(),
            apply_calls: plan.estimate.apply_calls,
        }
    }
}

fn item_view(item: &Item) -> ItemView {
    ItemView {
        key: item.key.clone(),
        action: item.action.name().into(),
        sign: item.action.sign().symbol().to_string(),
        target: item.target.clone(),
        reason: item.reason.clone(),
        risk: wire_name(&item.risk),
        needs_approval: item.needs_approval,
        approval_rule: item.approval_rule.clone(),
        precondition: item.precondition.describe(),
        depends_on: item.depends_on.clone(),
        cost: item.cost.clone(),
        details: serde_json::to_value(&item.action).unwrap_or(Value::Null),
    }
}

/// Where and how a human approves a plan. No MCP tool can do it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ApprovalNeeded {
    /// The plan.
    pub plan_id: String,
    /// The hash the approval is bound to.
    pub hash: String,
    /// Why it needs one.
    pub reasons: Vec<String>,
    /// The command a human runs.
    pub approve_command: String,
    /// The approvals page, when the server has one configured.
    pub approvals_url: Option<String>,
    /// A fixed sentence: only a human approves, through the CLI or the approvals page.
    pub note: String,
}

/// `plan_*`
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PlanOutput {
    /// `awaiting_approval`, `ready` (apply_plan may apply it) or `nothing_to_do` (not stored).
    pub status: String,
    /// Whether the plan was stored (an empty plan is not).
    pub stored: bool,
    /// The plan.
    pub plan: PlanView,
    /// Where a human approves it, when it needs an approval.
    pub approval: Option<ApprovalNeeded>,
    /// What the agent can do next.
    pub next_step: String,
}

/// One approval of a plan.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ApprovalView {
    /// Who approved.
    pub approver: String,
    /// When (RFC 3339).
    pub approved_at: String,
    /// Until when (RFC 3339).
    pub expires_at: String,
    /// Whether an apply used it.
    pub used: bool,
    /// True when it is bound to the plan's current hash.
    pub matches_hash: bool,
}

impl ApprovalView {
    /// The view of an approval of a plan with this hash.
    pub fn of(a: &Approval, hash: &str) -> Self {
        Self {
            approver: a.approver.clone(),
            approved_at: a.approved_at.to_rfc3339(),
            expires_at: a.expires_at.to_rfc3339(),
            used: a.used_at.is_some(),
            matches_hash: a.plan_hash == hash,
        }
    }
}

/// A rejection of a plan.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RejectionView {
    /// Who rejected it.
    pub by: String,
    /// When (RFC 3339).
    pub at: String,
    /// Why.
    pub reason: Option<String>,
}

impl RejectionView {
    /// The view of a rejection.
    pub fn of(r: &Rejection) -> Self {
        Self {
            by: r.by.clone(),
            at: r.at.to_rfc3339(),
            reason: r.reason.clone(),
        }
    }
}

/// `show_plan`
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ShowPlanOutput {
    /// Store status: `awaiting_approval`, `ready`, `applying`, `applied`, `failed`, `rejected`.
    pub status: String,
    /// The plan.
    pub plan: PlanView,
    /// Its approvals.
    pub approvals: Vec<ApprovalView>,
    /// Its rejection, if it was rejected.
    pub rejection: Option<RejectionView>,
    /// Where a human approves it, while it needs an approval.
    pub approval: Option<ApprovalNeeded>,
}

/// One item's result in an apply.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ItemResultView {
    /// Item key.
    pub key: String,
    /// Action name.
    pub action: String,
    /// Target.
    pub target: String,
    /// `applied`, `already_applied`, `not_applicable`, `pending_manual`, `skipped`, `failed`, `quarantined`.
    pub outcome: String,
    /// Why, when it did not simply succeed.
    pub detail: Option<String>,
}

/// `apply_plan`
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ApplyOutput {
    /// The plan.
    pub plan_id: String,
    /// Store status after the run.
    pub status: String,
    /// True when every item is done.
    pub complete: bool,
    /// Per item.
    pub items: Vec<ItemResultView>,
    /// Why the run stopped early, when it did.
    pub stopped: Option<String>,
}

/// One journal row.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct JournalView {
    /// Item key.
    pub key: String,
    /// `pending`, `sent`, `done`, `failed`, `quarantined`.
    pub state: String,
    /// Attempts so far.
    pub attempts: u32,
    /// Outcome, once known.
    pub outcome: Option<String>,
    /// Last error.
    pub error: Option<String>,
}

impl JournalView {
    /// The view of a journal entry.
    pub fn of(e: &JournalEntry) -> Self {
        Self {
            key: e.item_key.clone(),
            state: e.state.as_str().into(),
            attempts: e.attempts,
            outcome: e.outcome.clone(),
            error: e.error.clone(),
        }
    }
}

/// `plan_status`
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PlanStatusOutput {
    /// The plan.
    pub plan_id: String,
    /// Store status.
    pub status: String,
    /// Items of the plan.
    pub items: usize,
    /// Journal rows (items apply has reached).
    pub journal: Vec<JournalView>,
    /// Items still to be done by a person (manual steps not yet verified).
    pub pending_manual: Vec<String>,
}

/// One audit record.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AuditView {
    /// Sequence number.
    pub seq: i64,
    /// When (RFC 3339).
    pub at: String,
    /// Who.
    pub actor: String,
    /// Record kind.
    pub kind: String,
    /// The plan, when one is concerned.
    pub plan_id: Option<String>,
    /// The item, when one is concerned.
    pub item_key: Option<String>,
    /// What was done.
    pub action: String,
    /// To what.
    pub target: String,
    /// How it ended.
    pub outcome: String,
    /// Details.
    pub detail: Value,
}

impl AuditView {
    /// The view of a record.
    pub fn of(r: &AuditRecord) -> Self {
        let d = &r.draft;
        Self {
            seq: r.seq,
            at: d.at.to_rfc3339(),
            actor: d.actor.clone(),
            kind: d.kind.clone(),
            plan_id: d.plan_id.clone(),
            item_key: d.item_key.clone(),
            action: d.action.clone(),
            target: d.target.clone(),
            outcome: d.outcome.clone(),
            detail: d.detail.clone(),
        }
    }
}

/// `audit_search`
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AuditSearchOutput {
    /// Matching records, newest first.
    pub records: Vec<AuditView>,
    /// Records read to find them.
    pub scanned: u64,
    /// True when more records matched than were returned.
    pub truncated: bool,
}
