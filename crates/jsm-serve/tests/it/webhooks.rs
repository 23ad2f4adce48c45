//! The webhook receiver: a bad signature is refused with nothing written; a replay is deduplicated; a real signed
//! delivery from the emulator queues a reconcile of that one person, and the worker reads and changes that person
//! only (the emulator's request log and state say so).

use jsm_emulator::limits::LimitConfig;
use jsm_emulator::{Emulator, Seed};
use jsm_serve::webhook::sign;
use jsm_store::JobState;
use jsm_testkit::TestEmulator;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{
    Db, SECRET, Svc, config, config_with_file, full_reconcile, run_job, wait_for,
};

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

/// Two customers of the demo site's IT desk only, with their emails shown: `(account id, email, name)`.
fn two_it_desk_customers(emu: &TestEmulator) -> [(String, String, String); 2] {
    let site = emu.emu.site();
    let desk = |key: &str| site.desks.iter().find(|d| d.project_key == key).unwrap();
    let (it, hr, fac) = (desk("ITSD"), desk("HR"), desk("FAC"));
    let mut found = it
        .customers
        .iter()
        .filter(|k| !hr.customers.contains(k) && !fac.customers.contains(k))
        .map(|k| site.account(*k))
        .filter(|a| !a.email_hidden)
        .map(|a| {
            (
                a.account_id.clone(),
                a.email.clone(),
                a.display_name.clone(),
            )
        });
    [found.next().unwrap(), found.next().unwrap()]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_emulator_user_updated_event_reconciles_that_person_only() {
    let emu = TestEmulator::start_with(
        Emulator::builder()
            .seed(Seed::Demo)
            .limits(LimitConfig::off()),
    )
    .await;
    let db = Db::sqlite().await;
    let [ann, bob] = two_it_desk_customers(&emu);
    let dir = tempfile::tempdir().unwrap();
    let people = dir.path().join("people.csv");
    let write = |desks: &str| {
        let rows: String = [&ann, &bob]
            .iter()
            .map(|(_, email, name)| format!("{email},{name},customer,{desks}\n"))
            .collect();
        std::fs::write(
            &people,
            format!("email,display_name,kind,service_desks\n{rows}"),
        )
        .unwrap();
    };
    write("ITSD");
    let cfg = config_with_file(&emu, "w1", &people);
    let svc = Svc::start(&db.store, &emu, Default::default(), cfg).await;
    let linked = run_job(&svc, &db, full_reconcile(&emu)).await;
    assert_eq!(linked.result.unwrap()["status"], "applied", "both linked");
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
    // HR now gives both the HR desk too; only Ann's account changes, so only she is reconciled.
    write("ITSD;HR");
    let mark = emu
        .emu
        .log()
        .since(0, usize::MAX)
        .last()
        .map_or(0, |e| e.seq);
    emu.control(
        Method::PUT,
        "/privacy",
        Some(json!({"accountId": ann.0, "emailHidden": true})),
    )
    .await;
    wait_for("the webhook's reconcile to finish", 30, || async {
        db.store
            .jobs(Some(JobState::Done), None, 10)
            .await
            .unwrap()
            .iter()
            .any(|j| j.spec["person"] == ann.0.as_str())
    })
    .await;
    let jobs: Vec<_> = db
        .store
        .jobs(None, None, 10)
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.created_by == "webhook")
        .collect();
    assert_eq!(jobs.len(), 1, "one delivery, one job: {jobs:?}");
    let result = jobs[0].result.clone().unwrap();
    assert_eq!(
        (result["status"].as_str(), result["applied"].as_u64()),
        (Some("applied"), Some(1)),
        "{result}"
    );
    {
        let site = emu.emu.site();
        let hr = site.desks.iter().find(|d| d.project_key == "HR").unwrap();
        let on_hr = |id: &str| hr.customers.contains(&site.find_account(id).unwrap());
        assert!(on_hr(&ann.0), "Ann got the HR desk");
        assert!(
            !on_hr(&bob.0),
            "Bob's change waits for his own event or a full run"
        );
    }
    let log = emu.emu.log().since(mark, usize::MAX);
    let (reads, writes): (Vec<_>, Vec<_>) = log.iter().partition(|e| e.method == "GET");
    assert!(!reads.is_empty(), "the worker read the site");
    for r in &reads {
        assert!(
            r.reads_no_person() || r.names(&ann.0) || r.names(&ann.1),
            "read someone other than Ann: {} {}?{}",
            r.method,
            r.path,
            r.query
        );
        assert!(!r.names(&bob.0) && !r.names(&bob.1), "read Bob: {r:?}");
    }
    let writes: Vec<(&str, &str)> = writes
        .iter()
        .map(|e| (e.method.as_str(), e.path.as_str()))
        .collect();
    assert_eq!(
        writes,
        [("POST", "/rest/servicedeskapi/servicedesk/2/customer")],
        "Ann added to HR, nothing else"
    );
    svc.stop().await;
    db.cleanup().await;
}
