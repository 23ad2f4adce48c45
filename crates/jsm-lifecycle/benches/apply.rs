//! Benchmark (a program, not a test): apply a plan that provisions 2,000 portal customers onto two service desks
//! (2,000 creates and 4,000 desk adds, each add waiting for its create through `AccountRef::FromItem`) against the
//! emulator with Atlassian's default rate limits, through the engine with a SQLite store in a temp dir, as
//! `jsmctl apply` does. Prints the wall time of the apply, the calls per endpoint, the least time the limits
//! allow (the busiest endpoint's calls over its rate), efficiency = that least time / wall time, and the calls the
//! emulator answered 429 (the target is 0, and efficiency of at least 0.85).
//!
//! Run: `cargo bench -p jsm-lifecycle --bench apply` (release build; about a minute).
//! `BENCH_CUSTOMERS` changes the number of customers (default 2000). Run by `cargo test --all-targets` (without
//! cargo bench's `--bench` argument) it applies 50 customers only, as a smoke test of the program.

#![allow(
    clippy::disallowed_methods,
    reason = "a benchmark measures real wall time"
)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jsm_client::observer::{Event, Observer};
use jsm_client::{Client, Metrics};
use jsm_emulator::limits::LimitConfig;
use jsm_emulator::{Emulator, Seed};
use jsm_lifecycle::plan::{AccountRef, Action, Draft, PlanKind, Precondition};
use jsm_lifecycle::{Capabilities, Engine, Outcome, Policy, Quiet};
use jsm_store::Store;

const ADMIN_EMAIL: &str = "admin@example.com";
const ADMIN_TOKEN: &str = "bench-admin-token";
/// The two desks of a generated site.
const DESKS: [&str; 2] = ["ITSD", "HR"];

/// Answers per endpoint (method and the client's route template) and status.
#[derive(Debug, Default)]
struct PerEndpoint(Mutex<BTreeMap<(String, String), BTreeMap<u16, u64>>>);

impl Observer for PerEndpoint {
    fn on_event(&self, event: &Event) {
        if let Event::Answered {
            method,
            class,
            status,
            ..
        } = event
        {
            let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
            *map.entry((method.clone(), class.clone()))
                .or_default()
                .entry(*status)
                .or_default() += 1;
        }
    }
}

/// Both observers at once.
#[derive(Debug)]
struct Both(Arc<Metrics>, Arc<PerEndpoint>);

impl Observer for Both {
    fn on_event(&self, event: &Event) {
        self.0.on_event(event);
        self.1.on_event(event);
    }
}

/// The emulator's rate for an endpoint, as its limiter picks it: an override whose path fits, else the method's.
fn rate_of(limits: &LimitConfig, method: &str, class: &str) -> f64 {
    let fits = |pattern: &str| {
        let want: Vec<&str> = pattern.trim_end_matches('/').split('/').collect();
        let have: Vec<&str> = class.trim_end_matches('/').split('/').collect();
        want.len() == have.len()
            && want
                .iter()
                .zip(&have)
                .all(|(w, h)| w == h || *w == "*" || w.starts_with('{') || h.starts_with('{'))
    };
    if let Some(o) = limits
        .overrides
        .iter()
        .find(|o| o.method.eq_ignore_ascii_case(method) && fits(&o.path))
    {
        return f64::from(o.per_second);
    }
    f64::from(match method {
        "POST" => limits.post,
        "PUT" | "PATCH" => limits.put,
        "DELETE" => limits.delete,
        _ => limits.get,
    })
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let benching = std::env::args().any(|a| a == "--bench");
    let customers: usize = std::env::var("BENCH_CUSTOMERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if benching { 2_000 } else { 50 });
    if !benching {
        println!(
            "smoke run of {customers} customers (cargo bench -p jsm-lifecycle --bench apply measures 2,000)"
        );
    }
    let limits = LimitConfig::default();
    let running = Emulator::builder()
        .seed(Seed::Generated { users: 100 })
        .admin(ADMIN_EMAIL, ADMIN_TOKEN)
        .limits(limits.clone())
        .log_capacity(4 * customers + 1_000)
        .spawn("127.0.0.1:0")
        .await
        .expect("emulator");
    let desks: Vec<(String, String)> = {
        let site = running.emu.site();
        DESKS
            .iter()
            .map(|key| {
                let desk = site
                    .desks
                    .iter()
                    .find(|d| d.project_key == *key)
                    .expect("a generated site has ITSD and HR");
                (desk.id.to_string(), key.to_string())
            })
            .collect()
    };

    let metrics = Arc::new(Metrics::default());
    let per_endpoint = Arc::new(PerEndpoint::default());
    let client = Client::builder()
        .site(running.base_url())
        .api_url(running.base_url())
        .basic_auth(ADMIN_EMAIL, ADMIN_TOKEN)
        .observer(Arc::new(Both(metrics.clone(), per_endpoint.clone())))
        .build()
        .expect("client");
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&dir.path().join("state.db").display().to_string())
        .await
        .expect("store");
    let policy = Policy::default();
    let engine = Engine::new(
        client,
        store.clone(),
        policy.clone(),
        Capabilities::default(),
        "bench",
        running.base_url(),
    )
    .with_metrics(metrics.clone());

    let mut draft = Draft::new(
        PlanKind::Batch,
        format!(
            "provision {customers} customers onto {}",
            DESKS.join(" and ")
        ),
    );
    for i in 0..customers {
        let email = format!("bench{i:05}@customers.example");
        let create = draft.push(
            Action::CreateCustomer {
                email: email.clone(),
                display_name: format!("Bench Customer {i}"),
            },
            format!("customer {email}"),
            "benchmark",
            Precondition::None,
        );
        for (id, key) in &desks {
            draft.push(
                Action::AddToDesk {
                    desk_id: id.clone(),
                    desk_key: key.clone(),
                    account: AccountRef::FromItem(create.clone()),
                },
                format!("{email} on desk {key}"),
                "benchmark",
                Precondition::None,
            );
            if let Some(item) = draft.last() {
                item.depends_on.push(create.clone());
            }
        }
    }
    let plan = engine.finish_draft(draft).expect("plan");
    engine.submit(&plan).await.expect("submit");
    let log_start = running
        .emu
        .log()
        .since(0, usize::MAX)
        .last()
        .map_or(0, |e| e.seq);

    println!(
        "apply: {} items ({customers} creates, {} desk adds), concurrency {}, SQLite store, emulator default limits",
        plan.items.len(),
        plan.items.len() - customers,
        policy.apply.concurrency
    );
    let started = Instant::now();
    let report = engine.apply(&plan, &Quiet).await.expect("apply");
    let wall = started.elapsed();

    let done = report
        .items
        .iter()
        .filter(|i| i.outcome == Outcome::Applied)
        .count();
    if !report.complete() {
        let not_done: Vec<_> = report
            .items
            .iter()
            .filter(|i| !i.outcome.is_final())
            .take(5)
            .collect();
        panic!("the apply did not complete: {not_done:?}");
    }
    let log = running.emu.log().since(log_start, usize::MAX);
    let limited = log.iter().filter(|e| e.status == 429).count();

    let calls = per_endpoint
        .0
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let mut busiest: Option<(String, f64)> = None;
    println!("calls per endpoint (client side, by answer):");
    for ((method, class), statuses) in &calls {
        let n: u64 = statuses.values().sum();
        let rate = rate_of(&limits, method, class);
        let least = n as f64 / rate;
        println!(
            "  {method:<6} {class:<52} {n:>6} calls at {rate:>5.0}/s = {least:>6.2} s  statuses {statuses:?}"
        );
        if busiest.as_ref().is_none_or(|(_, s)| least > *s) {
            busiest = Some((format!("{method} {class}"), least));
        }
    }
    let (endpoint, least) = busiest.expect("some calls");
    let snapshot = metrics.snapshot();
    println!(
        "applied {done} of {} items; {} calls sent, {} answered 429 (emulator log: {limited} of {} requests)",
        plan.items.len(),
        snapshot.sent,
        snapshot.throttled,
        log.len()
    );
    println!(
        "wall {:.2} s; least the limits allow {least:.2} s (busiest: {endpoint}); efficiency {:.3} (target >= 0.85, \
         0 answered 429)",
        wall.as_secs_f64(),
        least / wall.as_secs_f64()
    );
    println!(
        "client limiter waited {:.1} s in total, retries waited {:.1} s",
        Duration::from_millis(snapshot.limiter_wait_ms).as_secs_f64(),
        Duration::from_millis(snapshot.retry_wait_ms).as_secs_f64()
    );
    store.close().await;
    running.stop().await.expect("stop");
}
