//! The metrics hook: every send, answer, throttle, retry and wait is reported to an [`Observer`] (and to
//! `tracing`), so a CLI can show "throttled" and a benchmark can count calls and 429s.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Where a 429's pause applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleScope {
    /// Only this (host, endpoint class, method): a burst or per-issue reason, or no reason.
    Endpoint,
    /// Every request to this host: a quota reason, paused until the reset.
    Tenant,
}

/// Why a request is retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryCause {
    /// 429 Too Many Requests.
    RateLimited,
    /// A 5xx (or a transient 409 on a read).
    Status(u16),
    /// Connection or timeout error.
    Transport,
    /// The OAuth access token was refreshed after a 401.
    Reauthenticated,
}

/// One thing the client did; `class` is the endpoint class the limiter keys on.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// A request is about to be sent (`attempt` 0 is the first).
    Sent {
        /// HTTP method.
        method: String,
        /// Endpoint class.
        class: String,
        /// Attempt number.
        attempt: u32,
    },
    /// An answer arrived.
    Answered {
        /// HTTP method.
        method: String,
        /// Endpoint class.
        class: String,
        /// HTTP status.
        status: u16,
        /// Time from send to headers.
        elapsed: Duration,
        /// Atlassian's request id (`X-ARequestId` or a trace header), for audit records and support tickets.
        request_id: Option<String>,
    },
    /// A 429 arrived.
    Throttled {
        /// Endpoint class.
        class: String,
        /// `RateLimit-Reason`, if any.
        reason: Option<String>,
        /// Where the pause applies.
        scope: ThrottleScope,
        /// How long the server asked for (Retry-After or reset).
        retry_after: Option<Duration>,
    },
    /// The request will be sent again after `wait`.
    Retrying {
        /// Endpoint class.
        class: String,
        /// The attempt about to be made.
        attempt: u32,
        /// The wait before it.
        wait: Duration,
        /// Why.
        cause: RetryCause,
    },
    /// The proactive limiter held a request back.
    LimiterWait {
        /// Endpoint class.
        class: String,
        /// How long.
        wait: Duration,
    },
    /// A pager saw the server return fewer items than asked while more remain (a silent or hidden cap).
    PageCapped {
        /// Endpoint class.
        class: String,
        /// Page size asked for.
        asked: u32,
        /// Items (or `maxResults`) served.
        served: u32,
    },
    /// A pager saw an inconsistency and restarted the listing from the start.
    PagerRestarted {
        /// Endpoint class.
        class: String,
        /// Why.
        reason: String,
    },
    /// The OAuth access token was refreshed and the rotated refresh token saved.
    TokenRefreshed,
}

/// Receives [`Event`]s; must be cheap and must not block.
pub trait Observer: Send + Sync + fmt::Debug + 'static {
    /// Called for every event.
    fn on_event(&self, event: &Event);
}

/// An observer that ignores everything.
#[derive(Debug, Default)]
pub struct NoopObserver;

impl Observer for NoopObserver {
    fn on_event(&self, _event: &Event) {}
}

/// Counters over events, for benchmarks and progress displays.
#[derive(Debug, Default)]
pub struct Metrics {
    sent: AtomicU64,
    answered: AtomicU64,
    throttled: AtomicU64,
    retries: AtomicU64,
    retry_wait_ms: AtomicU64,
    limiter_wait_ms: AtomicU64,
    server_errors: AtomicU64,
}

/// A point-in-time copy of [`Metrics`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MetricsSnapshot {
    /// Requests sent (including retries).
    pub sent: u64,
    /// Answers received.
    pub answered: u64,
    /// 429s received.
    pub throttled: u64,
    /// Retries made.
    pub retries: u64,
    /// Milliseconds spent waiting before retries.
    pub retry_wait_ms: u64,
    /// Milliseconds spent waiting in the proactive limiter (summed over requests).
    pub limiter_wait_ms: u64,
    /// 5xx answers received.
    pub server_errors: u64,
}

impl Metrics {
    /// Current counter values.
    pub fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            sent: self.sent.load(Ordering::Relaxed),
            answered: self.answered.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            retry_wait_ms: self.retry_wait_ms.load(Ordering::Relaxed),
            limiter_wait_ms: self.limiter_wait_ms.load(Ordering::Relaxed),
            server_errors: self.server_errors.load(Ordering::Relaxed),
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl Observer for Metrics {
    fn on_event(&self, event: &Event) {
        match event {
            Event::Sent { .. } => {
                self.sent.fetch_add(1, Ordering::Relaxed);
            }
            Event::Answered { status, .. } => {
                self.answered.fetch_add(1, Ordering::Relaxed);
                if *status >= 500 {
                    self.server_errors.fetch_add(1, Ordering::Relaxed);
                }
            }
            Event::Throttled { .. } => {
                self.throttled.fetch_add(1, Ordering::Relaxed);
            }
            Event::Retrying { wait, .. } => {
                self.retries.fetch_add(1, Ordering::Relaxed);
                self.retry_wait_ms
                    .fetch_add(millis(*wait), Ordering::Relaxed);
            }
            Event::LimiterWait { wait, .. } => {
                self.limiter_wait_ms
                    .fetch_add(millis(*wait), Ordering::Relaxed);
            }
            _ => {}
        }
    }
}

/// Forwards events to several observers.
#[derive(Debug, Default)]
pub struct Observers(pub Vec<std::sync::Arc<dyn Observer>>);

impl Observer for Observers {
    fn on_event(&self, event: &Event) {
        for o in &self.0 {
            o.on_event(event);
        }
    }
}
