//! What apply reports, per item and for the run, and the progress hook a terminal can draw.

use serde::{Deserialize, Serialize};

/// The outcome of one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// This apply made the change.
    Applied,
    /// The target already matched (found before sending, or by reading back after a crash).
    AlreadyApplied,
    /// The site refuses the change for a documented reason that leaves nothing to do (e.g. removing a customer
    /// from a desk open to every customer).
    NotApplicable,
    /// A manual step not yet taken.
    PendingManual,
    /// Not started: an item it depends on did not finish, or the run stopped first.
    Skipped,
    /// The site refused it (not worth retrying).
    Failed,
    /// It kept failing; set aside without blocking the rest.
    Quarantined,
}

impl Outcome {
    /// The outcome as recorded in the journal and the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::AlreadyApplied => "already_applied",
            Outcome::NotApplicable => "not_applicable",
            Outcome::PendingManual => "pending_manual",
            Outcome::Skipped => "skipped",
            Outcome::Failed => "failed",
            Outcome::Quarantined => "quarantined",
        }
    }

    /// Parses [`Outcome::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [
            Outcome::Applied,
            Outcome::AlreadyApplied,
            Outcome::NotApplicable,
            Outcome::PendingManual,
            Outcome::Skipped,
            Outcome::Failed,
            Outcome::Quarantined,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }

    /// True when the item needs no more work.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Outcome::Applied | Outcome::AlreadyApplied | Outcome::NotApplicable
        )
    }
}

/// One item's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemReport {
    /// Item key.
    pub key: String,
    /// Action name.
    pub action: String,
    /// Target.
    pub target: String,
    /// What happened.
    pub outcome: Outcome,
    /// Why, when it did not simply succeed.
    pub detail: Option<String>,
}

/// The result of one apply run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApplyReport {
    /// The plan.
    pub plan_id: String,
    /// Its hash.
    pub hash: String,
    /// Per item, in plan order.
    pub items: Vec<ItemReport>,
    /// Why the run stopped before the end, when it did.
    pub stopped: Option<String>,
}

impl ApplyReport {
    /// Items with this outcome.
    pub fn count(&self, outcome: Outcome) -> usize {
        self.items.iter().filter(|i| i.outcome == outcome).count()
    }

    /// True when every item is done (applied, already applied or not applicable).
    pub fn complete(&self) -> bool {
        self.stopped.is_none() && self.items.iter().all(|i| i.outcome.is_final())
    }

    /// True when something failed, was quarantined, or the run stopped.
    pub fn failed(&self) -> bool {
        self.stopped.is_some()
            || self
                .items
                .iter()
                .any(|i| matches!(i.outcome, Outcome::Failed | Outcome::Quarantined))
    }
}

/// Receives progress; a terminal draws a bar, a pipe ignores it.
pub trait Progress: Send + Sync {
    /// Apply is about to work on `total` items.
    fn start(&self, total: usize);
    /// One item finished.
    fn item(&self, report: &ItemReport);
    /// The run is over.
    fn finish(&self);
}

/// Progress that shows nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct Quiet;

impl Progress for Quiet {
    fn start(&self, _total: usize) {}
    fn item(&self, _report: &ItemReport) {}
    fn finish(&self) {}
}
