//! Webhooks over real HTTP: a receiver on a loopback port checks the HMAC signature, the user events fired by
//! changes through the REST surfaces, the retry after a 503 with the same identifier, the loopback-only rule,
//! and the app webhook API of OAuth apps.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::routing::post;
use hmac::{Hmac, KeyInit, Mac};
use jsm_emulator::clock::Clock;
use jsm_emulator::limits::LimitConfig;
use jsm_emulator::webhooks::WebhookConfig;
use jsm_emulator::{Emulator, Seed};
use jsm_testkit::TestEmulator;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::{Semaphore, mpsc};

use crate::support::{account_id, send, status_json};

const SECRET: &str = "It's a Secret to Everybody";
const WAIT: Duration = Duration::from_secs(10);
const GATE_PERMITS: u32 = 1000;

/// One request the receiver got.
#[derive(Debug)]
struct Seen {
    headers: HeaderMap,
    body: Bytes,
}

#[derive(Clone)]
struct ReceiverState {
    tx: mpsc::UnboundedSender<Seen>,
    fail_next: Arc<AtomicU32>,
    gate: Arc<Semaphore>,
}

/// A webhook receiver on 127.0.0.1:0: records every request, answers 503 while `fail_next` is positive, and
/// answers only when `gate` has a permit (tests that hold the gate see requests arrive but not complete).
struct Receiver {
    url: String,
    rx: mpsc::UnboundedReceiver<Seen>,
    fail_next: Arc<AtomicU32>,
    gate: Arc<Semaphore>,
}

impl Receiver {
    async fn start() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let state = ReceiverState {
            tx,
            fail_next: Arc::new(AtomicU32::new(0)),
            gate: Arc::new(Semaphore::new(GATE_PERMITS as usize)),
        };
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind receiver");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url,
            rx,
            fail_next: state.fail_next,
            gate: state.gate,
        }
    }

    async fn next(&mut self) -> Seen {
        match tokio::time::timeout(WAIT, self.rx.recv()).await {
            Ok(Some(seen)) => seen,
            _ => panic!("no webhook delivery within {WAIT:?}"),
        }
    }

    /// The next delivery of `event`, skipping others.
    async fn next_event(&mut self, event: &str) -> (Seen, Value) {
        loop {
            let seen = self.next().await;
            let body: Value = serde_json::from_slice(&seen.body).unwrap_or(Value::Null);
            if body["webhookEvent"] == event {
                return (seen, body);
            }
        }
    }
}

async fn receive(
    State(state): State<ReceiverState>,
    headers: HeaderMap,
    body: Bytes,
) -> AxumStatus {
    let _ = state.tx.send(Seen { headers, body });
    let _permit = state.gate.acquire().await;
    let failing = state
        .fail_next
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if failing {
        AxumStatus::SERVICE_UNAVAILABLE
    } else {
        AxumStatus::NO_CONTENT
    }
}

fn header(seen: &Seen, name: &str) -> Option<String> {
    seen.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Checks `X-Hub-Signature` the way a receiver should: HMAC-SHA256 of the raw body, constant-time compare.
fn signature_ok(seen: &Seen, secret: &str) -> bool {
    let Some(given) = header(seen, "x-hub-signature") else {
        return false;
    };
    let Some(hex) = given.strip_prefix("sha256=") else {
        return false;
    };
    let Some(bytes) = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
    else {
        return false;
    };
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(&seen.body);
    mac.verify_slice(&bytes).is_ok()
}

async fn start() -> TestEmulator {
    TestEmulator::start_with(
        Emulator::builder()
            .seed(Seed::Demo)
            .limits(LimitConfig::off())
            .webhooks(WebhookConfig {
                backoff: Duration::from_millis(20),
                max_backoff: Duration::from_millis(100),
                ..WebhookConfig::default()
            }),
    )
    .await
}

async fn register(emu: &TestEmulator, url: &str, secret: Option<&str>) -> Value {
    let mut body = json!({
        "name": "user sync",
        "url": url,
        "events": ["user_created", "user_updated", "user_deleted"],
        "filters": {"issue-related-events-section": ""},
        "excludeBody": false,
    });
    if let Some(secret) = secret {
        body["secret"] = json!(secret);
    }
    let (status, answer) =
        status_json(send(emu, Method::POST, "/rest/webhooks/1.0/webhook", Some(body)).await).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    answer
}

#[tokio::test]
async fn rest_changes_fire_signed_user_events() {
    let emu = start().await;
    let mut receiver = Receiver::start().await;
    let hook = register(&emu, &receiver.url, Some(SECRET)).await;
    assert!(hook.get("secret").is_none(), "the secret is write-only");
    assert_eq!(hook["events"][0], "user_created");

    // user_created through Jira REST.
    let (status, user) = status_json(
        send(
            &emu,
            Method::POST,
            "/rest/api/3/user",
            Some(json!({"emailAddress": "hooked@example.com", "products": ["jira-servicedesk"]})),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (seen, body) = receiver.next_event("user_created").await;
    assert!(
        signature_ok(&seen, SECRET),
        "HMAC over the raw body verifies"
    );
    assert!(!signature_ok(&seen, "another secret"));
    assert_eq!(body["user"]["accountId"], user["accountId"]);
    assert_eq!(body["user"]["emailAddress"], "hooked@example.com");
    assert_eq!(body["user"]["active"], true);
    assert!(body["timestamp"].is_i64());
    assert!(
        body["user"]["self"].as_str().is_some_and(
            |s| s.starts_with(&emu.base_url) && s.contains("/rest/api/2/user?accountId=")
        )
    );
    assert!(header(&seen, "x-atlassian-webhook-identifier").is_some());
    assert!(
        header(&seen, "x-atlassian-webhook-retry").is_none(),
        "no retry header on the first attempt"
    );
    assert!(header(&seen, "content-type").is_some_and(|c| c.starts_with("application/json")));

    // user_created through JSM.
    let (status, _) = status_json(
        send(
            &emu,
            Method::POST,
            "/rest/servicedeskapi/customer",
            Some(json!({"displayName": "Hooked Customer", "email": "hooked-customer@example.com"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, body) = receiver.next_event("user_created").await;
    assert_eq!(body["user"]["displayName"], "Hooked Customer");
    assert_eq!(body["user"]["accountType"], "customer");

    // user_updated: the profile hides the email, and the payload respects it.
    let id = account_id(&emu, "hooked@example.com");
    emu.control(
        Method::PUT,
        "/privacy",
        Some(json!({"accountId": id, "emailHidden": true})),
    )
    .await;
    let (seen, body) = receiver.next_event("user_updated").await;
    assert!(signature_ok(&seen, SECRET));
    assert_eq!(body["user"]["accountId"], id.as_str());
    assert!(
        body["user"].get("emailAddress").is_none(),
        "hidden email stays hidden"
    );

    // user_deleted through Jira REST.
    let resp = send(
        &emu,
        Method::DELETE,
        &format!(
            "/rest/api/3/user?accountId={}",
            form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>()
        ),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let (seen, body) = receiver.next_event("user_deleted").await;
    assert!(signature_ok(&seen, SECRET));
    assert_eq!(body["user"]["accountId"], id.as_str());
    assert_eq!(body["user"]["active"], false);
}

#[tokio::test]
async fn a_503_is_retried_with_the_same_identifier() {
    let emu = start().await;
    let mut receiver = Receiver::start().await;
    register(&emu, &receiver.url, Some(SECRET)).await;
    receiver.fail_next.store(1, Ordering::SeqCst);
    send(
        &emu,
        Method::POST,
        "/rest/api/3/user",
        Some(json!({"emailAddress": "retry@example.com", "products": []})),
    )
    .await;
    let first = receiver.next().await;
    let retry = receiver.next().await;
    let id = header(&first, "x-atlassian-webhook-identifier");
    assert!(id.is_some());
    assert_eq!(header(&retry, "x-atlassian-webhook-identifier"), id);
    assert_eq!(header(&first, "x-atlassian-webhook-retry"), None);
    assert_eq!(
        header(&retry, "x-atlassian-webhook-retry").as_deref(),
        Some("1")
    );
    assert_eq!(first.body, retry.body);
    assert!(signature_ok(&retry, SECRET));
    // The control plane shows both attempts.
    let log = emu.control(Method::GET, "/webhooks/deliveries", None).await;
    let attempts = log["attempts"].as_array().cloned().unwrap_or_default();
    let mine: Vec<&Value> = attempts
        .iter()
        .filter(|a| a["identifier"].as_str() == id.as_deref())
        .collect();
    assert_eq!(mine.len(), 2, "{log}");
    assert_eq!(mine[0]["status"], 503);
    assert_eq!(mine[0]["willRetry"], true);
    assert_eq!(mine[1]["status"], 204);
}

#[tokio::test]
async fn retries_are_bounded_and_connection_failures_count() {
    let emu = TestEmulator::start_with(
        Emulator::builder()
            .seed(Seed::Demo)
            .limits(LimitConfig::off())
            .webhooks(WebhookConfig {
                max_attempts: 3,
                backoff: Duration::from_millis(5),
                max_backoff: Duration::from_millis(10),
                timeout: Duration::from_secs(2),
                ..WebhookConfig::default()
            }),
    )
    .await;
    // A port nobody listens on: bind, note the port, close.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    register(&emu, &format!("http://{dead}/hook"), None).await;
    send(
        &emu,
        Method::POST,
        "/rest/api/3/user",
        Some(json!({"emailAddress": "nobody-home@example.com", "products": []})),
    )
    .await;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let log = emu.control(Method::GET, "/webhooks/deliveries", None).await;
        let attempts = log["attempts"].as_array().cloned().unwrap_or_default();
        if attempts.iter().any(|a| a["willRetry"] == false) {
            assert_eq!(attempts.len(), 3, "{log}");
            assert!(
                attempts
                    .iter()
                    .all(|a| a["error"].is_string() && a.get("status").is_none())
            );
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "delivery never gave up: {log}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn delivery_never_holds_up_the_request() {
    let emu = start().await;
    let mut receiver = Receiver::start().await;
    register(&emu, &receiver.url, None).await;
    // Hold every answer of the receiver.
    let gate = Arc::clone(&receiver.gate);
    let held = gate.acquire_many(GATE_PERMITS).await.expect("gate");
    let resp = send(
        &emu,
        Method::POST,
        "/rest/api/3/user",
        Some(json!({"emailAddress": "quick@example.com", "products": []})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    // The delivery arrived, and the request above finished while the receiver still had not answered.
    let seen = receiver.next().await;
    assert!(
        header(&seen, "x-hub-signature").is_none(),
        "no secret, no signature"
    );
    drop(held);
}

#[tokio::test]
async fn only_loopback_targets_are_accepted() {
    let emu = start().await;
    for url in [
        "https://example.com/hook",
        "http://10.1.2.3/hook",
        "not a url",
        "ftp://127.0.0.1/x",
    ] {
        let (status, body) = status_json(
            send(
                &emu,
                Method::POST,
                "/rest/webhooks/1.0/webhook",
                Some(json!({"name": "x", "url": url, "events": ["user_created"]})),
            )
            .await,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{url}");
        assert!(body["errors"]["url"].is_string(), "{body}");
    }
    let (_, body) = status_json(
        send(
            &emu,
            Method::POST,
            "/rest/webhooks/1.0/webhook",
            Some(
                json!({"name": "x", "url": "https://example.com/hook", "events": ["user_created"]}),
            ),
        )
        .await,
    )
    .await;
    assert!(
        body["errors"]["url"]
            .as_str()
            .is_some_and(|m| m.contains("loopback") && m.contains("--webhook-allow-any-host")),
        "{body}"
    );
}

#[tokio::test]
async fn any_host_can_be_allowed() {
    let emu = TestEmulator::start_with(
        Emulator::builder()
            .seed(Seed::Demo)
            .limits(LimitConfig::off())
            .webhooks(WebhookConfig {
                allow_any_host: true,
                ..WebhookConfig::default()
            }),
    )
    .await;
    let (status, _) = status_json(
        send(
            &emu,
            Method::POST,
            "/rest/webhooks/1.0/webhook",
            Some(
                json!({"name": "x", "url": "https://example.com/hook", "events": ["user_created"]}),
            ),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn admin_webhooks_can_be_read_changed_and_deleted() {
    let emu = start().await;
    let receiver = Receiver::start().await;
    let hook = register(&emu, &receiver.url, Some(SECRET)).await;
    let path = hook["self"]
        .as_str()
        .and_then(|s| s.strip_prefix(&emu.base_url))
        .expect("self link")
        .to_string();
    let (status, one) = status_json(send(&emu, Method::GET, &path, None).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["name"], "user sync");
    let (status, changed) = status_json(
        send(
            &emu,
            Method::PUT,
            &path,
            Some(json!({"events": ["user_deleted"], "enabled": false})),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["events"], json!(["user_deleted"]));
    assert_eq!(changed["enabled"], false);
    let list = crate::support::get_ok(&emu, "/rest/webhooks/1.0/webhook").await;
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    // The secret survives an update that omits it.
    assert!(emu.emu.site().webhooks.admin[0].secret.is_some());
    assert_eq!(
        send(&emu, Method::DELETE, &path, None).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        send(&emu, Method::GET, &path, None).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(&emu, Method::GET, "/rest/webhooks/1.0/webhook/abc", None)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    // Bad bodies name the field.
    for (body, field) in [
        (
            json!({"url": receiver.url, "events": ["user_created"]}),
            "name",
        ),
        (json!({"name": "x", "events": ["user_created"]}), "url"),
        (
            json!({"name": "x", "url": receiver.url, "events": []}),
            "events",
        ),
        (
            json!({"name": "x", "url": receiver.url, "events": ["user_exploded"]}),
            "events",
        ),
    ] {
        let (status, answer) =
            status_json(send(&emu, Method::POST, "/rest/webhooks/1.0/webhook", Some(body)).await)
                .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(answer["errors"][field].is_string(), "{answer}");
    }
    let (status, answer) = status_json(
        send(
            &emu,
            Method::POST,
            "/rest/webhooks/1.0/webhook",
            Some(json!({"name": 5})),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        answer["errorMessages"][0]
            .as_str()
            .is_some_and(|m| m.contains("name"))
    );
}

#[tokio::test]
async fn agents_cannot_manage_admin_webhooks() {
    let emu = start().await;
    let agents = crate::support::demo_people(&emu).0;
    let agent = {
        let site = emu.emu.site();
        agents
            .into_iter()
            .find(|email| {
                site.find_by_email(email)
                    .is_some_and(|k| !site.perms(k).jira_admin)
            })
            .expect("a demo agent without admin rights")
    };
    let token = emu.token_for(&agent).await;
    let resp = emu
        .as_user(Method::GET, "/rest/webhooks/1.0/webhook", &agent, &token)
        .send()
        .await
        .expect("list");
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
}

const APP_SCOPES: &str = "read:jira-work manage:jira-webhook";

#[tokio::test]
async fn app_webhooks_are_for_oauth_apps_and_expire_after_30_days() {
    let emu = TestEmulator::start_with(
        Emulator::builder()
            .seed(Seed::Demo)
            .limits(LimitConfig::off())
            .clock(Clock::frozen(1_790_000_000_000)),
    )
    .await;
    let tokens = emu.oauth_tokens(APP_SCOPES).await;
    let access = tokens["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let receiver = Receiver::start().await;

    // Basic auth is not an app.
    let (status, _) = status_json(send(&emu, Method::GET, "/rest/api/3/webhook", None).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, body) = status_json(
        emu.gateway(Method::POST, "/rest/api/3/webhook", &access)
            .json(&json!({
                "url": receiver.url,
                "webhooks": [
                    {"events": ["jira:issue_created", "jira:issue_updated"], "jqlFilter": "project = PROJ",
                     "fieldIdsFilter": ["summary"]},
                    {"events": ["user_created"], "jqlFilter": "project = PROJ"},
                    {"events": ["jira:issue_deleted"], "jqlFilter": "watchCount = 3"},
                    {"events": ["comment_created"], "jqlFilter": "project IN (A, B) AND status != Done"},
                ]
            }))
            .send()
            .await
            .expect("register"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let results = body["webhookRegistrationResult"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(results.len(), 4);
    assert!(results[0]["createdWebhookId"].is_u64());
    assert!(
        results[1]["errors"][0]
            .as_str()
            .is_some_and(|e| e.contains("user_created"))
    );
    assert_eq!(
        results[2]["errors"][0],
        "The clause watchCount is unsupported"
    );
    assert!(results[3]["createdWebhookId"].is_u64());
    let first = results[0]["createdWebhookId"].as_u64().unwrap_or_default();

    let list = |token: String| {
        let req = emu.gateway(Method::GET, "/rest/api/3/webhook", &token);
        async move { status_json(req.send().await.expect("list")).await }
    };
    let (status, page) = list(access.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["total"], 2);
    assert_eq!(page["isLast"], true);
    assert_eq!(page["values"][0]["jqlFilter"], "project = PROJ");
    let expires = page["values"][0]["expirationDate"]
        .as_i64()
        .unwrap_or_default();
    assert_eq!(expires, 1_790_000_000_000 + 30 * 24 * 3600 * 1000);

    // Refresh moves the expiry; another app sees and changes nothing of ours.
    emu.emu.clock().advance(20 * 24 * 3600 * 1000);
    // Access tokens live an hour: consent again after the jump.
    let access = emu.oauth_tokens(APP_SCOPES).await["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (status, refreshed) = status_json(
        emu.gateway(Method::PUT, "/rest/api/3/webhook/refresh", &access)
            .json(&json!({"webhookIds": [first]}))
            .send()
            .await
            .expect("refresh"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(refreshed["expirationDate"].as_i64().unwrap_or_default() > expires);

    // A different URL for the same app is refused.
    let (status, _) = status_json(
        emu.gateway(Method::POST, "/rest/api/3/webhook", &access)
            .json(&json!({"url": "http://127.0.0.1:1/other", "webhooks": []}))
            .send()
            .await
            .expect("register"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Ten more days: the refreshed one lives on, the other has expired.
    emu.emu.clock().advance(10 * 24 * 3600 * 1000);
    let access = emu.oauth_tokens(APP_SCOPES).await["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (_, page) = list(access.clone()).await;
    assert_eq!(page["total"], 1, "{page}");
    assert_eq!(page["values"][0]["id"], first);

    let (status, _) = status_json(
        emu.gateway(Method::DELETE, "/rest/api/3/webhook", &access)
            .json(&json!({"webhookIds": [first, 999_999]}))
            .send()
            .await
            .expect("delete"),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (_, page) = list(access.clone()).await;
    assert_eq!(page["total"], 0);
    let (status, body) = status_json(
        emu.gateway(Method::DELETE, "/rest/api/3/webhook", &access)
            .json(&json!({}))
            .send()
            .await
            .expect("delete"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn app_webhooks_of_other_apps_are_invisible() {
    let emu = start().await;
    emu.control(
        Method::POST,
        "/oauth/apps",
        Some(json!({"clientId": "second-app", "clientSecret": "second-secret"})),
    )
    .await;
    let receiver = Receiver::start().await;
    let mine = emu.oauth_tokens(APP_SCOPES).await["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (status, body) = status_json(
        emu.gateway(Method::POST, "/rest/api/3/webhook", &mine)
            .json(&json!({"url": receiver.url, "webhooks": [{"events": ["comment_created"], "jqlFilter": "project = A"}]}))
            .send()
            .await
            .expect("register"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = body["webhookRegistrationResult"][0]["createdWebhookId"].clone();

    let theirs = second_app_token(&emu).await;
    let (status, page) = status_json(
        emu.gateway(Method::GET, "/rest/api/3/webhook", &theirs)
            .send()
            .await
            .expect("list"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["total"], 0, "{page}");
    let (status, _) = status_json(
        emu.gateway(Method::DELETE, "/rest/api/3/webhook", &theirs)
            .json(&json!({"webhookIds": [id]}))
            .send()
            .await
            .expect("delete"),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(
        emu.emu.site().webhooks.app.len(),
        1,
        "another app's ids are ignored"
    );
}

/// The 3LO flow for the app registered as `second-app`.
async fn second_app_token(emu: &TestEmulator) -> String {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let redirect = "http://127.0.0.1:9/cb";
    let resp = http
        .get(emu.url("/authorize"))
        .query(&[
            ("client_id", "second-app"),
            ("scope", APP_SCOPES),
            ("redirect_uri", redirect),
            ("response_type", "code"),
            ("state", "s"),
        ])
        .send()
        .await
        .expect("authorize");
    let location = resp.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_string();
    let code = reqwest::Url::parse(&location)
        .expect("url")
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("code");
    let (status, tokens) = status_json(
        emu.http
            .post(emu.url("/oauth/token"))
            .json(&json!({"grant_type": "authorization_code", "client_id": "second-app",
                          "client_secret": "second-secret", "code": code, "redirect_uri": redirect}))
            .send()
            .await
            .expect("token"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    tokens["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn scim_and_admin_api_changes_fire_user_events() {
    let emu = start().await;
    let mut receiver = Receiver::start().await;
    register(&emu, &receiver.url, Some(SECRET)).await;

    // SCIM POST /Users: user_created.
    let (status, created) = status_json(
        emu.scim(Method::POST, "/Users")
            .json(&json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "hooked@idp.example",
                "displayName": "Hooked Idp",
                "emails": [{"value": "hooked@idp.example", "primary": true}],
            }))
            .send()
            .await
            .expect("scim create"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (seen, body) = receiver.next_event("user_created").await;
    assert!(signature_ok(&seen, SECRET));
    assert_eq!(body["user"]["emailAddress"], "hooked@idp.example");
    let account = body["user"]["accountId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(account, account_id(&emu, "hooked@idp.example"));

    // SCIM PATCH active=false (no schemas, as identity providers send it): user_updated, inactive.
    let scim_id = created["id"].as_str().unwrap_or_default().to_string();
    let (status, _) = status_json(
        emu.scim(Method::PATCH, &format!("/Users/{scim_id}"))
            .json(&json!({"Operations": [{"op": "replace", "value": {"active": "False"}}]}))
            .send()
            .await
            .expect("scim patch"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (seen, body) = receiver.next_event("user_updated").await;
    assert!(signature_ok(&seen, SECRET));
    assert_eq!(body["user"]["accountId"], account.as_str());
    assert_eq!(body["user"]["active"], false);

    // Admin API suspend-access on a demo agent: user_updated.
    let agents = crate::support::demo_people(&emu).0;
    let suspended = account_id(&emu, &agents[0]);
    let resp = emu
        .org(
            Method::POST,
            &format!("/directory/users/{suspended}/suspend-access"),
        )
        .send()
        .await
        .expect("suspend");
    assert_eq!(resp.status(), StatusCode::OK);
    let (_, body) = receiver.next_event("user_updated").await;
    assert_eq!(body["user"]["accountId"], suspended.as_str());
    assert_eq!(body["user"]["active"], false);

    // User management API lifecycle disable: user_updated.
    let disabled = account_id(&emu, &agents[1]);
    let resp = emu
        .http
        .post(emu.url(&format!("/users/{disabled}/manage/lifecycle/disable")))
        .bearer_auth(emu.org_key())
        .send()
        .await
        .expect("disable");
    assert!(resp.status().is_success(), "{}", resp.status());
    let (_, body) = receiver.next_event("user_updated").await;
    assert_eq!(body["user"]["accountId"], disabled.as_str());

    // Admin API directory removal: user_deleted.
    let removed = account_id(&emu, &agents[2]);
    let resp = emu
        .org(Method::DELETE, &format!("/directory/users/{removed}"))
        .send()
        .await
        .expect("remove");
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let (seen, body) = receiver.next_event("user_deleted").await;
    assert!(signature_ok(&seen, SECRET));
    assert_eq!(body["user"]["accountId"], removed.as_str());
}
