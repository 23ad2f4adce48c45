//! The plan: a reviewable, hashable list of changes, each with its reason, risk, precondition and cost.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Version of the plan file format; a file of another version is refused.
pub const PLAN_VERSION: u32 = 1;

/// What a plan is for; the store and the audit log file plans under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanKind {
    /// Create or link a portal customer, add desks and organizations.
    ProvisionCustomer,
    /// Create or link a user through SCIM and grant JSM access.
    ProvisionAgent,
    /// Deactivate a person and remove their access.
    Offboard,
    /// Undo an offboard from what the audit log recorded.
    Restore,
    /// Add or remove group members.
    Groups,
    /// Remove customers from a desk.
    Customers,
    /// Any mix of items, e.g. a reconcile or a plan file built by a program.
    Batch,
    /// Take back billable seats that are not used (`jsmctl seats reclaim`).
    SeatReclaim,
}

impl PlanKind {
    /// The kind as written in plan files.
    pub fn as_str(self) -> &'static str {
        match self {
            PlanKind::ProvisionCustomer => "provision_customer",
            PlanKind::ProvisionAgent => "provision_agent",
            PlanKind::Offboard => "offboard",
            PlanKind::Restore => "restore",
            PlanKind::Groups => "groups",
            PlanKind::Customers => "customers",
            PlanKind::Batch => "batch",
            PlanKind::SeatReclaim => "seat_reclaim",
        }
    }
}

/// An account, known now or made by an earlier item of the same plan (its output).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountRef {
    /// An existing account id.
    Id(String),
    /// The account the item with this key creates or links.
    FromItem(String),
}

impl AccountRef {
    /// The account id when it is known at plan time.
    pub fn known(&self) -> Option<&str> {
        match self {
            AccountRef::Id(id) => Some(id),
            AccountRef::FromItem(_) => None,
        }
    }
}

/// How an account is deactivated or reactivated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Deactivation {
    /// SCIM `PATCH active=false` (the account is managed by the directory).
    Scim,
    /// The organizations admin API: suspend (or restore) access.
    AdminSuspend,
}

/// One change, with everything apply needs to carry it out.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    /// `POST /rest/servicedeskapi/customer`; an existing account with the email is linked instead.
    CreateCustomer {
        /// Email of the customer.
        email: String,
        /// Display name.
        display_name: String,
    },
    /// Add the account to a desk's customers.
    AddToDesk {
        /// Desk id.
        desk_id: String,
        /// Desk key, for people reading the plan.
        desk_key: String,
        /// Who.
        account: AccountRef,
    },
    /// Remove the account from a desk's customers.
    RemoveFromDesk {
        /// Desk id.
        desk_id: String,
        /// Desk key.
        desk_key: String,
        /// Who.
        account_id: String,
    },
    /// Add the account to a JSM organization.
    AddToOrganization {
        /// Organization id.
        organization_id: String,
        /// Organization name.
        organization: String,
        /// Who.
        account: AccountRef,
    },
    /// Remove the account from a JSM organization.
    RemoveFromOrganization {
        /// Organization id.
        organization_id: String,
        /// Organization name.
        organization: String,
        /// Who.
        account_id: String,
    },
    /// Add the account to a Jira group (through the Jira API).
    AddToGroup {
        /// Group name.
        group: String,
        /// Who.
        account: AccountRef,
    },
    /// Remove the account from a Jira group.
    RemoveFromGroup {
        /// Group name.
        group: String,
        /// Who.
        account_id: String,
    },
    /// Create the user in the SCIM directory, or link the one with this `userName`.
    ScimCreateUser {
        /// `userName` and primary email.
        email: String,
        /// Display name.
        display_name: String,
    },
    /// Add a SCIM user to a SCIM-managed group.
    ScimAddToGroup {
        /// SCIM group id.
        group_id: String,
        /// Its display name.
        group: String,
        /// The item whose output is the SCIM user, or the SCIM id.
        user: AccountRef,
    },
    /// Remove a SCIM user from a SCIM-managed group.
    ScimRemoveFromGroup {
        /// SCIM group id.
        group_id: String,
        /// Its display name.
        group: String,
        /// SCIM user id.
        scim_id: String,
    },
    /// Deactivate the account.
    Deactivate {
        /// Who.
        account_id: String,
        /// Through which API.
        via: Deactivation,
        /// The SCIM user id, when `via` is SCIM.
        scim_id: Option<String>,
    },
    /// Reactivate the account.
    Reactivate {
        /// Who.
        account_id: String,
        /// Through which API.
        via: Deactivation,
        /// The SCIM user id, when `via` is SCIM.
        scim_id: Option<String>,
    },
    /// Suspend the account's access in a directory (the site's users): no seat billed, roles and groups kept,
    /// reversible with a restore.
    SuspendAccess {
        /// Who.
        account_id: String,
        /// The directory (v2 admin API).
        directory_id: String,
    },
    /// Record in jsmctl's store that a source identity is this account (no API call): the anchor every later
    /// reconcile matches by first, so an email changed at the source does not lose the account.
    Link {
        /// The source, as the engine names it.
        source: String,
        /// The identity's id in the source.
        source_id: String,
        /// The account, known or made by an earlier item.
        account: AccountRef,
        /// The SCIM user of the account: known, or the output of the item that creates it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scim: Option<AccountRef>,
    },
    /// A step only a person can take; apply reports it pending until `verify` holds.
    Manual {
        /// What to do, for a person.
        instruction: String,
        /// How apply and status know it was done.
        verify: ManualCheck,
    },
}

/// What proves a manual step was taken.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "check", rename_all = "snake_case")]
pub enum ManualCheck {
    /// An account with this email is in one of these groups.
    InGroup {
        /// Email of the account.
        email: String,
        /// Groups any of which counts.
        groups: Vec<String>,
    },
    /// The account is inactive.
    Inactive {
        /// Who.
        account_id: String,
    },
    /// The account holds no billed seat of the product: inactive or suspended, in no group that grants it,
    /// and (with the admin API) no direct or inferred role on it. Also what a reclaim re-checks after apply,
    /// since SCIM can re-add a membership.
    SeatFreed {
        /// Who.
        account_id: String,
        /// Product key (`jira-servicedesk`).
        product: String,
    },
}

impl Action {
    /// The short verb shown in plans and in JSON (`create_customer`, `add_to_desk`, …).
    pub fn name(&self) -> &'static str {
        match self {
            Action::CreateCustomer { .. } => "create_customer",
            Action::AddToDesk { .. } => "add_to_desk",
            Action::RemoveFromDesk { .. } => "remove_from_desk",
            Action::AddToOrganization { .. } => "add_to_organization",
            Action::RemoveFromOrganization { .. } => "remove_from_organization",
            Action::AddToGroup { .. } => "add_to_group",
            Action::RemoveFromGroup { .. } => "remove_from_group",
            Action::ScimCreateUser { .. } => "scim_create_user",
            Action::ScimAddToGroup { .. } => "scim_add_to_group",
            Action::ScimRemoveFromGroup { .. } => "scim_remove_from_group",
            Action::Deactivate { .. } => "deactivate",
            Action::Reactivate { .. } => "reactivate",
            Action::SuspendAccess { .. } => "suspend_access",
            Action::Link { .. } => "link",
            Action::Manual { .. } => "manual",
        }
    }

    /// Whether the change is a create (`+`), a change (`~`) or a removal/deactivation (`-`).
    pub fn sign(&self) -> Sign {
        match self {
            Action::CreateCustomer { .. } | Action::ScimCreateUser { .. } => Sign::Create,
            Action::RemoveFromDesk { .. }
            | Action::RemoveFromOrganization { .. }
            | Action::RemoveFromGroup { .. }
            | Action::ScimRemoveFromGroup { .. }
            | Action::SuspendAccess { .. }
            | Action::Deactivate { .. } => Sign::Remove,
            _ => Sign::Change,
        }
    }

    /// True for a deactivation, through an API or as a manual step.
    pub fn is_deactivation(&self) -> bool {
        matches!(
            self,
            Action::Deactivate { .. }
                | Action::Manual {
                    verify: ManualCheck::Inactive { .. },
                    ..
                }
        )
    }

    /// True for the removals and deactivations the accidental-deletion guard counts.
    pub fn is_removal(&self) -> bool {
        self.sign() == Sign::Remove
    }

    /// The endpoint (method and route) the action calls, which is what the rate limits key on.
    pub fn endpoint(&self) -> &'static str {
        match self {
            Action::CreateCustomer { .. } => "POST /rest/servicedeskapi/customer",
            Action::AddToDesk { .. } => "POST /rest/servicedeskapi/servicedesk/{id}/customer",
            Action::RemoveFromDesk { .. } => {
                "DELETE /rest/servicedeskapi/servicedesk/{id}/customer"
            }
            Action::AddToOrganization { .. } => "POST /rest/servicedeskapi/organization/{id}/user",
            Action::RemoveFromOrganization { .. } => {
                "DELETE /rest/servicedeskapi/organization/{id}/user"
            }
            Action::AddToGroup { .. } => "POST /rest/api/3/group/user",
            Action::RemoveFromGroup { .. } => "DELETE /rest/api/3/group/user",
            Action::ScimCreateUser { .. } => "POST /scim/directory/{id}/Users",
            Action::ScimAddToGroup { .. } | Action::ScimRemoveFromGroup { .. } => {
                "PATCH /scim/directory/{id}/Groups/{id}"
            }
            Action::Deactivate { via, .. } | Action::Reactivate { via, .. } => match via {
                Deactivation::Scim => "PATCH /scim/directory/{id}/Users/{id}",
                Deactivation::AdminSuspend => "POST /admin/v1/orgs/{id}/directory/users/{id}/*",
            },
            Action::SuspendAccess { .. } => {
                "POST /admin/v2/orgs/{id}/directories/{id}/users/{id}/suspend"
            }
            Action::Link { .. } => "store",
            Action::Manual { .. } => "manual",
        }
    }
}

/// A deactivation or reactivation: who, through which API, and the `active` it leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Activation<'a> {
    /// The account.
    pub account_id: &'a str,
    /// Through which API.
    pub via: Deactivation,
    /// The SCIM user, when through SCIM.
    pub scim_id: Option<&'a str>,
    /// `active` after the change.
    pub active: bool,
}

impl Action {
    /// The activation change, for `Deactivate` and `Reactivate`.
    pub fn activation(&self) -> Option<Activation<'_>> {
        match self {
            Action::Deactivate {
                account_id,
                via,
                scim_id,
            }
            | Action::Reactivate {
                account_id,
                via,
                scim_id,
            } => Some(Activation {
                account_id,
                via: *via,
                scim_id: scim_id.as_deref(),
                active: matches!(self, Action::Reactivate { .. }),
            }),
            _ => None,
        }
    }
}

/// The Terraform-like mark of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sign {
    /// `+`
    Create,
    /// `~`
    Change,
    /// `-`
    Remove,
}

impl Sign {
    /// `+`, `~` or `-`.
    pub fn symbol(self) -> char {
        match self {
            Sign::Create => '+',
            Sign::Change => '~',
            Sign::Remove => '-',
        }
    }
}

/// How much harm an item can do if it is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    /// Additive and free.
    Low,
    /// Removes access, or costs money.
    Medium,
    /// Deactivates an account.
    High,
}

/// What must still be true when the item is applied; if it no longer holds the plan stops.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "check", rename_all = "snake_case")]
pub enum Precondition {
    /// Nothing beyond the action's own idempotency.
    None,
    /// The account exists and is active.
    AccountActive {
        /// Who.
        account_id: String,
    },
    /// The account exists (active or not).
    AccountExists {
        /// Who.
        account_id: String,
    },
    /// The SCIM user exists and belongs to this account.
    ScimLinked {
        /// SCIM user id.
        scim_id: String,
        /// Account id it must point at.
        account_id: String,
    },
}

impl Precondition {
    /// A sentence for people reading the plan.
    pub fn describe(&self) -> String {
        match self {
            Precondition::None => "none".into(),
            Precondition::AccountActive { account_id } => format!("account {account_id} active"),
            Precondition::AccountExists { account_id } => format!("account {account_id} exists"),
            Precondition::ScimLinked {
                scim_id,
                account_id,
            } => format!("SCIM user {scim_id} linked to account {account_id}"),
        }
    }
}

/// Who asked for a plan. A person is the default and is left out of the plan file, so plans made before this
/// field existed keep their hash.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequesterKind {
    /// A person (the CLI, the approvals page).
    #[default]
    Human,
    /// An AI agent through the MCP server: policy applies the agent overlay ([`AgentRule`]) on top of its rules.
    Agent,
}

impl RequesterKind {
    /// True for [`RequesterKind::Human`] (the field is then left out of the plan file).
    pub fn is_human(&self) -> bool {
        *self == RequesterKind::Human
    }
}

/// One rule of the agent overlay: in a plan an agent requested, every item of this kind needs a human approval,
/// whatever the plan's size, unless the plan records that the operator relaxed the rule ([`Relaxation`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentRule {
    /// Deactivating an account.
    Deactivations,
    /// Removing an account from a desk, an organization or a group.
    Removals,
    /// Granting a billable agent seat.
    SeatGrants,
}

impl AgentRule {
    /// Every rule, in the order they are checked.
    pub const ALL: [AgentRule; 3] = [
        AgentRule::Deactivations,
        AgentRule::Removals,
        AgentRule::SeatGrants,
    ];

    /// The rule as written in config and plan files.
    pub fn as_str(self) -> &'static str {
        match self {
            AgentRule::Deactivations => "deactivations",
            AgentRule::Removals => "removals",
            AgentRule::SeatGrants => "seat_grants",
        }
    }

    /// Whether the rule covers this item: a deactivation, a removal, or an item that costs a seat.
    pub fn covers(self, item: &Item) -> bool {
        match self {
            AgentRule::Deactivations => matches!(item.action, Action::Deactivate { .. }),
            AgentRule::Removals => {
                item.action.is_removal() && !matches!(item.action, Action::Deactivate { .. })
            }
            AgentRule::SeatGrants => item.cost.is_some(),
        }
    }
}

/// An agent-overlay rule the operator relaxed for the tool that made the plan, with the reason they gave. It is
/// part of the hashed plan, so an approver and the audit log see it: a relaxation is never silent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Relaxation {
    /// The rule relaxed.
    pub rule: AgentRule,
    /// Why (from the MCP config).
    pub reason: String,
}

/// One change of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// Stable within the plan; with the plan id it is the journal's idempotency key.
    pub key: String,
    /// What to do.
    pub action: Action,
    /// Who or what it changes, for people.
    pub target: String,
    /// The rule that caused it.
    pub reason: String,
    /// How much harm it can do.
    pub risk: Risk,
    /// Set by policy: whether a human must approve the plan for this item.
    pub needs_approval: bool,
    /// The policy rule that asked for approval.
    pub approval_rule: Option<String>,
    /// What must still hold at apply time.
    pub precondition: Precondition,
    /// Items that must be done first (their output feeds this one).
    pub depends_on: Vec<String>,
    /// Estimated API calls to apply it.
    pub calls: u32,
    /// What it costs, when it costs money.
    pub cost: Option<String>,
    /// For reconcile items: the synchronization situation of the person it is for (`linked`, `unlinked`,
    /// `unmatched`, `deleted`, `disputed`, `orphan`). Absent from other plans, so their hashes are unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub situation: Option<String>,
    /// For reconcile items: the matching rule that decided the account (`link`, `external_id`, `email`,
    /// `account_id`), when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

/// Estimated API work and time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// API calls made while planning.
    pub observe_calls: u32,
    /// API calls apply will make.
    pub apply_calls: u32,
    /// Seconds apply needs at least under the configured rate limits (busiest endpoint's calls over its rate).
    pub apply_seconds: f64,
    /// That busiest endpoint.
    pub busiest_endpoint: Option<String>,
}

/// The plan file and store record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// File format version.
    pub version: u32,
    /// Unique id.
    pub id: String,
    /// sha256 of the canonical JSON of everything else; set by [`Plan::seal`].
    pub hash: String,
    /// What it is for.
    pub kind: PlanKind,
    /// One line for people.
    pub summary: String,
    /// Who asked for it.
    pub requester: String,
    /// Whether a person or an agent asked; an agent's plan gets the stricter agent overlay of the policy.
    #[serde(default, skip_serializing_if = "RequesterKind::is_human")]
    pub requester_kind: RequesterKind,
    /// Agent-overlay rules relaxed for this plan by the MCP config (only meaningful for an agent's plan).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agent_relaxed: Vec<Relaxation>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// The site it is for.
    pub site: String,
    /// Accounts in scope, for the accidental-deletion guard.
    pub scope: u32,
    /// The changes, in apply order.
    pub items: Vec<Item>,
    /// Cost of planning and applying.
    pub estimate: Estimate,
    /// Facts people should know (e.g. "a seat stays billed").
    pub notes: Vec<String>,
    /// Set by policy: why the plan needs an approval (empty when it does not).
    pub approval_reasons: Vec<String>,
    /// The reads that decided the plan: `METHOD route STATUS request-id` per call, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reads: Vec<String>,
}

impl Plan {
    /// True when a human must approve the plan before apply.
    pub fn needs_approval(&self) -> bool {
        !self.approval_reasons.is_empty() || self.items.iter().any(|i| i.needs_approval)
    }

    /// Marks the plan as requested by an agent with these overlay rules relaxed; the caller then evaluates the
    /// policy again and seals it (the agent overlay only ever adds approvals).
    pub fn requested_by_agent(&mut self, relaxed: Vec<Relaxation>) {
        self.requester_kind = RequesterKind::Agent;
        self.agent_relaxed = relaxed;
    }

    /// True when the agent-overlay rule applies to this plan (an agent asked and the rule was not relaxed).
    pub fn agent_rule_applies(&self, rule: AgentRule) -> bool {
        self.requester_kind == RequesterKind::Agent
            && !self.agent_relaxed.iter().any(|r| r.rule == rule)
    }

    /// True when there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The item with this key.
    pub fn item(&self, key: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.key == key)
    }

    /// Counts of `+`, `~` and `-` items.
    pub fn counts(&self) -> (usize, usize, usize) {
        let count = |s: Sign| self.items.iter().filter(|i| i.action.sign() == s).count();
        (
            count(Sign::Create),
            count(Sign::Change),
            count(Sign::Remove),
        )
    }
}
