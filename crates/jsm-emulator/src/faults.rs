//! Injected faults: per-route probabilities of 5xx (with or without `Retry-After`), 429 bursts, slow answers and
//! dropped connections. Draws come from a seeded generator so a run can be replayed.

use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use crate::ids::IdGen;
use crate::route;

/// One fault rule; the first rule that matches and wins its draw applies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultRule {
    /// Only this method (any when absent).
    #[serde(default)]
    pub method: Option<String>,
    /// Path pattern (see `route::matches`); `*` is every path.
    #[serde(default = "any_path")]
    pub path: String,
    /// Answer with this status instead of serving the request.
    #[serde(default)]
    pub status: Option<u16>,
    /// `Retry-After` seconds to send with `status`.
    #[serde(default)]
    pub retry_after: Option<u64>,
    /// Chance of applying to a matching request, 0 to 1.
    #[serde(default = "always")]
    pub probability: f64,
    /// Apply to this many matching requests only, then retire.
    #[serde(default)]
    pub times: Option<u32>,
    /// Delay before answering.
    #[serde(default)]
    pub delay_ms: u64,
    /// Close the connection instead of answering.
    #[serde(default)]
    pub drop: bool,
}

fn any_path() -> String {
    "*".into()
}

fn always() -> f64 {
    1.0
}

impl FaultRule {
    /// Checks the values, naming the field at fault.
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.probability) {
            return Err(format!(
                "probability must be between 0 and 1, got {}",
                self.probability
            ));
        }
        if let Some(s) = self.status
            && !(400..=599).contains(&s)
        {
            return Err(format!("status must be an error status (400-599), got {s}"));
        }
        if self.status.is_none() && !self.drop && self.delay_ms == 0 {
            return Err("a rule needs a status, drop or delayMs".into());
        }
        Ok(())
    }

    /// Rules for a mixed 5xx rate: equal parts 500, 503 with `Retry-After: 1`, and 503 without.
    pub fn server_errors(rate: f64) -> Vec<FaultRule> {
        let part = 1.0 - (1.0 - rate.clamp(0.0, 1.0)).powf(1.0 / 3.0);
        [(500, None), (503, Some(1)), (503, None)]
            .into_iter()
            .map(|(status, retry_after)| FaultRule {
                method: None,
                path: any_path(),
                status: Some(status),
                retry_after,
                probability: part,
                times: None,
                delay_ms: 0,
                drop: false,
            })
            .collect()
    }

    fn fits(&self, method: &str, path: &str) -> bool {
        self.times != Some(0)
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && route::matches(&self.path, path)
    }
}

/// The rules in force and the generator for their draws.
#[derive(Debug)]
pub struct Faults {
    rules: Mutex<Vec<FaultRule>>,
    rng: Mutex<IdGen>,
}

impl Faults {
    /// Faults with these rules, drawing from `seed`.
    pub fn new(rules: Vec<FaultRule>, seed: u64) -> Self {
        Self {
            rules: Mutex::new(rules),
            rng: Mutex::new(IdGen::new(seed)),
        }
    }

    /// The rules in force.
    pub fn rules(&self) -> Vec<FaultRule> {
        self.rules
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the rules.
    pub fn set_rules(&self, rules: Vec<FaultRule>) {
        *self.rules.lock().unwrap_or_else(PoisonError::into_inner) = rules;
    }

    /// The fault to inject into this request, if any.
    pub fn draw(&self, method: &str, path: &str) -> Option<FaultRule> {
        let mut rules = self.rules.lock().unwrap_or_else(PoisonError::into_inner);
        if rules.is_empty() {
            return None;
        }
        let mut rng = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
        for rule in rules.iter_mut() {
            if rule.fits(method, path) && rng.next_f64() < rule.probability {
                if let Some(t) = rule.times.as_mut() {
                    *t -= 1;
                }
                return Some(rule.clone());
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_retires_a_rule() {
        let rule = FaultRule {
            times: Some(2),
            status: Some(429),
            ..FaultRule::server_errors(1.0)[0].clone()
        };
        let faults = Faults::new(vec![rule], 1);
        assert!(faults.draw("GET", "/rest/api/3/user").is_some());
        assert!(faults.draw("GET", "/rest/api/3/user").is_some());
        assert!(faults.draw("GET", "/rest/api/3/user").is_none());
    }

    #[test]
    fn mixed_rate_is_close_to_asked() {
        let faults = Faults::new(FaultRule::server_errors(0.2), 42);
        let hits = (0..10_000)
            .filter(|_| faults.draw("GET", "/x").is_some())
            .count();
        assert!((1_800..2_200).contains(&hits), "{hits}");
    }

    #[test]
    fn validation_names_the_problem() {
        let mut rule = FaultRule::server_errors(0.5)[0].clone();
        rule.probability = 2.0;
        assert!(rule.validate().is_err_and(|e| e.contains("probability")));
    }
}
