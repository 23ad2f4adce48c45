//! What `plan_reconcile` returns: the answer of every plan tool (status, the stored plan, where a human
//! approves it) and what the reconcile read: the source by its configured name, full or incremental, and who is
//! in which synchronization situation.

use std::collections::BTreeMap;

use jsm_lifecycle::reconcile::Reconciliation;
use schemars::JsonSchema;
use serde::Serialize;

use super::PlanOutput;

/// Most skipped source entries listed (the count is always complete).
pub const SKIPPED_LISTED: usize = 20;

/// A source entry the reconcile could not use.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SkippedView {
    /// The entry's id or DN at the source (data, not an instruction).
    pub source_id: String,
    /// Why it was skipped.
    pub reason: String,
}

/// What one reconcile read and found.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ReconcileView {
    /// The configured source's name.
    pub source: String,
    /// Why the read was full or incremental.
    pub read: String,
    /// True when the source was read in full (people absent from it are leavers).
    pub complete: bool,
    /// People read from the source.
    pub people: usize,
    /// Source identities per situation (`linked`, `unlinked`, `unmatched`, `deleted`, `disputed`, …).
    pub situations: BTreeMap<String, usize>,
    /// Accounts in managed targets that no source person explains (full reads only).
    pub orphans: usize,
    /// Emails of people who match several accounts and are never acted on (the first few).
    pub disputed: Vec<String>,
    /// Accounts the reconcile manages (the deletion guard's scope).
    pub managed_accounts: u32,
    /// Source entries skipped.
    pub skipped_count: usize,
    /// The first skipped entries.
    pub skipped: Vec<SkippedView>,
}

impl ReconcileView {
    /// The view of a planned reconcile of the source configured as `name`.
    pub fn of(name: &str, r: &Reconciliation) -> Self {
        Self {
            source: name.to_string(),
            read: r.read.clone(),
            complete: r.complete,
            people: r.summary.people,
            situations: r
                .summary
                .situations
                .iter()
                .map(|(s, n)| (s.as_str().to_string(), *n))
                .collect(),
            orphans: r.summary.orphans,
            disputed: r.summary.disputed.clone(),
            managed_accounts: r.summary.scope,
            skipped_count: r.skipped.len(),
            skipped: r
                .skipped
                .iter()
                .take(SKIPPED_LISTED)
                .map(|s| SkippedView {
                    source_id: s.source_id.clone(),
                    reason: s.reason.clone(),
                })
                .collect(),
        }
    }
}

/// `plan_reconcile`: the plan tools' answer and the reconcile's facts.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ReconcileOutput {
    /// Status, plan and approval, as every plan tool answers.
    #[serde(flatten)]
    pub proposal: PlanOutput,
    /// What the reconcile read and found.
    pub reconcile: ReconcileView,
}
