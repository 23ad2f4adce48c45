//! The builder an operation fills while it observes the site; finished into a [`Plan`] with id, time and estimate.

use chrono::{DateTime, Utc};

use super::{Action, Item, PLAN_VERSION, Plan, PlanKind, Precondition, Rates, Risk};

/// A plan being built.
#[derive(Debug, Clone)]
pub struct Draft {
    kind: PlanKind,
    summary: String,
    scope: u32,
    items: Vec<Item>,
    notes: Vec<String>,
    observe_calls: u32,
}

/// Who, when and where a plan is made.
#[derive(Debug, Clone)]
pub struct Stamp {
    /// The plan id.
    pub id: String,
    /// Who asked.
    pub requester: String,
    /// When.
    pub now: DateTime<Utc>,
    /// The site's base URL.
    pub site: String,
}

impl Draft {
    /// An empty draft.
    pub fn new(kind: PlanKind, summary: impl Into<String>) -> Self {
        Self {
            kind,
            summary: summary.into(),
            scope: 1,
            items: Vec::new(),
            notes: Vec::new(),
            observe_calls: 0,
        }
    }

    /// Sets how many accounts are in scope (for the deletion guard).
    pub fn scope(&mut self, n: u32) -> &mut Self {
        self.scope = n.max(1);
        self
    }

    /// Adds an item and returns its key; `calls` is 1 unless changed with [`Draft::last_calls`].
    pub fn push(
        &mut self,
        action: Action,
        target: impl Into<String>,
        reason: impl Into<String>,
        precondition: Precondition,
    ) -> String {
        let key = format!("{:04}-{}", self.items.len() + 1, action.name());
        let risk = match &action {
            Action::Deactivate { .. } => Risk::High,
            a if a.is_removal() => Risk::Medium,
            _ => Risk::Low,
        };
        let calls = u32::from(!matches!(
            action,
            Action::Manual { .. } | Action::Link { .. }
        ));
        self.items.push(Item {
            key: key.clone(),
            action,
            target: target.into(),
            reason: reason.into(),
            risk,
            needs_approval: false,
            approval_rule: None,
            precondition,
            depends_on: Vec::new(),
            calls,
            cost: None,
            situation: None,
            rule: None,
        });
        key
    }

    /// The last item pushed, to set dependencies, cost or risk.
    pub fn last(&mut self) -> Option<&mut Item> {
        self.items.last_mut()
    }

    /// Makes every item other than `first` wait for it (e.g. memberships wait for the deactivation).
    pub fn after(&mut self, first: &str) {
        for item in self.items.iter_mut().filter(|i| i.key != first) {
            if !item.depends_on.iter().any(|d| d == first) {
                item.depends_on.push(first.to_string());
            }
        }
    }

    /// Adds a note for people.
    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    /// Counts API calls made while observing.
    pub fn observed(&mut self, calls: u32) {
        self.observe_calls += calls;
    }

    /// The items so far.
    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// The finished, unsealed plan (policy then marks approvals, and sealing hashes it).
    pub fn finish(self, stamp: Stamp, rates: &Rates) -> Plan {
        let estimate = rates.estimate(&self.items, self.observe_calls);
        Plan {
            version: PLAN_VERSION,
            id: stamp.id,
            hash: String::new(),
            kind: self.kind,
            summary: self.summary,
            requester: stamp.requester,
            requester_kind: super::RequesterKind::Human,
            agent_relaxed: Vec::new(),
            created_at: stamp.now,
            site: stamp.site,
            scope: self.scope,
            items: self.items,
            estimate,
            notes: self.notes,
            approval_reasons: Vec::new(),
            reads: Vec::new(),
        }
    }
}
