//! The HTTP API: authentication and the stable error shape, the OpenAPI document, and the approval flow end to end
//! (approve queues the apply, the worker applies, the emulator has the change), rejection, the requester refused
//! under distinct_approver, and every write recorded with the operator.

use jsm_lifecycle::AgentRequest;
use jsm_store::{JobState, PlanStatus};
use jsm_testkit::TestEmulator;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Db, Svc, config, distinct, operator, wait_for};

/// Plans an agent as `requester` (it needs an approval: a billable seat) and stores it.
pub async fn agent_plan(svc: &Svc, requester: &str, email: &str, name: &str) -> String {
    let engine = svc.state.engine_as(requester);
    let plan = engine
        .plan_provision_agent(&AgentRequest {
            email: email.into(),
            name: name.into(),
        })
        .await
        .unwrap();
    assert!(plan.needs_approval());
    engine.submit(&plan).await.unwrap();
    plan.id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthenticated_and_bad_requests_get_the_stable_json_error() {
    let emu = TestEmulator::start().await;
    let db = Db::sqlite().await;
    let mut cfg = config(&emu, "w1");
    cfg.run_worker = false;
    let svc = Svc::start(&db.store, &emu, Default::default(), cfg).await;
    let token = operator(&db.store, "bob").await;
    let resp = svc
        .http
        .get(format!("{}/api/v1/plans", svc.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.headers().contains_key("www-authenticate"));
    let e: Value = resp.json().await.unwrap();
    assert_eq!(e["error"]["code"], "unauthorized");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("operators add")
    );
    let resp = svc
        .api(Method::GET, "/api/v1/plans", "jsmo_wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    for (path, status) in [
        ("/api/v1/jobs?limit=0", 400),
        ("/api/v1/jobs?limit=x", 400),
        ("/api/v1/jobs?state=bogus", 400),
        ("/api/v1/jobs?surprise=1", 400),
        ("/api/v1/jobs/abc", 400),
        ("/api/v1/jobs/12345", 404),
        ("/api/v1/plans/nope%2F..%2Fetc", 404),
        ("/api/v1/plans/0123456789abcdef", 404),
        ("/api/v1/audit?after=-1", 400),
        ("/api/v1/nothing-here", 404),
    ] {
        let resp = svc.api(Method::GET, path, &token).send().await.unwrap();
        assert_eq!(resp.status(), status, "{path}");
        let e: Value = resp.json().await.unwrap();
        assert!(
            e["error"]["code"].is_string() && e["error"]["message"].is_string(),
            "{path}: {e}"
        );
    }
    let resp = svc
        .api(Method::POST, "/api/v1/plans", &token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let resp = svc
        .api(Method::POST, "/api/v1/plans", &token)
        .json(&json!({"version": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400, "not a plan");
    let who: Value = svc.api_json(Method::GET, "/api/v1/whoami", &token).await;
    assert_eq!(who["operator"], "bob");
    svc.stop().await;
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_is_3_1_and_names_every_route() {
    let emu = TestEmulator::start().await;
    let db = Db::sqlite().await;
    let mut cfg = config(&emu, "w1");
    cfg.run_worker = false;
    let svc = Svc::start(&db.store, &emu, Default::default(), cfg).await;
    let doc: Value = svc
        .http
        .get(format!("{}/openapi.json", svc.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    for path in [
        "/api/v1/plans",
        "/api/v1/plans/{id}",
        "/api/v1/plans/{id}/approve",
        "/api/v1/plans/{id}/reject",
        "/api/v1/plans/{id}/apply",
        "/api/v1/jobs",
        "/api/v1/jobs/{id}",
        "/api/v1/reconcile",
        "/api/v1/audit",
        "/api/v1/audit/verify",
        "/api/v1/seats",
        "/api/v1/credentials",
        "/webhooks/atlassian",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["operator_token"]["scheme"],
        "bearer"
    );
    svc.stop().await;
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approve_applies_reject_refuses_and_the_requester_cannot_approve() {
    let emu = TestEmulator::start().await;
    let db = Db::sqlite().await;
    let svc = Svc::start(&db.store, &emu, distinct(), config(&emu, "w1")).await;
    let alice = operator(&db.store, "alice").await;
    let bob = operator(&db.store, "bob").await;
    let id = agent_plan(&svc, "alice", "new.agent@example.com", "New Agent").await;

    let listed: Value = svc
        .api_json(Method::GET, "/api/v1/plans?status=awaiting_approval", &bob)
        .await;
    assert_eq!(listed[0]["id"], id.as_str());
    let detail: Value = svc
        .api_json(Method::GET, &format!("/api/v1/plans/{}", &id[..8]), &bob)
        .await;
    assert_eq!(detail["items"][0]["sign"], "+");
    assert!(
        detail["approval_reasons"][0]
            .as_str()
            .unwrap()
            .contains("agent_seat_grants")
    );

    let own = svc
        .api(Method::POST, &format!("/api/v1/plans/{id}/approve"), &alice)
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 403, "distinct_approver");
    let e: Value = own.json().await.unwrap();
    assert_eq!(e["error"]["code"], "forbidden");
    assert!(db.store.approvals(&id).await.unwrap().is_empty());

    let ok: Value = svc
        .api_json(Method::POST, &format!("/api/v1/plans/{id}/approve"), &bob)
        .await;
    assert_eq!(ok["approver"], "bob");
    let job = ok["apply_job"].as_i64().expect("apply queued");
    wait_for("the apply job", 20, || async {
        db.store
            .job(job)
            .await
            .unwrap()
            .is_some_and(|j| j.state == JobState::Done)
    })
    .await;
    assert_eq!(
        db.store.plan(&id).await.unwrap().unwrap().status,
        PlanStatus::Applied
    );
    assert!(
        emu.emu
            .site()
            .find_by_email("new.agent@example.com")
            .is_some(),
        "applied on the site"
    );
    let job = db.store.job(job).await.unwrap().unwrap();
    assert_eq!(job.created_by, "bob");
    let audit = db.store.audit_list(0, 100).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.draft.kind == "approval" && a.draft.actor == "bob")
    );
    assert!(
        audit
            .iter()
            .filter(|a| a.draft.kind == "write")
            .all(|a| a.draft.actor == "bob"),
        "writes by the approver"
    );

    let second = agent_plan(&svc, "alice", "other.agent@example.com", "Other Agent").await;
    let resp = svc
        .api(
            Method::POST,
            &format!("/api/v1/plans/{second}/reject"),
            &bob,
        )
        .json(&json!({"reason": "not this quarter"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let rejected: Value = resp.json().await.unwrap();
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["rejected_by"], "bob");
    let again = svc
        .api(
            Method::POST,
            &format!("/api/v1/plans/{second}/approve"),
            &bob,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 409);
    let apply = svc
        .api(Method::POST, &format!("/api/v1/plans/{second}/apply"), &bob)
        .send()
        .await
        .unwrap();
    assert_eq!(apply.status(), 409);
    assert!(
        emu.emu
            .site()
            .find_by_email("other.agent@example.com")
            .is_none()
    );
    let verify: Value = svc
        .api_json(Method::GET, "/api/v1/audit/verify", &bob)
        .await;
    assert_eq!(verify["ok"], true);
    let found: Value = svc
        .api_json(Method::GET, "/api/v1/audit?q=not%20this", &bob)
        .await;
    assert!(
        found.as_array().unwrap().is_empty(),
        "search looks at actor/action/target/outcome, not reasons"
    );
    let found: Value = svc
        .api_json(Method::GET, "/api/v1/audit?q=reject", &bob)
        .await;
    assert_eq!(found.as_array().unwrap().len(), 1);
    svc.stop().await;
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconcile_runs_seats_and_credentials() {
    let emu = TestEmulator::start().await;
    let db = Db::sqlite().await;
    let svc = Svc::start(&db.store, &emu, Default::default(), config(&emu, "w1")).await;
    let bob = operator(&db.store, "bob").await;
    let resp = svc
        .api(Method::POST, "/api/v1/reconcile", &bob)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let job: Value = resp.json().await.unwrap();
    let id = job["id"].as_i64().unwrap();
    wait_for("the full reconcile", 20, || async {
        db.store
            .job(id)
            .await
            .unwrap()
            .is_some_and(|j| j.state == JobState::Failed)
    })
    .await;
    let failed = db.store.job(id).await.unwrap().unwrap();
    let error = failed.error.unwrap();
    assert!(
        error.contains("no [[sources]]") && error.contains("\"hr\""),
        "a reconcile without a configured source fails naming what is missing: {error}"
    );
    let bad = svc
        .api(Method::POST, "/api/v1/reconcile", &bob)
        .json(&json!({"person": "a b"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let seats: Value = svc.api_json(Method::GET, "/api/v1/seats", &bob).await;
    assert_eq!(seats["available"], true, "{seats}");
    let jsm = seats["products"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["product"] == "jira-servicedesk")
        .cloned()
        .expect("JSM seats");
    assert!(jsm["used"].as_u64().unwrap() > 0, "{jsm}");
    let again: Value = svc.api_json(Method::GET, "/api/v1/seats", &bob).await;
    assert_eq!(again, seats, "reused within five minutes");
    db.store
        .credential_put(&jsm_store::CredentialMeta {
            name: "site-token".into(),
            kind: "api_token".into(),
            owner: Some("it-ops".into()),
            created_at: svc.state.now() - chrono::Duration::days(350),
            expires_at: Some(svc.state.now() + chrono::Duration::days(15)),
            last_used_at: None,
            last_verified_at: None,
            secret_ref: Some("ATLASSIAN_API_TOKEN".into()),
        })
        .await
        .unwrap();
    let creds: Value = svc.api_json(Method::GET, "/api/v1/credentials", &bob).await;
    assert_eq!(creds[0]["status"], "expiring");
    let check = jsm_serve::api::queue(
        &svc.state,
        &jsm_serve::Job::CredentialCheck,
        "scheduler:tokens",
        svc.state.now(),
    )
    .await
    .unwrap();
    wait_for("the credential check", 20, || async {
        db.store
            .job(check.id)
            .await
            .unwrap()
            .is_some_and(|j| j.state == JobState::Done)
    })
    .await;
    let checked = db
        .store
        .job(check.id)
        .await
        .unwrap()
        .unwrap()
        .result
        .unwrap();
    assert_eq!(checked["expiring"], 1, "{checked}");
    assert_eq!(checked["states"]["site-token"], "expiring", "{checked}");
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
        metrics.contains("jsmctl_credentials_expiring 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("jsmctl_jobs{state=\"done\"} 1")
            && metrics.contains("jsmctl_jobs{state=\"failed\"} 1"),
        "the credential check done, the reconcile without sources failed: {metrics}"
    );
    svc.stop().await;
    db.cleanup().await;
}
