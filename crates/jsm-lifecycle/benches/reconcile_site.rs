//! Benchmark (a program, not a test): reconcile a 10,000-person site from scratch from a file (9,000 customers
//! on two desks, 1,000 agents provisioned through SCIM into two groups) against the emulator with Atlassian's
//! default rate limits, through the engine (plan, approval, journaled apply) on a SQLite store. Prints wall
//! time, the least time the limits allow for the calls the plan needs (the busiest endpoint's calls over its
//! rate), efficiency = least / wall, and the share of calls answered 429.
//!
//! Then the customer and group part of the same job as the straightforward atlassian-python-api script a user
//! would write (`benches/atlassian_python_reconcile.py`), against a fresh emulator whose 1,000 agent accounts
//! already exist (the REST API cannot create agents), with wall time and 429s side by side.
//!
//! Run: `cargo bench -p jsm-lifecycle --bench reconcile_site` (release; about ten minutes with the Python run).
//! `BENCH_PEOPLE` changes the size; `BENCH_PYTHON` the interpreter (default: the repo's `.venv/bin/python`).

#![allow(
    clippy::disallowed_methods,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a benchmark measures real wall time and stops on any failure"
)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jsm_client::{Event, Metrics, Observer};
use jsm_emulator::limits::LimitConfig;
use jsm_emulator::site::{DeskAccess, NewAccount, ServiceDesk};
use jsm_emulator::{Emulator, Seed};
use jsm_lifecycle::reconcile::Request;
use jsm_lifecycle::{Capabilities, Engine, Policy, Quiet};
use jsm_sources::{Mapping, Source};
use jsm_store::Store;
use jsm_testkit::{ADMIN_EMAIL, ADMIN_TOKEN, TestEmulator};

/// Calls and 429s per endpoint class, as the client sent them.
#[derive(Debug, Default)]
struct PerEndpoint {
    counts: Mutex<BTreeMap<String, (u64, u64)>>,
    total: Metrics,
}

impl Observer for PerEndpoint {
    fn on_event(&self, event: &Event) {
        self.total.on_event(event);
        let mut c = self.counts.lock().unwrap();
        match event {
            Event::Sent { method, class, .. } => {
                c.entry(format!("{method} {class}")).or_default().0 += 1
            }
            Event::Throttled { class, .. } => {
                if let Some((_, v)) = c.iter_mut().find(|(k, _)| k.ends_with(class.as_str())) {
                    v.1 += 1;
                }
            }
            _ => {}
        }
    }
}

fn people() -> usize {
    std::env::var("BENCH_PEOPLE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

/// The emulator of both runs: empty site, default limits, desks HR and ITSD (restricted), group it-support.
async fn site(agents_exist: usize) -> TestEmulator {
    let emu = TestEmulator::start_with(
        Emulator::builder()
            .seed(Seed::Empty)
            .limits(LimitConfig::default())
            .log_capacity(400_000),
    )
    .await;
    {
        let now = emu.emu.now();
        let mut site = emu.emu.site_mut();
        for p in site.products.iter_mut() {
            p.seats = None;
        }
        site.desks = ["HR", "ITSD"]
            .iter()
            .enumerate()
            .map(|(i, key)| ServiceDesk {
                id: i as u32 + 1,
                project_id: 10_001 + i as u32,
                project_key: (*key).into(),
                project_name: format!("{key} desk"),
                access: DeskAccess::Closed,
                customers: Default::default(),
                organizations: Default::default(),
            })
            .collect();
        site.create_group("it-support");
        for i in 0..agents_exist {
            site.add_account(
                NewAccount {
                    account_type: jsm_proto::jira::AccountType::Atlassian,
                    email: agent_email(i * 10),
                    display_name: format!("Agent {i}"),
                    email_hidden: false,
                },
                now,
            );
        }
    }
    emu
}

fn agent_email(i: usize) -> String {
    format!("agent{i}@bench.example")
}

/// The desired state: every tenth person an agent in it-support, the rest customers of HR and ITSD.
fn write_people(dir: &Path, n: usize) -> std::path::PathBuf {
    let mut csv = String::from(
        "email,display_name,external_id,kind,active,service_desks,organizations,groups\n",
    );
    for i in 0..n {
        if i.is_multiple_of(10) {
            writeln!(
                csv,
                "{},Agent {i},B{i},agent,true,,,it-support",
                agent_email(i)
            )
            .unwrap();
        } else {
            writeln!(
                csv,
                "cust{i}@bench.example,Customer {i},B{i},customer,true,HR;ITSD,,"
            )
            .unwrap();
        }
    }
    let path = dir.join("people.csv");
    std::fs::write(&path, csv).unwrap();
    path
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n = people();
    let dir = tempfile::tempdir().unwrap();
    let csv = write_people(dir.path(), n);
    let emu = site(0).await;
    let observer = Arc::new(PerEndpoint::default());
    let metrics = Arc::new(Metrics::default());
    let both = jsm_client::observer::Observers(vec![
        observer.clone() as Arc<dyn Observer>,
        metrics.clone() as Arc<dyn Observer>,
    ]);
    let client = emu
        .client_builder()
        .observer(Arc::new(both))
        .build()
        .unwrap();
    let store = Store::open(dir.path().join("state.db").to_str().unwrap())
        .await
        .unwrap();
    let engine = Engine::new(
        client,
        store,
        Policy::default(),
        Capabilities {
            scim: true,
            admin: true,
        },
        "bench",
        emu.base_url.clone(),
    )
    .with_metrics(metrics);
    let mapping = Mapping::default();
    let spec = format!("file:{}", csv.display());
    let env = |_: &str| None;
    let source = Source::parse_with(&spec, &mapping, &env).unwrap();

    let started = Instant::now();
    let reconciled = engine
        .plan_reconcile(&Request::new(&source, &mapping, "(none)"))
        .await
        .unwrap();
    let planned = started.elapsed();
    let plan = &reconciled.plan;
    engine.submit(plan).await.unwrap();
    if plan.needs_approval() {
        engine.approve(&plan.id, "bench-approver").await.unwrap();
    }
    let apply_started = Instant::now();
    let report = engine.apply(plan, &Quiet).await.unwrap();
    let applied = apply_started.elapsed();
    let wall = started.elapsed();
    assert!(
        report.complete(),
        "apply did not complete: {:?}",
        report.stopped
    );
    let total = observer.total.snapshot();
    let least = plan.estimate.apply_seconds;
    println!(
        "reconcile {n} people from scratch: {} items, {} apply calls planned, busiest {} ({:.1} s at its rate)",
        plan.items.len(),
        plan.estimate.apply_calls,
        plan.estimate.busiest_endpoint.as_deref().unwrap_or("-"),
        least
    );
    println!(
        "  planning {:.2} s ({} observation calls), apply {:.2} s, wall {:.2} s",
        planned.as_secs_f64(),
        plan.estimate.observe_calls,
        applied.as_secs_f64(),
        wall.as_secs_f64()
    );
    println!(
        "  calls sent {} (429: {}, {:.2}%); retries {}; limiter waited {:.1} s in total",
        total.sent,
        total.throttled,
        total.throttled as f64 / total.sent.max(1) as f64 * 100.0,
        total.retries,
        total.limiter_wait_ms as f64 / 1000.0
    );
    println!(
        "  efficiency = least / wall = {:.3} (apply alone: {:.3})",
        least / wall.as_secs_f64(),
        least / applied.as_secs_f64()
    );
    for (endpoint, (sent, throttled)) in observer.counts.lock().unwrap().iter() {
        println!("    {endpoint:<60} {sent:>6} sent {throttled:>4} 429");
    }
    let second = engine
        .plan_reconcile(&Request::new(&source, &mapping, "(none)"))
        .await
        .unwrap();
    println!(
        "  second reconcile: {} items (observation {} calls)",
        second.plan.items.len(),
        second.plan.estimate.observe_calls
    );
    emu.stop().await;
    python(&csv, n, wall).await;
}

async fn python(csv: &Path, n: usize, ours: Duration) {
    let python = std::env::var_os("BENCH_PYTHON")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python"));
    if !python.exists() {
        println!(
            "atlassian-python-api: skipped (no {}; run .ci/run once to create the venv)",
            python.display()
        );
        return;
    }
    let emu = site(n.div_ceil(10)).await;
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/atlassian_python_reconcile.py");
    let base = emu.base_url.clone();
    let csv = csv.to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(script)
            .args([base.as_str(), ADMIN_EMAIL, ADMIN_TOKEN])
            .arg(csv)
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    if !out.status.success() {
        println!(
            "atlassian-python-api failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    let line = String::from_utf8_lossy(&out.stdout);
    println!(
        "atlassian-python-api (customers and groups only): {}",
        line.trim()
    );
    let log = emu.emu.log().since(0, usize::MAX);
    let throttled = log.iter().filter(|e| e.status == 429).count();
    println!(
        "  as the emulator saw it: {} requests, {throttled} answered 429 ({:.2}%)",
        log.len(),
        throttled as f64 / log.len().max(1) as f64 * 100.0
    );
    let (customers, in_groups) = {
        let site = emu.emu.site();
        let customers = site.desks.iter().map(|d| d.customers.len()).sum::<usize>();
        let g = site
            .find_group_by_name("it-support")
            .and_then(|k| site.group(k));
        (customers, g.map_or(0, |g| g.members.len()))
    };
    println!("  result: {customers} desk memberships, {in_groups} agents in it-support");
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(line.trim()) {
        let theirs = v["wall_s"].as_f64().unwrap_or(f64::NAN);
        println!(
            "wall-time ratio atlassian-python-api / jsmctl reconcile = {:.2} ({:.1} s vs {:.1} s)",
            theirs / ours.as_secs_f64(),
            theirs,
            ours.as_secs_f64()
        );
    }
    emu.stop().await;
}
