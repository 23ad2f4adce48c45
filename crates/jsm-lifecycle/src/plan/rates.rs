//! Rate limits per endpoint, for the plan's time estimate: Atlassian's published defaults, which the emulator
//! also applies, keyed like the limits are (method and route template).

use std::collections::BTreeMap;

use super::{Estimate, Item};

/// Requests per second by method and route, with per-route overrides.
#[derive(Debug, Clone, PartialEq)]
pub struct Rates {
    /// `GET` default.
    pub get: f64,
    /// `POST` default.
    pub post: f64,
    /// `PUT` and `PATCH` default.
    pub put: f64,
    /// `DELETE` default.
    pub delete: f64,
    /// `(endpoint, rate)` overrides, endpoint as `METHOD route`.
    pub overrides: Vec<(String, f64)>,
}

impl Default for Rates {
    fn default() -> Self {
        Self {
            get: 100.0,
            post: 100.0,
            put: 50.0,
            delete: 50.0,
            overrides: vec![
                ("GET /rest/api/3/user".into(), 150.0),
                ("GET /rest/api/3/user/search".into(), 200.0),
                (
                    "GET /rest/servicedeskapi/servicedesk/{id}/customer".into(),
                    5.0,
                ),
            ],
        }
    }
}

impl Rates {
    /// Requests per second allowed on `endpoint` (`METHOD route`).
    pub fn of(&self, endpoint: &str) -> f64 {
        if let Some((_, r)) = self.overrides.iter().find(|(e, _)| e == endpoint) {
            return *r;
        }
        match endpoint.split(' ').next().unwrap_or("GET") {
            "POST" => self.post,
            "PUT" | "PATCH" => self.put,
            "DELETE" => self.delete,
            _ => self.get,
        }
    }

    /// Apply's calls per endpoint and the least time the limits allow for them (endpoints run in parallel, so
    /// the busiest one decides).
    pub fn estimate(&self, items: &[Item], observe_calls: u32) -> Estimate {
        let mut per_endpoint: BTreeMap<&str, u32> = BTreeMap::new();
        for item in items {
            if item.calls > 0 {
                *per_endpoint.entry(item.action.endpoint()).or_default() += item.calls;
            }
        }
        let busiest = per_endpoint
            .iter()
            .map(|(e, n)| (*e, f64::from(*n) / self.of(e)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        Estimate {
            observe_calls,
            apply_calls: per_endpoint.values().sum(),
            apply_seconds: busiest.map_or(0.0, |(_, s)| (s * 100.0).round() / 100.0),
            busiest_endpoint: busiest.map(|(e, _)| e.to_string()),
        }
    }
}
