//! Reconcile jobs from a configured identity source (the engine's `plan_reconcile`, issue 8): a full run plans,
//! applies and converges; an unknown source fails the job by name. (A one-person job, as a webhook queues it,
//! is in `webhooks.rs`.)

use jsm_serve::Job;
use jsm_store::JobState;
use jsm_testkit::TestEmulator;

use crate::support::{Db, Svc, config_with_file, full_reconcile, run_job as run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_reconcile_from_a_file_source_applies_and_then_finds_the_site_in_sync() {
    let emu = TestEmulator::start().await;
    let db = Db::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let people = dir.path().join("people.csv");
    std::fs::write(
        &people,
        "email,display_name,kind\nnew.one@example.com,New One,customer\nnew.two@example.com,New Two,customer\n",
    )
    .unwrap();
    let cfg = config_with_file(&emu, "w1", &people);
    let svc = Svc::start(&db.store, &emu, Default::default(), cfg).await;
    let full = full_reconcile(&emu);
    let first = run(&svc, &db, full.clone()).await;
    assert_eq!(first.state, JobState::Done, "{first:?}");
    let result = first.result.unwrap();
    assert_eq!(result["status"], "applied", "{result}");
    for email in ["new.one@example.com", "new.two@example.com"] {
        assert!(
            emu.emu.site().find_by_email(email).is_some(),
            "{email} on the site"
        );
    }
    let second = run(&svc, &db, full).await;
    let again = second.result.unwrap();
    assert_eq!(again["status"], "in_sync", "{again}");

    let unknown = run(
        &svc,
        &db,
        Job::Reconcile {
            site: emu.base_url.clone(),
            source: "nope".into(),
            person: None,
        },
    )
    .await;
    assert_eq!(unknown.state, JobState::Failed);
    assert!(unknown.error.unwrap().contains("nope"));
    svc.stop().await;
    db.cleanup().await;
}
