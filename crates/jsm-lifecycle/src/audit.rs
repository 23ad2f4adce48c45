//! What the engine writes to the hash-chained audit log, and what it reads back from it (restore needs the
//! writes of the last offboard). Records carry ids, actions and outcomes; never a secret.

use chrono::{DateTime, Utc};
use jsm_store::{AuditDraft, AuditRecord, Store};
use serde_json::{Value, json};

use crate::error::Result;
use crate::plan::{Action, Item, Plan, PlanKind};

/// Record kinds.
pub mod kind {
    /// A plan was made (with the reads that decided it).
    pub const PLAN: &str = "plan";
    /// A plan was approved.
    pub const APPROVAL: &str = "approval";
    /// A plan was rejected.
    pub const REJECTION: &str = "rejection";
    /// A change was sent to the site (or found already applied).
    pub const WRITE: &str = "write";
    /// A read at apply time that decided an item (precondition, read-back after a crash).
    pub const READ: &str = "read";
    /// An apply run started or finished.
    pub const APPLY: &str = "apply";
}

/// A record of a plan being made: its summary, hash, counts and what planning read.
pub fn plan_made(plan: &Plan, actor: &str) -> AuditDraft {
    let (create, change, remove) = plan.counts();
    AuditDraft {
        at: plan.created_at,
        actor: actor.to_string(),
        kind: kind::PLAN.into(),
        plan_id: Some(plan.id.clone()),
        item_key: None,
        action: plan.kind.as_str().into(),
        target: plan.summary.clone(),
        outcome: if plan.needs_approval() {
            "awaiting_approval".into()
        } else {
            "ready".into()
        },
        request_id: None,
        detail: json!({
            "hash": plan.hash,
            "items": plan.items.len(),
            "create": create, "change": change, "remove": remove,
            "observe_calls": plan.estimate.observe_calls,
            "approval_reasons": plan.approval_reasons,
            "notes": plan.notes,
            "reads": plan.reads,
        }),
    }
}

/// A record of one item's outcome.
pub fn item_outcome(
    plan: &Plan,
    item: &Item,
    actor: &str,
    at: DateTime<Utc>,
    outcome: &str,
    request_id: Option<String>,
    extra: Value,
) -> AuditDraft {
    AuditDraft {
        at,
        actor: actor.to_string(),
        kind: kind::WRITE.into(),
        plan_id: Some(plan.id.clone()),
        item_key: Some(item.key.clone()),
        action: item.action.name().into(),
        target: item.target.clone(),
        outcome: outcome.to_string(),
        request_id,
        detail: json!({
            "plan_kind": plan.kind.as_str(),
            "plan_hash": plan.hash,
            "action": item.action,
            "extra": extra,
        }),
    }
}

/// One write of a past plan, as read back from the log.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteRecord {
    /// The plan.
    pub plan_id: String,
    /// The item of that plan.
    pub item_key: String,
    /// What was done.
    pub action: Action,
    /// The account it was for, when the action names it only indirectly.
    pub account_id: Option<String>,
}

fn write_of(record: &AuditRecord) -> Option<WriteRecord> {
    let d = &record.draft;
    if d.kind != kind::WRITE || d.outcome != "applied" {
        return None;
    }
    let kind = d.detail.get("plan_kind")?.as_str()?;
    if kind != PlanKind::Offboard.as_str() {
        return None;
    }
    let action: Action = serde_json::from_value(d.detail.get("action")?.clone()).ok()?;
    Some(WriteRecord {
        plan_id: d.plan_id.clone()?,
        item_key: d.item_key.clone()?,
        action,
        account_id: d
            .detail
            .pointer("/extra/account_id")
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}

/// The applied writes of the last offboard plan that touched this account, in the order they were made.
pub async fn last_offboard(store: &Store, account_id: &str) -> Result<Vec<WriteRecord>> {
    let mut writes: Vec<WriteRecord> = Vec::new();
    let mut after = 0;
    loop {
        let page = store.audit_list(after, 1000).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        writes.extend(
            page.iter()
                .filter_map(write_of)
                .filter(|w| w.touches(account_id)),
        );
    }
    let Some(plan_id) = writes.last().map(|w| w.plan_id.clone()) else {
        return Ok(Vec::new());
    };
    writes.retain(|w| w.plan_id == plan_id);
    Ok(writes)
}
