//! `jsmctl serve` as operators run it: processes on one PostgreSQL, one of them `kill -9`ed in the middle of a
//! reconcile job of 2,000 people from a file source (`[[sources]]` in the serve config).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::time::Instant;

use jsm_emulator::limits::LimitConfig;
use jsm_emulator::{Emulator, RunningEmulator, Seed};
use jsm_lifecycle::plan::Plan;
use jsm_store::{JobState, PlanStatus, Store};
use serde_json::{Value, json};

use super::jsmctl;

const PEOPLE: usize = 2000;

struct Worker {
    id: String,
    child: Child,
    base: String,
}

fn env_of(emu: &RunningEmulator, state: &str) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = emu
        .env_vars()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    env.push(("JSMCTL_STATE".into(), state.into()));
    env.push(("JSMCTL_ACTOR".into(), "ci".into()));
    env.push(("JSMCTL_LOG".into(), "warn".into()));
    env
}

fn start_worker(env: &[(String, String)], id: &str, serve_config: &Path) -> Worker {
    let mut child = jsmctl()
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--worker-id",
            id,
            "--lease-seconds",
            "4",
            "--heartbeat-seconds",
            "1",
            "--serve-config",
        ])
        .arg(serve_config)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn jsmctl serve");
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let base = first.trim().to_string();
    assert!(
        base.starts_with("http://127.0.0.1:"),
        "first line is the URL: {base:?}"
    );
    Worker {
        id: id.into(),
        child,
        base,
    }
}

async fn stop_worker(mut w: Worker) {
    let _ = Command::new("kill")
        .args(["-TERM", &w.child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = w.child.try_wait() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = w.child.kill();
    let _ = w.child.wait();
}

async fn pg(url: &str, sql: &str) {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
}

/// What one run measured.
#[derive(Debug)]
struct Run {
    created: usize,
    distinct: usize,
    posts_201: usize,
    throttled: usize,
    linked: usize,
    attempts: u32,
    finished_by: String,
    killed: Option<String>,
    result: Value,
    seconds: f64,
}

/// A file source of `PEOPLE` new portal customers and a serve config naming it; returns the config's path.
fn source_and_config(dir: &Path) -> std::path::PathBuf {
    let people = dir.join("people.csv");
    let mut text = String::from("email,display_name,external_id,kind\n");
    for i in 0..PEOPLE {
        text.push_str(&format!(
            "person-{i:05}@example.com,Person {i},P{i:05},customer\n"
        ));
    }
    std::fs::write(&people, text).unwrap();
    let config = dir.join("serve.toml");
    let toml = format!(
        "version = 1\nsource = \"hr\"\n\n[[sources]]\nname = \"hr\"\nspec = {}\n",
        toml_string(&format!("file:{}", people.display()))
    );
    std::fs::write(&config, toml).unwrap();
    config
}

fn toml_string(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// Waits until the job's plan is being applied and a quarter of its items are done.
async fn quarter_applied(store: &Store) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        assert!(Instant::now() < deadline, "the reconcile never got going");
        let applying = store.plans(Some(PlanStatus::Applying)).await.unwrap();
        if let Some(p) = applying.first() {
            let items = p.body["items"].as_array().map_or(0, Vec::len);
            let done = store
                .journal(&p.id)
                .await
                .unwrap()
                .iter()
                .filter(|e| e.state == jsm_store::JournalState::Done)
                .count();
            if items > 0 && done >= items / 4 {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every plan the reconcile made with changes in it is applied, every item has its outcome in the audit log, and
/// the chain verifies. (A plan that found the site in sync is stored and never applied.)
async fn assert_audit_complete(store: &Store) {
    let plans: Vec<Plan> = store
        .plans(None)
        .await
        .unwrap()
        .into_iter()
        .map(|r| serde_json::from_value(r.body).unwrap())
        .collect();
    assert!(
        plans.iter().any(|p| !p.items.is_empty()),
        "the reconcile planned changes"
    );
    let mut outcomes = std::collections::HashSet::new();
    let mut after = 0;
    loop {
        let page = store.audit_list(after, 1000).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.seq;
        for r in page {
            if let (Some(plan), Some(item)) = (r.draft.plan_id, r.draft.item_key) {
                outcomes.insert((plan, item));
            }
        }
    }
    for plan in plans.iter().filter(|p| !p.items.is_empty()) {
        assert_eq!(
            store.plan(&plan.id).await.unwrap().unwrap().status,
            PlanStatus::Applied,
            "plan {} is applied",
            plan.id
        );
        for item in &plan.items {
            assert!(
                outcomes.contains(&(plan.id.clone(), item.key.clone())),
                "no outcome in the audit log for {} of plan {}",
                item.key,
                plan.id
            );
        }
    }
    store
        .audit_verify()
        .await
        .unwrap()
        .expect("the audit chain verifies");
}

async fn run(base_url: &str, workers: usize, kill: bool) -> Run {
    let emu = Emulator::builder()
        .seed(Seed::Demo)
        .limits(LimitConfig::default())
        .log_capacity(200_000)
        .admin("admin@example.com", "failover-token")
        .spawn("127.0.0.1:0")
        .await
        .unwrap();
    let schema = format!("jsm_failover_{}", uuid::Uuid::new_v4().simple());
    pg(base_url, &format!("CREATE SCHEMA {schema}")).await;
    let sep = if base_url.contains('?') { '&' } else { '?' };
    let state = format!("{base_url}{sep}options=-csearch_path%3D{schema}");
    let env = env_of(&emu, &state);
    let dir = tempfile::tempdir().unwrap();
    let serve_config = source_and_config(dir.path());

    let out = jsmctl()
        .args(["operators", "add", "ops"])
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();

    let mut pool: Vec<Worker> = (1..=workers)
        .map(|i| start_worker(&env, &format!("w{i}"), &serve_config))
        .collect();
    let store = Store::open(&state).await.unwrap();

    let started = Instant::now();
    let job: Value = reqwest::Client::new()
        .post(format!("{}/api/v1/reconcile", pool[0].base))
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let job_id = job["id"].as_i64().expect("reconcile queued");

    let mut killed = None;
    if kill {
        quarter_applied(&store).await;
        let holder = store.job(job_id).await.unwrap().unwrap().worker.unwrap();
        let at = pool.iter().position(|w| w.id == holder).unwrap();
        let mut victim = pool.remove(at);
        victim.child.kill().unwrap(); // SIGKILL
        victim.child.wait().unwrap();
        killed = Some(holder);
    }

    let deadline = Instant::now() + Duration::from_secs(300);
    let job = loop {
        let j = store.job(job_id).await.unwrap().unwrap();
        if matches!(j.state, JobState::Done | JobState::Failed) {
            break j;
        }
        assert!(Instant::now() < deadline, "the job did not finish: {j:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(job.state, JobState::Done, "{job:?}");
    assert_audit_complete(&store).await;
    let linked = store.links(None).await.unwrap().len();

    let log = emu.emu.log().since(0, usize::MAX);
    let posts_201 = log
        .iter()
        .filter(|e| {
            e.method == "POST" && e.path == "/rest/servicedeskapi/customer" && e.status == 201
        })
        .count();
    let throttled = log.iter().filter(|e| e.status == 429).count();
    let emails: Vec<String> = emu
        .emu
        .site()
        .accounts
        .iter()
        .filter(|a| a.email.starts_with("person-"))
        .map(|a| a.email.to_lowercase())
        .collect();
    let distinct = emails
        .iter()
        .collect::<std::collections::HashSet<_>>()
        .len();

    for w in pool {
        stop_worker(w).await;
    }
    store.close().await;
    pg(base_url, &format!("DROP SCHEMA {schema} CASCADE")).await;
    let _ = emu.stop().await;
    Run {
        created: emails.len(),
        distinct,
        posts_201,
        throttled,
        linked,
        attempts: job.attempts,
        finished_by: job.worker.unwrap_or_default(),
        killed,
        result: job.result.unwrap_or_default(),
        seconds,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_on_postgres_finish_a_2000_person_reconcile_after_a_kill_9() {
    let Ok(url) = std::env::var("JSMCTL_TEST_POSTGRES_URL") else {
        eprintln!("notice: JSMCTL_TEST_POSTGRES_URL unset; skipping the serve failover test");
        return;
    };
    let three = run(&url, 3, true).await;
    report("three workers, one killed", &three);
    assert_one_each(&three);
    let killed = three.killed.clone().unwrap();
    assert_ne!(three.finished_by, killed, "finished on another worker");
    assert_eq!(three.attempts, 2, "one claim and one takeover");
    let resumed = three.result["resumed"].as_array().unwrap();
    assert!(
        resumed.len() == 1 && resumed[0]["complete"] == true,
        "the taker finished the killed worker's plan from its journal: {}",
        three.result
    );
    assert_eq!(
        three.result["status"], "in_sync",
        "then planned anew and found nothing left: {}",
        three.result
    );
    // 429s not above a single worker's: trivially so at none; otherwise the same reconcile on one worker, on a
    // fresh emulator with the same limits, is the measure (a run as long again, so only when it can decide).
    if three.throttled > 0 {
        let single = run(&url, 1, false).await;
        report("one worker", &single);
        assert_one_each(&single);
        assert_eq!(single.result["status"], "applied", "{}", single.result);
        assert!(
            three.throttled <= single.throttled,
            "429s with three workers ({}) above one worker's ({})",
            three.throttled,
            single.throttled
        );
    }
}

fn report(what: &str, r: &Run) {
    eprintln!(
        "serve failover: {what}: {PEOPLE} people, {} created, {} POST 201, {} linked, {} 429s, {:.1} s, claims {}, \
         finished by {}",
        r.created, r.posts_201, r.linked, r.throttled, r.seconds, r.attempts, r.finished_by
    );
}

/// Each person created once (the emulator's accounts and its request log agree) and linked once.
fn assert_one_each(r: &Run) {
    assert_eq!(
        (r.created, r.distinct, r.posts_201, r.linked),
        (PEOPLE, PEOPLE, PEOPLE, PEOPLE),
        "each person created and linked once: {r:?}"
    );
}

#[test]
fn serve_refuses_a_readable_secret_file_and_an_mcp_it_does_not_have() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("serve.toml");
    std::fs::write(&config, "version = 1\nwebhook_secret = \"hush\"\n").unwrap();
    #[cfg(unix)]
    std::fs::set_permissions(&config, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let run = |args: &[&str]| {
        jsmctl()
            .args(args)
            .env_clear()
            .env("HOME", dir.path())
            .env("ATLASSIAN_SITE", "http://127.0.0.1:9")
            .env("ATLASSIAN_EMAIL", "admin@example.com")
            .env("ATLASSIAN_API_TOKEN", "t")
            .env("JSMCTL_STATE", dir.path().join("state.db"))
            .output()
            .unwrap()
    };
    let out = run(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--serve-config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("chmod 600") && !err.contains("hush"), "{err}");
    let bad = dir.path().join("mcp.toml");
    std::fs::write(&bad, "nonsense = 1\n").unwrap();
    let out = run(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--mcp",
        "--mcp-config",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a bad MCP config is a usage error"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_mounts_the_mcp_server_behind_its_own_auth() {
    let emu = Emulator::builder()
        .seed(Seed::Demo)
        .limits(LimitConfig::off())
        .spawn("127.0.0.1:0")
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let env = env_of(&emu, &dir.path().join("state.db").display().to_string());
    let mut child = jsmctl()
        .args(["serve", "--listen", "127.0.0.1:0", "--no-worker", "--mcp"])
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let base = first.trim().to_string();
    let http = reqwest::Client::new();
    let mcp = http
        .post(format!("{base}/mcp"))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(mcp.status(), 401, "the MCP endpoint wants an agent token");
    let api = http
        .get(format!("{base}/api/v1/plans"))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 401, "the API wants an operator token");
    let health = http.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let _ = emu.stop().await;
}
