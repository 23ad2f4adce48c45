//! Rate limits as Atlassian applies them: a token bucket per tenant, endpoint and method (burst), and an
//! optional hourly points quota. Both run on the emulator clock.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError, RwLock};

use serde::{Deserialize, Serialize};

use crate::clock::Millis;
use crate::route;

const HOUR_MS: Millis = 3_600_000;

/// Per-second rates by method, per-endpoint overrides and the optional points quota.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LimitConfig {
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default = "per_second::get")]
    pub get: u32,
    #[serde(default = "per_second::post")]
    pub post: u32,
    #[serde(default = "per_second::put")]
    pub put: u32,
    #[serde(default = "per_second::delete")]
    pub delete: u32,
    #[serde(default = "default_overrides")]
    pub overrides: Vec<LimitOverride>,
    /// Points per UTC hour for the tenant; `None` turns the quota off.
    #[serde(default)]
    pub quota_per_hour: Option<u64>,
}

/// A rate for one endpoint, overriding its method's default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LimitOverride {
    pub method: String,
    pub path: String,
    pub per_second: u32,
}

fn yes() -> bool {
    true
}

mod per_second {
    pub fn get() -> u32 {
        100
    }
    pub fn post() -> u32 {
        100
    }
    pub fn put() -> u32 {
        50
    }
    pub fn delete() -> u32 {
        50
    }
}

fn default_overrides() -> Vec<LimitOverride> {
    let o = |path: &str, per_second| LimitOverride {
        method: "GET".into(),
        path: path.into(),
        per_second,
    };
    vec![
        o("/rest/api/3/user", 150),
        o("/rest/api/3/user/search", 200),
        o("/rest/servicedeskapi/servicedesk/*/customer", 5),
    ]
}

impl Default for LimitConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            get: per_second::get(),
            post: per_second::post(),
            put: per_second::put(),
            delete: per_second::delete(),
            overrides: default_overrides(),
            quota_per_hour: None,
        }
    }
}

impl LimitConfig {
    /// No limits at all.
    pub fn off() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }

    fn rate(&self, method: &str, route: &str) -> u32 {
        if let Some(o) = self
            .overrides
            .iter()
            .find(|o| o.method.eq_ignore_ascii_case(method) && route::matches(&o.path, route))
        {
            return o.per_second;
        }
        match method {
            "POST" => self.post,
            "PUT" | "PATCH" => self.put,
            "DELETE" => self.delete,
            _ => self.get,
        }
    }
}

/// The limiter's answer for one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Limits are off.
    Unlimited,
    /// Go ahead; the numbers feed `X-RateLimit-*` on the response.
    Allowed { limit: u64, remaining: u64 },
    /// 429: wait `retry_after` seconds; the bucket or quota refills at `reset`.
    Limited {
        retry_after: u64,
        reset: Millis,
        limit: u64,
        reason: &'static str,
    },
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Millis,
}

#[derive(Debug, Default)]
struct Quota {
    hour: Millis,
    used: u64,
}

/// Buckets and quota of the one emulated tenant.
#[derive(Debug, Default)]
pub struct Limiter {
    config: RwLock<LimitConfig>,
    buckets: Mutex<HashMap<(String, String), Bucket>>,
    quota: Mutex<Quota>,
}

impl Limiter {
    /// A limiter with this configuration and full buckets.
    pub fn new(config: LimitConfig) -> Self {
        Self {
            config: RwLock::new(config),
            ..Self::default()
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> LimitConfig {
        self.config
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the configuration and refills every bucket.
    pub fn set_config(&self, config: LimitConfig) {
        *self.config.write().unwrap_or_else(PoisonError::into_inner) = config;
        self.buckets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        *self.quota.lock().unwrap_or_else(PoisonError::into_inner) = Quota::default();
    }

    /// Whether quota accounting needs response sizes.
    pub fn quota_enabled(&self) -> bool {
        let c = self.config.read().unwrap_or_else(PoisonError::into_inner);
        c.enabled && c.quota_per_hour.is_some()
    }

    /// Takes a token for `method` on `route` (the matched route template) at `now`.
    pub fn check(&self, method: &str, route: &str, now: Millis) -> Verdict {
        let (rate, quota) = {
            let c = self.config.read().unwrap_or_else(PoisonError::into_inner);
            if !c.enabled {
                return Verdict::Unlimited;
            }
            (c.rate(method, route).max(1), c.quota_per_hour)
        };
        if let Some(limit) = quota {
            let mut q = self.quota.lock().unwrap_or_else(PoisonError::into_inner);
            let hour = now - now.rem_euclid(HOUR_MS);
            if q.hour != hour {
                *q = Quota { hour, used: 0 };
            }
            if q.used >= limit {
                let reset = hour + HOUR_MS;
                return Verdict::Limited {
                    retry_after: ((reset - now) as u64).div_ceil(1000).max(1),
                    reset,
                    limit,
                    reason: "jira-quota-tenant-based",
                };
            }
        }
        let capacity = f64::from(rate);
        let key = (method.to_string(), route::canonical(route).into_owned());
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        let elapsed = (now - bucket.at).max(0) as f64 / 1000.0;
        bucket.tokens = (bucket.tokens + elapsed * capacity).min(capacity);
        bucket.at = now.max(bucket.at);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Verdict::Allowed {
                limit: u64::from(rate),
                remaining: bucket.tokens as u64,
            }
        } else {
            let wait_ms = ((1.0 - bucket.tokens) / capacity * 1000.0).ceil() as Millis;
            Verdict::Limited {
                retry_after: (wait_ms as u64).div_ceil(1000).max(1),
                reset: now + wait_ms,
                limit: u64::from(rate),
                reason: "jira-burst-based",
            }
        }
    }

    /// Charges points to the hourly quota (1 per request plus 2 per user or group object returned).
    pub fn charge(&self, points: u64, now: Millis) {
        let mut q = self.quota.lock().unwrap_or_else(PoisonError::into_inner);
        let hour = now - now.rem_euclid(HOUR_MS);
        if q.hour != hour {
            *q = Quota { hour, used: 0 };
        }
        q.used += points;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_empties_then_refills_on_the_clock() {
        let limiter = Limiter::new(LimitConfig {
            get: 2,
            overrides: vec![],
            ..LimitConfig::default()
        });
        assert!(matches!(
            limiter.check("GET", "/rest/api/3/myself", 0),
            Verdict::Allowed { .. }
        ));
        assert!(matches!(
            limiter.check("GET", "/rest/api/2/myself", 0),
            Verdict::Allowed { .. }
        ));
        let limited = limiter.check("GET", "/rest/api/3/myself", 0);
        assert!(matches!(
            limited,
            Verdict::Limited {
                retry_after: 1,
                reason: "jira-burst-based",
                ..
            }
        ));
        assert!(matches!(
            limiter.check("GET", "/rest/api/3/myself", 600),
            Verdict::Allowed { .. }
        ));
    }

    #[test]
    fn overrides_apply_per_endpoint() {
        let limiter = Limiter::new(LimitConfig::default());
        let v = limiter.check(
            "GET",
            "/rest/servicedeskapi/servicedesk/{serviceDeskId}/customer",
            0,
        );
        assert_eq!(
            v,
            Verdict::Allowed {
                limit: 5,
                remaining: 4
            }
        );
    }

    #[test]
    fn quota_blocks_until_the_next_hour() {
        let limiter = Limiter::new(LimitConfig {
            quota_per_hour: Some(10),
            ..LimitConfig::default()
        });
        limiter.charge(10, 1_000);
        let v = limiter.check("GET", "/rest/api/3/myself", 1_000);
        assert!(matches!(
            v,
            Verdict::Limited {
                reason: "jira-quota-tenant-based",
                retry_after: 3599,
                ..
            }
        ));
        assert!(matches!(
            limiter.check("GET", "/rest/api/3/myself", HOUR_MS),
            Verdict::Allowed { .. }
        ));
    }
}
