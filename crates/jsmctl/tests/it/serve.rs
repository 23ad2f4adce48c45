//! `jsmctl serve` as operators run it: processes on one PostgreSQL, one of them `kill -9`ed in the middle of a
//! 2,000-change job. The job is an apply of a 2,000-customer plan: the stand-in for a reconcile of 2,000 people
//! until reconcile from identity sources lands (its job runs through the same lease, journal and takeover).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::time::Instant;

use jsm_emulator::limits::LimitConfig;
use jsm_emulator::{Emulator, RunningEmulator, Seed};
use jsm_lifecycle::plan::{Action, Draft, PlanKind, Precondition, Rates, Stamp};
use jsm_lifecycle::{Capabilities, Engine, Policy};
use jsm_store::{JobState, PlanStatus, Store};
use serde_json::Value;

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

fn start_worker(env: &[(String, String)], id: &str) -> Worker {
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
        ])
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
    posts_201: usize,
    throttled: usize,
    attempts: u32,
    finished_by: String,
    killed: Option<String>,
    seconds: f64,
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
        .map(|i| start_worker(&env, &format!("w{i}")))
        .collect();

    let store = Store::open(&state).await.unwrap();
    let client = jsm_client::Client::builder()
        .site(emu.base_url())
        .basic_auth(emu.admin_email(), emu.admin_token().expose())
        .build()
        .unwrap();
    let engine = Engine::new(
        client,
        store.clone(),
        Policy::default(),
        Capabilities::default(),
        "ci",
        emu.base_url(),
    );
    let mut draft = Draft::new(
        PlanKind::Batch,
        format!("{PEOPLE} people new in the identity source"),
    );
    draft.scope(PEOPLE as u32);
    for i in 0..PEOPLE {
        let email = format!("person-{i:05}@example.com");
        draft.push(
            Action::CreateCustomer {
                email: email.clone(),
                display_name: format!("Person {i}"),
            },
            email,
            "new in the identity source",
            Precondition::None,
        );
    }
    let mut plan = draft.finish(
        Stamp {
            id: uuid::Uuid::new_v4().simple().to_string(),
            requester: "ci".into(),
            now: engine.client.clock().now(),
            site: engine.site.clone(),
        },
        &Rates::default(),
    );
    engine.policy.evaluate(&mut plan);
    let plan = plan.seal().unwrap();
    assert!(!plan.needs_approval());
    engine.submit(&plan).await.unwrap();

    let started = Instant::now();
    let http = reqwest::Client::new();
    let job: Value = http
        .post(format!("{}/api/v1/plans/{}/apply", pool[0].base, plan.id))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let job_id = job["id"].as_i64().expect("apply queued");

    let mut killed = None;
    if kill {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            assert!(Instant::now() < deadline, "the job never got going");
            let done = store
                .journal(&plan.id)
                .await
                .unwrap()
                .iter()
                .filter(|e| e.state == jsm_store::JournalState::Done)
                .count();
            if done >= PEOPLE / 4 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let holder = store.job(job_id).await.unwrap().unwrap().worker.unwrap();
        let at = pool.iter().position(|w| w.id == holder).unwrap();
        let mut victim = pool.remove(at);
        victim.child.kill().unwrap(); // SIGKILL
        victim.child.wait().unwrap();
        killed = Some(holder);
    }

    let deadline = Instant::now() + Duration::from_secs(240);
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
    assert_eq!(
        store.plan(&plan.id).await.unwrap().unwrap().status,
        PlanStatus::Applied
    );

    // The audit log is complete (an outcome for every item) and its chain verifies.
    let mut keys = std::collections::HashSet::new();
    let mut after = 0;
    loop {
        let page = store.audit_list(after, 1000).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.seq;
        for r in page {
            if r.draft.kind == "write" && r.draft.plan_id.as_deref() == Some(plan.id.as_str()) {
                keys.insert(r.draft.item_key.unwrap());
            }
        }
    }
    assert_eq!(
        keys.len(),
        PEOPLE,
        "every item's outcome is in the audit log"
    );
    store
        .audit_verify()
        .await
        .unwrap()
        .expect("the audit chain verifies");

    let log = emu.emu.log().since(0, usize::MAX);
    let posts_201 = log
        .iter()
        .filter(|e| {
            e.method == "POST" && e.path == "/rest/servicedeskapi/customer" && e.status == 201
        })
        .count();
    let throttled = log.iter().filter(|e| e.status == 429).count();
    let created = emu
        .emu
        .site()
        .accounts
        .iter()
        .filter(|a| a.email.starts_with("person-"))
        .count();

    for w in pool {
        stop_worker(w).await;
    }
    store.close().await;
    pg(base_url, &format!("DROP SCHEMA {schema} CASCADE")).await;
    let _ = emu.stop().await;
    Run {
        created,
        posts_201,
        throttled,
        attempts: job.attempts,
        finished_by: job.worker.unwrap_or_default(),
        killed,
        seconds,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_on_postgres_finish_a_2000_person_job_after_a_kill_9() {
    let Ok(url) = std::env::var("JSMCTL_TEST_POSTGRES_URL") else {
        eprintln!("notice: JSMCTL_TEST_POSTGRES_URL unset; skipping the serve failover test");
        return;
    };
    let single = run(&url, 1, false).await;
    let three = run(&url, 3, true).await;
    for (what, r) in [
        ("one worker", &single),
        ("three workers, one killed", &three),
    ] {
        eprintln!(
            "serve failover: {what}: {} people, {} created, {} POST 201, {} 429s, {:.1} s, claims {}, finished by {}",
            PEOPLE, r.created, r.posts_201, r.throttled, r.seconds, r.attempts, r.finished_by
        );
    }
    for r in [&single, &three] {
        assert_eq!(
            (r.created, r.posts_201),
            (PEOPLE, PEOPLE),
            "each person created once: {r:?}"
        );
    }
    let killed = three.killed.clone().unwrap();
    assert_ne!(three.finished_by, killed, "finished on another worker");
    assert_eq!(three.attempts, 2, "one claim and one takeover");
    assert!(
        three.throttled <= single.throttled,
        "429s with three workers ({}) above one worker's ({})",
        three.throttled,
        single.throttled
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
