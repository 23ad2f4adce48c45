//! `RunningEmulator`: its URLs and credentials answer, dropping it closes the port, `stop()` lets a request in
//! flight finish, and its `Debug` keeps the tokens out.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use jsm_emulator::faults::FaultRule;
use jsm_emulator::limits::LimitConfig;
use jsm_emulator::{Emulator, EmulatorBuilder, Seed};
use tokio::net::TcpStream;

const EMAIL: &str = "root@example.com";
const TOKEN: &str = "running-admin-token-42";

fn builder() -> EmulatorBuilder {
    Emulator::builder()
        .seed(Seed::Demo)
        .limits(LimitConfig::off())
        .admin(EMAIL, TOKEN)
}

/// Whether a TCP connect to `addr` fails within `within`, trying every 10 ms.
async fn refused_within(addr: SocketAddr, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if TcpStream::connect(addr).await.is_err() {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn its_urls_and_credentials_answer() {
    let running = builder().spawn("127.0.0.1:0").await.unwrap();
    let base = running.base_url().to_string();
    assert_eq!(base, format!("http://127.0.0.1:{}", running.addr().port()));
    assert_eq!(running.admin_email(), EMAIL);
    assert_eq!(running.admin_token().expose(), TOKEN);
    let identity = running.emu.config().identity.clone();
    assert_eq!(
        running.scim_url(),
        format!("{base}/scim/directory/{}", identity.directory_id)
    );
    assert_eq!(running.org_id(), identity.org_id);
    assert_eq!(running.cloud_id(), running.emu.config().oauth.cloud_id);

    let http = reqwest::Client::new();
    let me = http
        .get(running.url("/rest/api/3/myself"))
        .basic_auth(running.admin_email(), Some(running.admin_token().expose()))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let users = http
        .get(format!("{}/Users", running.scim_url()))
        .bearer_auth(running.scim_token().expose())
        .send()
        .await
        .unwrap();
    assert_eq!(users.status(), 200);
    let org = http
        .get(running.url(&format!("/admin/v1/orgs/{}/users", running.org_id())))
        .bearer_auth(running.org_api_key().expose())
        .send()
        .await
        .unwrap();
    assert_eq!(org.status(), 200);
    let control = http
        .get(running.url("/_emulator/clock"))
        .bearer_auth(running.admin_token().expose())
        .send()
        .await
        .unwrap();
    assert_eq!(
        control.status(),
        200,
        "the admin token guards the control plane"
    );
    running.stop().await.unwrap();
}

#[tokio::test]
async fn env_vars_name_every_surface() {
    let running = builder().spawn("127.0.0.1:0").await.unwrap();
    let vars: HashMap<_, _> = running.env_vars().into_iter().collect();
    let base = running.base_url();
    assert_eq!(vars["ATLASSIAN_SITE"], base);
    assert_eq!(vars["ATLASSIAN_API_URL"], base);
    assert_eq!(vars["ATLASSIAN_EMAIL"], EMAIL);
    assert_eq!(vars["ATLASSIAN_API_TOKEN"], TOKEN);
    assert_eq!(vars["ATLASSIAN_SCIM_URL"], running.scim_url());
    assert_eq!(vars["ATLASSIAN_SCIM_TOKEN"], running.scim_token().expose());
    assert_eq!(vars["ATLASSIAN_ORG_ID"], running.org_id());
    assert_eq!(
        vars["ATLASSIAN_ADMIN_API_KEY"],
        running.org_api_key().expose()
    );
    assert_eq!(vars.len(), 8);
}

#[tokio::test]
async fn links_point_at_the_bound_port() {
    let running = builder().spawn("127.0.0.1:0").await.unwrap();
    assert_eq!(running.emu.base_url(), running.base_url());
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let by_addr = builder().spawn(addr).await.unwrap();
    assert_ne!(by_addr.addr().port(), 0, "port 0 picks a free port");
    assert_ne!(by_addr.addr(), running.addr());
}

#[tokio::test]
async fn dropping_it_closes_the_port() {
    let running = builder().spawn("127.0.0.1:0").await.unwrap();
    let addr = running.addr();
    assert!(TcpStream::connect(addr).await.is_ok());
    drop(running);
    assert!(
        refused_within(addr, Duration::from_secs(5)).await,
        "the port still accepts connections after drop"
    );
}

#[tokio::test]
async fn stop_lets_a_request_in_flight_finish_then_closes_the_port() {
    let running = builder().spawn("127.0.0.1:0").await.unwrap();
    running.emu.faults().set_rules(vec![FaultRule {
        method: Some("GET".into()),
        path: "/rest/api/3/myself".into(),
        status: None,
        retry_after: None,
        probability: 1.0,
        times: Some(1),
        delay_ms: 300,
        drop: false,
    }]);
    let request = reqwest::Client::new()
        .get(running.url("/rest/api/3/myself"))
        .basic_auth(EMAIL, Some(TOKEN))
        .send();
    let in_flight = tokio::spawn(request);
    // The rule retires when the server draws it: from then on the request is inside the server.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while running.emu.faults().rules()[0].times != Some(0) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the request never arrived"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let addr = running.addr();
    running.stop().await.unwrap();
    let answer = in_flight.await.unwrap().unwrap();
    assert_eq!(answer.status(), 200, "the request in flight was served");
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "stop() returns only after the port is closed"
    );
}

#[tokio::test]
async fn debug_shows_the_urls_but_no_token() {
    let running = builder()
        .identity(jsm_emulator::identity::Identity {
            directory_id: "dir-1".into(),
            scim_token: "scim-secret-77".into(),
            org_id: "org-1".into(),
            org_api_key: "org-secret-88".into(),
        })
        .spawn("127.0.0.1:0")
        .await
        .unwrap();
    let shown = format!("{running:?}");
    for secret in [TOKEN, "scim-secret-77", "org-secret-88"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    assert!(shown.contains(running.base_url()), "{shown}");
    assert!(shown.contains("[REDACTED]"), "{shown}");
    let pretty = format!("{running:#?}");
    assert!(!pretty.contains(TOKEN));
}
