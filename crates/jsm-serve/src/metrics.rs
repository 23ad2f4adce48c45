//! `/metrics` in the Prometheus text format: this process's counters (HTTP requests, jobs run, webhooks, API calls
//! and 429s by endpoint class from the client's observer) and the queue-wide gauges read from the store at scrape
//! time (jobs by state, queue depth, approvals waiting, credentials expiring, live workers).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

use jsm_client::{Event, Observer};

/// Counters keyed by their label values.
#[derive(Debug, Default)]
struct Counters(Mutex<BTreeMap<Vec<String>, u64>>);

impl Counters {
    fn add(&self, labels: Vec<String>, n: u64) {
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *map.entry(labels).or_insert(0) += n;
    }

    fn snapshot(&self) -> Vec<(Vec<String>, u64)> {
        let map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }

    fn total(&self) -> u64 {
        self.snapshot().iter().map(|(_, v)| v).sum()
    }
}

/// This process's counters; also the client's [`Observer`], counting calls and 429s by endpoint class.
#[derive(Debug, Default)]
pub struct ServiceMetrics {
    http: Counters,
    jobs: Counters,
    webhooks: Counters,
    api_calls: Counters,
    api_429: Counters,
}

impl ServiceMetrics {
    /// Counts one answered HTTP request.
    pub fn http(&self, method: &str, route: &str, status: u16) {
        self.http
            .add(vec![method.into(), route.into(), status.to_string()], 1);
    }

    /// Counts one job run ending with `outcome` (`done`, `failed`, `retry`, `lost`, `released`).
    pub fn job(&self, kind: &str, outcome: &str) {
        self.jobs.add(vec![kind.into(), outcome.into()], 1);
    }

    /// Counts one webhook delivery ending with `outcome` (`accepted`, `duplicate`, `bad_signature`, …).
    pub fn webhook(&self, outcome: &str) {
        self.webhooks.add(vec![outcome.into()], 1);
    }

    /// Webhook deliveries by outcome.
    pub fn webhooks_by_outcome(&self) -> BTreeMap<String, u64> {
        self.webhooks
            .snapshot()
            .into_iter()
            .map(|(k, v)| (k.join(","), v))
            .collect()
    }

    /// Atlassian API calls sent by this process.
    pub fn api_calls_total(&self) -> u64 {
        self.api_calls.total()
    }

    /// 429s this process received.
    pub fn api_429_total(&self) -> u64 {
        self.api_429.total()
    }
}

impl Observer for ServiceMetrics {
    fn on_event(&self, event: &Event) {
        match event {
            Event::Sent { method, class, .. } => {
                self.api_calls.add(vec![method.clone(), class.clone()], 1)
            }
            Event::Throttled { class, .. } => self.api_429.add(vec![class.clone()], 1),
            _ => {}
        }
    }
}

/// The queue-wide figures read from the store for one scrape.
#[derive(Debug, Clone, Default)]
pub struct Gauges {
    /// Jobs by state.
    pub jobs_by_state: Vec<(String, u64)>,
    /// Plans waiting for an approval.
    pub approvals_waiting: u64,
    /// Credentials expiring within the warning window.
    pub credentials_expiring: u64,
    /// Credentials already expired.
    pub credentials_expired: u64,
    /// Workers with a recent heartbeat.
    pub workers_live: u64,
}

/// Escapes a label value as the exposition format wants (`\\`, `\"`, `\n`).
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn series(out: &mut String, name: &str, names: &[&str], rows: &[(Vec<String>, u64)]) {
    for (values, v) in rows {
        let labels: Vec<String> = names
            .iter()
            .zip(values)
            .map(|(n, val)| format!("{n}=\"{}\"", label(val)))
            .collect();
        let _ = writeln!(out, "{name}{{{}}} {v}", labels.join(","));
    }
}

/// The exposition text.
pub fn render(m: &ServiceMetrics, g: &Gauges) -> String {
    let mut out = String::new();
    family(
        &mut out,
        "jsmctl_http_requests_total",
        "counter",
        "HTTP requests answered by this process.",
    );
    series(
        &mut out,
        "jsmctl_http_requests_total",
        &["method", "route", "status"],
        &m.http.snapshot(),
    );
    family(
        &mut out,
        "jsmctl_jobs_run_total",
        "counter",
        "Job runs by this worker, by kind and outcome.",
    );
    series(
        &mut out,
        "jsmctl_jobs_run_total",
        &["kind", "outcome"],
        &m.jobs.snapshot(),
    );
    family(
        &mut out,
        "jsmctl_webhooks_total",
        "counter",
        "Webhook deliveries received, by outcome.",
    );
    series(
        &mut out,
        "jsmctl_webhooks_total",
        &["outcome"],
        &m.webhooks.snapshot(),
    );
    family(
        &mut out,
        "jsmctl_api_calls_total",
        "counter",
        "Atlassian API calls sent, by method and endpoint class.",
    );
    series(
        &mut out,
        "jsmctl_api_calls_total",
        &["method", "class"],
        &m.api_calls.snapshot(),
    );
    family(
        &mut out,
        "jsmctl_api_429_total",
        "counter",
        "Atlassian 429 answers, by endpoint class.",
    );
    series(
        &mut out,
        "jsmctl_api_429_total",
        &["class"],
        &m.api_429.snapshot(),
    );
    family(
        &mut out,
        "jsmctl_jobs",
        "gauge",
        "Jobs in the queue (all workers), by state.",
    );
    let states: Vec<(Vec<String>, u64)> = g
        .jobs_by_state
        .iter()
        .map(|(s, n)| (vec![s.clone()], *n))
        .collect();
    series(&mut out, "jsmctl_jobs", &["state"], &states);
    let queued = g
        .jobs_by_state
        .iter()
        .find(|(s, _)| s == "queued")
        .map_or(0, |(_, n)| *n);
    for (name, help, v) in [
        ("jsmctl_queue_depth", "Jobs waiting for a worker.", queued),
        (
            "jsmctl_approvals_waiting",
            "Plans waiting for a human approval.",
            g.approvals_waiting,
        ),
        (
            "jsmctl_credentials_expiring",
            "Credentials expiring within the warning window.",
            g.credentials_expiring,
        ),
        (
            "jsmctl_credentials_expired",
            "Credentials already expired.",
            g.credentials_expired,
        ),
        (
            "jsmctl_workers_live",
            "Workers with a recent heartbeat.",
            g.workers_live,
        ),
    ] {
        family(&mut out, name, "gauge", help);
        let _ = writeln!(out, "{name} {v}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_by_class_and_escapes_labels() {
        let m = ServiceMetrics::default();
        m.on_event(&Event::Sent {
            method: "GET".into(),
            class: "/rest/api/3/user".into(),
            attempt: 0,
        });
        m.on_event(&Event::Sent {
            method: "GET".into(),
            class: "/rest/api/3/user".into(),
            attempt: 1,
        });
        m.on_event(&Event::Throttled {
            class: "/rest/api/3/user".into(),
            reason: None,
            scope: jsm_client::ThrottleScope::Endpoint,
            retry_after: None,
        });
        m.http("GET", "/a\"b", 200);
        let text = render(
            &m,
            &Gauges {
                jobs_by_state: vec![("queued".into(), 4)],
                ..Gauges::default()
            },
        );
        assert!(
            text.contains("jsmctl_api_calls_total{method=\"GET\",class=\"/rest/api/3/user\"} 2"),
            "{text}"
        );
        assert!(text.contains("jsmctl_api_429_total{class=\"/rest/api/3/user\"} 1"));
        assert!(text.contains("route=\"/a\\\"b\""));
        assert!(text.contains("jsmctl_queue_depth 4"));
        assert_eq!(m.api_calls_total(), 2);
        assert_eq!(m.api_429_total(), 1);
    }
}
