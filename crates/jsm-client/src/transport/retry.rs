//! Retry rules: how long a 429/5xx asks us to wait (`Retry-After` as seconds, HTTP date or 0; else
//! `X-RateLimit-Reset`), exponential backoff, jitter, and which `RateLimit-Reason`s pause the whole tenant.

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use reqwest::header::HeaderMap;

use crate::observer::ThrottleScope;

/// Bounds and shape of retries; every wait is `max(server wait, backoff) × jitter`, never less than the server
/// asked for.
#[derive(Debug, Clone)]
pub struct RetryConfig {
    /// Retries after the first attempt (Atlassian recommends 4).
    pub max_retries: u32,
    /// First backoff; doubles per retry.
    pub initial_backoff: Duration,
    /// Cap of one backoff (Atlassian: 30 s).
    pub max_backoff: Duration,
    /// Cap of the summed waits of one request, including a limiter wait for a tenant pause; beyond it the call
    /// fails with `RateLimited` (or the last error) instead of waiting.
    pub max_total_wait: Duration,
    /// Wait used for `Retry-After: 0` or a reset already in the past.
    pub min_retry_after: Duration,
    /// Jitter factor range (Atlassian: 0.7–1.3).
    pub jitter: (f64, f64),
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_retries: 4,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            max_total_wait: Duration::from_secs(120),
            min_retry_after: Duration::from_millis(500),
            jitter: (0.7, 1.3),
        }
    }
}

impl RetryConfig {
    /// No retries at all (every error surfaces at once).
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// Backoff before retry number `attempt + 1`: `initial × 2^attempt`, capped.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.min(20));
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }

    /// The wait before the next retry, given the server's wait (if any) and a uniform sample in `[0, 1)`.
    pub fn wait(&self, attempt: u32, server: Option<Duration>, sample: f64) -> Duration {
        let (lo, hi) = self.jitter;
        let factor = lo + (hi - lo) * sample.clamp(0.0, 1.0);
        let server = server.unwrap_or(Duration::ZERO);
        let base = server.max(self.backoff(attempt));
        base.mul_f64(factor.max(0.0)).max(server)
    }
}

/// `Retry-After` as a duration: integer or decimal seconds, or an HTTP date relative to `now`.
pub fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let raw = headers.get("retry-after")?.to_str().ok()?.trim();
    if let Ok(secs) = raw.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(1e9)));
    }
    let date = DateTime::parse_from_rfc2822(raw).ok()?.with_timezone(&Utc);
    Some((date - now).to_std().unwrap_or(Duration::ZERO))
}

/// `X-RateLimit-Reset` as a duration from `now`: ISO 8601 (with or without seconds) or epoch seconds.
pub fn rate_limit_reset(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let raw = headers.get("x-ratelimit-reset")?.to_str().ok()?.trim();
    let at = parse_instant(raw)?;
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

fn parse_instant(raw: &str) -> Option<DateTime<Utc>> {
    if let Ok(d) = DateTime::parse_from_rfc3339(raw) {
        return Some(d.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M%z"] {
        if let Ok(d) = DateTime::parse_from_str(raw, fmt) {
            return Some(d.with_timezone(&Utc));
        }
    }
    let trimmed = raw.strip_suffix('Z').unwrap_or(raw);
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(d) = NaiveDateTime::parse_from_str(trimmed, fmt) {
            return Some(d.and_utc());
        }
    }
    let epoch: i64 = raw.parse().ok()?;
    DateTime::from_timestamp(epoch, 0)
}

/// What the server asks us to wait: `Retry-After` (0 → `min`), else `X-RateLimit-Reset` (past → `min`).
pub fn server_wait(headers: &HeaderMap, now: DateTime<Utc>, min: Duration) -> Option<Duration> {
    retry_after(headers, now)
        .or_else(|| rate_limit_reset(headers, now))
        .map(|d| d.max(min))
}

/// `RateLimit-Reason`, if present.
pub fn reason(headers: &HeaderMap) -> Option<String> {
    headers
        .get("ratelimit-reason")
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Quota reasons (`jira-quota-*`, the older `jira-cost-based`) pause the tenant; anything else (burst, per-issue
/// write, concurrency, no reason) slows only the endpoint class.
pub fn scope_for(reason: Option<&str>) -> ThrottleScope {
    match reason {
        Some(r) if r.contains("quota") || r.contains("cost-based") => ThrottleScope::Tenant,
        _ => ThrottleScope::Endpoint,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-26T15:59:30Z")
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_default()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            if let Ok(v) = HeaderValue::from_str(v) {
                h.insert(*k, v);
            }
        }
        h
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(
            retry_after(&headers(&[("retry-after", "7")]), now()),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after", "1.5")]), now()),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            retry_after(
                &headers(&[("retry-after", "Thu, 26 Mar 2026 16:00:00 GMT")]),
                now()
            ),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after", "0")]), now()),
            Some(Duration::ZERO)
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after", "soon")]), now()),
            None
        );
        assert_eq!(retry_after(&headers(&[]), now()), None);
    }

    #[test]
    fn reset_forms() {
        for raw in [
            "2026-03-26T16:00Z",
            "2026-03-26T16:00:00Z",
            "2026-03-26T16:00:00.000+0000",
            "1774540800",
        ] {
            assert_eq!(
                rate_limit_reset(&headers(&[("x-ratelimit-reset", raw)]), now()),
                Some(Duration::from_secs(30)),
                "{raw}"
            );
        }
        let min = Duration::from_millis(500);
        assert_eq!(
            server_wait(&headers(&[("retry-after", "0")]), now(), min),
            Some(min)
        );
        assert_eq!(
            server_wait(
                &headers(&[("x-ratelimit-reset", "2026-03-26T15:00Z")]),
                now(),
                min
            ),
            Some(min),
            "a past reset waits the minimum"
        );
    }

    #[test]
    fn wait_is_max_of_server_and_backoff_with_jitter_never_below_server() {
        let cfg = RetryConfig::default();
        assert_eq!(cfg.backoff(0), Duration::from_secs(1));
        assert_eq!(cfg.backoff(3), Duration::from_secs(8));
        assert_eq!(cfg.backoff(10), Duration::from_secs(30));
        assert_eq!(cfg.wait(0, None, 0.0), Duration::from_millis(700));
        assert_eq!(cfg.wait(0, None, 1.0), Duration::from_millis(1300));
        assert_eq!(
            cfg.wait(0, Some(Duration::from_secs(10)), 0.0),
            Duration::from_secs(10)
        );
        assert_eq!(
            cfg.wait(0, Some(Duration::from_secs(10)), 1.0),
            Duration::from_secs(13)
        );
    }

    #[test]
    fn reasons_pick_scope() {
        assert_eq!(
            scope_for(Some("jira-quota-tenant-based")),
            ThrottleScope::Tenant
        );
        assert_eq!(
            scope_for(Some("jira-quota-global-based")),
            ThrottleScope::Tenant
        );
        assert_eq!(scope_for(Some("jira-cost-based")), ThrottleScope::Tenant);
        assert_eq!(scope_for(Some("jira-burst-based")), ThrottleScope::Endpoint);
        assert_eq!(
            scope_for(Some("jira-per-issue-on-write")),
            ThrottleScope::Endpoint
        );
        assert_eq!(scope_for(None), ThrottleScope::Endpoint);
    }
}
