//! The apply run: load the journal, read back items a crash left `sent`, then run ready items concurrently
//! (an item is ready when every item it depends on is done) until all are done, skipped or the run stops. Free
//! slots go to the endpoint with the fewest items in flight, since the rate limits are per endpoint.

use std::collections::{BTreeMap, HashMap, VecDeque};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use jsm_store::{JournalEntry, JournalState, PlanStatus};
use serde_json::{Value, json};

use super::check::{self, Check};
use super::execute::{self, Sent};
use super::report::{ApplyReport, ItemReport, Outcome, Progress};
use super::{backoff, request_ids, transient};
use crate::audit;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::plan::{AccountRef, Action, Item, Plan};

/// How one item ended in this run.
enum Ended {
    Done(Outcome, Value, Option<String>),
    Broken(String),
}

impl Engine {
    /// Applies exactly this plan (stored, sealed, approved where it must be); safe to run again after a crash.
    pub async fn apply(&self, plan: &Plan, progress: &dyn Progress) -> Result<ApplyReport> {
        self.gate(plan).await?;
        self.store
            .set_plan_status(&plan.id, PlanStatus::Applying)
            .await?;
        self.audit_apply(plan, "started", json!({})).await?;
        let journal: HashMap<String, JournalEntry> = self
            .store
            .journal(&plan.id)
            .await?
            .into_iter()
            .map(|e| (e.item_key.clone(), e))
            .collect();
        let mut runner = Runner::new(plan, journal);
        progress.start(plan.items.len() - runner.done_count());
        let stopped = self.run_items(&mut runner, progress).await?;
        progress.finish();
        let report = runner.report(plan, stopped);
        let status = if report.complete() {
            PlanStatus::Applied
        } else if report.failed() {
            PlanStatus::Failed
        } else {
            PlanStatus::Applying
        };
        self.store.set_plan_status(&plan.id, status).await?;
        let counts = json!({
            "applied": report.count(Outcome::Applied),
            "already_applied": report.count(Outcome::AlreadyApplied),
            "pending_manual": report.count(Outcome::PendingManual),
            "failed": report.count(Outcome::Failed),
            "quarantined": report.count(Outcome::Quarantined),
            "skipped": report.count(Outcome::Skipped),
            "stopped": report.stopped,
        });
        self.audit_apply(plan, status.as_str(), counts).await?;
        Ok(report)
    }

    async fn run_items(
        &self,
        runner: &mut Runner<'_>,
        progress: &dyn Progress,
    ) -> Result<Option<String>> {
        let limit = self.policy.apply.concurrency.max(1);
        let plan = runner.plan;
        let mut in_flight = FuturesUnordered::new();
        let mut stopped: Option<String> = None;
        loop {
            while stopped.is_none() && in_flight.len() < limit {
                let Some(idx) = runner.ready.pop() else {
                    break;
                };
                let item = &plan.items[idx];
                let account = runner.account_of(item);
                let scim = runner.scim_of(item);
                let attempts = runner.attempts(&item.key);
                let sent_before = runner.was_sent(&item.key);
                in_flight.push(async move {
                    let ended = request_ids::collecting(self.run_item(
                        plan,
                        item,
                        account.as_deref(),
                        scim,
                        attempts,
                        sent_before,
                    ))
                    .await;
                    (idx, ended)
                });
            }
            let Some((idx, ended)) = in_flight.next().await else {
                break;
            };
            let item = &plan.items[idx];
            runner.ready.landed(item.action.endpoint());
            match ended? {
                Ended::Broken(detail) => {
                    let err = Error::SiteChanged {
                        item_key: item.key.clone(),
                        target: item.target.clone(),
                        detail: detail.clone(),
                    };
                    stopped.get_or_insert(err.to_string());
                    runner.finish(idx, Outcome::Skipped, Value::Null, Some(detail));
                }
                Ended::Done(outcome, output, detail) => runner.finish(idx, outcome, output, detail),
            }
            if let Some(last) = runner.reports.get(&idx) {
                progress.item(last);
            }
        }
        Ok(stopped)
    }

    /// Runs one item to an end: read back if a crash left it sent, check, send, retry transient failures.
    /// `scim` is the SCIM id a link item records, when it comes from an earlier item.
    ///
    ///
    /// `attempts` is the journal's count of sends, earlier runs included, and stays cumulative. The retry budget
    /// (`apply.max_attempts`) and the backoff count this run's tries only: runs killed while the item was in
    /// flight, or journaled `sent` and waiting for the client's limiter, must not use up the budget, or the item
    /// is quarantined at its first transient failure after a few crashes. A read-back that fails transiently is
    /// retried like a send, instead of failing the whole run.
    async fn run_item(
        &self,
        plan: &Plan,
        item: &Item,
        account: Option<&str>,
        scim: Option<String>,
        mut attempts: u32,
        sent_before: bool,
    ) -> Result<Ended> {
        if let Action::Link { .. } = &item.action {
            return match self.put_link(item, account, scim).await? {
                Ok(output) => {
                    self.record(plan, item, Outcome::Applied, output, attempts + 1, None)
                        .await
                }
                Err(why) => {
                    self.record(
                        plan,
                        item,
                        Outcome::Failed,
                        Value::Null,
                        attempts + 1,
                        Some(why),
                    )
                    .await
                }
            };
        }
        let max = self.policy.apply.max_attempts.max(1);
        let mut unresolved = sent_before;
        let mut tries = 0u32;
        loop {
            tries += 1;
            let tried = match self.read_back_once(item, account, &mut unresolved).await {
                Ok(Some(output)) => {
                    return self
                        .record(
                            plan,
                            item,
                            Outcome::AlreadyApplied,
                            output,
                            attempts,
                            Some("found applied after an interrupted run".into()),
                        )
                        .await;
                }
                Ok(None) => {
                    let tried = self.try_item(plan, item, account, attempts).await;
                    attempts += 1;
                    tried
                }
                Err(e) => Err(e),
            };
            match tried {
                Ok(Ok(sent)) => {
                    return self
                        .record(plan, item, sent.outcome, sent.output, attempts, sent.detail)
                        .await;
                }
                Ok(Err(broken)) => return Ok(Ended::Broken(broken)),
                Err(e) if transient(&e) && tries < max => {
                    tracing::warn!(item = %item.key, try_in_run = tries, error = %e, "item failed; retrying");
                    self.client.clock().sleep(backoff(tries)).await;
                }
                Err(e) => {
                    let outcome = if transient(&e) {
                        Outcome::Quarantined
                    } else {
                        Outcome::Failed
                    };
                    return self
                        .record(
                            plan,
                            item,
                            outcome,
                            Value::Null,
                            attempts,
                            Some(e.to_string()),
                        )
                        .await;
                }
            }
        }
    }

    /// For an item a crash left `sent`, until one read succeeds: the output when the change is found made. Once
    /// a read found nothing, `unresolved` is cleared and the item is checked and sent like any other.
    async fn read_back_once(
        &self,
        item: &Item,
        account: Option<&str>,
        unresolved: &mut bool,
    ) -> Result<Option<Value>> {
        if !*unresolved {
            return Ok(None);
        }
        let found = check::read_back(&self.client, item, account).await?;
        *unresolved = false;
        Ok(found)
    }

    /// One attempt: `Ok(Err(reason))` when the precondition is broken.
    async fn try_item(
        &self,
        plan: &Plan,
        item: &Item,
        account: Option<&str>,
        attempts: u32,
    ) -> Result<Result<Sent, String>> {
        match check::before_send(&self.client, item, account).await? {
            Check::Broken(reason) => return Ok(Err(reason)),
            Check::AlreadyApplied(output) => {
                return Ok(Ok(Sent {
                    outcome: Outcome::AlreadyApplied,
                    output,
                    detail: None,
                }));
            }
            Check::Ready => {}
        }
        self.journal(
            plan,
            item,
            JournalState::Sent,
            attempts + 1,
            None,
            None,
            None,
        )
        .await?;
        Ok(Ok(execute::send(&self.client, &item.action, account).await?))
    }

    /// Writes the outcome to the audit log, then the journal (a crash between the two leaves the item `sent`,
    /// which the next run reads back).
    async fn record(
        &self,
        plan: &Plan,
        item: &Item,
        outcome: Outcome,
        output: Value,
        attempts: u32,
        detail: Option<String>,
    ) -> Result<Ended> {
        let at = self.client.clock().now();
        let calls = request_ids::so_far();
        let request_id = calls
            .last()
            .and_then(|c| c.rsplit(' ').next())
            .map(str::to_string);
        let mut extra = json!({ "detail": detail, "calls": calls });
        if let Some(id) = output.get("account_id").filter(|v| !v.is_null()) {
            extra["account_id"] = id.clone();
        } else if let Some(id) = precondition_account(item) {
            extra["account_id"] = json!(id);
        }
        let draft = audit::item_outcome(
            plan,
            item,
            &self.actor,
            at,
            outcome.as_str(),
            request_id,
            extra,
        );
        self.store.audit_append(draft).await?;
        self.learn_from(item, outcome, detail.as_deref()).await?;
        let state = match outcome {
            Outcome::Applied | Outcome::AlreadyApplied | Outcome::NotApplicable => {
                JournalState::Done
            }
            Outcome::Failed => JournalState::Failed,
            Outcome::Quarantined => JournalState::Quarantined,
            Outcome::PendingManual | Outcome::Skipped => JournalState::Pending,
        };
        let out = (!output.is_null()).then_some(output.clone());
        self.journal(
            plan,
            item,
            state,
            attempts,
            Some(outcome),
            out,
            detail.clone(),
        )
        .await?;
        Ok(Ended::Done(outcome, output, detail))
    }

    #[allow(clippy::too_many_arguments, reason = "one journal row's fields")]
    async fn journal(
        &self,
        plan: &Plan,
        item: &Item,
        state: JournalState,
        attempts: u32,
        outcome: Option<Outcome>,
        output: Option<Value>,
        error: Option<String>,
    ) -> Result<()> {
        let entry = JournalEntry {
            plan_id: plan.id.clone(),
            item_key: item.key.clone(),
            state,
            attempts,
            outcome: outcome.map(|o| o.as_str().to_string()),
            output,
            error,
            updated_at: self.client.clock().now(),
        };
        Ok(self.store.journal_put(&entry).await?)
    }

    async fn audit_apply(&self, plan: &Plan, outcome: &str, detail: Value) -> Result<()> {
        let draft = jsm_store::AuditDraft {
            at: self.client.clock().now(),
            actor: self.actor.clone(),
            kind: audit::kind::APPLY.into(),
            plan_id: Some(plan.id.clone()),
            item_key: None,
            action: plan.kind.as_str().into(),
            target: plan.summary.clone(),
            outcome: outcome.into(),
            request_id: None,
            detail,
        };
        self.store.audit_append(draft).await?;
        Ok(())
    }
}

/// The account an item's precondition names, for audit records of actions that name it only indirectly.
fn precondition_account(item: &Item) -> Option<&str> {
    use crate::plan::Precondition as P;
    match &item.precondition {
        P::AccountActive { account_id }
        | P::AccountExists { account_id }
        | P::ScimLinked { account_id, .. } => Some(account_id),
        P::None => None,
    }
}

/// The run's bookkeeping: which items are done, which are ready, what each produced.
struct Runner<'p> {
    plan: &'p Plan,
    journal: HashMap<String, JournalEntry>,
    index: HashMap<&'p str, usize>,
    outputs: HashMap<usize, Value>,
    waiting_on: Vec<usize>,
    dependents: Vec<Vec<usize>>,
    ready: Lanes,
    reports: HashMap<usize, ItemReport>,
}

impl<'p> Runner<'p> {
    fn new(plan: &'p Plan, journal: HashMap<String, JournalEntry>) -> Self {
        let index: HashMap<&str, usize> = plan
            .items
            .iter()
            .enumerate()
            .map(|(i, it)| (it.key.as_str(), i))
            .collect();
        let n = plan.items.len();
        let mut runner = Self {
            plan,
            journal,
            index,
            outputs: HashMap::new(),
            waiting_on: vec![0; n],
            dependents: vec![Vec::new(); n],
            ready: Lanes::default(),
            reports: HashMap::new(),
        };
        for (i, item) in plan.items.iter().enumerate() {
            for dep in &item.depends_on {
                if let Some(&d) = runner.index.get(dep.as_str()) {
                    runner.dependents[d].push(i);
                    runner.waiting_on[i] += 1;
                }
            }
        }
        let done: Vec<(usize, Outcome, Value)> = plan
            .items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| {
                let entry = runner.journal.get(&item.key)?;
                let outcome = entry.outcome.as_deref().and_then(Outcome::parse)?;
                (entry.state == JournalState::Done && outcome.is_final())
                    .then(|| (i, outcome, entry.output.clone().unwrap_or(Value::Null)))
            })
            .collect();
        for (i, outcome, output) in done {
            runner.settle(i, outcome, output, Some("done in an earlier run".into()));
        }
        for i in 0..n {
            if runner.waiting_on[i] == 0 && !runner.reports.contains_key(&i) {
                runner.ready.push(plan.items[i].action.endpoint(), i);
            }
        }
        runner
    }

    fn done_count(&self) -> usize {
        self.reports.len()
    }

    fn attempts(&self, key: &str) -> u32 {
        self.journal
            .get(key)
            .filter(|e| !matches!(e.state, JournalState::Failed | JournalState::Quarantined))
            .map_or(0, |e| e.attempts)
    }

    fn was_sent(&self, key: &str) -> bool {
        self.journal
            .get(key)
            .is_some_and(|e| e.state == JournalState::Sent)
    }

    /// The account id (or SCIM id, for SCIM group changes) the item acts on.
    fn account_of(&self, item: &Item) -> Option<String> {
        let (reference, field) = match &item.action {
            Action::AddToDesk { account, .. }
            | Action::AddToOrganization { account, .. }
            | Action::AddToGroup { account, .. } => (account, "account_id"),
            Action::ScimAddToGroup { user, .. } => (user, "scim_id"),
            Action::Link { account, .. } => (account, "account_id"),
            Action::RemoveFromDesk { account_id, .. }
            | Action::RemoveFromOrganization { account_id, .. }
            | Action::RemoveFromGroup { account_id, .. }
            | Action::Deactivate { account_id, .. }
            | Action::SuspendAccess { account_id, .. }
            | Action::Reactivate { account_id, .. } => return Some(account_id.clone()),
            _ => return None,
        };
        match reference {
            AccountRef::Id(id) => Some(id.clone()),
            AccountRef::FromItem(key) => self
                .index
                .get(key.as_str())
                .and_then(|i| self.outputs.get(i))
                .and_then(|o| o.get(field))
                .and_then(Value::as_str)
                .map(str::to_string),
        }
    }

    /// The SCIM id a link item records: given in the plan, or the output of the item that created the user.
    fn scim_of(&self, item: &Item) -> Option<String> {
        let Action::Link {
            scim: Some(reference),
            ..
        } = &item.action
        else {
            return None;
        };
        match reference {
            AccountRef::Id(id) => Some(id.clone()),
            AccountRef::FromItem(key) => self
                .index
                .get(key.as_str())
                .and_then(|i| self.outputs.get(i))
                .and_then(|o| o.get("scim_id"))
                .and_then(Value::as_str)
                .map(str::to_string),
        }
    }

    /// Records an item's end without releasing dependents.
    fn settle(&mut self, idx: usize, outcome: Outcome, output: Value, detail: Option<String>) {
        let item = &self.plan.items[idx];
        self.outputs.insert(idx, output);
        self.reports.insert(
            idx,
            ItemReport {
                key: item.key.clone(),
                action: item.action.name().into(),
                target: item.target.clone(),
                outcome,
                detail,
            },
        );
        if outcome.is_final() {
            for &d in &self.dependents[idx] {
                self.waiting_on[d] = self.waiting_on[d].saturating_sub(1);
            }
        }
    }

    /// Records an item's end in this run and queues the dependents it released at the front, in plan order:
    /// a person's desk and group items start as soon as the account exists, so every endpoint stays busy at
    /// its own rate instead of all creates running first and every membership waiting behind them.
    fn finish(&mut self, idx: usize, outcome: Outcome, output: Value, detail: Option<String>) {
        self.settle(idx, outcome, output, detail);
        if !outcome.is_final() {
            return;
        }
        for d in self.dependents[idx].clone().into_iter().rev() {
            if self.waiting_on[d] == 0 && !self.reports.contains_key(&d) {
                self.ready.push(self.plan.items[d].action.endpoint(), d);
            }
        }
    }

    /// Per item in plan order; items never reached are skipped, naming why.
    fn report(mut self, plan: &Plan, stopped: Option<String>) -> ApplyReport {
        let items = (0..plan.items.len())
            .map(|i| {
                self.reports.remove(&i).unwrap_or_else(|| {
                    let item = &plan.items[i];
                    let blocker = item.depends_on.iter().find(|d| {
                        self.index.get(d.as_str()).is_some_and(|j| {
                            self.reports.get(j).is_none_or(|r| !r.outcome.is_final())
                        })
                    });
                    ItemReport {
                        key: item.key.clone(),
                        action: item.action.name().into(),
                        target: item.target.clone(),
                        outcome: Outcome::Skipped,
                        detail: Some(match blocker {
                            Some(d) => format!("waits for {d}, which is not done"),
                            None => "not started: the run stopped".into(),
                        }),
                    }
                })
            })
            .collect();
        ApplyReport {
            plan_id: plan.id.clone(),
            hash: plan.hash.clone(),
            items,
            stopped,
        }
    }
}

/// Ready items by the endpoint they call, and how many items of each endpoint are in flight.
///
/// The rate limits are per endpoint, so the next free slot goes to the endpoint with ready items and the fewest
/// in flight: each endpoint with work keeps a share of `apply.concurrency` and runs at its own rate. Taking items
/// in plan order instead let the first endpoint's items fill every slot, each waiting for that endpoint's
/// limiter, while the items of other endpoints (a create's desk adds) waited for a slot: 2,000 creates and their
/// 4,000 desk adds ran one endpoint after the other, 62 s where the limits allow 40 s.
#[derive(Debug, Default)]
struct Lanes {
    ready: BTreeMap<&'static str, VecDeque<usize>>,
    in_flight: HashMap<&'static str, usize>,
}

impl Lanes {
    /// Queues item `idx`, which calls `endpoint`.
    fn push(&mut self, endpoint: &'static str, idx: usize) {
        self.ready.entry(endpoint).or_default().push_back(idx);
    }

    /// The next item to start, from the endpoint with the fewest in flight (counted as in flight from now).
    fn pop(&mut self) -> Option<usize> {
        let endpoint = self
            .ready
            .keys()
            .copied()
            .min_by_key(|e| self.in_flight.get(e).copied().unwrap_or(0))?;
        let queue = self.ready.get_mut(endpoint)?;
        let idx = queue.pop_front();
        if queue.is_empty() {
            self.ready.remove(endpoint);
        }
        if idx.is_some() {
            *self.in_flight.entry(endpoint).or_default() += 1;
        }
        idx
    }

    /// An item of `endpoint` ended.
    fn landed(&mut self, endpoint: &'static str) {
        if let Some(n) = self.in_flight.get_mut(endpoint) {
            *n = n.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Lanes;

    #[test]
    fn free_slots_go_to_the_endpoint_with_the_fewest_in_flight() {
        let mut lanes = Lanes::default();
        for i in 0..4 {
            lanes.push("POST /a", i);
        }
        lanes.push("POST /b", 10);
        lanes.push("POST /b", 11);
        let started: Vec<usize> = (0..4).filter_map(|_| lanes.pop()).collect();
        assert_eq!(started, vec![0, 10, 1, 11], "the endpoints alternate");
        lanes.landed("POST /a");
        lanes.landed("POST /a");
        assert_eq!(lanes.pop(), Some(2), "only /a has items left");
        assert_eq!(lanes.pop(), Some(3));
        assert_eq!(lanes.pop(), None);
    }
}
