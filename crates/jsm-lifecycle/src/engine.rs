//! The engine: a client, a store and a policy, and the identity of whoever is asking. Operations build plans
//! through it; apply and approvals run through it.

use std::sync::Arc;

use jsm_client::{Client, Metrics};
use jsm_store::Store;

use crate::error::Result;
use crate::observe::{Capabilities, Observe};
use crate::plan::{Draft, Plan, Rates, Stamp};
use crate::policy::Policy;

/// Everything an operation needs.
#[derive(Debug, Clone)]
pub struct Engine {
    /// The Atlassian client.
    pub client: Client,
    /// Plans, approvals, journal and audit log.
    pub store: Store,
    /// What needs approval and how apply runs.
    pub policy: Policy,
    /// Which optional credentials the client has.
    pub caps: Capabilities,
    /// Who is asking (recorded as requester, approver and audit actor).
    pub actor: String,
    /// The site's base URL, recorded in plans.
    pub site: String,
    /// Rate limits for the time estimate.
    pub rates: Rates,
    /// Call counts of the client, when it was built with this observer.
    pub metrics: Option<Arc<Metrics>>,
}

impl Engine {
    /// An engine with default rates and no metrics.
    pub fn new(
        client: Client,
        store: Store,
        policy: Policy,
        caps: Capabilities,
        actor: impl Into<String>,
        site: impl Into<String>,
    ) -> Self {
        Self {
            client,
            store,
            policy,
            caps,
            actor: actor.into(),
            site: site.into(),
            rates: Rates::default(),
            metrics: None,
        }
    }

    /// Counts calls through these metrics (the client must have been built with them as its observer).
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// A reader of the site.
    pub fn observe(&self) -> Observe<'_> {
        Observe::new(&self.client, self.caps)
    }

    /// Calls sent so far, when metrics are attached.
    pub(crate) fn calls_sent(&self) -> u32 {
        self.metrics
            .as_ref()
            .map_or(0, |m| u32::try_from(m.snapshot().sent).unwrap_or(u32::MAX))
    }

    /// Finishes a draft built outside the operations (a program that assembles a [`PlanKind::Batch`] plan, a
    /// test): gives it an id, this engine's actor as requester, the client clock's time and the site, estimates
    /// it under [`Engine::rates`], lets the policy mark what needs approval, and seals it. Nothing is stored or
    /// sent: pass the plan to [`Engine::submit`] or write it with [`Plan::to_json`].
    ///
    /// [`PlanKind::Batch`]: crate::plan::PlanKind::Batch
    pub fn finish_draft(&self, draft: Draft) -> Result<Plan> {
        self.finish(draft, self.calls_sent())
    }

    /// Finishes a draft: id, requester, time, estimate, policy, hash.
    pub(crate) fn finish(&self, mut draft: Draft, calls_before: u32) -> Result<Plan> {
        draft.observed(self.calls_sent().saturating_sub(calls_before));
        let stamp = Stamp {
            id: uuid::Uuid::new_v4().simple().to_string(),
            requester: self.actor.clone(),
            now: self.client.clock().now(),
            site: self.site.clone(),
        };
        let mut plan = draft.finish(stamp, &self.rates);
        plan.reads = crate::apply::reads_so_far();
        self.policy.evaluate(&mut plan);
        plan.seal()
    }
}
