//! The control plane: guard, reset, export and import, clock, request log, quirks.

use jsm_testkit::TestEmulator;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{get_ok, send, status_json};

#[tokio::test]
async fn the_control_plane_wants_the_admin_bearer_token() {
    let emu = TestEmulator::start().await;
    for auth in [
        None,
        Some("Bearer wrong"),
        Some("Basic YWRtaW5AZXhhbXBsZS5jb206dGVzdGtpdC1hZG1pbi10b2tlbg=="),
    ] {
        let mut req = emu.http.get(emu.url("/_emulator/state"));
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        let (status, body) = status_json(req.send().await.unwrap()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{auth:?}");
        assert!(body["error"].is_string());
    }
}

#[tokio::test]
async fn export_then_import_restores_everything() {
    let emu = TestEmulator::start().await;
    let before = emu.control(Method::GET, "/state", None).await;
    let (status, _) = status_json(
        send(
            &emu,
            Method::POST,
            "/rest/api/3/group",
            Some(json!({"name": "temporary"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(emu.emu.site().find_group_by_name("temporary").is_some());
    emu.control(Method::PUT, "/state", Some(before.clone()))
        .await;
    assert!(emu.emu.site().find_group_by_name("temporary").is_none());
    let after = emu.control(Method::GET, "/state", None).await;
    assert_eq!(before, after);
    let members = get_ok(
        &emu,
        "/rest/api/3/group/member?groupname=jira-servicemanagement-users",
    )
    .await;
    assert_eq!(members["total"], 21, "memberships survive the round trip");
}

#[tokio::test]
async fn a_bad_import_names_the_problem_and_changes_nothing() {
    let emu = TestEmulator::start().await;
    let mut state = emu.control(Method::GET, "/state", None).await;
    state["groups"][0]["members"] = json!(["no-such-account"]);
    state["accounts"][1]["displayName"] = json!("Changed");
    let resp = emu
        .http
        .put(emu.url("/_emulator/state"))
        .bearer_auth(jsm_testkit::ADMIN_TOKEN)
        .json(&state)
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(resp).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"].as_str().unwrap().contains("no-such-account"),
        "{body}"
    );
    assert_ne!(emu.emu.site().accounts[1].display_name, "Changed");

    let mut typo = emu.control(Method::GET, "/state", None).await;
    typo["acounts"] = json!([]);
    let resp = emu
        .http
        .put(emu.url("/_emulator/state"))
        .bearer_auth(jsm_testkit::ADMIN_TOKEN)
        .json(&typo)
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(resp).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"].as_str().unwrap().contains("acounts"),
        "unknown fields are named: {body}"
    );
}

#[tokio::test]
async fn reset_reseeds_and_the_seed_is_deterministic() {
    let emu = TestEmulator::start().await;
    let first = emu.control(Method::GET, "/state", None).await;
    send(
        &emu,
        Method::POST,
        "/rest/api/3/group",
        Some(json!({"name": "scratch"})),
    )
    .await;
    let answer = emu
        .control(Method::POST, "/reset", Some(json!({"seed": "demo"})))
        .await;
    assert_eq!(answer["accounts"], 523);
    let second = emu.control(Method::GET, "/state", None).await;
    let ids = |state: &serde_json::Value| -> Vec<String> {
        state["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| format!("{} {}", a["accountId"], a["email"]))
            .collect()
    };
    assert!(
        ids(&first) == ids(&second),
        "same accounts, ids and emails after a reset"
    );
    assert!(
        first["groups"] == second["groups"],
        "same groups and memberships after a reset"
    );
    let empty = emu
        .control(Method::POST, "/reset", Some(json!({"seed": "empty"})))
        .await;
    assert_eq!(empty["accounts"], 1);
    let big = emu
        .control(Method::POST, "/reset", Some(json!({"users": 2000})))
        .await;
    assert_eq!(big["accounts"], 2000);
}

#[tokio::test]
async fn the_request_log_pages_by_sequence() {
    let emu = TestEmulator::start().await;
    for _ in 0..3 {
        get_ok(&emu, "/rest/api/3/serverInfo").await;
    }
    let all = emu.control(Method::GET, "/requests", None).await;
    let entries = all.as_array().unwrap();
    assert_eq!(entries.len(), 3, "control-plane calls are not logged");
    let second = entries[1]["seq"].as_u64().unwrap();
    let later = emu
        .control(Method::GET, &format!("/requests?since={second}"), None)
        .await;
    assert_eq!(later.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_clock_can_be_read_set_and_advanced() {
    let emu = TestEmulator::start().await;
    let set = emu
        .control(
            Method::PUT,
            "/clock",
            Some(json!({"now": 1_767_225_600_000i64})),
        )
        .await;
    let now = set["now"].as_i64().unwrap();
    assert!(
        (1_767_225_600_000..1_767_225_660_000).contains(&now),
        "{set}"
    );
    let later = emu
        .control(Method::POST, "/clock/advance", Some(json!({"days": 2})))
        .await;
    assert!(later["now"].as_i64().unwrap() - now >= 2 * 86_400_000);
    let info = get_ok(&emu, "/rest/api/3/serverInfo").await;
    assert!(
        info["serverTime"]
            .as_str()
            .unwrap()
            .starts_with("2026-01-03"),
        "{info}"
    );
}
