//! The service's shared state: the store, the settings, how to build a client for the site, the extension
//! points (reconcile, seat report, MCP), the metrics and the shutdown signal. Cheap to clone.

use std::sync::Arc;

use axum::Router;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use jsm_client::observer::Observers;
use jsm_client::{Client, Clock, LimiterConfig, Observer, SystemClock};
use jsm_lifecycle::{Capabilities, Engine, Policy};
use jsm_store::Store;
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, watch};
use utoipa::ToSchema;

use crate::config::ServeConfig;
use crate::error::{Error, Result};
use crate::jobs::{Reconciler, SourceReconciler};
use crate::metrics::ServiceMetrics;

/// What a client for one job is built with: the limiter (its rate scaled to this worker's share of the site's
/// budget) and the observer that counts its calls.
#[derive(Debug, Clone)]
pub struct ClientParams {
    /// Limiter settings, already scaled.
    pub limiter: LimiterConfig,
    /// Counts calls and 429s.
    pub observer: Arc<dyn Observer>,
}

/// Builds a client for the site (credentials come from the caller's settings; the service never sees them).
pub type ClientFactory = Arc<dyn Fn(ClientParams) -> jsm_client::Result<Client> + Send + Sync>;

/// One seat report (issue 9's seat reporting plugs in here).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SeatReport {
    /// Whether a report could be made.
    pub available: bool,
    /// Why not, when it could not.
    pub reason: Option<String>,
    /// Per product: key, seats, used.
    pub products: Vec<SeatLine>,
}

/// One product's seats.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SeatLine {
    /// Product key (`jira-servicedesk`).
    pub product: String,
    /// Product name.
    pub name: String,
    /// Seats bought, when limited.
    pub seats: Option<u64>,
    /// Seats billed (each account once).
    pub used: u64,
    /// Billed seats a reclaim would take back (inactive beyond the policy's days).
    pub reclaimable: u64,
}

/// **Extension point** for the seat report (issue 9).
pub trait SeatReporter: Send + Sync + std::fmt::Debug {
    /// Makes a report with this engine.
    fn report<'a>(&'a self, engine: &'a Engine) -> BoxFuture<'a, Result<SeatReport>>;
}

/// The seat report of the engine (`jsm-lifecycle` seats): per product the billed seats and what a reclaim
/// would take back. Kept for `max_age`, since a report reads every seat holder.
#[derive(Debug)]
pub struct EngineSeats {
    max_age: std::time::Duration,
    last: tokio::sync::Mutex<Option<(DateTime<Utc>, SeatReport)>>,
}

impl EngineSeats {
    /// A reporter that reuses a report for `max_age`.
    pub fn new(max_age: std::time::Duration) -> Self {
        Self {
            max_age,
            last: tokio::sync::Mutex::new(None),
        }
    }
}

impl Default for EngineSeats {
    fn default() -> Self {
        Self::new(std::time::Duration::from_secs(300))
    }
}

impl SeatReporter for EngineSeats {
    fn report<'a>(&'a self, engine: &'a Engine) -> BoxFuture<'a, Result<SeatReport>> {
        Box::pin(async move {
            let now = engine.client.clock().now();
            let max_age =
                chrono::Duration::from_std(self.max_age).unwrap_or(chrono::Duration::minutes(5));
            let mut last = self.last.lock().await;
            if let Some((at, report)) = last.as_ref()
                && now - *at < max_age
            {
                return Ok(report.clone());
            }
            let full = engine
                .seat_report(&jsm_lifecycle::seats::SeatQuery::default())
                .await?;
            let report = SeatReport {
                available: true,
                reason: (!full.notes.is_empty()).then(|| full.notes.join("; ")),
                products: full
                    .products
                    .iter()
                    .map(|p| SeatLine {
                        product: p.key.clone(),
                        name: p.name.clone(),
                        seats: p.number_of_seats.and_then(|n| u64::try_from(n).ok()),
                        used: u64::from(p.billable),
                        reclaimable: u64::from(p.reclaimable),
                    })
                    .collect(),
            };
            *last = Some((now, report.clone()));
            Ok(report)
        })
    }
}

/// A reporter that says the report is not available (a service configured without it).
#[derive(Debug, Default)]
pub struct NoSeatReport;

/// What [`NoSeatReport`] says.
pub const SEATS_NOT_AVAILABLE: &str = "the seat report is turned off for this service";

impl SeatReporter for NoSeatReport {
    fn report<'a>(&'a self, _engine: &'a Engine) -> BoxFuture<'a, Result<SeatReport>> {
        Box::pin(async {
            Ok(SeatReport {
                available: false,
                reason: Some(SEATS_NOT_AVAILABLE.into()),
                products: Vec::new(),
            })
        })
    }
}

/// The shared state.
#[derive(Clone)]
pub struct AppState(pub(crate) Arc<Inner>);

pub(crate) struct Inner {
    pub store: Store,
    pub config: ServeConfig,
    pub clients: ClientFactory,
    pub policy: Policy,
    pub caps: Capabilities,
    pub clock: Arc<dyn Clock>,
    pub metrics: Arc<ServiceMetrics>,
    pub observers: Vec<Arc<dyn Observer>>,
    pub reconciler: Arc<dyn Reconciler>,
    pub seats: Arc<dyn SeatReporter>,
    pub mcp: Option<Router>,
    /// Engine for operators' requests (approve, reject, submit): a full-share client that plans read with.
    pub base: Engine,
    /// Site clients by rate share (the bits of the `f64`): a client keeps what its limiter learned across jobs,
    /// and building one (a TLS stack) is not paid per job.
    pub client_cache: std::sync::Mutex<std::collections::HashMap<u64, Client>>,
    /// Woken when a job is queued in this process.
    pub wake: Notify,
    pub shutdown: watch::Sender<bool>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("backend", &self.0.store.backend())
            .field("site", &self.0.config.site)
            .field("worker_id", &self.0.config.worker_id)
            .finish_non_exhaustive()
    }
}

/// Builds an [`AppState`].
pub struct AppStateBuilder {
    store: Store,
    config: ServeConfig,
    clients: ClientFactory,
    policy: Policy,
    caps: Capabilities,
    clock: Arc<dyn Clock>,
    observers: Vec<Arc<dyn Observer>>,
    reconciler: Option<Arc<dyn Reconciler>>,
    seats: Arc<dyn SeatReporter>,
    mcp: Option<Router>,
}

impl AppStateBuilder {
    /// The policy the engine applies (default: the safe defaults).
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Which optional surfaces the client has credentials for.
    pub fn capabilities(mut self, caps: Capabilities) -> Self {
        self.caps = caps;
        self
    }

    /// The clock (default: the system clock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Another observer of every client's events (e.g. a benchmark's counters).
    pub fn observer(mut self, observer: Arc<dyn Observer>) -> Self {
        self.observers.push(observer);
        self
    }

    /// The reconcile implementation (default: [`SourceReconciler`] over the config's `[[sources]]`).
    pub fn reconciler(mut self, r: Arc<dyn Reconciler>) -> Self {
        self.reconciler = Some(r);
        self
    }

    /// The seat report implementation (default [`EngineSeats`], reused for five minutes).
    pub fn seats(mut self, s: Arc<dyn SeatReporter>) -> Self {
        self.seats = s;
        self
    }

    /// A router merged into the service: the MCP server's (`jsm_mcp::http::app`, serving `/mcp` and its
    /// protected-resource metadata behind its own authentication).
    pub fn mcp(mut self, router: Router) -> Self {
        self.mcp = Some(router);
        self
    }

    /// Builds the state and the operators' engine.
    pub fn build(self) -> Result<AppState> {
        let sources = self.config.sources.clone();
        let reconciler = self
            .reconciler
            .unwrap_or_else(|| Arc::new(SourceReconciler::new(sources)));
        let metrics = Arc::new(ServiceMetrics::default());
        let (shutdown, _) = watch::channel(false);
        let mut inner = Inner {
            base: placeholder_engine(&self.store, &self.config)?,
            store: self.store,
            config: self.config,
            clients: self.clients,
            policy: self.policy,
            caps: self.caps,
            clock: self.clock,
            metrics,
            observers: self.observers,
            reconciler,
            seats: self.seats,
            mcp: self.mcp,
            client_cache: std::sync::Mutex::new(std::collections::HashMap::new()),
            wake: Notify::new(),
            shutdown,
        };
        inner.base = inner.engine("jsmctl-serve", 1.0)?;
        Ok(AppState(Arc::new(inner)))
    }
}

/// A client that cannot reach anything, so `Inner` can be made before its real engine.
fn placeholder_engine(store: &Store, config: &ServeConfig) -> Result<Engine> {
    let client = Client::builder()
        .site("http://127.0.0.1:9")
        .build()
        .map_err(|e| Error::Internal(e.to_string()))?;
    Ok(Engine::new(
        client,
        store.clone(),
        Policy::default(),
        Capabilities::default(),
        "jsmctl-serve",
        config.site.clone(),
    ))
}

impl Inner {
    /// An engine acting as `actor`, whose client paces at `share` of the site's rate budget.
    pub(crate) fn engine(&self, actor: &str, share: f64) -> Result<Engine> {
        let share = share.clamp(0.01, 1.0);
        let key = share.to_bits();
        let cached = self
            .client_cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
            .cloned();
        let client = match cached {
            Some(c) => c,
            None => {
                let base = LimiterConfig::default();
                let limiter = LimiterConfig {
                    headroom: base.headroom * share,
                    ..base
                };
                let mut all: Vec<Arc<dyn Observer>> = vec![self.metrics.clone()];
                all.extend(self.observers.iter().cloned());
                let client = (self.clients)(ClientParams {
                    limiter,
                    observer: Arc::new(Observers(all)),
                })
                .map_err(|e| Error::Internal(format!("cannot build the site client: {e}")))?;
                self.client_cache
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(key, client.clone());
                client
            }
        };
        Ok(Engine::new(
            client,
            self.store.clone(),
            self.policy.clone(),
            self.caps,
            actor,
            self.config.site.clone(),
        ))
    }
}

impl AppState {
    /// Starts building the state of a service on `store` with these settings; `clients` builds site clients.
    pub fn builder(store: Store, config: ServeConfig, clients: ClientFactory) -> AppStateBuilder {
        AppStateBuilder {
            store,
            config,
            clients,
            policy: Policy::default(),
            caps: Capabilities::default(),
            clock: Arc::new(SystemClock),
            observers: Vec::new(),
            reconciler: None,
            seats: Arc::new(EngineSeats::default()),
            mcp: None,
        }
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.0.store
    }

    /// The settings.
    pub fn config(&self) -> &ServeConfig {
        &self.0.config
    }

    /// The process's counters.
    pub fn metrics(&self) -> &Arc<ServiceMetrics> {
        &self.0.metrics
    }

    /// Now, by the state's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.0.clock.now()
    }

    /// An engine acting as `actor` for reads of the site from the HTTP side, paced at this process's share of
    /// the site's budget (`1 / live workers`).
    pub async fn site_reader(&self, actor: &str) -> Result<Engine> {
        let share = crate::worker::read_share(self).await;
        self.0.engine(actor, share)
    }

    /// The operators' engine, acting as `actor`.
    pub fn engine_as(&self, actor: &str) -> Engine {
        let mut engine = self.0.base.clone();
        engine.actor = actor.to_string();
        engine
    }

    /// Asks the worker and the scheduler to stop (graceful: the job in hand finishes or is released).
    pub fn shutdown(&self) {
        self.0.shutdown.send_replace(true);
        self.0.wake.notify_waiters();
    }

    /// Wakes this process's idle worker (a job was queued here).
    pub fn wake_worker(&self) {
        self.0.wake.notify_one();
    }
}
