//! The proactive limiter: one GCRA bucket per (tenant, endpoint class, method) that starts from Atlassian's
//! published burst rates and learns the real rate from `X-RateLimit-*` headers; plus a per-tenant pause for quota
//! 429s. Requests reserve a slot under a short lock and sleep outside it, so waiting is fair and concurrent.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use reqwest::Method;
use reqwest::header::HeaderMap;
use tokio::time::Instant;

use crate::clock::Clock;
use crate::observer::ThrottleScope;

/// Limiter settings.
#[derive(Debug, Clone)]
pub struct LimiterConfig {
    /// Pace requests at all (the retry rules apply either way).
    pub enabled: bool,
    /// Learn rates from `X-RateLimit-Limit`/`-Remaining`/`-NearLimit` (and `RateLimit-Policy`,
    /// `X-RateLimit-FillRate`/`-Interval-Seconds` when present).
    pub learn: bool,
    /// Fraction of the learned or default rate actually used (headroom for clock skew and other clients).
    pub headroom: f64,
    /// Fraction of the server's bucket we allow ourselves to spend in a burst.
    pub burst_fraction: f64,
    /// Starting rates per method (requests per second), before anything is learned.
    pub default_rates: Vec<(Method, f64)>,
    /// Starting rates per (method, endpoint class) that differ from the method default.
    pub class_rates: Vec<(Method, String, f64)>,
}

impl Default for LimiterConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            learn: true,
            headroom: 0.95,
            burst_fraction: 0.5,
            default_rates: vec![
                (Method::GET, 100.0),
                (Method::POST, 100.0),
                (Method::PUT, 50.0),
                (Method::DELETE, 50.0),
            ],
            class_rates: vec![
                (
                    Method::GET,
                    "/rest/servicedeskapi/servicedesk/{}/customer".into(),
                    5.0,
                ),
                (Method::GET, "/rest/api/3/user".into(), 150.0),
            ],
        }
    }
}

impl LimiterConfig {
    /// A limiter that never waits proactively.
    pub fn disabled() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }

    fn start_rate(&self, method: &Method, class: &str) -> f64 {
        self.class_rates
            .iter()
            .find(|(m, c, _)| m == method && c == class)
            .map(|(_, _, r)| *r)
            .or_else(|| {
                self.default_rates
                    .iter()
                    .find(|(m, _)| m == method)
                    .map(|(_, r)| *r)
            })
            .unwrap_or(50.0)
    }
}

/// What a bucket is keyed on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct LimitKey {
    /// The surface's base URL (site, gateway + cloudId, SCIM directory, admin).
    pub tenant: String,
    /// Endpoint class: the path template.
    pub class: String,
    /// HTTP method.
    pub method: Method,
}

#[derive(Debug)]
struct Bucket {
    /// Server rate in requests per second (learned or default).
    rate: f64,
    /// Server bucket size in requests.
    capacity: f64,
    /// Multiplier < 1 after burst 429s; recovers on success.
    penalty: f64,
    /// GCRA theoretical arrival time.
    tat: Instant,
    /// No sends before this (set by a 429 on this key).
    blocked_until: Option<Instant>,
}

impl Bucket {
    fn interval(&self, cfg: &LimiterConfig) -> Duration {
        let rate = (self.rate * cfg.headroom * self.penalty).max(0.01);
        Duration::from_secs_f64(1.0 / rate)
    }

    fn tau(&self, cfg: &LimiterConfig) -> Duration {
        let burst = (self.capacity * cfg.burst_fraction).floor().max(1.0);
        self.interval(cfg).mul_f64(burst - 1.0)
    }
}

/// The limiter shared by every request of one client.
#[derive(Debug)]
pub(crate) struct Limiter {
    config: LimiterConfig,
    buckets: Mutex<HashMap<LimitKey, Bucket>>,
    tenants: Mutex<HashMap<String, Instant>>,
}

/// Why a reservation was refused.
#[derive(Debug)]
pub(crate) struct TooLong {
    pub wait: Duration,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

fn header_f64(headers: &HeaderMap, name: &str) -> Option<f64> {
    headers
        .get(name)?
        .to_str()
        .ok()?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
}

/// From `RateLimit-Policy: "jira-burst-based";q=100;w=1, ...`: the first policy with a window up to a minute.
fn burst_policy(headers: &HeaderMap) -> Option<(f64, f64)> {
    let raw = headers.get("ratelimit-policy")?.to_str().ok()?;
    raw.split(',').find_map(|policy| {
        let mut q = None;
        let mut w = None;
        for part in policy.split(';').skip(1) {
            let (k, v) = part.trim().split_once('=')?;
            let v: f64 = v.trim().parse().ok()?;
            match k.trim() {
                "q" => q = Some(v),
                "w" => w = Some(v),
                _ => {}
            }
        }
        match (q, w) {
            (Some(q), Some(w)) if w > 0.0 && w <= 60.0 && q > 0.0 => Some((q / w, q)),
            _ => None,
        }
    })
}

impl Limiter {
    pub(crate) fn new(config: LimiterConfig) -> Self {
        Self {
            config,
            buckets: Mutex::new(HashMap::new()),
            tenants: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for this key's next slot (and any tenant pause). Returns the time waited, or `TooLong` without
    /// waiting when the slot is further away than `max_wait`.
    pub(crate) async fn acquire(
        &self,
        key: &LimitKey,
        clock: &dyn Clock,
        max_wait: Duration,
    ) -> Result<Duration, TooLong> {
        let now = clock.instant();
        let tenant_until = lock(&self.tenants).get(&key.tenant).copied();
        let send_at = {
            let mut buckets = lock(&self.buckets);
            let cfg = &self.config;
            let bucket = buckets.entry(key.clone()).or_insert_with(|| {
                let rate = cfg.start_rate(&key.method, &key.class);
                Bucket {
                    rate,
                    capacity: rate,
                    penalty: 1.0,
                    tat: now,
                    blocked_until: None,
                }
            });
            let mut start = now;
            if let Some(t) = tenant_until {
                start = start.max(t);
            }
            if let Some(b) = bucket.blocked_until {
                start = start.max(b);
            }
            let wait_floor = start.saturating_duration_since(now);
            if wait_floor > max_wait {
                return Err(TooLong { wait: wait_floor });
            }
            if !cfg.enabled {
                start
            } else {
                let interval = bucket.interval(cfg);
                let tau = bucket.tau(cfg);
                let tat = bucket.tat.max(start);
                let at = start.max(tat.checked_sub(tau).unwrap_or(start));
                if at.saturating_duration_since(now) > max_wait {
                    return Err(TooLong {
                        wait: at.saturating_duration_since(now),
                    });
                }
                bucket.tat = tat + interval;
                at
            }
        };
        let wait = send_at.saturating_duration_since(now);
        if !wait.is_zero() {
            clock.sleep(wait).await;
        }
        Ok(wait)
    }

    /// Learns from an answer's rate-limit headers.
    pub(crate) fn observe(&self, key: &LimitKey, headers: &HeaderMap, status: u16, now: Instant) {
        if !self.config.learn {
            return;
        }
        let cfg = &self.config;
        let mut buckets = lock(&self.buckets);
        let Some(bucket) = buckets.get_mut(key) else {
            return;
        };
        let limit = header_f64(headers, "x-ratelimit-limit");
        let fill = header_f64(headers, "x-ratelimit-fillrate");
        let interval_secs = header_f64(headers, "x-ratelimit-interval-seconds");
        let learned = match (fill, interval_secs, limit) {
            (Some(f), Some(i), cap) if f > 0.0 && i > 0.0 => Some((f / i, cap.unwrap_or(f))),
            _ => burst_policy(headers)
                .or_else(|| limit.filter(|l| *l > 0.0 && *l <= 1000.0).map(|l| (l, l))),
        };
        if let Some((rate, capacity)) = learned {
            bucket.rate = rate;
            bucket.capacity = capacity.max(1.0);
        }
        let remaining = header_f64(headers, "x-ratelimit-remaining");
        let near = headers
            .get("x-ratelimit-nearlimit")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
        let interval = bucket.interval(cfg);
        let tau = bucket.tau(cfg);
        // Only trust `Remaining` when it describes the bucket we pace (a small, per-second limit).
        let remaining = remaining.filter(|_| learned.is_some());
        let left = match (remaining, near) {
            (Some(r), _) => Some(r),
            (None, true) => Some((bucket.capacity * 0.2).floor()),
            (None, false) => None,
        };
        if let Some(left) = left {
            // GCRA lets floor((now + tau - tat) / interval) + 1 requests through at once: make that our share.
            let ours = (left * cfg.burst_fraction).floor();
            let floor_tat = if ours >= 1.0 {
                (now + tau).checked_sub(interval.mul_f64(ours - 1.0))
            } else {
                Some(now + tau + interval)
            };
            if let Some(t) = floor_tat {
                bucket.tat = bucket.tat.max(t);
            }
        }
        if (200..300).contains(&status) && !near {
            bucket.penalty = (bucket.penalty + 0.02).min(1.0);
        }
    }

    /// Records a 429: the tenant pauses until `now + pause` for quota reasons; otherwise only this key is blocked
    /// for `pause` and slowed.
    pub(crate) fn throttled(
        &self,
        key: &LimitKey,
        scope: ThrottleScope,
        pause: Duration,
        now: Instant,
    ) {
        let until = now + pause;
        match scope {
            ThrottleScope::Tenant => {
                let mut tenants = lock(&self.tenants);
                let entry = tenants.entry(key.tenant.clone()).or_insert(until);
                *entry = (*entry).max(until);
            }
            ThrottleScope::Endpoint => {
                let mut buckets = lock(&self.buckets);
                if let Some(bucket) = buckets.get_mut(key) {
                    bucket.blocked_until =
                        Some(bucket.blocked_until.map_or(until, |b| b.max(until)));
                    bucket.penalty = (bucket.penalty * 0.8).max(0.25);
                }
            }
        }
    }

    /// The current effective rate of a key (for tests and diagnostics).
    #[cfg(test)]
    pub(crate) fn rate_of(&self, key: &LimitKey) -> Option<f64> {
        let buckets = lock(&self.buckets);
        buckets
            .get(key)
            .map(|b| b.rate * self.config.headroom * b.penalty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;
    use reqwest::header::HeaderValue;

    fn key(class: &str) -> LimitKey {
        LimitKey {
            tenant: "http://site".into(),
            class: class.into(),
            method: Method::GET,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn paces_at_learned_rate_after_burst() {
        let lim = Limiter::new(LimiterConfig {
            headroom: 1.0,
            burst_fraction: 1.0,
            ..LimiterConfig::default()
        });
        let clock = SystemClock;
        let k = key("/x");
        lim.acquire(&k, &clock, Duration::from_secs(60)).await.ok();
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-limit", HeaderValue::from_static("10"));
        lim.observe(&k, &h, 200, clock.instant());
        let start = clock.instant();
        for _ in 0..29 {
            lim.acquire(&k, &clock, Duration::from_secs(60)).await.ok();
        }
        // 10-request burst, then 10/s: 29 more requests take about 2 s.
        let took = clock.instant() - start;
        assert!(
            took >= Duration::from_millis(1800) && took <= Duration::from_millis(2100),
            "{took:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn tenant_pause_applies_to_every_class_and_burst_only_to_one() {
        let lim = Limiter::new(LimiterConfig::default());
        let clock = SystemClock;
        let (a, b) = (key("/a"), key("/b"));
        lim.acquire(&a, &clock, Duration::from_secs(60)).await.ok();
        lim.acquire(&b, &clock, Duration::from_secs(60)).await.ok();
        lim.throttled(
            &a,
            ThrottleScope::Endpoint,
            Duration::from_secs(5),
            clock.instant(),
        );
        let t0 = clock.instant();
        lim.acquire(&b, &clock, Duration::from_secs(60)).await.ok();
        assert!(
            clock.instant() - t0 < Duration::from_millis(100),
            "burst on /a must not slow /b"
        );
        lim.acquire(&a, &clock, Duration::from_secs(60)).await.ok();
        assert!(clock.instant() - t0 >= Duration::from_secs(5));
        assert!(lim.rate_of(&a) < lim.rate_of(&b));

        lim.throttled(
            &a,
            ThrottleScope::Tenant,
            Duration::from_secs(30),
            clock.instant(),
        );
        let t1 = clock.instant();
        lim.acquire(&b, &clock, Duration::from_secs(60)).await.ok();
        assert!(
            clock.instant() - t1 >= Duration::from_secs(30),
            "quota pause covers the tenant"
        );
        let t2 = clock.instant();
        lim.throttled(
            &a,
            ThrottleScope::Tenant,
            Duration::from_secs(3600),
            clock.instant(),
        );
        let refused = lim.acquire(&b, &clock, Duration::from_secs(60)).await;
        assert!(refused.is_err(), "a pause longer than the bound fails fast");
        assert!(clock.instant() - t2 < Duration::from_millis(1));
    }
}
