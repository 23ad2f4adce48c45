//! The worker: leases jobs from the shared queue, renews the lease while it works, and ends each job once. A
//! worker that dies stops renewing; after the lease runs out another worker takes the job over and, for an apply,
//! resumes from the journal. A graceful shutdown lets the job in hand finish within the grace period, else hands it
//! back to the queue at once.
//!
//! The site's rate budget is shared by construction: jobs that touch a site hold its lock, so across all workers
//! one job, with one client and its limiter, draws on a site at a time, and N workers never send faster than
//! one. A worker that stalls past its lease finds its next renewal refused and drops the job within one
//! heartbeat, so it and the worker that took over overlap for at most that long. The HTTP side's own reads of
//! the site (the seat report) pace at `1 / live workers` of the budget ([`read_share`]).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use jsm_store::{Job as StoredJob, JobState};
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::auth::random_hex;
use crate::jobs::{self, Job, RunEnd};
use crate::state::AppState;

fn chrono_dur(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::seconds(15))
}

/// What this worker holds now, reported in its heartbeat.
type InHand = Arc<Mutex<Option<(i64, Option<String>)>>>;

fn in_hand_info(state: &AppState, in_hand: &InHand) -> Value {
    let held = in_hand
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    json!({
        "backend": state.store().backend(),
        "site": state.config().site,
        "job": held.as_ref().map(|(id, _)| *id),
        "lock": held.and_then(|(_, lock)| lock),
    })
}

async fn beat(state: &AppState, in_hand: &InHand) {
    let info = in_hand_info(state, in_hand);
    if let Err(e) = state
        .store()
        .worker_beat(&state.config().worker_id, &info, state.now())
        .await
    {
        tracing::warn!(error = %e, "cannot record the worker heartbeat");
    }
}

/// The window in which a heartbeat counts as live.
pub fn live_since(state: &AppState) -> DateTime<Utc> {
    state.now() - chrono_dur(state.config().heartbeat * 3)
}

/// The share of the site's rate budget one process's HTTP-side reads may use: `1 / live workers`, since every
/// worker serves the page and the API and may read the site at the same time as the job in hand.
pub async fn read_share(state: &AppState) -> f64 {
    match state.store().workers_live(live_since(state)).await {
        Ok(live) => 1.0 / (live.len().max(1) as f64),
        Err(_) => 1.0,
    }
}

/// Runs the worker until shutdown.
pub async fn run(state: AppState) {
    let mut shutdown = state.0.shutdown.subscribe();
    let in_hand: InHand = Arc::new(Mutex::new(None));
    let beats = {
        let (state, in_hand, mut stop) = (state.clone(), in_hand.clone(), shutdown.clone());
        tokio::spawn(async move {
            loop {
                beat(&state, &in_hand).await;
                tokio::select! {
                    _ = state.0.clock.sleep(state.config().heartbeat) => {}
                    _ = stop.changed() => if *stop.borrow() { break },
                }
            }
        })
    };
    tracing::info!(worker = %state.config().worker_id, backend = state.store().backend(), "worker started");
    while !*shutdown.borrow() {
        let now = state.now();
        let lease = random_hex();
        let until = now + chrono_dur(state.config().lease);
        match state
            .store()
            .job_claim(&state.config().worker_id, &lease, until, now)
            .await
        {
            Ok(Some(job)) => run_claimed(&state, job, lease, &in_hand, &mut shutdown).await,
            Ok(None) => {
                take(&in_hand);
                tokio::select! {
                    _ = state.0.clock.sleep(state.config().poll) => {}
                    _ = state.0.wake.notified() => {}
                    _ = shutdown.changed() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot claim a job; retrying");
                state.0.clock.sleep(state.config().poll * 4).await;
            }
        }
    }
    beats.abort();
    let stale = state.now() - chrono::Duration::days(1);
    if let Err(e) = state
        .store()
        .worker_remove(&state.config().worker_id, stale)
        .await
    {
        tracing::warn!(error = %e, "cannot remove the worker's heartbeat");
    }
    tracing::info!(worker = %state.config().worker_id, "worker stopped");
}

/// Renews the lease until it is lost; returns when it is.
async fn keep_lease(state: &AppState, id: i64, lease: &str) {
    let mut misses = 0u32;
    loop {
        state.0.clock.sleep(state.config().heartbeat).await;
        let until = state.now() + chrono_dur(state.config().lease);
        match state.store().job_heartbeat(id, lease, until).await {
            Ok(true) => misses = 0,
            Ok(false) => return,
            Err(e) => {
                // The store may come back before the lease runs out; give up only when it surely has.
                misses += 1;
                tracing::warn!(job = id, error = %e, "cannot renew the lease");
                if Duration::from_secs(u64::from(misses)) * 2 > state.config().lease {
                    return;
                }
            }
        }
    }
}

async fn run_claimed(
    state: &AppState,
    stored: StoredJob,
    lease: String,
    in_hand: &InHand,
    shutdown: &mut watch::Receiver<bool>,
) {
    let metrics = state.metrics();
    let store = state.store();
    if stored.attempts > stored.max_attempts {
        let msg = format!(
            "gave up after {} claims (a worker died or released it each time)",
            stored.max_attempts
        );
        let _ = store
            .job_finish(
                stored.id,
                &lease,
                JobState::Failed,
                None,
                Some(&msg),
                state.now(),
            )
            .await;
        metrics.job(&stored.kind, "failed");
        return;
    }
    let job = match Job::from_spec(&stored.spec) {
        Ok(j) => j,
        Err(e) => {
            let _ = store
                .job_finish(
                    stored.id,
                    &lease,
                    JobState::Failed,
                    None,
                    Some(&e),
                    state.now(),
                )
                .await;
            metrics.job(&stored.kind, "failed");
            return;
        }
    };
    in_hand
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .replace((stored.id, stored.lock_key.clone()));
    tracing::info!(job = stored.id, kind = %stored.kind, attempt = stored.attempts, "job claimed");
    let end = match state.0.engine(&stored.created_by, 1.0) {
        Ok(engine) => {
            let work = jobs::run(
                &job,
                &engine,
                state.0.reconciler.as_ref(),
                state.config().credential_warn_days,
                stored.attempts,
                stored.started_at,
            );
            tokio::pin!(work);
            let keeper = keep_lease(state, stored.id, &lease);
            tokio::pin!(keeper);
            let stopping = async {
                while !*shutdown.borrow() {
                    if shutdown.changed().await.is_err() {
                        break;
                    }
                }
            };
            tokio::select! {
                end = &mut work => Some(end),
                () = &mut keeper => None,
                () = stopping => {
                    tracing::info!(job = stored.id, "shutting down: letting the job finish");
                    tokio::select! {
                        end = &mut work => Some(end),
                        () = &mut keeper => None,
                        () = state.0.clock.sleep(state.config().shutdown_grace) => {
                            let released = store.job_release(stored.id, &lease, state.now(), Some("released by a worker shutting down")).await;
                            tracing::info!(job = stored.id, ?released, "released to another worker");
                            metrics.job(&stored.kind, "released");
                            return;
                        }
                    }
                }
            }
        }
        Err(e) => Some(RunEnd::Retry(e.to_string(), Duration::from_secs(10))),
    };
    let now = state.now();
    let (outcome, written) = match end {
        None => {
            tracing::warn!(
                job = stored.id,
                "lease lost (taken over by another worker); stopped"
            );
            ("lost", Ok(false))
        }
        Some(RunEnd::Done(result)) => (
            "done",
            store
                .job_finish(stored.id, &lease, JobState::Done, Some(&result), None, now)
                .await,
        ),
        Some(RunEnd::Failed(e)) => {
            tracing::warn!(job = stored.id, error = %e, "job failed");
            (
                "failed",
                store
                    .job_finish(stored.id, &lease, JobState::Failed, None, Some(&e), now)
                    .await,
            )
        }
        Some(RunEnd::Retry(e, after)) => {
            tracing::warn!(job = stored.id, error = %e, ?after, "job will be retried");
            (
                "retry",
                store
                    .job_release(stored.id, &lease, now + chrono_dur(after), Some(&e))
                    .await,
            )
        }
    };
    match written {
        Ok(true) => {}
        Ok(false) if outcome != "lost" => {
            tracing::warn!(
                job = stored.id,
                "the lease was lost before the job ended; another worker has it"
            )
        }
        Ok(false) => {}
        Err(e) => tracing::warn!(job = stored.id, error = %e, "cannot record the job's end"),
    }
    metrics.job(&stored.kind, outcome);
}

/// Forgets what the worker held; what it was.
fn take(in_hand: &InHand) -> Option<(i64, Option<String>)> {
    in_hand
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take()
}
