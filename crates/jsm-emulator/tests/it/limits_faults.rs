//! Rate limits and injected faults, driven by the emulator clock where timing matters.

use jsm_emulator::clock::Clock;
use jsm_emulator::limits::LimitConfig;
use jsm_emulator::{Emulator, Seed};
use jsm_testkit::TestEmulator;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{get_ok, send, status_json};

async fn frozen() -> TestEmulator {
    TestEmulator::start_with(
        Emulator::builder()
            .seed(Seed::Demo)
            .clock(Clock::frozen(1_767_225_600_000)),
    )
    .await
}

#[tokio::test]
async fn burst_limit_answers_429_with_atlassians_headers_then_refills() {
    let emu = frozen().await;
    // The JSM customer listing allows 5 requests per second.
    let path = "/rest/servicedeskapi/servicedesk/1/customer";
    for i in 0..5 {
        let resp = send(&emu, Method::GET, path, None).await;
        assert_eq!(resp.status(), StatusCode::OK, "request {i}");
        assert_eq!(resp.headers()["x-ratelimit-limit"], "5");
        assert_eq!(
            resp.headers()["x-ratelimit-remaining"],
            (4 - i).to_string().as_str()
        );
    }
    let resp = send(&emu, Method::GET, path, None).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let h = resp.headers().clone();
    assert_eq!(h["retry-after"], "1");
    assert_eq!(h["x-ratelimit-remaining"], "0");
    assert_eq!(h["ratelimit-reason"], "jira-burst-based");
    assert!(h["x-ratelimit-reset"].to_str().unwrap().ends_with('Z'));
    let (_, body) = status_json(resp).await;
    assert!(body["errorMessage"].is_string(), "JSM shape: {body}");
    // Other endpoints have their own buckets.
    assert_eq!(
        send(&emu, Method::GET, "/rest/servicedeskapi/servicedesk", None)
            .await
            .status(),
        StatusCode::OK
    );
    // Time refills the bucket.
    emu.control(Method::POST, "/clock/advance", Some(json!({"seconds": 1})))
        .await;
    assert_eq!(
        send(&emu, Method::GET, path, None).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn near_limit_is_flagged_below_twenty_percent() {
    let emu = frozen().await;
    let path = "/rest/servicedeskapi/servicedesk/1/customer";
    let mut flags = Vec::new();
    for _ in 0..5 {
        let resp = send(&emu, Method::GET, path, None).await;
        flags.push(resp.headers().get("x-ratelimit-nearlimit").is_some());
    }
    // Remaining 4, 3, 2, 1, 0 of 5: only the last is under 20%.
    assert_eq!(flags, vec![false, false, false, false, true]);
}

#[tokio::test]
async fn quota_mode_counts_points_per_object_until_the_hour_turns() {
    let emu = frozen().await;
    emu.control(
        Method::PUT,
        "/limits",
        Some(json!({"enabled": true, "quotaPerHour": 60})),
    )
    .await;
    // 1 + 2 x 21 members = 43 points; then 1 + 2 x 1 = 3 points.
    get_ok(
        &emu,
        "/rest/api/3/group/member?groupname=jira-servicemanagement-users",
    )
    .await;
    get_ok(&emu, "/rest/api/3/myself").await;
    get_ok(
        &emu,
        "/rest/api/3/group/member?groupname=service-desk-leads",
    )
    .await;
    let resp = send(&emu, Method::GET, "/rest/api/3/myself", None).await;
    assert_eq!(
        resp.status(),
        StatusCode::OK,
        "51 of 60 points used before this one"
    );
    for _ in 0..2 {
        get_ok(&emu, "/rest/api/3/myself").await;
    }
    let resp = send(&emu, Method::GET, "/rest/api/3/myself", None).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        resp.headers()["ratelimit-reason"],
        "jira-quota-tenant-based"
    );
    assert_eq!(
        resp.headers()["retry-after"],
        "3600",
        "the frozen clock stands at the top of an hour"
    );
    emu.control(
        Method::POST,
        "/clock/advance",
        Some(json!({"seconds": 3600})),
    )
    .await;
    assert_eq!(
        send(&emu, Method::GET, "/rest/api/3/myself", None)
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn limits_off_never_answer_429() {
    let emu = TestEmulator::start().await;
    for _ in 0..30 {
        let resp = send(
            &emu,
            Method::GET,
            "/rest/servicedeskapi/servicedesk/1/customer",
            None,
        )
        .await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(resp.headers().get("x-ratelimit-limit").is_none());
    }
    let config = emu.control(Method::GET, "/limits", None).await;
    assert_eq!(config["enabled"], false);
}

#[tokio::test]
async fn fault_rules_inject_statuses_bursts_and_drops() {
    let emu = TestEmulator::start().await;
    emu.control(
        Method::PUT,
        "/faults",
        Some(json!({"rules": [
            {"method": "GET", "path": "/rest/api/3/myself", "status": 503, "retryAfter": 2, "times": 1},
            {"path": "/rest/api/3/serverInfo", "status": 429, "times": 2},
            {"path": "/rest/servicedeskapi/info", "drop": true, "times": 1}
        ]})),
    )
    .await;
    let resp = send(&emu, Method::GET, "/rest/api/2/myself", None).await;
    assert_eq!(
        resp.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "v2 shares v3's rules"
    );
    assert_eq!(resp.headers()["retry-after"], "2");
    assert_eq!(
        send(&emu, Method::GET, "/rest/api/3/myself", None)
            .await
            .status(),
        StatusCode::OK
    );
    for _ in 0..2 {
        let resp = send(&emu, Method::GET, "/rest/api/3/serverInfo", None).await;
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    }
    assert_eq!(
        send(&emu, Method::GET, "/rest/api/3/serverInfo", None)
            .await
            .status(),
        StatusCode::OK
    );
    let dropped = emu
        .admin(Method::GET, "/rest/servicedeskapi/info")
        .send()
        .await;
    let failed = match dropped {
        Err(_) => true,
        Ok(resp) => resp.bytes().await.is_err(),
    };
    assert!(failed, "the connection was cut");
    let rules = emu.control(Method::GET, "/faults", None).await;
    assert_eq!(rules["rules"][0]["times"], 0);
}

#[tokio::test]
async fn bad_fault_rules_are_refused_naming_the_rule() {
    let emu = TestEmulator::start().await;
    let resp = emu
        .http
        .put(emu.url("/_emulator/faults"))
        .bearer_auth(jsm_testkit::ADMIN_TOKEN)
        .json(&json!({"rules": [{"path": "*", "status": 503}, {"path": "*", "status": 200}]}))
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(resp).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"].as_str().unwrap().contains("rules[1]"),
        "{body}"
    );
    assert!(
        emu.control(Method::GET, "/faults", None).await["rules"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn default_limits_are_atlassians() {
    let config = LimitConfig::default();
    assert_eq!(
        (config.get, config.post, config.put, config.delete),
        (100, 100, 50, 50)
    );
}
