//! Acceptance 3 of issue 7: `kill -9` the apply process at random points of a plan of 260 items, many times,
//! then let apply finish; the site (read from the emulator's control plane, not from jsmctl) must end exactly as
//! the plan says, with no customer, membership or SCIM user made twice, and the audit log must verify. Runs on
//! SQLite and, when `JSMCTL_TEST_POSTGRES_URL` is set, on PostgreSQL in a fresh schema.
//!
//! The plan mixes every kind of item the acceptance names: customer creates with desk memberships that wait for
//! them (`AccountRef::FromItem`), desk memberships and Jira group memberships of existing accounts, SCIM user
//! creates with SCIM group memberships that wait for them, SCIM deactivations of directory users and admin-API
//! suspensions. The emulator's limits are lowered so one apply takes several seconds and every kill lands
//! mid-way; the kill delays come from a seeded xorshift (`JSMCTL_CRASH_SEED` picks another seed).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use jsm_client::Client;
use jsm_emulator::faults::FaultRule;
use jsm_emulator::limits::{LimitConfig, LimitOverride};
use jsm_emulator::site::SiteFile;
use jsm_emulator::{Emulator, RunningEmulator, Seed};
use jsm_lifecycle::plan::{AccountRef, Action, Deactivation, Draft, Plan, PlanKind, Precondition};
use jsm_lifecycle::{Capabilities, Engine, Outcome, Policy, Quiet};
use jsm_proto::scim::{ScimEmail, ScimUser, USER_SCHEMA};
use jsm_store::{JournalEntry, JournalState, Store};
use tokio::time::Instant;

/// Prints a line straight to stderr, past the test harness's capture, so the per-run figures show in CI logs.
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// Runs of `jsmctl apply` killed with SIGKILL before the last one is let finish.
const KILLS: usize = 20;
/// Kill delays, from the spawn of the process, in milliseconds.
const DELAY_MS: (u64, u64) = (50, 800);
/// The xorshift seed unless `JSMCTL_CRASH_SEED` says otherwise.
const DEFAULT_SEED: u64 = 0x6A73_6D63_746C_0003;
/// The longest the final, uninterrupted apply may take before the test gives up on it.
const FINAL_APPLY_LIMIT: Duration = Duration::from_secs(180);

const ADMIN_EMAIL: &str = "admin@example.com";
const ADMIN_TOKEN: &str = "crash-admin-token";
const GROUP: &str = "crash-testers";
/// A Jira group the demo's SCIM directory manages.
const SCIM_GROUP: &str = "it-support";

/// Lets the whole plan through without an approval: the deletion guard at 100%, no seat grants in the plan.
const POLICY: &str = "version = 1\n\n[approval]\ndeactivations = \"guard\"\n\n[deletion_guard]\nmax_percent = 100\n\
                      max_count = 100000\n\n[apply]\nconcurrency = 32\n";

/// The item counts of the plan.
const NEW_CUSTOMERS: usize = 50;
const EXISTING_ON_DESK: usize = 30;
const GROUP_ADDS: usize = 25;
const SCIM_CREATES: usize = 15;
const SCIM_DEACTIVATIONS: usize = 15;
const SUSPENSIONS: usize = 10;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_nine_during_apply_then_finish_on_sqlite() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let target = dir.path().join("state.db").display().to_string();
    crash_test("sqlite", &target, dir.path()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_nine_during_apply_then_finish_on_postgres() -> anyhow::Result<()> {
    let base = match std::env::var("JSMCTL_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => {
            // Straight to stderr, past the test harness's capture, so the skip is seen.
            let _ = writeln!(
                std::io::stderr(),
                "notice: JSMCTL_TEST_POSTGRES_URL is unset; skipping the PostgreSQL half of the crash test"
            );
            return Ok(());
        }
    };
    let schema = format!("jsm_crash_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::PgPool::connect(&base)
        .await
        .context("connecting to JSMCTL_TEST_POSTGRES_URL")?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&admin)
        .await?;
    let sep = if base.contains('?') { '&' } else { '?' };
    let target = format!("{base}{sep}options=-csearch_path%3D{schema}");
    let dir = tempfile::tempdir()?;
    let outcome = crash_test("postgres", &target, dir.path()).await;
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&admin)
        .await?;
    admin.close().await;
    outcome
}

/// The whole scenario on one store target; `dir` holds the plan, the policy and the runs' stderr.
async fn crash_test(backend: &str, target: &str, dir: &Path) -> anyhow::Result<()> {
    let seed = std::env::var("JSMCTL_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEED);
    let running = Emulator::builder()
        .seed(Seed::Demo)
        .admin(ADMIN_EMAIL, ADMIN_TOKEN)
        .limits(LimitConfig::off())
        .log_capacity(500_000)
        .spawn("127.0.0.1:0")
        .await?;
    let client = client_for(&running)?;
    let fixture = Fixture::set_up(&running, &client).await?;
    let policy_path = dir.join("policy.toml");
    std::fs::write(&policy_path, POLICY)?;
    let policy = Policy::from_toml(POLICY, "policy.toml")?;
    let plan = fixture.plan(&running, client, policy).await?;
    ensure!(
        plan.items.len() >= 200,
        "the plan has {} items",
        plan.items.len()
    );
    ensure!(!plan.needs_approval(), "the policy lets the plan through");
    let plan_path = dir.join("plan.json");
    std::fs::write(&plan_path, plan.to_json()?)?;
    let before = state(&running).await?;
    let log_start = requests(&running, 0).await?.last().map_or(0, |e| e.seq);

    // Slow enough that one apply takes several seconds, so every kill lands part-way through.
    running.emu.limits().set_config(crash_limits());
    let runner = Runner {
        env: running.env_vars(),
        target: target.to_string(),
        policy: policy_path,
        plan: plan_path,
        dir: dir.to_path_buf(),
    };
    say!(
        "crash test [{backend}]: plan {} with {} items, seed {seed:#x}, {KILLS} kills after {}-{} ms",
        plan.id,
        plan.items.len(),
        DELAY_MS.0,
        DELAY_MS.1
    );
    let mut rng = XorShift::new(seed);
    let mut finished_early = 0;
    for run in 1..=KILLS {
        let delay = Duration::from_millis(rng.between(DELAY_MS.0, DELAY_MS.1));
        let ended = runner.run_killed(run, delay).await?;
        let counts = journal_counts(target, &plan.id).await?;
        say!(
            "crash test [{backend}]: run {run:2}: {} after {:4} ms; journal {counts}",
            ended.describe(),
            delay.as_millis(),
        );
        if let Ended::Exited(code) = ended {
            ensure!(
                code == Some(0),
                "run {run} exited {code:?} before it was killed: {}",
                runner.stderr(run)
            );
            finished_early += 1;
        }
    }
    ensure!(
        finished_early < KILLS,
        "every run finished before its kill: the limits are too loose for this test to crash anything"
    );

    let started = Instant::now();
    let report = runner.run_to_completion(KILLS + 1).await?;
    let counts = journal_counts(target, &plan.id).await?;
    say!(
        "crash test [{backend}]: final run finished in {:.1} s; journal {counts}",
        started.elapsed().as_secs_f64()
    );
    check_report(&plan, &report)?;
    ensure!(
        counts.done == plan.items.len(),
        "every journal entry is done: {counts}"
    );

    let after = state(&running).await?;
    let log: Vec<LogEntry> = requests(&running, log_start).await?;
    fixture.check_site(&plan, &before, &after)?;
    check_log(&running, &log)?;
    runner.audit_verify()?;
    let limited = log.iter().filter(|e| e.status == 429).count();
    say!(
        "crash test [{backend}]: site as planned; {} requests during the runs ({limited} answered 429); audit \
         verifies",
        log.len()
    );
    running.stop().await?;
    Ok(())
}

/// What killed runs leave behind, then transient failures: an item journaled `sent` by as many runs as
/// `apply.max_attempts` allows, all killed before it finished (apply journals an item before the client's limiter
/// lets it go, so a kill while it waits for a slot counts too; the runs above leave items at twenty), and a site
/// that answers the read-back with a 503 once and the send with a 503 once. Apply must retry both within this
/// run's budget: neither fail the whole run on the read-back nor quarantine the item at its first failure because
/// the killed runs used the budget up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_item_left_sent_by_killed_runs_keeps_its_retry_budget() -> anyhow::Result<()> {
    let running = Emulator::builder()
        .seed(Seed::Demo)
        .admin(ADMIN_EMAIL, ADMIN_TOKEN)
        .limits(LimitConfig::off())
        .spawn("127.0.0.1:0")
        .await?;
    let setup = client_for(&running)?;
    setup.groups().create(GROUP).await?;
    let account = setup
        .users()
        .create("late@crash.example")
        .send()
        .await?
        .account_id;
    let dir = tempfile::tempdir()?;
    let store = Store::open(&dir.path().join("state.db").display().to_string()).await?;
    // No retries in the client, so the 503 reaches the engine's own retry loop.
    let client = client_builder(&running)
        .retry(jsm_client::RetryConfig::none())
        .build()?;
    let engine = Engine::new(
        client,
        store.clone(),
        Policy::default(),
        Capabilities {
            scim: true,
            admin: true,
        },
        "crash-test",
        running.base_url(),
    );
    let mut draft = Draft::new(PlanKind::Batch, "one group add");
    let key = draft.push(
        Action::AddToGroup {
            group: GROUP.into(),
            account: AccountRef::Id(account.clone()),
        },
        format!("{account} in group {GROUP}"),
        "crash test",
        active(&account),
    );
    let plan = engine.finish_draft(draft)?;
    engine.submit(&plan).await?;
    let max = engine.policy.apply.max_attempts;
    store
        .journal_put(&JournalEntry {
            plan_id: plan.id.clone(),
            item_key: key.clone(),
            state: JournalState::Sent,
            attempts: max,
            outcome: None,
            output: None,
            error: None,
            updated_at: engine.client.clock().now(),
        })
        .await?;
    let once = |method: &str, path: &str| FaultRule {
        method: Some(method.into()),
        path: path.into(),
        status: Some(503),
        retry_after: None,
        probability: 1.0,
        times: Some(1),
        delay_ms: 0,
        drop: false,
    };
    running.emu.faults().set_rules(vec![
        once("GET", "/rest/api/3/user/groups"),
        once("POST", "/rest/api/3/group/user"),
    ]);
    let report = engine
        .apply(&plan, &Quiet)
        .await
        .context("a 503 on the read-back of one item fails the whole apply")?;
    let item = &report.items[0];
    ensure!(
        item.outcome == Outcome::Applied,
        "after {max} killed runs and two 503s the item ended {:?}: {:?}",
        item.outcome,
        item.detail
    );
    let site = state(&running).await?;
    let group = site
        .groups
        .iter()
        .find(|g| g.name == GROUP)
        .context("the group")?;
    ensure!(group.members.contains(&account));
    store.close().await;
    running.stop().await?;
    Ok(())
}

/// The emulator's limits during the runs: a tenth of Atlassian's write rates.
fn crash_limits() -> LimitConfig {
    LimitConfig {
        enabled: true,
        get: 60,
        post: 12,
        put: 12,
        delete: 12,
        overrides: vec![LimitOverride {
            method: "GET".into(),
            path: "/rest/servicedeskapi/servicedesk/*/customer".into(),
            per_second: 5,
        }],
        quota_per_hour: None,
    }
}

fn client_builder(running: &RunningEmulator) -> jsm_client::ClientBuilder {
    Client::builder()
        .site(running.base_url())
        .api_url(running.base_url())
        .auth_url(running.base_url())
        .basic_auth(running.admin_email(), running.admin_token().expose())
        .scim(running.directory_id(), running.scim_token().expose())
        .org_admin(running.org_id(), running.org_api_key().expose())
}

fn client_for(running: &RunningEmulator) -> anyhow::Result<Client> {
    Ok(client_builder(running).build()?)
}

/// What the set-up made, by purpose; the plan is built from it and the checks compare against it.
struct Fixture {
    /// Atlassian accounts (SCIM-managed) to add to [`GROUP`].
    group_members: Vec<String>,
    /// SCIM users (id, account id) to deactivate through SCIM.
    scim_deactivate: Vec<(String, String)>,
    /// Atlassian accounts outside SCIM to suspend through the admin API.
    suspend: Vec<String>,
    /// Existing customers to add to the HR desk.
    existing_customers: Vec<String>,
    /// Desk ids by key.
    desks: HashMap<String, String>,
    /// The SCIM group id of [`SCIM_GROUP`].
    scim_group_id: String,
}

impl Fixture {
    /// Makes the accounts the plan needs on the demo site (with the limits off).
    async fn set_up(running: &RunningEmulator, client: &Client) -> anyhow::Result<Self> {
        client.groups().create(GROUP).await?;
        let mut scim_users = Vec::new();
        for i in 0..GROUP_ADDS + SCIM_DEACTIVATIONS {
            let email = format!("staff{i:03}@crash.example");
            let made = client
                .scim()
                .create_user(&scim_user(&email, &format!("Staff {i}")))
                .await?;
            let user = made.get();
            let account = user
                .atlassian_account_id()
                .context("a SCIM user is linked to an account")?
                .to_string();
            let id = user.id.clone().context("a created SCIM user has an id")?;
            scim_users.push((id, account));
        }
        let mut suspend = Vec::new();
        for i in 0..SUSPENSIONS {
            let user = client
                .users()
                .create(&format!("contractor{i:03}@crash.example"))
                .send()
                .await?;
            suspend.push(user.account_id);
        }
        let site = state(running).await?;
        let desks: HashMap<String, String> = site
            .service_desks
            .iter()
            .map(|d| (d.project_key.clone(), d.id.to_string()))
            .collect();
        let hr = site
            .service_desks
            .iter()
            .find(|d| d.project_key == "HR")
            .context("the demo has an HR desk")?;
        let existing_customers: Vec<String> = site
            .accounts
            .iter()
            .filter(|a| a.account_type == jsm_proto::jira::AccountType::Customer && a.active)
            .filter(|a| !hr.customers.contains(&a.account_id))
            .take(EXISTING_ON_DESK)
            .map(|a| a.account_id.clone())
            .collect();
        ensure!(existing_customers.len() == EXISTING_ON_DESK);
        let jira_group = site
            .groups
            .iter()
            .find(|g| g.name == SCIM_GROUP)
            .context("the demo has it-support")?;
        let scim_group_id = site
            .directory
            .groups
            .iter()
            .find(|g| g.group_id == jira_group.group_id)
            .context("it-support is managed by SCIM")?
            .id
            .clone();
        let scim_deactivate = scim_users.split_off(GROUP_ADDS);
        Ok(Self {
            group_members: scim_users.into_iter().map(|(_, account)| account).collect(),
            scim_deactivate,
            suspend,
            existing_customers,
            desks,
            scim_group_id,
        })
    }

    fn desk(&self, key: &str) -> anyhow::Result<String> {
        self.desks
            .get(key)
            .cloned()
            .with_context(|| format!("desk {key}"))
    }

    /// The plan: every kind of item, interleaved so that kills land on each of them.
    async fn plan(
        &self,
        running: &RunningEmulator,
        client: Client,
        policy: Policy,
    ) -> anyhow::Result<Plan> {
        let hr = self.desk("HR")?;
        let fac = self.desk("FAC")?;
        let mut draft = Draft::new(PlanKind::Batch, "crash test: a mixed batch");
        for i in 0..NEW_CUSTOMERS.max(SCIM_CREATES).max(GROUP_ADDS) {
            if i < NEW_CUSTOMERS {
                let email = format!("customer{i:03}@crash.example");
                let create = draft.push(
                    Action::CreateCustomer {
                        email: email.clone(),
                        display_name: format!("Customer {i}"),
                    },
                    format!("customer {email}"),
                    "crash test",
                    Precondition::None,
                );
                for (id, key) in [(&hr, "HR"), (&fac, "FAC")] {
                    draft.push(
                        Action::AddToDesk {
                            desk_id: id.clone(),
                            desk_key: key.into(),
                            account: AccountRef::FromItem(create.clone()),
                        },
                        format!("{email} on desk {key}"),
                        "crash test",
                        Precondition::None,
                    );
                    depend(&mut draft, &create);
                }
            }
            if let Some(account) = self.existing_customers.get(i) {
                draft.push(
                    Action::AddToDesk {
                        desk_id: hr.clone(),
                        desk_key: "HR".into(),
                        account: AccountRef::Id(account.clone()),
                    },
                    format!("{account} on desk HR"),
                    "crash test",
                    active(account),
                );
            }
            if let Some(account) = self.group_members.get(i) {
                draft.push(
                    Action::AddToGroup {
                        group: GROUP.into(),
                        account: AccountRef::Id(account.clone()),
                    },
                    format!("{account} in group {GROUP}"),
                    "crash test",
                    active(account),
                );
            }
            if i < SCIM_CREATES {
                let email = format!("agent{i:03}@crash.example");
                let create = draft.push(
                    Action::ScimCreateUser {
                        email: email.clone(),
                        display_name: format!("Agent {i}"),
                    },
                    format!("SCIM user {email}"),
                    "crash test",
                    Precondition::None,
                );
                draft.push(
                    Action::ScimAddToGroup {
                        group_id: self.scim_group_id.clone(),
                        group: SCIM_GROUP.into(),
                        user: AccountRef::FromItem(create.clone()),
                    },
                    format!("{email} in SCIM group {SCIM_GROUP}"),
                    "crash test",
                    Precondition::None,
                );
                depend(&mut draft, &create);
            }
            if let Some((scim_id, account)) = self.scim_deactivate.get(i) {
                draft.push(
                    Action::Deactivate {
                        account_id: account.clone(),
                        via: Deactivation::Scim,
                        scim_id: Some(scim_id.clone()),
                    },
                    format!("account {account}"),
                    "crash test",
                    Precondition::ScimLinked {
                        scim_id: scim_id.clone(),
                        account_id: account.clone(),
                    },
                );
            }
            if let Some(account) = self.suspend.get(i) {
                draft.push(
                    Action::Deactivate {
                        account_id: account.clone(),
                        via: Deactivation::AdminSuspend,
                        scim_id: None,
                    },
                    format!("account {account}"),
                    "crash test",
                    Precondition::AccountExists {
                        account_id: account.clone(),
                    },
                );
            }
        }
        let site = state(running).await?;
        draft.scope(u32::try_from(site.accounts.len())?);
        let engine = Engine::new(
            client,
            Store::open(":memory:").await?,
            policy,
            Capabilities {
                scim: true,
                admin: true,
            },
            "crash-test",
            running.base_url(),
        );
        Ok(engine.finish_draft(draft)?)
    }

    /// The site after the runs against the site before them and the plan.
    fn check_site(&self, plan: &Plan, before: &SiteFile, after: &SiteFile) -> anyhow::Result<()> {
        // Accounts: each planned email exactly once, and nothing else made.
        let by_email = count_by(after.accounts.iter().map(|a| a.email.to_lowercase()));
        let mut created = 0;
        for item in &plan.items {
            if let Action::CreateCustomer { email, .. } | Action::ScimCreateUser { email, .. } =
                &item.action
            {
                let n = by_email.get(&email.to_lowercase()).copied().unwrap_or(0);
                ensure!(n == 1, "{email} has {n} accounts, not exactly one");
                created += 1;
            }
        }
        ensure!(
            after.accounts.len() == before.accounts.len() + created,
            "{} accounts before, {created} planned, {} after",
            before.accounts.len(),
            after.accounts.len()
        );
        let account_of = |email: &str| {
            after
                .accounts
                .iter()
                .find(|a| a.email.eq_ignore_ascii_case(email))
                .map(|a| a.account_id.clone())
        };
        let created_id = |key: &str| -> anyhow::Result<String> {
            let item = plan.item(key).context("the item a reference names")?;
            match &item.action {
                Action::CreateCustomer { email, .. } | Action::ScimCreateUser { email, .. } => {
                    account_of(email).with_context(|| format!("the account of {email}"))
                }
                other => bail!("{key} creates nothing: {other:?}"),
            }
        };

        // SCIM users: each planned userName exactly once, and nothing else made.
        let by_user_name = count_by(
            after
                .directory
                .users
                .iter()
                .map(|u| u.user_name.to_lowercase()),
        );
        for item in &plan.items {
            if let Action::ScimCreateUser { email, .. } = &item.action {
                let n = by_user_name
                    .get(&email.to_lowercase())
                    .copied()
                    .unwrap_or(0);
                ensure!(n == 1, "SCIM userName {email} appears {n} times");
            }
        }
        ensure!(
            after.directory.users.len() == before.directory.users.len() + SCIM_CREATES,
            "{} SCIM users before, {SCIM_CREATES} planned, {} after",
            before.directory.users.len(),
            after.directory.users.len()
        );

        // Desk and group memberships: exactly what was there plus what was planned, none listed twice.
        let mut desk_adds: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut group_adds: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for item in &plan.items {
            match &item.action {
                Action::AddToDesk {
                    desk_id, account, ..
                } => {
                    let id = match account {
                        AccountRef::Id(id) => id.clone(),
                        AccountRef::FromItem(key) => created_id(key)?,
                    };
                    desk_adds.entry(desk_id.clone()).or_default().insert(id);
                }
                Action::AddToGroup { group, account } => {
                    let AccountRef::Id(id) = account else {
                        bail!("group adds here name existing accounts")
                    };
                    group_adds
                        .entry(group.clone())
                        .or_default()
                        .insert(id.clone());
                }
                Action::ScimAddToGroup { group, user, .. } => {
                    let AccountRef::FromItem(key) = user else {
                        bail!("SCIM group adds here wait for a SCIM create")
                    };
                    group_adds
                        .entry(group.clone())
                        .or_default()
                        .insert(created_id(key)?);
                }
                _ => {}
            }
        }
        for desk in &after.service_desks {
            let was = before
                .service_desks
                .iter()
                .find(|d| d.id == desk.id)
                .context("the desk existed before")?;
            let mut want: BTreeSet<String> = was.customers.iter().cloned().collect();
            want.extend(desk_adds.remove(&desk.id.to_string()).unwrap_or_default());
            let have: BTreeSet<String> = desk.customers.iter().cloned().collect();
            ensure!(
                have.len() == desk.customers.len(),
                "desk {} lists a customer twice",
                desk.project_key
            );
            ensure!(
                have == want,
                "desk {}: {} missing, {} unexpected",
                desk.project_key,
                want.difference(&have).count(),
                have.difference(&want).count()
            );
        }
        ensure!(desk_adds.is_empty(), "planned desks missing: {desk_adds:?}");
        for group in &after.groups {
            let have: BTreeSet<String> = group.members.iter().cloned().collect();
            ensure!(
                have.len() == group.members.len(),
                "group {} lists a member twice",
                group.name
            );
            let mut want: BTreeSet<String> = before
                .groups
                .iter()
                .find(|g| g.group_id == group.group_id)
                .map(|g| g.members.iter().cloned().collect())
                .unwrap_or_default();
            want.extend(group_adds.remove(&group.name).unwrap_or_default());
            ensure!(
                have == want,
                "group {}: {:?} missing, {:?} unexpected",
                group.name,
                want.difference(&have).collect::<Vec<_>>(),
                have.difference(&want).collect::<Vec<_>>()
            );
        }
        ensure!(
            group_adds.is_empty(),
            "planned groups missing: {group_adds:?}"
        );

        // Deactivations: the planned accounts are inactive (and their SCIM records), no other account changed.
        let active: HashMap<&str, bool> = after
            .accounts
            .iter()
            .map(|a| (a.account_id.as_str(), a.active))
            .collect();
        let mut deactivated = BTreeSet::new();
        for item in &plan.items {
            if let Action::Deactivate {
                account_id,
                scim_id,
                ..
            } = &item.action
            {
                ensure!(
                    active.get(account_id.as_str()) == Some(&false),
                    "{account_id} is still active"
                );
                if let Some(id) = scim_id {
                    let user = after
                        .directory
                        .users
                        .iter()
                        .find(|u| &u.id == id)
                        .with_context(|| format!("SCIM user {id}"))?;
                    ensure!(user.active == Some(false), "SCIM user {id} is still active");
                }
                deactivated.insert(account_id.clone());
            }
        }
        ensure!(deactivated.len() == SCIM_DEACTIVATIONS + SUSPENSIONS);
        for account in &before.accounts {
            if !deactivated.contains(&account.account_id) {
                ensure!(
                    active.get(account.account_id.as_str()) == Some(&account.active),
                    "{} changed its active flag without a plan item",
                    account.account_id
                );
            }
        }
        Ok(())
    }
}

/// The request log of the runs: each create that made an account answered 201, and there are exactly as many of
/// those as planned creates (a second POST for an email that made a second account would add one).
fn check_log(running: &RunningEmulator, log: &[LogEntry]) -> anyhow::Result<()> {
    let scim_users = format!("/scim/directory/{}/Users", running.directory_id());
    let made = |path: &str| {
        log.iter()
            .filter(|e| e.method == "POST" && e.path == path && e.status == 201)
            .count()
    };
    let customers = made("/rest/servicedeskapi/customer");
    ensure!(
        customers == NEW_CUSTOMERS,
        "{customers} POST /customer answered 201 for {NEW_CUSTOMERS} planned customers"
    );
    let scim = made(&scim_users);
    ensure!(
        scim == SCIM_CREATES,
        "{scim} POST /Users answered 201 for {SCIM_CREATES} planned SCIM users"
    );
    let posts = log
        .iter()
        .filter(|e| e.method == "POST" && e.path == "/rest/servicedeskapi/customer")
        .count();
    say!(
        "crash test: {posts} POST /customer sent ({customers} created an account, the rest were answered 409 or \
         429)"
    );
    Ok(())
}

/// Every item of the final run's JSON report is done.
fn check_report(plan: &Plan, report: &serde_json::Value) -> anyhow::Result<()> {
    let items = report["items"]
        .as_array()
        .context("the report lists items")?;
    ensure!(items.len() == plan.items.len());
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    for item in items {
        let outcome = item["outcome"].as_str().unwrap_or("none").to_string();
        ensure!(
            matches!(outcome.as_str(), "applied" | "already_applied"),
            "item {} ended {outcome}: {}",
            item["key"],
            item["detail"]
        );
        *outcomes.entry(outcome).or_default() += 1;
    }
    say!("crash test: final report {outcomes:?}");
    Ok(())
}

/// How a run of `jsmctl apply` ended.
enum Ended {
    /// Killed by SIGKILL while it was still running.
    Killed,
    /// It exited on its own first, with this code.
    Exited(Option<i32>),
}

impl Ended {
    fn describe(&self) -> String {
        match self {
            Ended::Killed => "killed".into(),
            Ended::Exited(code) => format!("exited {code:?} before the kill"),
        }
    }
}

/// Spawns `jsmctl` against the emulator and the store.
struct Runner {
    env: Vec<(&'static str, String)>,
    target: String,
    policy: PathBuf,
    plan: PathBuf,
    dir: PathBuf,
}

impl Runner {
    fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_jsmctl"));
        for name in ["JSMCTL_PROFILE", "JSMCTL_CONFIG"] {
            cmd.env_remove(name);
        }
        cmd.envs(self.env.iter().map(|(k, v)| (*k, v.as_str())))
            .env("JSMCTL_STATE", &self.target)
            .env("JSMCTL_POLICY", &self.policy)
            .env("JSMCTL_ACTOR", "crash-test")
            .env("XDG_CONFIG_HOME", &self.dir)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null());
        cmd
    }

    fn stderr_path(&self, run: usize) -> PathBuf {
        self.dir.join(format!("run-{run:02}.stderr"))
    }

    fn stderr(&self, run: usize) -> String {
        std::fs::read_to_string(self.stderr_path(run)).unwrap_or_default()
    }

    /// One `jsmctl apply PLAN --yes`, SIGKILLed after `delay` unless it exits first.
    async fn run_killed(&self, run: usize, delay: Duration) -> anyhow::Result<Ended> {
        let mut child = self
            .command()
            .args(["apply", &self.plan.display().to_string(), "--yes"])
            .stdout(Stdio::null())
            .stderr(File::create(self.stderr_path(run))?)
            .spawn()
            .context("spawn jsmctl apply")?;
        tokio::time::sleep(delay).await;
        if let Some(status) = child.try_wait()? {
            return Ok(Ended::Exited(status.code()));
        }
        // `Child::kill` is SIGKILL on Unix: no destructor, no flush, no signal handler runs.
        child.kill()?;
        child.wait()?;
        Ok(Ended::Killed)
    }

    /// One `jsmctl apply PLAN --yes --output json` left to finish; its report.
    async fn run_to_completion(&self, run: usize) -> anyhow::Result<serde_json::Value> {
        let out_path = self.dir.join(format!("run-{run:02}.stdout"));
        let mut child = self
            .command()
            .args([
                "apply",
                &self.plan.display().to_string(),
                "--yes",
                "--output",
                "json",
            ])
            .stdout(File::create(&out_path)?)
            .stderr(File::create(self.stderr_path(run))?)
            .spawn()
            .context("spawn jsmctl apply")?;
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break status;
            }
            if started.elapsed() > FINAL_APPLY_LIMIT {
                child.kill()?;
                child.wait()?;
                bail!(
                    "the final apply did not finish in {FINAL_APPLY_LIMIT:?}: {}",
                    self.stderr(run)
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        ensure!(
            status.success(),
            "the final apply exited {:?}: {}",
            status.code(),
            self.stderr(run)
        );
        let text = std::fs::read_to_string(&out_path)?;
        serde_json::from_str(&text).with_context(|| format!("the final report: {text}"))
    }

    /// `jsmctl audit verify` exits 0.
    fn audit_verify(&self) -> anyhow::Result<()> {
        let out = self.command().args(["audit", "verify"]).output()?;
        ensure!(
            out.status.success(),
            "audit verify exited {:?}: {}{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(())
    }
}

/// Journal entries of the plan by state.
#[derive(Debug, Default)]
struct Counts {
    done: usize,
    sent: usize,
    pending: usize,
    failed: usize,
    quarantined: usize,
    /// The most attempts any entry records.
    max_attempts: u32,
    worst: String,
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:3} done, {:2} sent, {} pending, {} failed, {} quarantined, max attempts {}",
            self.done, self.sent, self.pending, self.failed, self.quarantined, self.max_attempts
        )?;
        write!(f, " ({})", self.worst)
    }
}

async fn journal_counts(target: &str, plan_id: &str) -> anyhow::Result<Counts> {
    let store = Store::open(target).await?;
    let entries = store.journal(plan_id).await;
    store.close().await;
    let mut counts = Counts::default();
    for entry in entries? {
        if entry.attempts > counts.max_attempts {
            counts.max_attempts = entry.attempts;
            counts.worst = entry.item_key.clone();
        }
        match entry.state {
            JournalState::Done => counts.done += 1,
            JournalState::Sent => counts.sent += 1,
            JournalState::Pending => counts.pending += 1,
            JournalState::Failed => counts.failed += 1,
            JournalState::Quarantined => counts.quarantined += 1,
        }
    }
    Ok(counts)
}

/// One answered request, as the control plane's request log gives it.
#[derive(Debug, serde::Deserialize)]
struct LogEntry {
    seq: u64,
    method: String,
    path: String,
    status: u16,
}

/// The whole site, from the control plane.
async fn state(running: &RunningEmulator) -> anyhow::Result<SiteFile> {
    let resp = reqwest::Client::new()
        .get(running.url("/_emulator/state"))
        .bearer_auth(running.admin_token().expose())
        .send()
        .await?
        .error_for_status()?;
    Ok(resp.json().await?)
}

/// The request log after `since`, from the control plane, page by page.
async fn requests(running: &RunningEmulator, mut since: u64) -> anyhow::Result<Vec<LogEntry>> {
    let http = reqwest::Client::new();
    let mut all = Vec::new();
    for _ in 0..10_000 {
        let page: Vec<LogEntry> = http
            .get(running.url("/_emulator/requests"))
            .query(&[("since", since), ("limit", 1000)])
            .bearer_auth(running.admin_token().expose())
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let Some(last) = page.last() else {
            return Ok(all);
        };
        since = last.seq;
        all.extend(page);
    }
    bail!("the request log did not end")
}

fn scim_user(email: &str, name: &str) -> ScimUser {
    ScimUser {
        schemas: vec![USER_SCHEMA.to_string()],
        user_name: email.to_string(),
        display_name: Some(name.to_string()),
        emails: vec![ScimEmail {
            value: email.to_string(),
            kind: Some("work".into()),
            primary: Some(true),
        }],
        active: Some(true),
        ..ScimUser::default()
    }
}

fn active(account: &str) -> Precondition {
    Precondition::AccountActive {
        account_id: account.to_string(),
    }
}

/// Makes the last item wait for `key`.
fn depend(draft: &mut Draft, key: &str) {
    if let Some(item) = draft.last() {
        item.depends_on.push(key.to_string());
    }
}

fn count_by(keys: impl Iterator<Item = String>) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for k in keys {
        *counts.entry(k).or_default() += 1;
    }
    counts
}

/// xorshift64*: reproducible kill points without a dependency.
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform enough in `[lo, hi]`.
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}
