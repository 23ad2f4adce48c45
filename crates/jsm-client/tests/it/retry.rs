//! One wiremock test per retry rule. Time is paused, so waits are instant; assertions read the waits the client
//! computed (the Retrying and LimiterWait events), which do not depend on scheduling.

use std::sync::Arc;
use std::time::Duration;

use jsm_client::{
    AuthReason, Client, Clock, Credential, Error, Event, GroupRef, LimiterConfig, Request,
    RetryCause, RetryConfig, Surface, SystemClock, ThrottleScope,
};
use jsm_emulator::faults::FaultRule;
use jsm_emulator::limits::LimitConfig as EmulatorLimits;
use jsm_emulator::{Emulator, Seed};
use jsm_testkit::{ADMIN_EMAIL, ADMIN_TOKEN, TestEmulator};
use reqwest::Method;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{self, Recorder, catch_all, epoch, user_json};

fn ok_user() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(user_json("a1", Some("a@example.com")))
}

async fn one_429_then_ok(server: &MockServer, template: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path("/rest/api/3/user"))
        .respond_with(template)
        .up_to_n_times(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/rest/api/3/user"))
        .respond_with(ok_user())
        .expect(1)
        .mount(server)
        .await;
    catch_all(server).await;
}

fn first_wait(rec: &Recorder) -> Duration {
    let waits = rec.retry_waits();
    assert_eq!(waits.len(), 1, "exactly one retry: {waits:?}");
    assert_eq!(waits[0].1, RetryCause::RateLimited);
    waits[0].0
}

#[tokio::test(start_paused = true)]
async fn retry_after_seconds_is_waited_with_upward_jitter_only() {
    let server = MockServer::start().await;
    one_429_then_ok(
        &server,
        ResponseTemplate::new(429).insert_header("Retry-After", "7"),
    )
    .await;
    let (client, rec) = common::client(&server);
    let user = client.users().get("a1").await.unwrap();
    assert_eq!(user.account_id, "a1");
    let wait = first_wait(&rec);
    assert!(
        wait >= Duration::from_secs(7) && wait <= Duration::from_millis(9100),
        "{wait:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn retry_after_http_date_is_relative_to_the_clock() {
    let server = MockServer::start().await;
    // The test clock reads 2026-01-01T00:00:00Z; the server asks for 00:00:20.
    one_429_then_ok(
        &server,
        ResponseTemplate::new(429).insert_header("Retry-After", "Thu, 01 Jan 2026 00:00:20 GMT"),
    )
    .await;
    let (client, rec) = common::client(&server);
    client.users().get("a1").await.unwrap();
    let wait = first_wait(&rec);
    assert!(
        wait >= Duration::from_secs(19) && wait <= Duration::from_secs(27),
        "{wait:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn retry_after_zero_waits_a_short_minimum_not_zero() {
    let server = MockServer::start().await;
    one_429_then_ok(
        &server,
        ResponseTemplate::new(429).insert_header("Retry-After", "0"),
    )
    .await;
    let rec = Arc::new(Recorder::default());
    let retry = RetryConfig {
        initial_backoff: Duration::from_millis(100),
        min_retry_after: Duration::from_millis(500),
        ..RetryConfig::default()
    };
    let client = common::builder(&server, &rec).retry(retry).build().unwrap();
    client.users().get("a1").await.unwrap();
    let wait = first_wait(&rec);
    assert!(
        wait >= Duration::from_millis(500) && wait <= Duration::from_millis(650),
        "{wait:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn missing_retry_after_uses_x_ratelimit_reset() {
    let server = MockServer::start().await;
    one_429_then_ok(
        &server,
        ResponseTemplate::new(429)
            .insert_header("X-RateLimit-Reset", "2026-01-01T00:00:30Z")
            .insert_header("X-RateLimit-Remaining", "0"),
    )
    .await;
    let (client, rec) = common::client(&server);
    client.users().get("a1").await.unwrap();
    let wait = first_wait(&rec);
    assert!(
        wait >= Duration::from_secs(29) && wait <= Duration::from_secs(40),
        "{wait:?}"
    );
    let throttled: Vec<_> = rec
        .events()
        .into_iter()
        .filter(|e| matches!(e, Event::Throttled { .. }))
        .collect();
    assert_eq!(throttled.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn no_retry_after_and_no_reset_falls_back_to_backoff() {
    let server = MockServer::start().await;
    one_429_then_ok(&server, ResponseTemplate::new(429)).await;
    let (client, rec) = common::client(&server);
    client.users().get("a1").await.unwrap();
    let wait = first_wait(&rec);
    assert!(
        wait >= Duration::from_millis(700) && wait <= Duration::from_millis(1300),
        "{wait:?}"
    );
}

/// Request A on one endpoint class gets a 429; request B on another class starts a second later. With a quota
/// reason B must wait for the tenant's reset; with a burst reason B goes at once.
async fn scope_scenario(reason: &str) -> (Arc<Recorder>, Vec<Event>) {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/rest/api/3/user"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "30")
                .insert_header("RateLimit-Reason", reason),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/rest/api/3/user"))
        .respond_with(ok_user())
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/rest/api/3/myself"))
        .respond_with(ok_user())
        .mount(&server)
        .await;
    catch_all(&server).await;
    let (client, rec) = common::client(&server);
    let a = {
        let client = client.clone();
        tokio::spawn(async move { client.users().get("a1").await })
    };
    while rec.count(|e| matches!(e, Event::Throttled { .. })) == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    client.users().myself().await.unwrap();
    a.await.unwrap().unwrap();
    let events = rec.events();
    (rec, events)
}

#[tokio::test(start_paused = true)]
async fn quota_reason_pauses_every_request_to_the_tenant() {
    let (rec, events) = scope_scenario("jira-quota-tenant-based").await;
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Throttled {
            scope: ThrottleScope::Tenant,
            ..
        }
    )));
    let waits = rec.limiter_waits("/rest/api/3/myself");
    assert_eq!(waits.len(), 1, "{events:?}");
    assert!(
        waits[0] >= Duration::from_secs(28),
        "B waited for the tenant reset: {waits:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn burst_reason_slows_only_that_endpoint_class() {
    let (rec, events) = scope_scenario("jira-burst-based").await;
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Throttled {
            scope: ThrottleScope::Endpoint,
            ..
        }
    )));
    assert!(
        rec.limiter_waits("/rest/api/3/myself").is_empty(),
        "B was not held: {events:?}"
    );
}

#[tokio::test]
async fn post_that_timed_out_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/issue-ish"))
        .respond_with(ResponseTemplate::new(201).set_delay(Duration::from_secs(3)))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let rec = Arc::new(Recorder::default());
    let client = common::builder(&server, &rec)
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = client
        .post::<serde_json::Value, _>("/rest/api/3/issue-ish", &serde_json::json!({"a": 1}))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert!(rec.retry_waits().is_empty());
}

#[tokio::test]
async fn idempotent_get_that_timed_out_is_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/rest/api/3/user"))
        .respond_with(ok_user().set_delay(Duration::from_secs(3)))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/rest/api/3/user"))
        .respond_with(ok_user())
        .mount(&server)
        .await;
    catch_all(&server).await;
    let rec = Arc::new(Recorder::default());
    let retry = RetryConfig {
        initial_backoff: Duration::from_millis(10),
        ..RetryConfig::default()
    };
    let client = common::builder(&server, &rec)
        .timeout(Duration::from_millis(300))
        .retry(retry)
        .build()
        .unwrap();
    client.users().get("a1").await.unwrap();
    assert_eq!(rec.retry_waits().len(), 1);
    assert_eq!(rec.retry_waits()[0].1, RetryCause::Transport);
}

#[tokio::test(start_paused = true)]
async fn retries_are_bounded_in_count_with_exponential_backoff() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/rest/api/3/user"))
        .respond_with(ResponseTemplate::new(503).set_body_string("busy"))
        .expect(4)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let rec = Arc::new(Recorder::default());
    let retry = RetryConfig {
        max_retries: 3,
        ..RetryConfig::default()
    };
    let client = common::builder(&server, &rec).retry(retry).build().unwrap();
    let err = client.users().get("a1").await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    let waits: Vec<Duration> = rec.retry_waits().into_iter().map(|(w, _)| w).collect();
    assert_eq!(waits.len(), 3);
    for (i, w) in waits.iter().enumerate() {
        let base = Duration::from_secs(1 << i);
        assert!(
            *w >= base.mul_f64(0.7) && *w <= base.mul_f64(1.3),
            "wait {i} = {w:?}"
        );
    }
}

/// One 503 carrying `retry_after`, then 200; returns the retry waits the client computed and the (paused) time the
/// call took.
async fn one_503_then_ok(retry_after: &str) -> (Vec<(Duration, RetryCause)>, Duration, usize) {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/rest/api/3/user"))
        .respond_with(ResponseTemplate::new(503).insert_header("Retry-After", retry_after))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/rest/api/3/user"))
        .respond_with(ok_user())
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let (client, rec) = common::client(&server);
    let started = tokio::time::Instant::now();
    assert_eq!(client.users().get("a1").await.unwrap().account_id, "a1");
    let took = started.elapsed();
    let requests = server.received_requests().await.map_or(0, |r| r.len());
    (rec.retry_waits(), took, requests)
}

/// A 503's `Retry-After` (20 s, far above the first backoff of 1 s × at most 1.3) is honoured: the retry waits at
/// least that long, both in the wait the client computed and on tokio's clock, so neither ignoring the header nor
/// skipping the sleep passes.
#[tokio::test(start_paused = true)]
async fn a_503_retry_after_in_seconds_is_waited_before_the_retry() {
    let (waits, took, requests) = one_503_then_ok("20").await;
    assert_eq!(requests, 2, "one 503, one retry");
    assert_eq!(waits.len(), 1, "{waits:?}");
    assert_eq!(waits[0].1, RetryCause::Status(503));
    assert!(
        waits[0].0 >= Duration::from_secs(20) && waits[0].0 <= Duration::from_secs(26),
        "the wait is the server's, with upward jitter only: {waits:?}"
    );
    assert!(
        took >= Duration::from_secs(20),
        "the retry went after {took:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_503_retry_after_as_an_http_date_is_waited_before_the_retry() {
    // The test clock reads 2026-01-01T00:00:00Z; the server asks to come back at 00:00:15.
    let (waits, took, requests) = one_503_then_ok("Thu, 01 Jan 2026 00:00:15 GMT").await;
    assert_eq!(requests, 2);
    assert_eq!(waits.len(), 1, "{waits:?}");
    assert!(
        waits[0].0 >= Duration::from_secs(14) && waits[0].0 <= Duration::from_secs(20),
        "{waits:?}"
    );
    assert!(
        took >= Duration::from_secs(14),
        "the retry went after {took:?}"
    );
}

/// Real time and a record of every sleep the client asks for, which returns at once: a test can then see how long
/// the client meant to wait against a real server without waiting.
#[derive(Debug, Default)]
struct RecordingClock {
    sleeps: std::sync::Mutex<Vec<Duration>>,
}

impl Clock for RecordingClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        SystemClock.now()
    }
    fn instant(&self) -> tokio::time::Instant {
        SystemClock.instant()
    }
    fn sleep(&self, d: Duration) -> futures::future::BoxFuture<'static, ()> {
        self.sleeps.lock().unwrap().push(d);
        Box::pin(async {})
    }
}

/// The same rule against the real emulator: a fault rule answers the first `GET /myself` with 503 and
/// `Retry-After: 30`. The emulator's log shows the 503 and the retry; the client's clock was asked to sleep at
/// least 30 s between them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_retry_after_from_an_emulator_fault_rule_is_honoured() {
    let rule = FaultRule {
        method: Some("GET".into()),
        path: "/rest/api/3/myself".into(),
        status: Some(503),
        retry_after: Some(30),
        probability: 1.0,
        times: Some(1),
        delay_ms: 0,
        drop: false,
    };
    let emu = TestEmulator::start_with(
        Emulator::builder()
            .seed(Seed::Demo)
            .limits(EmulatorLimits::off())
            .faults(vec![rule]),
    )
    .await;
    let clock = Arc::new(RecordingClock::default());
    let rec = Arc::new(Recorder::default());
    let client = Client::builder()
        .site(emu.base_url.clone())
        .basic_auth(ADMIN_EMAIL, ADMIN_TOKEN)
        .clock(clock.clone())
        .jitter_seed(3)
        .observer(rec.clone())
        .build()
        .unwrap();
    let me = client.users().myself().await.unwrap();
    assert_eq!(me.email_address.as_deref(), Some(ADMIN_EMAIL));

    let log: Vec<u16> = emu
        .emu
        .log()
        .since(0, usize::MAX)
        .into_iter()
        .filter(|e| e.path.ends_with("/myself"))
        .map(|e| e.status)
        .collect();
    assert_eq!(log, [503, 200], "the emulator saw the fault and one retry");
    let waits = rec.retry_waits();
    assert_eq!(waits.len(), 1, "{waits:?}");
    assert_eq!(waits[0].1, RetryCause::Status(503));
    assert!(waits[0].0 >= Duration::from_secs(30), "{waits:?}");
    let slept = clock.sleeps.lock().unwrap().clone();
    assert!(
        slept.iter().any(|d| *d >= Duration::from_secs(30)),
        "the client slept the server's 30 s before retrying: {slept:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn total_wait_bound_fails_fast_with_rate_limited() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/rest/api/3/user"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "1847")
                .insert_header("RateLimit-Reason", "jira-quota-global-based"),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/rest/api/3/myself"))
        .respond_with(ok_user())
        .expect(0)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let (client, rec) = common::client(&server);
    let err = client.users().get("a1").await.unwrap_err();
    match err {
        Error::RateLimited {
            retry_after,
            reason,
        } => {
            assert_eq!(retry_after, Some(Duration::from_secs(1847)));
            assert_eq!(reason.as_deref(), Some("jira-quota-global-based"));
        }
        other => panic!("{other:?}"),
    }
    // The tenant is paused for longer than the bound: the next call fails without being sent.
    let err = client.users().myself().await.unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    assert!(rec.retry_waits().is_empty());
}

#[tokio::test(start_paused = true)]
async fn non_idempotent_post_is_not_retried_on_503_or_429() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/a"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/b"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let (client, rec) = common::client(&server);
    let e = client
        .post::<serde_json::Value, _>("/rest/api/3/a", &serde_json::json!({}))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(503));
    let e = client
        .post::<serde_json::Value, _>("/rest/api/3/b", &serde_json::json!({}))
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::RateLimited {
                retry_after: Some(_),
                ..
            }
        ),
        "{e:?}"
    );
    assert!(rec.retry_waits().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_post_marked_idempotent_is_retried_through_the_raw_escape_hatch() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/x"))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/x"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let (client, rec) = common::client(&server);
    let req = Request::raw(Method::POST, Surface::Product, "/rest/api/3/x").idempotent(true);
    let resp = client.send(req).await.unwrap();
    assert_eq!(resp.status, 204);
    assert_eq!(rec.retry_waits()[0].1, RetryCause::Status(502));
}

#[tokio::test(start_paused = true)]
async fn group_add_is_retried_and_already_a_member_is_success() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/group/user"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/group/user"))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "errorMessages": ["Cannot add user. User is already a member of 'jira-servicedesk-users'"], "errors": {}
        })))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let (client, _) = common::client(&server);
    let change = client
        .groups()
        .add_member(&GroupRef::name("jira-servicedesk-users"), "a1")
        .await
        .unwrap();
    assert_eq!(change, jsm_client::Change::AlreadyApplied);
}

#[tokio::test(start_paused = true)]
async fn the_limiter_learns_the_rate_from_headers_and_paces() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/rest/api/3/user"))
        .respond_with(
            ok_user()
                .insert_header("X-RateLimit-Limit", "4")
                .insert_header("X-RateLimit-Remaining", "3"),
        )
        .mount(&server)
        .await;
    catch_all(&server).await;
    let rec = Arc::new(Recorder::default());
    let limiter = LimiterConfig {
        headroom: 1.0,
        burst_fraction: 1.0,
        ..LimiterConfig::default()
    };
    let client = common::builder(&server, &rec)
        .limiter(limiter)
        .build()
        .unwrap();
    for _ in 0..12 {
        client.users().get("a1").await.unwrap();
    }
    let waited: Duration = rec.limiter_waits("/rest/api/3/user").iter().sum();
    // 4 per second learned from the first answer: the 12 calls need about 2 s of pacing.
    assert!(waited >= Duration::from_millis(1500), "{waited:?}");
}

#[tokio::test(start_paused = true)]
async fn a_401_names_the_credential() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/rest/api/3/myself"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_string("Client must be authenticated to access this resource."),
        )
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let (client, _) = common::client(&server);
    let err = client.users().myself().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Auth {
                credential: Credential::ApiToken,
                reason: AuthReason::Rejected
            }
        ),
        "{err:?}"
    );
    let scim = client.scim().get_user("x").await.unwrap_err();
    assert!(
        matches!(
            scim,
            Error::Auth {
                credential: Credential::ScimKey,
                reason: AuthReason::Missing
            }
        ),
        "{scim:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn api_errors_carry_status_body_and_request_id() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/rest/api/3/user"))
        .respond_with(
            ResponseTemplate::new(404)
                .insert_header("x-arequestid", "req-123")
                .set_body_json(serde_json::json!({"errorMessages": ["Specified user does not exist or you do not have required permissions"], "errors": {}})),
        )
        .mount(&server)
        .await;
    catch_all(&server).await;
    let (client, _) = common::client(&server);
    let err = client.users().get("nobody").await.unwrap_err();
    match &err {
        Error::Api {
            status,
            body,
            request_id,
            ..
        } => {
            assert_eq!(*status, 404);
            assert!(body.mentions("does not exist"));
            assert_eq!(request_id.as_deref(), Some("req-123"));
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("req-123"));
    let _ = epoch();
}

#[tokio::test(start_paused = true)]
async fn decode_errors_name_the_json_path() {
    let server = MockServer::start().await;
    let mut bad = user_json("a1", None);
    bad["active"] = serde_json::json!("yes");
    Mock::given(method("GET"))
        .and(path("/rest/api/3/user"))
        .respond_with(ResponseTemplate::new(200).set_body_json(bad))
        .mount(&server)
        .await;
    catch_all(&server).await;
    let (client, _) = common::client(&server);
    match client.users().get("a1").await.unwrap_err() {
        Error::Decode { path, .. } => assert_eq!(path, "active"),
        other => panic!("{other:?}"),
    }
}
