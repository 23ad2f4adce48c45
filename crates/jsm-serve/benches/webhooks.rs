//! Webhook throughput of `jsmctl serve`: signed `user_updated` deliveries per second accepted by the receiver,
//! and per second reconciled by one worker and by three (on the CI PostgreSQL), against the site's rate limit.
//!
//! Each delivery queues the reconcile of its one person from a file source (`[[sources]]`) of the site's 2,969
//! customers, each listed with the HR desk: the engine's `plan_reconcile_person` reads the source, that account,
//! a `user/search` for its email, the desks and the caller, and searches the HR desk for the person (`GET
//! /servicedesk/{id}/customer?query=…`, which Atlassian and the emulator limit to 5/s); it links the person and,
//! for the half not on HR yet, adds them there. That desk search is the site's limit on such reconciles. Jobs
//! of one site run one at a time across all workers, so the figures say what extra workers buy for one site:
//! failover, not throughput.
//!
//! `cargo bench -p jsm-serve --bench webhooks` (JSMCTL_TEST_POSTGRES_URL for the PostgreSQL runs; events with
//! JSMCTL_BENCH_EVENTS, default 300).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods,
    reason = "a benchmark program fails loudly and reads the wall clock"
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use jsm_emulator::limits::LimitConfig;
use jsm_emulator::{Emulator, RunningEmulator, Seed};
use jsm_proto::jira::AccountType;
use jsm_serve::webhook::sign;
use jsm_serve::{AppState, ClientFactory, Job, ServeConfig, SourceConfig};
use jsm_store::{JobState, Store};
use serde_json::json;

const SECRET: &str = "bench-secret";
/// The emulator's (and Atlassian's) rate for `GET /servicedesk/{id}/customer`: one per reconciled person here.
const SITE_LIMIT: f64 = 5.0;

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

async fn worker(target: &str, emu: &RunningEmulator, id: &str, source: &SourceConfig) -> Worker {
    let store = Store::open(target).await.unwrap();
    let mut config = ServeConfig::new(emu.base_url(), id);
    config.webhook_secret = Some(secrecy::SecretString::from(SECRET.to_string()));
    config.source = Some(source.name.clone());
    config.sources = vec![source.clone()];
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

/// The site's customers as a file source: `(account id, email, display name)` each.
struct Customers {
    path: PathBuf,
    people: Vec<(String, String, String)>,
}

impl Customers {
    fn of(emu: &RunningEmulator, dir: &Path) -> Self {
        let site = emu.emu.site();
        let people = site
            .accounts
            .iter()
            .filter(|a| a.account_type == AccountType::Customer)
            .map(|a| {
                (
                    a.account_id.clone(),
                    a.email.clone(),
                    a.display_name.clone(),
                )
            })
            .collect();
        Self {
            path: dir.join("people.csv"),
            people,
        }
    }

    /// Writes the file, every customer listed with these desks.
    fn write(&self, desks: &str) {
        let mut csv = String::from("email,display_name,kind,service_desks\n");
        for (_, email, name) in &self.people {
            csv.push_str(&format!("{email},{name},customer,{desks}\n"));
        }
        std::fs::write(&self.path, csv).unwrap();
    }

    fn source(&self) -> SourceConfig {
        SourceConfig {
            name: "hr".into(),
            spec: format!("file:{}", self.path.display()),
            mapping: None,
        }
    }
}

/// A full reconcile of the source as it is, through the service, before the clock starts: every customer is
/// linked, so each event is about a person the service already knows.
async fn link_everyone(state: &AppState, site: &str) {
    let job = Job::Reconcile {
        site: site.to_string(),
        source: "hr".into(),
        person: None,
    };
    jsm_serve::api::queue(state, &job, "bench", state.now())
        .await
        .unwrap();
    wait_done(state.store(), 1).await;
}

/// API calls and 429s of every worker so far.
fn counters(pool: &[Worker]) -> (u64, u64) {
    pool.iter().fold((0, 0), |(c, t), w| {
        (
            c + w.state.metrics().api_calls_total(),
            t + w.state.metrics().api_429_total(),
        )
    })
}

/// Waits until `jobs` jobs are done; fails loudly on a failed one.
async fn wait_done(store: &Store, jobs: usize) {
    let deadline = Instant::now() + Duration::from_secs(1800);
    loop {
        let counts = store.job_counts().await.unwrap();
        let count = |state| {
            counts
                .iter()
                .find(|(s, _)| *s == state)
                .map_or(0, |(_, n)| *n)
        };
        assert_eq!(count(JobState::Failed), 0, "a reconcile failed: {counts:?}");
        if count(JobState::Done) as usize >= jobs {
            return;
        }
        assert!(Instant::now() < deadline, "jobs did not finish: {counts:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
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
    let dir = tempfile::tempdir().unwrap();
    let customers = Customers::of(&emu, dir.path());
    let people = &customers.people;
    assert!(events <= people.len(), "at most one event per customer");
    customers.write("");
    let mut pool = Vec::new();
    for i in 0..workers {
        let id = format!("bench-{i}");
        pool.push(worker(target, &emu, &id, &customers.source()).await);
    }
    let store = pool[0].state.store().clone();
    link_everyone(&pool[0].state, emu.base_url()).await;
    customers.write("HR");
    let (calls_before, throttled_before) = counters(&pool);
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
                "user": {"accountId": people[i].0, "active": true},
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
    wait_done(&store, events + 1).await;
    let process_time = started.elapsed().as_secs_f64();
    let (calls, throttled) = counters(&pool);
    let (api_calls, throttled) = (calls - calls_before, throttled - throttled_before);
    for w in pool {
        let _ = w.stop.send(());
        let _ = w.task.await;
    }
    assert_on_hr(&emu, &people[..events]);
    store.close().await;
    let _ = emu.stop().await;
    Figures {
        accepted_per_s: events as f64 / accept_time,
        processed_per_s: events as f64 / process_time,
        api_calls,
        throttled,
    }
}

/// Every person an event was about is on the HR desk now, as the source says.
fn assert_on_hr(emu: &RunningEmulator, people: &[(String, String, String)]) {
    let site = emu.emu.site();
    let hr = site.desks.iter().find(|d| d.project_key == "HR").unwrap();
    for (id, email, _) in people {
        let key = site.find_account(id).unwrap();
        assert!(hr.customers.contains(&key), "{email} reconciled onto HR");
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

fn row(what: &str, f: &Figures, events: usize) {
    println!(
        "| {what} | {:.0} | {:.2} | {:.2} | {} ({:.1}) | {} |",
        f.accepted_per_s,
        f.processed_per_s,
        f.processed_per_s / SITE_LIMIT,
        f.api_calls,
        f.api_calls as f64 / events as f64,
        f.throttled
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let events: usize = std::env::var("JSMCTL_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    println!(
        "{events} signed user_updated deliveries, 16 in flight; site limit GET /servicedesk/{{id}}/customer \
         {SITE_LIMIT}/s\n"
    );
    println!(
        "| run | accepted/s | reconciled/s | reconciled / site limit | API calls (per person) | 429s |"
    );
    println!("|---|---|---|---|---|---|");
    let dir = tempfile::tempdir().unwrap();
    let sqlite = dir.path().join("bench.db").display().to_string();
    row("1 worker, SQLite", &run(&sqlite, 1, events).await, events);
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
                    events,
                );
            }
        }
        Err(_) => println!(
            "\n(JSMCTL_TEST_POSTGRES_URL unset: the PostgreSQL runs, one and three workers, were skipped)"
        ),
    }
}
