//! Webhook throughput of `jsmctl serve`: signed `user_updated` deliveries per second accepted by the receiver,
//! and per second reconciled by one worker and by three (on the CI PostgreSQL), against the site's rate limit.
//!
//! Each delivery queues a reconcile of its one person; until reconcile from identity sources lands, that job is
//! the stand-in `ReadOnePerson` (one `GET /rest/api/3/user?accountId=…` per person, the emulator's limit for that
//! endpoint being Atlassian's 150/s). Jobs of one site run one at a time across all workers, so the figures say
//! what extra workers buy for one site: failover, not throughput.
//!
//! `cargo bench -p jsm-serve --bench webhooks` (JSMCTL_TEST_POSTGRES_URL for the PostgreSQL runs; events with
//! JSMCTL_BENCH_EVENTS, default 1500).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods,
    reason = "a benchmark program fails loudly and reads the wall clock"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use jsm_emulator::limits::LimitConfig;
use jsm_emulator::{Emulator, RunningEmulator, Seed};
use jsm_serve::webhook::sign;
use jsm_serve::{AppState, ClientFactory, ServeConfig};
use jsm_store::{JobState, Store};
use serde_json::json;

const SECRET: &str = "bench-secret";
/// The emulator's (and Atlassian's) rate for `GET /rest/api/3/user`.
const SITE_LIMIT: f64 = 150.0;

fn clients(emu: &RunningEmulator) -> ClientFactory {
    let (base, email, token) = (
        emu.base_url().to_string(),
        emu.admin_email().to_string(),
        emu.admin_token().expose().to_string(),
    );
    Arc::new(move |params| {
        jsm_client::Client::builder()
            .site(&base)
            .basic_auth(&email, &token)
            .limiter(params.limiter)
            .observer(params.observer)
            .build()
    })
}

struct Worker {
    base: String,
    state: AppState,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn worker(target: &str, emu: &RunningEmulator, id: &str) -> Worker {
    let store = Store::open(target).await.unwrap();
    let mut config = ServeConfig::new(emu.base_url(), id);
    config.webhook_secret = Some(secrecy::SecretString::from(SECRET.to_string()));
    config.source = Some("hr".into());
    config.poll = Duration::from_millis(50);
    config.heartbeat = Duration::from_secs(1);
    config.lease = Duration::from_secs(5);
    config.secure_cookies = false;
    let state = AppState::builder(store, config, clients(emu))
        .build()
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(jsm_serve::serve(listener, state.clone(), async {
        let _ = stopped.await;
    }));
    Worker {
        base,
        state,
        stop,
        task,
    }
}

struct Figures {
    accepted_per_s: f64,
    processed_per_s: f64,
    api_calls: u64,
    throttled: u64,
}

async fn run(target: &str, workers: usize, events: usize) -> Figures {
    let emu = Emulator::builder()
        .seed(Seed::Generated { users: 3000 })
        .limits(LimitConfig::default())
        .log_capacity(0)
        .admin("admin@example.com", "bench-token")
        .spawn("127.0.0.1:0")
        .await
        .unwrap();
    let people: Vec<String> = emu
        .emu
        .site()
        .accounts
        .iter()
        .map(|a| a.account_id.clone())
        .collect();
    let mut pool = Vec::new();
    for i in 0..workers {
        pool.push(worker(target, &emu, &format!("bench-{i}")).await);
    }
    let store = pool[0].state.store().clone();
    let http = reqwest::Client::new();
    let urls: Vec<String> = pool
        .iter()
        .map(|w| format!("{}/webhooks/atlassian", w.base))
        .collect();
    let started = Instant::now();
    let accepted = futures::stream::iter(0..events)
        .map(|i| {
            let body = json!({
                "timestamp": i, "webhookEvent": "user_updated",
                "user": {"accountId": people[i % people.len()], "active": true},
            })
            .to_string();
            let signature = sign(SECRET.as_bytes(), body.as_bytes());
            let req = http
                .post(&urls[i % urls.len()])
                .header("content-type", "application/json")
                .header("x-hub-signature", signature)
                .header("x-atlassian-webhook-identifier", format!("bench-{i}"))
                .body(body);
            async move { req.send().await.map(|r| r.status().as_u16()).unwrap_or(0) }
        })
        .buffer_unordered(16)
        .filter(|s| std::future::ready(*s == 202))
        .count()
        .await;
    let accept_time = started.elapsed().as_secs_f64();
    assert_eq!(accepted, events, "every delivery accepted");
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let counts = store.job_counts().await.unwrap();
        let done = counts
            .iter()
            .find(|(s, _)| *s == JobState::Done)
            .map_or(0, |(_, n)| *n);
        if done as usize >= events {
            break;
        }
        assert!(Instant::now() < deadline, "jobs did not finish: {counts:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let process_time = started.elapsed().as_secs_f64();
    let (api_calls, throttled) = pool.iter().fold((0, 0), |(c, t), w| {
        (
            c + w.state.metrics().api_calls_total(),
            t + w.state.metrics().api_429_total(),
        )
    });
    for w in pool {
        let _ = w.stop.send(());
        let _ = w.task.await;
    }
    store.close().await;
    let _ = emu.stop().await;
    Figures {
        accepted_per_s: events as f64 / accept_time,
        processed_per_s: events as f64 / process_time,
        api_calls,
        throttled,
    }
}

async fn pg(url: &str, sql: &str) {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
}

fn row(what: &str, f: &Figures) {
    println!(
        "| {what} | {:.0} | {:.1} | {:.2} | {} | {} |",
        f.accepted_per_s,
        f.processed_per_s,
        f.processed_per_s / SITE_LIMIT,
        f.api_calls,
        f.throttled
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let events: usize = std::env::var("JSMCTL_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1500);
    println!(
        "{events} signed user_updated deliveries, 16 in flight; site limit GET /rest/api/3/user {SITE_LIMIT}/s\n"
    );
    println!("| run | accepted/s | reconciled/s | reconciled / site limit | API calls | 429s |");
    println!("|---|---|---|---|---|---|");
    let dir = tempfile::tempdir().unwrap();
    let sqlite = dir.path().join("bench.db").display().to_string();
    row("1 worker, SQLite", &run(&sqlite, 1, events).await);
    match std::env::var("JSMCTL_TEST_POSTGRES_URL") {
        Ok(url) => {
            for workers in [1, 3] {
                let schema = format!("jsm_bench_{}", uuid::Uuid::new_v4().simple());
                pg(&url, &format!("CREATE SCHEMA {schema}")).await;
                let sep = if url.contains('?') { '&' } else { '?' };
                let target = format!("{url}{sep}options=-csearch_path%3D{schema}");
                let figures = run(&target, workers, events).await;
                pg(&url, &format!("DROP SCHEMA {schema} CASCADE")).await;
                row(
                    &format!(
                        "{workers} worker{}, PostgreSQL",
                        if workers > 1 { "s" } else { "" }
                    ),
                    &figures,
                );
            }
        }
        Err(_) => println!(
            "\n(JSMCTL_TEST_POSTGRES_URL unset: the PostgreSQL runs, one and three workers, were skipped)"
        ),
    }
}
