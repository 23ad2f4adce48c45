//! The harness: a store per test (SQLite temp file or a PostgreSQL schema dropped afterwards), the service served
//! on `127.0.0.1:0` against a testkit emulator, operators with tokens, and bounded waits.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use jsm_lifecycle::Policy;
use jsm_serve::{AppState, ClientFactory, ServeConfig};
use jsm_store::Store;
use jsm_testkit::TestEmulator;
use reqwest::{Method, RequestBuilder};
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The secret webhooks are signed with in these tests.
pub const SECRET: &str = "whsec-test";

/// A store for one test; `cleanup` drops a PostgreSQL schema.
pub struct Db {
    pub store: Store,
    pub target: String,
    _dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

impl Db {
    /// A SQLite file in a temp dir.
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("state.db").display().to_string();
        Self {
            store: Store::open(&target).await.unwrap(),
            target,
            _dir: dir,
            pg: None,
        }
    }

    /// A fresh schema in `JSMCTL_TEST_POSTGRES_URL`, or `None` (with a notice) when it is unset.
    pub async fn postgres() -> Option<Self> {
        let Ok(url) = std::env::var("JSMCTL_TEST_POSTGRES_URL") else {
            eprintln!(
                "notice: JSMCTL_TEST_POSTGRES_URL unset; skipping a jsm-serve PostgreSQL test"
            );
            return None;
        };
        let schema = format!("jsm_serve_{}", uuid::Uuid::new_v4().simple());
        pg_exec(&url, &format!("CREATE SCHEMA {schema}")).await;
        let sep = if url.contains('?') { '&' } else { '?' };
        let target = format!("{url}{sep}options=-csearch_path%3D{schema}");
        Some(Self {
            store: Store::open(&target).await.unwrap(),
            target,
            _dir: tempfile::tempdir().unwrap(),
            pg: Some((url, schema)),
        })
    }

    /// Closes the store and drops the schema.
    pub async fn cleanup(self) {
        self.store.close().await;
        if let Some((url, schema)) = self.pg {
            pg_exec(&url, &format!("DROP SCHEMA {schema} CASCADE")).await;
        }
    }
}

async fn pg_exec(url: &str, sql: &str) {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
}

/// Builds clients for the testkit emulator with every surface.
pub fn clients(emu: &TestEmulator) -> ClientFactory {
    let r = emu.running();
    let (base, email, token) = (
        r.base_url().to_string(),
        r.admin_email().to_string(),
        r.admin_token().expose().to_string(),
    );
    let (dir, scim) = (
        r.directory_id().to_string(),
        r.scim_token().expose().to_string(),
    );
    let (org, key) = (r.org_id().to_string(), r.org_api_key().expose().to_string());
    Arc::new(move |params| {
        jsm_client::Client::builder()
            .site(&base)
            .api_url(&base)
            .auth_url(&base)
            .basic_auth(&email, &token)
            .scim(&dir, &scim)
            .org_admin(&org, &key)
            .limiter(params.limiter)
            .observer(params.observer)
            .build()
    })
}

/// Settings for tests: short lease and heartbeat, plain-HTTP cookies, the test secret.
pub fn config(emu: &TestEmulator, worker: &str) -> ServeConfig {
    let mut c = ServeConfig::new(emu.base_url.clone(), worker);
    c.lease = Duration::from_secs(3);
    c.heartbeat = Duration::from_millis(500);
    c.poll = Duration::from_millis(100);
    c.shutdown_grace = Duration::from_secs(1);
    c.secure_cookies = false;
    c.source = Some("hr".into());
    c.webhook_secret = Some(secrecy::SecretString::from(SECRET.to_string()));
    c
}

/// Settings as [`config`], with the file at `people` as the identity source `hr`.
pub fn config_with_file(emu: &TestEmulator, worker: &str, people: &std::path::Path) -> ServeConfig {
    let mut c = config(emu, worker);
    c.sources = vec![jsm_serve::SourceConfig {
        name: "hr".into(),
        spec: format!("file:{}", people.display()),
        mapping: None,
    }];
    c
}

/// A full reconcile of the source `hr` on the emulator's site.
pub fn full_reconcile(emu: &TestEmulator) -> jsm_serve::Job {
    jsm_serve::Job::Reconcile {
        site: emu.base_url.clone(),
        source: "hr".into(),
        person: None,
    }
}

/// A running service.
pub struct Svc {
    pub base: String,
    pub state: AppState,
    pub http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Svc {
    /// Serves `store` against `emu` with `policy` and these settings.
    pub async fn start(
        store: &Store,
        emu: &TestEmulator,
        policy: Policy,
        config: ServeConfig,
    ) -> Self {
        Self::start_with(store, emu, policy, config, None).await
    }

    /// As [`Svc::start`], with another reconciler.
    pub async fn start_with(
        store: &Store,
        emu: &TestEmulator,
        policy: Policy,
        config: ServeConfig,
        reconciler: Option<Arc<dyn jsm_serve::Reconciler>>,
    ) -> Self {
        let mut builder = AppState::builder(store.clone(), config, clients(emu))
            .policy(policy)
            .capabilities(jsm_lifecycle::Capabilities {
                scim: true,
                admin: true,
            });
        if let Some(r) = reconciler {
            builder = builder.reconciler(r);
        }
        let state = builder.build().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(jsm_serve::serve(listener, state.clone(), async {
            let _ = stopped.await;
        }));
        Self {
            base,
            state,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            stop: Some(stop),
            task,
        }
    }

    /// A request to `path` with an operator token.
    pub fn api(&self, method: Method, path: &str, token: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
    }

    /// The JSON answer of an operator request (the status is the caller's to check where it matters).
    pub async fn api_json(&self, method: Method, path: &str, token: &str) -> Value {
        self.api(method, path, token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Stops gracefully and waits.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        tokio::time::timeout(Duration::from_secs(20), self.task)
            .await
            .expect("the service stops within 20 s")
            .unwrap()
            .unwrap();
    }
}

/// Adds an operator and returns the token.
pub async fn operator(store: &Store, name: &str) -> String {
    jsm_serve::auth::add_operator(store, name, "test", chrono::DateTime::UNIX_EPOCH)
        .await
        .unwrap()
}

/// Polls `check` every 50 ms until it is true; fails after `secs` seconds naming `what`.
pub async fn wait_for<F, Fut>(what: &str, secs: u64, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out after {secs} s waiting for {what}");
}

/// A policy where the requester cannot approve their own plan.
pub fn distinct() -> Policy {
    let mut p = Policy::default();
    p.approval.distinct_approver = true;
    p
}

/// A service in a runtime of its own, on its own store pool: [`Isolated::kill`] drops that runtime with every
/// task in it at once, as `kill -9` ends a process (no release, no last heartbeat, no cleanup).
pub struct Isolated {
    kill: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Isolated {
    /// Starts a worker on the store at `target`.
    pub fn start(target: String, emu: &TestEmulator, policy: Policy, config: ServeConfig) -> Self {
        let clients = clients(emu);
        let (kill, killed) = std::sync::mpsc::channel::<()>();
        let (ready, started) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap();
            rt.spawn(async move {
                let store = Store::open(&target).await.unwrap();
                let state = AppState::builder(store, config, clients)
                    .policy(policy)
                    .build()
                    .unwrap();
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let _ = ready.send(());
                let _ = jsm_serve::serve(listener, state, std::future::pending()).await;
            });
            let _ = killed.recv();
            rt.shutdown_background();
        });
        started
            .recv_timeout(Duration::from_secs(20))
            .expect("the isolated worker starts");
        Self {
            kill: Some(kill),
            thread: Some(thread),
        }
    }

    /// Ends the worker abruptly.
    pub fn kill(mut self) {
        if let Some(k) = self.kill.take() {
            let _ = k.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Isolated {
    fn drop(&mut self) {
        if let Some(k) = self.kill.take() {
            let _ = k.send(());
        }
    }
}

/// A form body, as a browser posts it.
pub fn form(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// Queues `job` as the scheduler would and waits (30 s at most) until it is done or failed.
pub async fn run_job(svc: &Svc, db: &Db, job: jsm_serve::Job) -> jsm_store::Job {
    let queued = jsm_serve::api::queue(&svc.state, &job, "scheduler:nightly", svc.state.now())
        .await
        .unwrap();
    wait_for("the job", 30, || async {
        db.store.job(queued.id).await.unwrap().is_some_and(|j| {
            matches!(
                j.state,
                jsm_store::JobState::Done | jsm_store::JobState::Failed
            )
        })
    })
    .await;
    db.store.job(queued.id).await.unwrap().unwrap()
}
