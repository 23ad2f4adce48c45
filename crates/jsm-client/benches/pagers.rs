//! Benchmark (a program, not a test): read every member of a 20,000-member group and every customer of a
//! 20,000-customer desk from the emulator with its default rate limits, through the client's pagers. Prints API
//! calls, 429s, wall time and efficiency = (calls needed / allowed rate) / wall time, then runs the same job with
//! atlassian-python-api (benches/atlassian_python_pagers.py, if `.venv/bin/python` has it) and prints the ratio of
//! wall times.
//!
//! Run: `cargo bench -p jsm-client --bench pagers` (release build; about two minutes, plus the Python run).
//! `BENCH_PYTHON` overrides the interpreter (default: the repo's `.venv/bin/python`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests and benches fail loudly"
)]
#![allow(
    clippy::disallowed_methods,
    reason = "a benchmark measures real wall time"
)]

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jsm_client::{Client, GroupRef, Metrics, MetricsSnapshot};
use jsm_emulator::limits::LimitConfig;
use jsm_emulator::{Emulator, Seed};
use jsm_testkit::{ADMIN_EMAIL, ADMIN_TOKEN, TestEmulator};

const MEMBERS: u32 = 20_000;
const GROUP: &str = "bench-20k";

struct Run {
    items: usize,
    page: usize,
    wall: Duration,
    metrics: MetricsSnapshot,
    rate: f64,
}

impl Run {
    fn print(&self, what: &str) {
        let needed = self.items.div_ceil(self.page.max(1));
        let efficiency = (needed as f64 / self.rate) / self.wall.as_secs_f64();
        let share_429 = self.metrics.throttled as f64 / self.metrics.sent.max(1) as f64 * 100.0;
        println!(
            "{what:<28} items={:>6} calls={:>4} (needed {needed:>4}) 429s={:>3} ({share_429:.2}%) wall={:>6.2}s \
             allowed={:>5.1}/s efficiency={efficiency:.3}",
            self.items,
            self.metrics.sent,
            self.metrics.throttled,
            self.wall.as_secs_f64(),
            self.rate
        );
    }
}

fn client(base: &str, metrics: Arc<Metrics>) -> Client {
    match Client::builder()
        .site(base)
        .basic_auth(ADMIN_EMAIL, ADMIN_TOKEN)
        .observer(metrics)
        .build()
    {
        Ok(c) => c,
        Err(e) => panic!("client: {e}"),
    }
}

async fn timed<T, F: std::future::Future<Output = jsm_client::Result<Vec<T>>>>(
    f: impl FnOnce(Client) -> F,
    base: &str,
    rate: f64,
) -> (Run, Vec<T>) {
    let metrics = Arc::new(Metrics::default());
    let c = client(base, metrics.clone());
    let started = Instant::now();
    let items = match f(c).await {
        Ok(items) => items,
        Err(e) => panic!("listing failed: {e}"),
    };
    let run = Run {
        items: items.len(),
        page: 0,
        wall: started.elapsed(),
        metrics: metrics.snapshot(),
        rate,
    };
    (run, items)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let limits = LimitConfig::default();
    let emu = TestEmulator::start_with(
        Emulator::builder()
            .seed(Seed::Generated {
                users: MEMBERS as usize + 202,
            })
            .limits(limits.clone())
            .log_capacity(200_000),
    )
    .await;
    {
        let mut site = emu.emu.site_mut();
        let Some(key) = site.create_group(GROUP) else {
            panic!("cannot create the bench group")
        };
        if let Some(g) = site.group_mut(key) {
            g.members.extend(1..=MEMBERS);
        }
    }
    let base = emu.base_url.clone();

    // Page sizes the server actually serves (found with one probe each, not counted).
    let probe = client(&base, Arc::new(Metrics::default()));
    let member_page = probe
        .get::<serde_json::Value, _>(
            "/rest/api/3/group/member",
            &[("groupname", GROUP), ("maxResults", "1000")],
        )
        .await
        .map(|v| v["values"].as_array().map_or(50, Vec::len))
        .unwrap_or(50);
    let desk_page = probe
        .send(
            jsm_client::Request::raw(
                reqwest::Method::GET,
                jsm_client::Surface::Product,
                "/rest/servicedeskapi/servicedesk/1/customer",
            )
            .query("limit", 1000)
            .experimental(),
        )
        .await
        .ok()
        .and_then(|r| r.json::<serde_json::Value>().ok())
        .map(|v| v["values"].as_array().map_or(50, Vec::len))
        .unwrap_or(50);
    drop(probe);
    tokio::time::sleep(Duration::from_secs(2)).await; // let the probed buckets refill

    let (mut members, _) = timed(
        |c| async move {
            c.groups()
                .members(&GroupRef::name(GROUP))
                .include_inactive(true)
                .pager()
                .page_size(member_page as u32)
                .all()
                .await
        },
        &base,
        f64::from(limits.get),
    )
    .await;
    members.page = member_page;
    members.print("group members (20k)");

    let (mut customers, _) = timed(
        |c| async move {
            c.customers()
                .list("1")
                .pager()
                .page_size(desk_page as u32)
                .all()
                .await
        },
        &base,
        5.0,
    )
    .await;
    customers.page = desk_page;
    customers.print("desk customers (~20k)");
    let ours = members.wall + customers.wall;
    println!("jsm-client total wall: {:.2}s", ours.as_secs_f64());

    let python = std::env::var_os("BENCH_PYTHON")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python")
        });
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/atlassian_python_pagers.py");
    if !python.exists() {
        println!(
            "atlassian-python-api: skipped (no .venv/bin/python; run .ci/run once to create it)"
        );
        return;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    emu.emu.log().clear();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(script)
            .args([base.as_str(), ADMIN_EMAIL, ADMIN_TOKEN, GROUP, "1"])
            .output()
    })
    .await;
    match out {
        Ok(Ok(o)) if o.status.success() => {
            let line = String::from_utf8_lossy(&o.stdout);
            println!("atlassian-python-api: {}", line.trim());
            let log = emu.emu.log().since(0, usize::MAX);
            let throttled = log.iter().filter(|e| e.status == 429).count();
            println!(
                "atlassian-python-api as the emulator saw it: {} requests, {throttled} answered 429 ({:.1}%)",
                log.len(),
                throttled as f64 / log.len().max(1) as f64 * 100.0
            );
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(line.trim()) {
                let theirs = v["wall_s"].as_f64().unwrap_or(f64::NAN);
                println!(
                    "wall-time ratio atlassian-python-api / jsm-client = {:.2} (items: {} + {} vs {} + {})",
                    theirs / ours.as_secs_f64(),
                    v["members"],
                    v["customers"],
                    members.items,
                    customers.items
                );
            }
        }
        Ok(Ok(o)) => println!(
            "atlassian-python-api failed: {}",
            String::from_utf8_lossy(&o.stderr)
        ),
        other => println!("atlassian-python-api could not run: {other:?}"),
    }
}
