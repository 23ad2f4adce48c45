//! Bad input gets a clear error in the surface's own shape and changes nothing; random bodies and query strings
//! never make the emulator panic.

use axum::body::Body;
use axum::http::{Request, header};
use base64::Engine;
use jsm_emulator::limits::LimitConfig;
use jsm_emulator::{Emulator, Seed, app};
use jsm_testkit::{ADMIN_EMAIL, ADMIN_TOKEN, TestEmulator};
use proptest::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::support::{send, status_json};

async fn raw(
    emu: &TestEmulator,
    method: Method,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let resp = emu
        .admin(method, path)
        .header("content-type", content_type)
        .header("X-ExperimentalApi", "opt-in")
        .body(body)
        .send()
        .await
        .unwrap();
    status_json(resp).await
}

#[tokio::test]
async fn malformed_and_mistyped_json_name_the_problem() {
    let emu = TestEmulator::start().await;
    let before = emu.emu.site().accounts.len();
    let (status, body) = raw(
        &emu,
        Method::POST,
        "/rest/api/3/user",
        "application/json",
        b"{\"emailAddress\": ".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["errorMessages"][0]
            .as_str()
            .unwrap()
            .starts_with("Invalid request payload"),
        "{body}"
    );

    let (status, body) = raw(
        &emu,
        Method::POST,
        "/rest/api/3/user",
        "application/json",
        br#"{"emailAddress": "x@example.com", "products": "jira-servicedesk"}"#.to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["errorMessages"][0]
            .as_str()
            .unwrap()
            .contains("'products'"),
        "{body}"
    );

    let (status, body) = raw(
        &emu,
        Method::POST,
        "/rest/servicedeskapi/servicedesk/2/customer",
        "application/json",
        br#"{"accountIds": [1, 2]}"#.to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("accountIds[0]"),
        "JSM shape naming the path: {body}"
    );

    let (status, body) = raw(
        &emu,
        Method::POST,
        "/rest/api/3/group",
        "application/json",
        Vec::new(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["errorMessages"][0],
        "No content to map due to end-of-input"
    );

    let (status, _) = raw(
        &emu,
        Method::POST,
        "/rest/api/3/group",
        "text/plain",
        br#"{"name":"x"}"#.to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(emu.emu.site().accounts.len(), before, "nothing was written");
    assert!(emu.emu.site().find_group_by_name("x").is_none());
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let emu = TestEmulator::start_with(
        Emulator::builder()
            .limits(LimitConfig::off())
            .max_body_bytes(1024),
    )
    .await;
    let big = json!({"name": "g".repeat(4096)}).to_string().into_bytes();
    let (status, body) = raw(
        &emu,
        Method::POST,
        "/rest/api/3/group",
        "application/json",
        big.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body["errorMessages"][0].as_str().unwrap().contains("1024"));
    let (status, body) = raw(
        &emu,
        Method::POST,
        "/rest/servicedeskapi/organization",
        "application/json",
        big,
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body["errorMessage"].is_string());
}

#[tokio::test]
async fn unknown_ids_missing_and_conflicting_parameters() {
    let emu = TestEmulator::start().await;
    let cases: Vec<(Method, &str, Option<Value>, StatusCode)> = vec![
        (
            Method::GET,
            "/rest/api/3/group/member",
            None,
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::GET,
            "/rest/api/3/group/member?groupname=nope",
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            Method::GET,
            "/rest/api/3/group/member?groupname=hr-team&startAt=-1",
            None,
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::GET,
            "/rest/api/3/group/member?groupname=hr-team&maxResults=ten",
            None,
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::GET,
            "/rest/api/3/user/search",
            None,
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::GET,
            "/rest/api/3/user/search?query=a&accountId=b",
            None,
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::GET,
            "/rest/api/3/user/bulk",
            None,
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::GET,
            "/rest/api/3/user/groups?accountId=nope",
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            Method::GET,
            "/rest/api/3/group?groupId=x&groupname=hr-team",
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            Method::POST,
            "/rest/api/3/group/user?groupname=hr-team",
            Some(json!({})),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::POST,
            "/rest/api/3/group/user?groupname=hr-team",
            Some(json!({"name": "fred"})),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::POST,
            "/rest/api/3/group/user?groupname=hr-team",
            Some(json!({"accountId": "nope"})),
            StatusCode::NOT_FOUND,
        ),
        (
            Method::POST,
            "/rest/api/3/user",
            Some(json!({"emailAddress": "bad", "products": []})),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::POST,
            "/rest/api/3/user",
            Some(json!({"emailAddress": "a@b.co", "products": ["nope"]})),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::GET,
            "/rest/servicedeskapi/servicedesk/nope",
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            Method::GET,
            "/rest/servicedeskapi/organization/abc",
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            Method::GET,
            "/rest/servicedeskapi/organization/999",
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            Method::POST,
            "/rest/servicedeskapi/servicedesk/2/customer",
            Some(json!({"accountIds": []})),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::GET,
            "/rest/servicedeskapi/servicedesk?limit=x",
            None,
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::GET,
            "/rest/api/3/no/such/thing",
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            Method::GET,
            "/rest/servicedeskapi/no/such/thing",
            None,
            StatusCode::NOT_FOUND,
        ),
    ];
    for (method, path, body, expected) in cases {
        let (status, json) = status_json(send(&emu, method.clone(), path, body).await).await;
        assert_eq!(status, expected, "{method} {path}: {json}");
        let shaped = if path.starts_with("/rest/servicedeskapi") {
            json["errorMessage"].is_string()
        } else {
            json["errorMessages"].is_array() && json["errors"].is_object()
        };
        assert!(
            shaped,
            "{method} {path} answered in the wrong shape: {json}"
        );
    }
}

fn endpoints() -> Vec<(&'static str, &'static str)> {
    vec![
        ("GET", "/rest/api/3/user"),
        ("POST", "/rest/api/3/user"),
        ("DELETE", "/rest/api/3/user"),
        ("GET", "/rest/api/3/user/search"),
        ("GET", "/rest/api/3/users/search"),
        ("GET", "/rest/api/3/user/bulk"),
        ("GET", "/rest/api/3/user/groups"),
        ("POST", "/rest/api/3/group"),
        ("DELETE", "/rest/api/3/group"),
        ("GET", "/rest/api/3/group"),
        ("GET", "/rest/api/3/group/bulk"),
        ("GET", "/rest/api/3/group/member"),
        ("POST", "/rest/api/3/group/user"),
        ("DELETE", "/rest/api/3/group/user"),
        ("GET", "/rest/api/3/groups/picker"),
        ("POST", "/rest/servicedeskapi/customer"),
        ("GET", "/rest/servicedeskapi/servicedesk"),
        ("GET", "/rest/servicedeskapi/servicedesk/2/customer"),
        ("POST", "/rest/servicedeskapi/servicedesk/2/customer"),
        ("DELETE", "/rest/servicedeskapi/servicedesk/2/customer"),
        ("GET", "/rest/servicedeskapi/organization"),
        ("POST", "/rest/servicedeskapi/organization"),
        ("POST", "/rest/servicedeskapi/organization/1/user"),
        ("POST", "/rest/servicedeskapi/servicedesk/1/organization"),
        ("PUT", "/_emulator/faults"),
        ("PUT", "/_emulator/state"),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[a-z@.:\\- ]{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("name".to_string()),
                    Just("emailAddress".to_string()),
                    Just("products".to_string()),
                    Just("accountId".to_string()),
                    Just("accountIds".to_string()),
                    Just("organizationId".to_string()),
                    Just("email".to_string()),
                    Just("displayName".to_string()),
                    Just("rules".to_string()),
                    "[a-z]{1,6}",
                ],
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn body_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        json_value().prop_map(|v| v.to_string().into_bytes()),
        prop::collection::vec(any::<u8>(), 0..64),
    ]
}

fn query() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("accountId"),
        Just("groupname"),
        Just("groupId"),
        Just("startAt"),
        Just("maxResults"),
        Just("start"),
        Just("limit"),
        Just("query"),
        Just("expand"),
        Just("includeInactiveUsers"),
        Just("strictConflictStatusCode"),
        Just("swapGroup"),
    ];
    let value = prop_oneof![
        "[ -~]{0,10}",
        any::<i64>().prop_map(|n| n.to_string()),
        Just("users[3:1]".to_string()),
        Just("hr-team".to_string()),
        Just("TRUE".to_string()),
    ];
    prop::collection::vec((key, value), 0..5).prop_map(|pairs| {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            s.append_pair(k, &v);
        }
        s.finish()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_bodies_and_queries_never_panic(
        endpoint in prop::sample::select(endpoints()),
        q in query(),
        body in body_bytes(),
        as_admin in any::<bool>(),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let status = rt.block_on(async {
            let emu = Emulator::builder().seed(Seed::Empty).limits(LimitConfig::off()).log_capacity(0)
                .admin(ADMIN_EMAIL, ADMIN_TOKEN).build();
            let (method, path) = endpoint;
            let mut req = Request::builder()
                .method(method)
                .uri(format!("{path}?{q}"))
                .header(header::CONTENT_TYPE, "application/json")
                .header("X-ExperimentalApi", "opt-in");
            req = if path.starts_with("/_emulator") {
                req.header(header::AUTHORIZATION, format!("Bearer {ADMIN_TOKEN}"))
            } else if as_admin {
                let basic = base64::engine::general_purpose::STANDARD.encode(format!("{ADMIN_EMAIL}:{ADMIN_TOKEN}"));
                req.header(header::AUTHORIZATION, format!("Basic {basic}"))
            } else {
                req
            };
            let resp = app(emu).oneshot(req.body(Body::from(body)).unwrap()).await.unwrap();
            resp.status()
        });
        prop_assert!(status.as_u16() < 500, "{} {}?{} -> {}", endpoint.0, endpoint.1, q, status);
    }
}
