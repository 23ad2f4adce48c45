//! Policy: what needs a human approval (agent seats, deactivations, the accidental-deletion guard), what an
//! offboard removes, and how apply runs. A versioned TOML file with safe defaults.

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::plan::{Action, AgentRule, ManualCheck, Plan, Precondition};

/// The rule an item gets from the agent overlay: in a plan an agent requested (through the MCP server), every
/// deactivation, removal and seat grant needs a human approval whatever the plan's size, unless the MCP config
/// relaxed that rule for the tool, which the plan then records in `agent_relaxed`.
pub const AGENT_RULE: &str = "mcp.agent_requires_approval";

/// Version of the policy file format.
pub const POLICY_VERSION: u32 = 1;

/// The whole policy.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Must be [`POLICY_VERSION`].
    pub version: u32,
    /// Approval rules.
    #[serde(default)]
    pub approval: ApprovalPolicy,
    /// The accidental-deletion guard.
    #[serde(default)]
    pub deletion_guard: DeletionGuard,
    /// What an offboard removes.
    #[serde(default)]
    pub offboard: OffboardPolicy,
    /// How apply runs.
    #[serde(default)]
    pub apply: ApplyPolicy,
    /// Seat reports and reclaims.
    #[serde(default)]
    pub seats: crate::seats::SeatsPolicy,
    /// Credential checks.
    #[serde(default)]
    pub credentials: crate::credentials::CredentialsPolicy,
    /// How a reconcile reacts to each synchronization situation.
    #[serde(default)]
    pub reconcile: crate::reconcile::ReconcilePolicy,
}

/// When a deactivation needs approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeactivationRule {
    /// Only beyond the deletion guard.
    Guard,
    /// Always.
    Always,
}

/// Approval rules.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApprovalPolicy {
    /// Every grant of a billable agent seat needs an approval.
    pub agent_seat_grants: bool,
    /// When deactivations need one.
    pub deactivations: DeactivationRule,
    /// The requester cannot approve their own plan.
    pub distinct_approver: bool,
    /// Hours an approval stays valid.
    pub ttl_hours: u32,
}

impl Default for ApprovalPolicy {
    fn default() -> Self {
        Self {
            agent_seat_grants: true,
            deactivations: DeactivationRule::Guard,
            distinct_approver: false,
            ttl_hours: 24,
        }
    }
}

/// Removals and deactivations of more accounts than this need an approval.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeletionGuard {
    /// Percent of the accounts in scope.
    pub max_percent: f64,
    /// Absolute count; the lower of the two limits applies.
    pub max_count: u32,
}

impl Default for DeletionGuard {
    fn default() -> Self {
        Self {
            max_percent: 20.0,
            max_count: 50,
        }
    }
}

/// What an offboard removes besides deactivating.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OffboardPolicy {
    /// Remove from every service desk's customers.
    pub remove_from_desks: bool,
    /// Remove from every JSM organization.
    pub remove_from_organizations: bool,
    /// Remove from every Jira group.
    pub remove_from_groups: bool,
    /// Groups an offboard never removes.
    pub keep_groups: Vec<String>,
}

impl Default for OffboardPolicy {
    fn default() -> Self {
        Self {
            remove_from_desks: true,
            remove_from_organizations: true,
            remove_from_groups: true,
            keep_groups: Vec::new(),
        }
    }
}

/// How apply runs.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApplyPolicy {
    /// Items in flight at once (the client's rate limiter still paces them).
    pub concurrency: usize,
    /// Attempts of an item in one apply before it is quarantined.
    pub max_attempts: u32,
}

impl Default for ApplyPolicy {
    fn default() -> Self {
        Self {
            concurrency: 32,
            max_attempts: 3,
        }
    }
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            version: POLICY_VERSION,
            approval: ApprovalPolicy::default(),
            deletion_guard: DeletionGuard::default(),
            offboard: OffboardPolicy::default(),
            apply: ApplyPolicy::default(),
            seats: crate::seats::SeatsPolicy::default(),
            credentials: crate::credentials::CredentialsPolicy::default(),
            reconcile: crate::reconcile::ReconcilePolicy::default(),
        }
    }
}

impl Policy {
    /// Parses a policy file; errors name the file, the key and the line.
    pub fn from_toml(text: &str, path: &str) -> Result<Self> {
        let policy: Policy = toml::from_str(text).map_err(|e| Error::BadConfig {
            path: path.to_string(),
            detail: e.to_string().trim_end().to_string(),
        })?;
        if policy.version != POLICY_VERSION {
            return Err(Error::BadConfig {
                path: path.to_string(),
                detail: format!(
                    "version = {} is not supported (this jsmctl reads version {POLICY_VERSION})",
                    policy.version
                ),
            });
        }
        if policy.apply.concurrency == 0 || policy.apply.max_attempts == 0 {
            return Err(Error::BadConfig {
                path: path.to_string(),
                detail: "apply.concurrency and apply.max_attempts must be at least 1".into(),
            });
        }
        if let Some(detail) = policy
            .seats
            .problem()
            .or_else(|| policy.credentials.problem())
        {
            return Err(Error::BadConfig {
                path: path.to_string(),
                detail,
            });
        }
        Ok(policy)
    }

    /// The most removals a plan with `scope` accounts in scope may make without an approval.
    pub fn guard_limit(&self, scope: u32) -> f64 {
        let percent = f64::from(scope) * self.deletion_guard.max_percent / 100.0;
        percent.min(f64::from(self.deletion_guard.max_count))
    }

    /// Marks the items (and the plan) that need an approval, each with the rule that asked. After the rules of
    /// this file, the agent overlay ([`AGENT_RULE`]) applies to a plan whose `requester_kind` is `agent`: it only
    /// ever adds approvals, and apply re-runs this same evaluation, so an agent's plan cannot lose them.
    pub fn evaluate(&self, plan: &mut Plan) {
        plan.approval_reasons.clear();
        let agent_rules: Vec<AgentRule> = AgentRule::ALL
            .into_iter()
            .filter(|r| plan.agent_rule_applies(*r))
            .collect();
        let removed = removed_accounts(plan);
        let limit = self.guard_limit(plan.scope);
        let guard_tripped = removed > 1 && (removed as f64) > limit;
        for item in &mut plan.items {
            let rule = if item.cost.is_some() && self.approval.agent_seat_grants {
                Some("approval.agent_seat_grants: grants a billable agent seat")
            } else if item.action.is_deactivation()
                && self.approval.deactivations == DeactivationRule::Always
            {
                Some("approval.deactivations = \"always\"")
            } else if guard_tripped && item.action.is_removal() {
                Some("deletion_guard")
            } else if agent_rules.iter().any(|r| r.covers(item)) {
                Some(AGENT_RULE)
            } else {
                None
            };
            item.needs_approval = rule.is_some();
            item.approval_rule = rule.map(str::to_string);
        }
        if guard_tripped {
            plan.approval_reasons.push(format!(
                "deletion guard: removes or deactivates {removed} of {} accounts in scope (limit {limit:.1}: \
                 {}% or {}, whichever is lower)",
                plan.scope, self.deletion_guard.max_percent, self.deletion_guard.max_count
            ));
        }
        for item in plan.items.iter().filter(|i| i.needs_approval) {
            if let Some(rule) = &item.approval_rule
                && rule != "deletion_guard"
                && !plan.approval_reasons.contains(rule)
            {
                plan.approval_reasons.push(rule.clone());
            }
        }
    }
}

/// Distinct accounts a plan removes from something or deactivates. One account is never a mass deletion: a
/// single person's offboard is judged by `approval.deactivations`, the guard by plans that touch several.
fn removed_accounts(plan: &Plan) -> usize {
    let mut ids: Vec<&str> = plan
        .items
        .iter()
        .filter_map(|i| match &i.action {
            Action::RemoveFromDesk { account_id, .. }
            | Action::RemoveFromOrganization { account_id, .. }
            | Action::RemoveFromGroup { account_id, .. }
            | Action::SuspendAccess { account_id, .. }
            | Action::Deactivate { account_id, .. }
            | Action::Manual {
                verify: ManualCheck::Inactive { account_id },
                ..
            } => Some(account_id.as_str()),
            Action::ScimRemoveFromGroup { .. } => match &i.precondition {
                Precondition::ScimLinked { account_id, .. } => Some(account_id.as_str()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids.len()
}
