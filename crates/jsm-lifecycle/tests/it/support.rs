//! One engine per test: a real emulator on loopback (the testkit), a real client, a store on SQLite in a temp
//! dir or on the CI PostgreSQL in a fresh schema. Outcomes are read from the emulator's own state.

use jsm_emulator::site::Site;
use jsm_lifecycle::{Capabilities, Engine, Policy};
use jsm_store::Store;
use jsm_testkit::{Surfaces, TestEmulator};

/// A running emulator, an engine on it, and what keeps the store alive.
pub struct World {
    pub emu: TestEmulator,
    pub engine: Engine,
    _dir: tempfile::TempDir,
    pg_schema: Option<(String, String)>,
}

/// Which store a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The backends this machine can test: SQLite always, PostgreSQL when `JSMCTL_TEST_POSTGRES_URL` is set.
pub fn backends() -> Vec<Backend> {
    let mut b = vec![Backend::Sqlite];
    if std::env::var("JSMCTL_TEST_POSTGRES_URL").is_ok() {
        b.push(Backend::Postgres);
    } else {
        eprintln!("notice: JSMCTL_TEST_POSTGRES_URL unset; engine tests on PostgreSQL skipped");
    }
    b
}

impl World {
    /// The demo site with rate limits off, every surface, default policy, SQLite.
    pub async fn demo() -> Self {
        Self::new(Surfaces::ALL, Policy::default(), Backend::Sqlite).await
    }

    /// The demo site with these surfaces, policy and store.
    pub async fn new(surfaces: Surfaces, policy: Policy, backend: Backend) -> Self {
        Self::on(TestEmulator::start().await, surfaces, policy, backend).await
    }

    /// An engine on this emulator (a dedicated seed), with these surfaces, policy and store.
    pub async fn on(
        emu: TestEmulator,
        surfaces: Surfaces,
        policy: Policy,
        backend: Backend,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (store, pg_schema) = match backend {
            Backend::Sqlite => {
                let path = dir.path().join("state.db");
                (Store::open(path.to_str().unwrap()).await.unwrap(), None)
            }
            Backend::Postgres => {
                let url = std::env::var("JSMCTL_TEST_POSTGRES_URL").unwrap();
                let schema = format!("jsm_life_{}", uuid_like());
                pg(&url, &format!("CREATE SCHEMA {schema}")).await;
                let sep = if url.contains('?') { '&' } else { '?' };
                let scoped = format!("{url}{sep}options=-csearch_path%3D{schema}");
                (Store::open(&scoped).await.unwrap(), Some((url, schema)))
            }
        };
        let caps = Capabilities {
            scim: surfaces.scim,
            admin: surfaces.admin,
        };
        let metrics = std::sync::Arc::new(jsm_client::Metrics::default());
        let client = emu
            .client_builder_with(surfaces)
            .observer(std::sync::Arc::new(jsm_client::observer::Observers(vec![
                metrics.clone(),
                std::sync::Arc::new(jsm_lifecycle::RequestIds),
            ])))
            .build()
            .unwrap();
        let engine = Engine::new(client, store, policy, caps, "alice", emu.base_url.clone())
            .with_metrics(metrics);
        Self {
            emu,
            engine,
            _dir: dir,
            pg_schema,
        }
    }

    /// Swaps in a client that gives up on a failing request after one quick retry, so tests of the engine's own
    /// attempts and quarantine do not wait out the client's patient defaults.
    pub fn impatient(&mut self, surfaces: Surfaces) {
        let retry = jsm_client::RetryConfig {
            max_retries: 1,
            initial_backoff: std::time::Duration::from_millis(10),
            max_backoff: std::time::Duration::from_millis(20),
            ..jsm_client::RetryConfig::default()
        };
        self.engine.client = self
            .emu
            .client_builder_with(surfaces)
            .retry(retry)
            .build()
            .unwrap();
    }

    /// The emulator's own state.
    pub fn site(&self) -> std::sync::RwLockReadGuard<'_, Site> {
        self.emu.emu.site()
    }

    /// Drops the PostgreSQL schema of this test.
    pub async fn cleanup(self) {
        if let Some((url, schema)) = &self.pg_schema {
            self.engine.store.close().await;
            pg(url, &format!("DROP SCHEMA {schema} CASCADE")).await;
        }
    }
}

async fn pg(url: &str, sql: &str) {
    use sqlx::Executor;
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    pool.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string())))
        .await
        .unwrap();
    pool.close().await;
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Whether the account with this email is a customer of the desk with this key.
pub fn in_desk(site: &Site, desk_key: &str, email: &str) -> bool {
    let Some(key) = site.find_by_email(email) else {
        return false;
    };
    site.desks
        .iter()
        .find(|d| d.project_key == desk_key)
        .is_some_and(|d| d.customers.contains(&key))
}

/// Whether the account with this email is a member of the JSM organization with this name.
pub fn in_org(site: &Site, organization: &str, email: &str) -> bool {
    let Some(key) = site.find_by_email(email) else {
        return false;
    };
    site.organizations
        .values()
        .any(|o| o.name == organization && o.members.contains(&key))
}

/// Whether the account with this email exists and is active.
pub fn active(site: &Site, email: &str) -> bool {
    site.find_by_email(email)
        .is_some_and(|k| site.account(k).active)
}

/// Accounts with this email (a duplicate would make it 2).
pub fn accounts_with_email(site: &Site, email: &str) -> usize {
    site.accounts
        .iter()
        .filter(|a| a.email.eq_ignore_ascii_case(email))
        .count()
}

/// A directory user of the demo site whose profile hides its email: (email, account id, SCIM id).
pub fn hidden_scim_agent(site: &Site) -> (String, String, String) {
    site.directory
        .users
        .iter()
        .find(|u| {
            let a = site.account(u.account);
            a.email_hidden
                && a.active
                && site.is_member_of(u.account, "jira-servicemanagement-users")
        })
        .map(|u| {
            let a = site.account(u.account);
            (a.email.clone(), a.account_id.clone(), u.id.clone())
        })
        .expect("the demo seed has an agent with a hidden email in the directory")
}
