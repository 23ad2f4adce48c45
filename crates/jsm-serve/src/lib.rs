//! `jsm-serve`: the lifecycle engine as a service, behind `jsmctl serve`.
//!
//! - An HTTP API under `/api/v1` (plans, approvals, applies and reconcile runs as jobs, audit log, seats,
//!   credentials) described by OpenAPI 3.1 at `/openapi.json`, generated from the handlers; errors are
//!   `{"error": {"code", "message"}}`; operators authenticate with bearer tokens kept as hashes.
//! - The approvals page under `/ui` (server-rendered, no script): pending plans with their `+ ~ -` diff, approve
//!   and reject with CSRF tokens, jobs, the audit log with search, seats and credentials.
//! - `/webhooks/atlassian`: signed admin user webhooks, deduplicated, each queueing a reconcile of one person.
//! - A worker and a scheduler sharing one job queue with any number of other processes on the same PostgreSQL
//!   (leases with heartbeats and takeover; one running job per site, so one client draws on a site's rate budget
//!   at a time; the HTTP side's site reads pace at `1 / live workers`). On SQLite, one process runs one worker.
//! - `/healthz`, `/readyz`, `/metrics`.
//!
//! `app(state)` is the router `serve` and the tests share; `serve(listener, state, shutdown)` runs it all.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod api;
pub mod auth;
pub mod config;
pub mod error;
pub mod html;
pub mod jobs;
pub mod metrics;
pub mod page;
pub mod scheduler;
pub mod state;
pub mod webhook;
pub mod worker;

use std::future::Future;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jsm_store::PlanStatus;
use tokio::net::TcpListener;

pub use config::{Cron, Schedule, ServeConfig, ServeFile};
pub use error::{Error, Result};
pub use jobs::{Job, ReconcileRequest, Reconciler, SourceReconciler};
pub use jsm_sources::SourceConfig;
pub use state::{
    AppState, ClientFactory, ClientParams, EngineSeats, NoSeatReport, SeatReport, SeatReporter,
};

/// The whole service as one router.
pub fn app(state: AppState) -> Router {
    let (api, openapi) = api::router().split_for_parts();
    let openapi_json = openapi.to_pretty_json().unwrap_or_else(|_| "{}".into());
    let mut router: Router = Router::new()
        .merge(api)
        .merge(page::router())
        .route(
            "/openapi.json",
            get(
                move || async move { ([(header::CONTENT_TYPE, "application/json")], openapi_json) },
            ),
        )
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .fallback(|| async { Error::NotFound("no such endpoint".into()) })
        .with_state(state.clone());
    if let Some(mcp) = state.0.mcp.clone() {
        // jsm-mcp's router carries its own paths (`/mcp` and its RFC 9728 metadata) and its own auth layers.
        router = router.merge(mcp);
    }
    router
        .layer(DefaultBodyLimit::max(state.config().max_body_bytes))
        .layer(from_fn_with_state(state.clone(), count_requests))
}

async fn count_requests(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let resp = next.run(req).await;
    state
        .metrics()
        .http(&method, &route, resp.status().as_u16());
    resp
}

async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready when the store answers; says which backend and how many workers are live.
async fn readyz(State(state): State<AppState>) -> Response {
    match state.store().workers_live(worker::live_since(&state)).await {
        Ok(live) => (
            StatusCode::OK,
            axum::Json(serde_json::json!({
                "ready": true,
                "backend": state.store().backend(),
                "worker": state.config().worker_id,
                "runs_worker": state.config().run_worker,
                "workers_live": live.len(),
            })),
        )
            .into_response(),
        Err(e) => Error::Unavailable(format!("the store does not answer: {e}")).into_response(),
    }
}

/// Reads the queue-wide gauges for one scrape.
async fn gauges(state: &AppState) -> Result<metrics::Gauges> {
    let store = state.store();
    let jobs_by_state = store
        .job_counts()
        .await?
        .into_iter()
        .map(|(s, n)| (s.as_str().to_string(), n))
        .collect();
    let approvals_waiting = store.plans(Some(PlanStatus::AwaitingApproval)).await?.len() as u64;
    let creds =
        jobs::credential_report(store, state.now(), state.config().credential_warn_days).await?;
    let count = |s: jobs::CredentialStatus| creds.iter().filter(|c| c.status == s).count() as u64;
    Ok(metrics::Gauges {
        jobs_by_state,
        approvals_waiting,
        credentials_expiring: count(jobs::CredentialStatus::Expiring),
        credentials_expired: count(jobs::CredentialStatus::Expired),
        workers_live: store.workers_live(worker::live_since(state)).await?.len() as u64,
    })
}

async fn metrics(State(state): State<AppState>) -> Response {
    match gauges(&state).await {
        Ok(g) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            metrics::render(state.metrics(), &g),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

/// Serves the service on `listener` until `shutdown` completes, with the worker and the scheduler (when the
/// config runs a worker). On shutdown, the HTTP side stops accepting, and the worker finishes or releases the job
/// in hand before this returns.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let background = if state.config().run_worker {
        vec![
            tokio::spawn(worker::run(state.clone())),
            tokio::spawn(scheduler::run(state.clone())),
        ]
    } else {
        Vec::new()
    };
    let stopper = state.clone();
    let served = axum::serve(listener, app(state.clone()))
        .with_graceful_shutdown(async move {
            shutdown.await;
            stopper.shutdown();
        })
        .await;
    state.shutdown();
    for task in background {
        let _ = task.await;
    }
    served
}
