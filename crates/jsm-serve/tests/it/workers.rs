//! Workers on one store: a dead worker's apply is taken over after its lease and resumes from the journal with no
//! change made twice; a graceful shutdown hands the job in hand back at once; one job per site at a time; the
//! scheduler queues each firing once.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use jsm_emulator::limits::LimitConfig;
use jsm_emulator::{Emulator, Seed};
use jsm_lifecycle::plan::{Action, Draft, PlanKind, Precondition, Rates, Stamp};
use jsm_lifecycle::{Engine, Plan, Policy};
use jsm_serve::{Cron, Job, ReconcileRequest, Reconciler, Schedule};
use jsm_store::{JobState, PlanStatus};
use jsm_testkit::TestEmulator;
use serde_json::{Value, json};

use crate::support::{Db, Isolated, Svc, config, wait_for};

/// A plan creating `n` portal customers, as a reconcile of `n` new people would.
pub fn customers_plan(engine: &Engine, n: usize, tag: &str) -> Plan {
    let mut draft = Draft::new(PlanKind::Batch, format!("{n} new customers ({tag})"));
    draft.scope(n as u32);
    for i in 0..n {
        draft.push(
            Action::CreateCustomer {
                email: format!("{tag}-{i:05}@example.com"),
                display_name: format!("Customer {i} of {tag}"),
            },
            format!("{tag}-{i:05}@example.com"),
            "new in the identity source",
            Precondition::None,
        );
    }
    let mut plan = draft.finish(
        Stamp {
            id: uuid::Uuid::new_v4().simple().to_string(),
            requester: "alice".into(),
            now: engine.client.clock().now(),
            site: engine.site.clone(),
        },
        &Rates::default(),
    );
    engine.policy.evaluate(&mut plan);
    plan.seal().unwrap()
}

fn created(emu: &TestEmulator, tag: &str) -> (usize, usize) {
    let site = emu.emu.site();
    let accounts = site
        .accounts
        .iter()
        .filter(|a| a.email.starts_with(&format!("{tag}-")))
        .count();
    let posts = emu
        .emu
        .log()
        .since(0, usize::MAX)
        .iter()
        .filter(|e| {
            e.method == "POST" && e.path == "/rest/servicedeskapi/customer" && e.status == 201
        })
        .count();
    (accounts, posts)
}

async fn killed_worker_is_taken_over(db: Db) {
    let emu = TestEmulator::start_with(
        Emulator::builder()
            .seed(Seed::Demo)
            .limits(LimitConfig::default())
            .log_capacity(100_000),
    )
    .await;
    let mut policy = Policy::default();
    policy.apply.concurrency = 4;
    let cfg_a = config(&emu, "worker-a");
    let a = Isolated::start(db.target.clone(), &emu, policy.clone(), cfg_a);
    // Only to make and queue the plan: no worker of its own yet.
    let mut cfg = config(&emu, "queuer");
    cfg.run_worker = false;
    let queuer = Svc::start(&db.store, &emu, policy.clone(), cfg).await;
    let engine = queuer.state.engine_as("alice");
    let plan = customers_plan(&engine, 400, "fo");
    engine.submit(&plan).await.unwrap();
    let now = queuer.state.now();
    let job = jsm_serve::api::queue(
        &queuer.state,
        &Job::ApplyPlan {
            plan_id: plan.id.clone(),
        },
        "bob",
        now,
    )
    .await
    .unwrap();
    wait_for("worker a to be mid-apply", 30, || async {
        let done = db
            .store
            .journal(&plan.id)
            .await
            .unwrap()
            .iter()
            .filter(|e| e.state == jsm_store::JournalState::Done)
            .count();
        done >= 60
    })
    .await;
    a.kill();
    let (mid, _) = created(&emu, "fo");
    assert!(mid < 400, "killed mid-job ({mid} created)");
    let stuck = db.store.job(job.id).await.unwrap().unwrap();
    assert_eq!(
        (stuck.state, stuck.worker.as_deref()),
        (JobState::Running, Some("worker-a"))
    );

    let b = Svc::start(&db.store, &emu, policy, config(&emu, "worker-b")).await;
    wait_for("worker b to finish the job", 60, || async {
        db.store
            .job(job.id)
            .await
            .unwrap()
            .is_some_and(|j| j.state == JobState::Done)
    })
    .await;
    let done = db.store.job(job.id).await.unwrap().unwrap();
    assert_eq!(done.worker.as_deref(), Some("worker-b"));
    assert_eq!(done.attempts, 2, "one claim, one takeover");
    assert_eq!(
        db.store.plan(&plan.id).await.unwrap().unwrap().status,
        PlanStatus::Applied
    );
    let (accounts, posts) = created(&emu, "fo");
    assert_eq!(
        (accounts, posts),
        (400, 400),
        "every customer created once, none twice"
    );
    let report = db
        .store
        .audit_verify()
        .await
        .unwrap()
        .expect("the audit chain verifies");
    let writes = db
        .store
        .audit_list(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.draft.kind == "write" && r.draft.plan_id.as_deref() == Some(plan.id.as_str()))
        .count();
    assert!(
        writes >= 400,
        "every item's outcome audited ({writes} of {} records)",
        report.records
    );
    b.stop().await;
    queuer.stop().await;
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_workers_apply_is_taken_over_and_resumes_from_the_journal_sqlite() {
    killed_worker_is_taken_over(Db::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_workers_apply_is_taken_over_and_resumes_from_the_journal_postgres() {
    if let Some(db) = Db::postgres().await {
        killed_worker_is_taken_over(db).await;
    }
}

/// A reconcile that takes as long as it is told to.
#[derive(Debug)]
struct Slow(Duration);

impl Reconciler for Slow {
    fn reconcile<'a>(
        &'a self,
        _engine: &'a Engine,
        request: &'a ReconcileRequest,
    ) -> BoxFuture<'a, Result<Value, jsm_lifecycle::Error>> {
        Box::pin(async move {
            tokio::time::sleep(self.0).await;
            Ok(json!({ "slow": request.person }))
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_shutdown_hands_the_job_back_and_one_job_runs_per_site() {
    let emu = TestEmulator::start().await;
    let db = Db::sqlite().await;
    let slow: Arc<dyn Reconciler> = Arc::new(Slow(Duration::from_secs(60)));
    let a = Svc::start_with(
        &db.store,
        &emu,
        Policy::default(),
        config(&emu, "a"),
        Some(slow),
    )
    .await;
    let now = a.state.now();
    let job = |p: &str| Job::Reconcile {
        site: emu.base_url.clone(),
        source: "hr".into(),
        person: Some(p.into()),
    };
    let first = jsm_serve::api::queue(&a.state, &job("p1"), "bob", now)
        .await
        .unwrap();
    let second = jsm_serve::api::queue(&a.state, &job("p2"), "bob", now)
        .await
        .unwrap();
    wait_for("the first job to run", 10, || async {
        db.store
            .job(first.id)
            .await
            .unwrap()
            .is_some_and(|j| j.state == JobState::Running)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        db.store.job(second.id).await.unwrap().unwrap().state,
        JobState::Queued,
        "one job per site"
    );
    a.stop().await;
    let back = db.store.job(first.id).await.unwrap().unwrap();
    assert_eq!(back.state, JobState::Queued, "released, not left to expire");
    assert_eq!(
        back.error.as_deref(),
        Some("released by a worker shutting down")
    );
    let fast: Arc<dyn Reconciler> = Arc::new(Slow(Duration::from_millis(10)));
    let b = Svc::start_with(
        &db.store,
        &emu,
        Policy::default(),
        config(&emu, "b"),
        Some(fast),
    )
    .await;
    wait_for("both jobs on the next worker", 10, || async {
        let jobs = db.store.jobs(Some(JobState::Done), None, 10).await.unwrap();
        jobs.len() == 2
    })
    .await;
    let first = db.store.job(first.id).await.unwrap().unwrap();
    assert_eq!((first.attempts, first.worker.as_deref()), (2, Some("b")));
    b.stop().await;
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_schedulers_queue_each_firing_once() {
    let emu = TestEmulator::start().await;
    let db = Db::sqlite().await;
    let mut cfg = config(&emu, "a");
    cfg.run_worker = false;
    let schedules = vec![
        Schedule {
            name: "tokens".into(),
            cron: Cron::parse("*/5 * * * *").unwrap(),
            job: Job::CredentialCheck,
        },
        Schedule {
            name: "nightly".into(),
            cron: Cron::parse("0 2 * * *").unwrap(),
            job: Job::Reconcile {
                site: emu.base_url.clone(),
                source: "hr".into(),
                person: None,
            },
        },
    ];
    let a = Svc::start(&db.store, &emu, Policy::default(), cfg.clone()).await;
    let b = Svc::start(&db.store, &emu, Policy::default(), cfg).await;
    let at = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    let m = at("2026-03-02T02:00:00Z");
    assert_eq!(
        jsm_serve::scheduler::fire_due(&a.state, &schedules, m)
            .await
            .len(),
        2
    );
    assert!(
        jsm_serve::scheduler::fire_due(&b.state, &schedules, m)
            .await
            .is_empty(),
        "taken"
    );
    assert_eq!(
        jsm_serve::scheduler::fire_due(&b.state, &schedules, at("2026-03-02T02:05:00Z"))
            .await
            .len(),
        1
    );
    assert!(
        jsm_serve::scheduler::fire_due(&b.state, &schedules, at("2026-03-02T02:06:00Z"))
            .await
            .is_empty()
    );
    let jobs = db.store.jobs(None, None, 10).await.unwrap();
    assert_eq!(jobs.len(), 3);
    assert!(jobs.iter().all(|j| j.created_by.starts_with("scheduler:")));
    a.stop().await;
    b.stop().await;
    db.cleanup().await;
}
