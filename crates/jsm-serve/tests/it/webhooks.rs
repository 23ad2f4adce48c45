//! The webhook receiver: a bad signature is refused with nothing written; a replay is deduplicated; a real signed
//! delivery from the emulator queues a reconcile of that one person, and the worker reads that person only.

use std::time::Duration;

use jsm_emulator::limits::LimitConfig;
use jsm_emulator::{Emulator, Seed};
use jsm_serve::webhook::sign;
use jsm_store::JobState;
use jsm_testkit::TestEmulator;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Db, SECRET, Svc, config, wait_for};

fn body(event: &str, account: &str) -> String {
    json!({"timestamp": 1, "webhookEvent": event, "user": {"accountId": account, "displayName": "x"}}).to_string()
}

async fn post(
    svc: &Svc,
    body: &str,
    signature: Option<&str>,
    id: Option<&str>,
) -> reqwest::Response {
    let mut req = svc
        .http
        .post(format!("{}/webhooks/atlassian", svc.base))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(s) = signature {
        req = req.header("x-hub-signature", s);
    }
    if let Some(i) = id {
        req = req.header("x-atlassian-webhook-identifier", i);
    }
    req.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_signature_gets_401_and_changes_nothing() {
    let emu = TestEmulator::start().await;
    let db = Db::sqlite().await;
    let mut cfg = config(&emu, "w1");
    cfg.run_worker = false;
    let svc = Svc::start(&db.store, &emu, Default::default(), cfg).await;
    let b = body("user_updated", "acc-1");
    let good = sign(SECRET.as_bytes(), b.as_bytes());
    let wrong_key = sign(b"another secret", b.as_bytes());
    let other_body = sign(SECRET.as_bytes(), b"{}");
    for (sig, why) in [
        (None, "no signature"),
        (Some(wrong_key.as_str()), "another key"),
        (Some(other_body.as_str()), "another body"),
        (Some("sha256=nothex"), "not hex"),
        (Some(&good.replace("sha256=", "sha1=")), "another algorithm"),
    ] {
        let resp = post(&svc, &b, sig, Some("id-1")).await;
        assert_eq!(resp.status(), 401, "{why}");
        let err: Value = resp.json().await.unwrap();
        assert_eq!(err["error"]["code"], "unauthorized", "{why}: {err}");
    }
    assert_eq!(
        db.store.webhook_count().await.unwrap(),
        0,
        "nothing recorded"
    );
    assert!(
        db.store.jobs(None, None, 10).await.unwrap().is_empty(),
        "nothing queued"
    );
    // Signed but unreadable: 400, still nothing queued.
    let junk = "not json";
    let resp = post(
        &svc,
        junk,
        Some(&sign(SECRET.as_bytes(), junk.as_bytes())),
        Some("id-2"),
    )
    .await;
    assert_eq!(resp.status(), 400);
    let resp = post(&svc, &b, Some(&good), None).await;
    assert_eq!(resp.status(), 400, "no identifier");
    assert!(db.store.jobs(None, None, 10).await.unwrap().is_empty());
    let metrics = svc
        .http
        .get(format!("{}/metrics", svc.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("jsmctl_webhooks_total{outcome=\"bad_signature\"} 5"),
        "{metrics}"
    );
    svc.stop().await;
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_without_a_secret_refuses_every_webhook() {
    let emu = TestEmulator::start().await;
    let db = Db::sqlite().await;
    let mut cfg = config(&emu, "w1");
    cfg.webhook_secret = None;
    cfg.run_worker = false;
    let svc = Svc::start(&db.store, &emu, Default::default(), cfg).await;
    let b = body("user_updated", "acc-1");
    let resp = post(
        &svc,
        &b,
        Some(&sign(SECRET.as_bytes(), b.as_bytes())),
        Some("i"),
    )
    .await;
    assert_eq!(resp.status(), 401);
    assert_eq!(db.store.webhook_count().await.unwrap(), 0);
    svc.stop().await;
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_is_deduplicated_by_its_identifier() {
    let emu = TestEmulator::start().await;
    let db = Db::sqlite().await;
    let mut cfg = config(&emu, "w1");
    cfg.run_worker = false;
    let svc = Svc::start(&db.store, &emu, Default::default(), cfg).await;
    let b = body("user_updated", "acc-1");
    let sig = sign(SECRET.as_bytes(), b.as_bytes());
    let first: Value = post(&svc, &b, Some(&sig), Some("delivery-1"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["status"], "accepted");
    let replay = post(&svc, &b, Some(&sig), Some("delivery-1")).await;
    assert_eq!(replay.status(), 202);
    let replay: Value = replay.json().await.unwrap();
    assert_eq!(replay["status"], "duplicate");
    assert_eq!(replay["job_id"], first["job_id"]);
    let jobs = db.store.jobs(None, None, 10).await.unwrap();
    assert_eq!(jobs.len(), 1, "one job for two deliveries");
    assert_eq!(
        jobs[0].spec,
        json!({"kind": "reconcile", "site": emu.base_url, "source": "hr", "person": "acc-1"})
    );
    assert_eq!(jobs[0].created_by, "webhook");
    // Another identifier is another delivery; an event about no user queues nothing.
    let other: Value = post(&svc, &b, Some(&sig), Some("delivery-2"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(other["status"], "accepted");
    let issue = json!({"webhookEvent": "jira:issue_updated"}).to_string();
    let ack: Value = post(
        &svc,
        &issue,
        Some(&sign(SECRET.as_bytes(), issue.as_bytes())),
        Some("d-3"),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(ack, json!({"status": "accepted", "job_id": null}));
    assert_eq!(db.store.jobs(None, None, 10).await.unwrap().len(), 2);
    svc.stop().await;
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_emulator_user_updated_event_reads_that_person_only() {
    let emu = TestEmulator::start_with(
        Emulator::builder()
            .seed(Seed::Demo)
            .limits(LimitConfig::off()),
    )
    .await;
    let db = Db::sqlite().await;
    let svc = Svc::start(&db.store, &emu, Default::default(), config(&emu, "w1")).await;
    // The emulator signs deliveries with the hook's secret, as Atlassian does.
    let hook = emu
        .admin(Method::POST, "/rest/webhooks/1.0/webhook")
        .json(&json!({
            "name": "jsmctl", "url": format!("{}/webhooks/atlassian", svc.base),
            "events": ["user_updated"], "secret": SECRET,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(hook.status(), 201);
    let (person, others): (String, Vec<String>) = {
        let site = emu.emu.site();
        let ids: Vec<String> = site
            .accounts
            .iter()
            .filter(|a| a.active)
            .map(|a| a.account_id.clone())
            .collect();
        (ids[3].clone(), ids)
    };
    let mark = emu
        .emu
        .log()
        .since(0, usize::MAX)
        .last()
        .map_or(0, |e| e.seq);
    emu.control(
        Method::PUT,
        "/privacy",
        Some(json!({"accountId": person, "emailHidden": true})),
    )
    .await;
    wait_for("the reconcile job to finish", 20, || async {
        db.store
            .jobs(Some(JobState::Done), None, 10)
            .await
            .unwrap()
            .iter()
            .any(|j| j.spec["person"] == person.as_str())
    })
    .await;
    let jobs = db.store.jobs(None, None, 10).await.unwrap();
    assert_eq!(jobs.len(), 1, "one delivery, one job: {jobs:?}");
    assert_eq!(jobs[0].result.as_ref().unwrap()["status"], "observed");
    let reads: Vec<_> = emu
        .emu
        .log()
        .since(mark, usize::MAX)
        .into_iter()
        .filter(|e| !e.path.starts_with("/rest/webhooks"))
        .collect();
    assert!(!reads.is_empty(), "the worker read the person");
    let encoded: String = form_urlencoded_like(&person);
    for r in &reads {
        assert_eq!(
            (r.method.as_str(), r.path.as_str()),
            ("GET", "/rest/api/3/user"),
            "{r:?}"
        );
        assert!(
            r.query.contains(&encoded) || r.query.contains(&person),
            "{r:?}"
        );
        for other in others.iter().filter(|o| **o != person) {
            assert!(
                !r.query.contains(other.as_str()),
                "read another person: {r:?}"
            );
        }
    }
    let audit = db.store.audit_list(0, 100).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.draft.target == person && a.draft.action == "reconcile_person")
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    svc.stop().await;
    db.cleanup().await;
}

fn form_urlencoded_like(s: &str) -> String {
    s.replace(':', "%3A")
}
