//! What a worker runs: the [`Job`] kinds, and the extension points that the other lifecycle work plugs into.
//!
//! - [`Job::ApplyPlan`] applies a stored, approved plan through the engine's journaled apply, so a job taken over
//!   after a dead worker resumes from the journal and never repeats a change.
//! - [`Job::Reconcile`] calls a [`Reconciler`], by default [`SourceReconciler`]: the engine's reconcile from the
//!   serve config's `[[sources]]`, of everyone (`plan_reconcile`) or of one person (`plan_reconcile_person`,
//!   what a webhook queues: that account and its source person are all it reads and changes).
//! - [`Job::CredentialCheck`] runs the engine's credential check (expiry on Atlassian's clock, owners, the admin
//!   API's token listing) and warns in the log before anything expires.

use chrono::{DateTime, Duration, Utc};
use futures::future::BoxFuture;
use jsm_lifecycle::credentials::Severity;
use jsm_lifecycle::{Engine, ErrorKind, Outcome, Quiet};
use jsm_store::{CredentialMeta, NewJob, Store};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use jsm_sources::SourceConfig;

use crate::config::ServeConfig;

/// One unit of work in the queue; stored as its JSON (`{"kind": …, …}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Job {
    /// Apply a stored plan exactly as approved (resumes from the apply journal after a takeover).
    ApplyPlan {
        /// The plan's id.
        plan_id: String,
    },
    /// Reconcile the site with an identity source: everyone, or one person.
    Reconcile {
        /// The site's base URL.
        site: String,
        /// The identity source's name.
        source: String,
        /// One person's Atlassian account id (a webhook's incremental reconcile), or everyone.
        person: Option<String>,
    },
    /// Check credential expiry and warn.
    CredentialCheck,
}

impl Job {
    /// The kind as stored (`apply_plan`, `reconcile`, `credential_check`).
    pub fn kind(&self) -> &'static str {
        match self {
            Job::ApplyPlan { .. } => "apply_plan",
            Job::Reconcile { .. } => "reconcile",
            Job::CredentialCheck => "credential_check",
        }
    }

    /// Jobs that change the site hold its lock: at most one runs at a time across all workers.
    pub fn lock_key(&self, config: &ServeConfig) -> Option<String> {
        match self {
            Job::ApplyPlan { .. } => Some(config.site_lock()),
            Job::Reconcile { site, .. } => Some(format!("site:{site}")),
            Job::CredentialCheck => None,
        }
    }

    /// The row to queue.
    pub fn to_new(&self, config: &ServeConfig, by: &str, run_at: DateTime<Utc>) -> NewJob {
        NewJob {
            kind: self.kind().into(),
            spec: serde_json::to_value(self).unwrap_or(Value::Null),
            lock_key: self.lock_key(config),
            max_attempts: config.max_attempts,
            run_at,
            created_by: by.to_string(),
        }
    }

    /// Reads a stored job back.
    pub fn from_spec(spec: &Value) -> Result<Self, String> {
        serde_json::from_value(spec.clone()).map_err(|e| format!("job spec does not parse: {e}"))
    }
}

/// How a job run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum RunEnd {
    /// Finished; the result is stored with the job.
    Done(Value),
    /// Failed in a way retrying will not fix.
    Failed(String),
    /// Failed in a way that may pass later (rate limit, network, 5xx): queue again after the delay.
    Retry(String, std::time::Duration),
}

/// A reconcile asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReconcileRequest {
    /// The site's base URL.
    pub site: String,
    /// The identity source's name.
    pub source: String,
    /// One person's account id, or everyone.
    pub person: Option<String>,
    /// On a later claim of the same job (a takeover, a retry): when its first claim was. A reconcile plan of
    /// this source made since and left unfinished is an earlier claim's, finished before planning anew.
    #[serde(default)]
    pub resume_after: Option<DateTime<Utc>>,
}

/// **Extension point** for reconcile from identity sources (issue 8). The worker calls it for every
/// [`Job::Reconcile`] with an engine whose actor is the worker and whose client draws on this worker's share of
/// the site's rate budget. The implementation plans (and applies what policy lets through) and returns a result
/// that is stored with the job.
pub trait Reconciler: Send + Sync + std::fmt::Debug {
    /// Runs one reconcile.
    fn reconcile<'a>(
        &'a self,
        engine: &'a Engine,
        request: &'a ReconcileRequest,
    ) -> BoxFuture<'a, Result<Value, jsm_lifecycle::Error>>;
}

/// Reconcile from the configured identity sources: a full run (`plan_reconcile`) or one person's
/// (`plan_reconcile_person`, a webhook's job) plans, submits, applies what policy lets through (a plan that
/// needs a human waits on the page), and a full run moves the source's watermark once applied. A job taken over
/// from a dead worker first finishes, from its journal, the plan that worker left half applied. Without the
/// named source in `[[sources]]` the job fails saying so.
///
/// Serve's site lock (one job per site, leased and taken over) keeps workers from reconciling a site at once;
/// the engine's own run lock is not taken, since its lease (hours) would block the takeover of a dead worker's job.
#[derive(Debug, Default)]
pub struct SourceReconciler {
    sources: Vec<SourceConfig>,
}

impl SourceReconciler {
    /// A reconciler for these sources.
    pub fn new(sources: Vec<SourceConfig>) -> Self {
        Self { sources }
    }

    /// The configured source a request names, or why there is none.
    fn source(&self, name: &str) -> Result<&SourceConfig, jsm_lifecycle::Error> {
        let detail = if self.sources.is_empty() {
            format!(
                "the serve config has no [[sources]], so a reconcile of source {name:?} cannot run: add one \
                 (name, spec, mapping) to the file given to --serve-config"
            )
        } else {
            format!("{name:?} is not a [[sources]] entry of the serve config")
        };
        self.sources
            .iter()
            .find(|s| s.name == name)
            .ok_or(jsm_lifecycle::Error::InvalidInput {
                field: "[[sources]]".into(),
                detail,
            })
    }
}

impl Reconciler for SourceReconciler {
    fn reconcile<'a>(
        &'a self,
        engine: &'a Engine,
        request: &'a ReconcileRequest,
    ) -> BoxFuture<'a, Result<Value, jsm_lifecycle::Error>> {
        Box::pin(async move {
            let cfg = self.source(&request.source)?.clone();
            // On a thread of its own, so a large plan built and hashed (CPU for seconds) never holds up the
            // runtime that keeps the job's heartbeat; dropping this future (a lost lease, a shutdown) cancels it.
            let (engine, request) = (engine.clone(), request.clone());
            let (cancel, cancelled) = tokio::sync::oneshot::channel::<()>();
            let handle = tokio::runtime::Handle::current();
            let task = tokio::task::spawn_blocking(move || {
                handle.block_on(async move {
                    tokio::select! {
                        r = reconcile_source(&engine, &cfg, &request) => r,
                        _ = cancelled => Err(jsm_lifecycle::Error::Encode("the reconcile was cancelled".into())),
                    }
                })
            });
            let result = task.await.map_err(|e| {
                jsm_lifecycle::Error::Encode(format!("the reconcile task failed: {e}"))
            });
            drop(cancel);
            result?
        })
    }
}

/// A reconcile of one configured source, of everyone or of one account: an earlier claim's unfinished plan
/// first, then plan, submit, apply what needs no human; a full run moves the watermark once its plan is applied
/// (one person's never does).
async fn reconcile_source(
    engine: &Engine,
    cfg: &SourceConfig,
    request: &ReconcileRequest,
) -> Result<Value, jsm_lifecycle::Error> {
    let env = |name: &str| std::env::var(name).ok();
    let opened = cfg.open(&env)?;
    let resumed = match request.resume_after {
        Some(since) => resume(engine, &opened.source, since).await?,
        None => Vec::new(),
    };
    let req =
        jsm_lifecycle::reconcile::Request::new(&opened.source, &opened.mapping, &opened.origin);
    let person = request.person.as_deref();
    let reconciled = match person {
        Some(account_id) => engine.plan_reconcile_person(&req, account_id).await?,
        None => engine.plan_reconcile(&req).await?,
    };
    let plan = &reconciled.plan;
    engine.submit(plan).await?;
    let summary = serde_json::to_value(&reconciled.summary).unwrap_or(Value::Null);
    let mut result = json!({
        "plan_id": plan.id, "read": reconciled.read, "summary": summary, "resumed": resumed,
    });
    let applied = carry_out(engine, plan, &mut result).await?;
    if applied && person.is_none() {
        engine.save_watermark(&reconciled.watermark).await?;
    }
    Ok(result)
}

/// Applies a submitted plan unless it is empty or waits for a human, saying in `result` how it ended; whether
/// the site now is as the plan says.
async fn carry_out(
    engine: &Engine,
    plan: &jsm_lifecycle::Plan,
    result: &mut Value,
) -> Result<bool, jsm_lifecycle::Error> {
    if plan.is_empty() {
        result["status"] = json!("in_sync");
        return Ok(true);
    }
    if plan.needs_approval() {
        result["status"] = json!("awaiting_approval");
        result["approval_reasons"] = json!(plan.approval_reasons);
        return Ok(false);
    }
    let report = engine.apply(plan, &Quiet).await?;
    let status = if report.complete() {
        "applied"
    } else {
        "incomplete"
    };
    result["status"] = json!(status);
    result["items"] = json!(report.items.len());
    result["applied"] = json!(report.count(Outcome::Applied));
    result["already_applied"] = json!(report.count(Outcome::AlreadyApplied));
    result["failed"] = json!(report.count(Outcome::Failed));
    result["stopped"] = json!(report.stopped);
    Ok(report.complete())
}

/// Finishes, from their journals, the reconcile plans of this source an earlier claim of the job made since
/// `since` and left unfinished; what each apply did.
async fn resume(
    engine: &Engine,
    source: &jsm_sources::Source,
    since: DateTime<Utc>,
) -> Result<Vec<Value>, jsm_lifecycle::Error> {
    let name = jsm_lifecycle::reconcile::source_name(source);
    let mut resumed = Vec::new();
    for plan in engine.unfinished_reconciles(&name, since).await? {
        let report = engine.apply(&plan, &Quiet).await?;
        resumed.push(json!({
            "plan_id": plan.id,
            "complete": report.complete(),
            "applied": report.count(Outcome::Applied),
            "already_applied": report.count(Outcome::AlreadyApplied),
        }));
    }
    Ok(resumed)
}

/// Whether an engine error is worth another attempt later.
fn transient(e: &jsm_lifecycle::Error) -> bool {
    match e {
        jsm_lifecycle::Error::Client(c) => match c {
            jsm_client::Error::RateLimited { .. } | jsm_client::Error::Transport { .. } => true,
            jsm_client::Error::Api { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        },
        jsm_lifecycle::Error::Store(_) => true,
        _ => false,
    }
}

fn engine_end(e: jsm_lifecycle::Error, attempt: u32) -> RunEnd {
    if transient(&e) {
        let delay = std::time::Duration::from_secs(2u64.saturating_pow(attempt.min(6)));
        RunEnd::Retry(e.to_string(), delay)
    } else if e.kind() == ErrorKind::AwaitingApproval {
        RunEnd::Failed(format!("{e} (approve it, then queue the apply again)"))
    } else {
        RunEnd::Failed(e.to_string())
    }
}

/// Runs one job to its end with this engine; `attempt` counts its claims, the first made at `first_claim`.
pub async fn run(
    job: &Job,
    engine: &Engine,
    reconciler: &dyn Reconciler,
    warn_days: u32,
    attempt: u32,
    first_claim: Option<DateTime<Utc>>,
) -> RunEnd {
    match job {
        Job::ApplyPlan { plan_id } => {
            let plan = match engine.load_plan(plan_id).await {
                Ok(p) => p,
                Err(e) => return engine_end(e, attempt),
            };
            match engine.apply(&plan, &Quiet).await {
                Ok(report) => {
                    let counts = json!({
                        "plan_id": report.plan_id,
                        "items": report.items.len(),
                        "applied": report.count(Outcome::Applied),
                        "already_applied": report.count(Outcome::AlreadyApplied),
                        "pending_manual": report.count(Outcome::PendingManual),
                        "failed": report.count(Outcome::Failed),
                        "quarantined": report.count(Outcome::Quarantined),
                        "skipped": report.count(Outcome::Skipped),
                        "stopped": report.stopped,
                        "complete": report.complete(),
                    });
                    if report.complete() || report.count(Outcome::PendingManual) > 0 {
                        RunEnd::Done(counts)
                    } else {
                        RunEnd::Failed(format!(
                            "apply of {} did not complete: {}",
                            report.plan_id,
                            report.stopped.as_deref().unwrap_or("items failed")
                        ))
                    }
                }
                Err(e) => engine_end(e, attempt),
            }
        }
        Job::Reconcile {
            site,
            source,
            person,
        } => {
            let request = ReconcileRequest {
                site: site.clone(),
                source: source.clone(),
                person: person.clone(),
                resume_after: first_claim.filter(|_| attempt > 1),
            };
            match reconciler.reconcile(engine, &request).await {
                Ok(v) => RunEnd::Done(v),
                Err(e) => engine_end(e, attempt),
            }
        }
        Job::CredentialCheck => {
            let opts = jsm_lifecycle::credentials::CheckOptions {
                warn_days: Some(warn_days),
                verify: None,
            };
            match engine.check_credentials(&opts).await {
                Ok(report) => {
                    for c in report
                        .credentials
                        .iter()
                        .filter(|c| c.state.severity() != Severity::Fine)
                    {
                        tracing::warn!(
                            credential = %c.name, kind = %c.kind, state = c.state.as_str(), days_left = ?c.days_left,
                            detail = %c.detail, "credential expires soon or no longer works; rotate it"
                        );
                    }
                    let count = |sev: Severity| {
                        report
                            .credentials
                            .iter()
                            .filter(|c| c.state.severity() == sev)
                            .count()
                    };
                    RunEnd::Done(json!({
                        "checked": report.credentials.len(),
                        "clock": report.clock,
                        "worst": report.worst,
                        "expiring": count(Severity::Warn),
                        "dead": count(Severity::Dead),
                        "states": report.credentials.iter().map(|c| (c.name.clone(), json!(c.state))).collect::<serde_json::Map<_, _>>(),
                        "notes": report.notes,
                    }))
                }
                Err(e) => engine_end(e, attempt),
            }
        }
    }
}

/// Where a credential stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CredentialStatus {
    /// Not expiring within the warning window (or no known expiry).
    Ok,
    /// Expires within the warning window.
    Expiring,
    /// Already expired.
    Expired,
}

/// One credential with its expiry verdict; never the secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CredentialView {
    /// The name jsmctl knows it by.
    pub name: String,
    /// api_token, oauth, scim_key, admin_key, …
    pub kind: String,
    /// Who is responsible for it.
    pub owner: Option<String>,
    /// When it stops working, if known.
    pub expires_at: Option<DateTime<Utc>>,
    /// Whole days left (negative once expired).
    pub days_left: Option<i64>,
    /// The verdict.
    pub status: CredentialStatus,
    /// When jsmctl last used it.
    pub last_used_at: Option<DateTime<Utc>>,
}

/// Classifies one credential at `now` with a warning window of `warn_days`.
pub fn credential_view(c: &CredentialMeta, now: DateTime<Utc>, warn_days: u32) -> CredentialView {
    let (days_left, status) = match c.expires_at {
        Some(exp) if exp <= now => (Some((exp - now).num_days()), CredentialStatus::Expired),
        Some(exp) if exp - now <= Duration::days(i64::from(warn_days)) => {
            (Some((exp - now).num_days()), CredentialStatus::Expiring)
        }
        Some(exp) => (Some((exp - now).num_days()), CredentialStatus::Ok),
        None => (None, CredentialStatus::Ok),
    };
    CredentialView {
        name: c.name.clone(),
        kind: c.kind.clone(),
        owner: c.owner.clone(),
        expires_at: c.expires_at,
        days_left,
        status,
        last_used_at: c.last_used_at,
    }
}

/// **Extension point** for credentials (issue 9): until its credential inventory lands, the report is the
/// store's credential metadata classified by expiry.
pub async fn credential_report(
    store: &Store,
    now: DateTime<Utc>,
    warn_days: u32,
) -> jsm_store::Result<Vec<CredentialView>> {
    Ok(store
        .credentials()
        .await?
        .iter()
        .map(|c| credential_view(c, now, warn_days))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_round_trip_with_their_kind() {
        let config = ServeConfig::new("https://s", "w");
        let job = Job::Reconcile {
            site: "https://s".into(),
            source: "hr".into(),
            person: Some("acc-1".into()),
        };
        let new = job.to_new(&config, "webhook", DateTime::UNIX_EPOCH);
        assert_eq!(new.kind, "reconcile");
        assert_eq!(new.lock_key.as_deref(), Some("site:https://s"));
        assert_eq!(new.spec["kind"], "reconcile");
        assert_eq!(Job::from_spec(&new.spec).unwrap(), job);
        assert!(Job::from_spec(&json!({"kind": "nope"})).is_err());
        assert_eq!(Job::CredentialCheck.lock_key(&config), None);
    }

    #[test]
    fn credential_verdicts() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let meta = |days: Option<i64>| CredentialMeta {
            name: "t".into(),
            kind: "api_token".into(),
            owner: None,
            created_at: now,
            expires_at: days.map(|d| now + Duration::days(d)),
            last_used_at: None,
            last_verified_at: None,
            secret_ref: Some("ATLASSIAN_API_TOKEN".into()),
        };
        assert_eq!(
            credential_view(&meta(Some(90)), now, 30).status,
            CredentialStatus::Ok
        );
        assert_eq!(
            credential_view(&meta(Some(10)), now, 30).status,
            CredentialStatus::Expiring
        );
        assert_eq!(
            credential_view(&meta(Some(-1)), now, 30).status,
            CredentialStatus::Expired
        );
        assert_eq!(credential_view(&meta(None), now, 30).days_left, None);
    }
}
