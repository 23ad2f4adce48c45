//! OAuth 2.0 (3LO) over real HTTP: consent, code exchange, rotating refresh tokens with the reuse leeway and
//! family death, expiry on the emulator clock, the gateway, per-operation scopes and scoped API tokens.

use jsm_emulator::clock::Clock;
use jsm_emulator::limits::LimitConfig;
use jsm_emulator::{Emulator, Seed};
use jsm_testkit::{ADMIN_EMAIL, TestEmulator};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::status_json;

const T0: i64 = 1_790_000_000_000;
const MINUTE: i64 = 60_000;
const DAY: i64 = 24 * 60 * MINUTE;
const ALL_SCOPES: &str = "read:jira-user manage:jira-configuration offline_access";
const REDIRECT: &str = "http://127.0.0.1:9/callback";

async fn start() -> TestEmulator {
    TestEmulator::start_with(
        Emulator::builder()
            .seed(Seed::Demo)
            .limits(LimitConfig::off())
            .clock(Clock::frozen(T0)),
    )
    .await
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn client_id(emu: &TestEmulator) -> String {
    emu.emu.config().oauth.client_id.clone()
}

fn client_secret(emu: &TestEmulator) -> String {
    emu.emu.config().oauth.client_secret.expose().to_string()
}

async fn token_call(emu: &TestEmulator, body: Value) -> (StatusCode, Value) {
    status_json(
        emu.http
            .post(emu.url("/oauth/token"))
            .json(&body)
            .send()
            .await
            .expect("token endpoint"),
    )
    .await
}

async fn refresh(emu: &TestEmulator, refresh_token: &str) -> (StatusCode, Value) {
    token_call(
        emu,
        json!({
            "grant_type": "refresh_token",
            "client_id": client_id(emu),
            "client_secret": client_secret(emu),
            "refresh_token": refresh_token,
        }),
    )
    .await
}

async fn myself(emu: &TestEmulator, access_token: &str) -> (StatusCode, Value) {
    status_json(
        emu.gateway(Method::GET, "/rest/api/3/myself", access_token)
            .send()
            .await
            .expect("myself"),
    )
    .await
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

fn assert_invalid_grant(status: StatusCode, body: &Value) {
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        body,
        &json!({"error": "invalid_grant", "error_description": "Unknown or invalid refresh token."})
    );
}

#[tokio::test]
async fn full_flow_three_refreshes_then_a_replay_kills_the_family() {
    let emu = start().await;
    // Consent: the emulator redirects with the code and our state.
    let resp = no_redirects()
        .get(emu.url("/authorize"))
        .query(&[
            ("audience", "api.atlassian.com"),
            ("client_id", client_id(&emu).as_str()),
            ("scope", ALL_SCOPES),
            ("redirect_uri", "http://127.0.0.1:9/callback?app=1"),
            ("state", "s-42"),
            ("response_type", "code"),
            ("prompt", "consent"),
        ])
        .send()
        .await
        .expect("authorize");
    assert_eq!(resp.status(), StatusCode::FOUND);
    let location = resp.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_string();
    let location = reqwest::Url::parse(&location).expect("absolute redirect");
    assert_eq!(location.path(), "/callback");
    let query: std::collections::HashMap<String, String> =
        location.query_pairs().into_owned().collect();
    assert_eq!(query.get("state").map(String::as_str), Some("s-42"));
    assert_eq!(query.get("app").map(String::as_str), Some("1"));
    let code = query.get("code").cloned().expect("code");

    // Code exchange.
    let (status, tokens) = token_call(
        &emu,
        json!({
            "grant_type": "authorization_code",
            "client_id": client_id(&emu),
            "client_secret": client_secret(&emu),
            "code": code,
            "redirect_uri": "http://127.0.0.1:9/callback?app=1",
        }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(tokens["expires_in"], 3600);
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], ALL_SCOPES);
    let mut access = text(&tokens, "access_token");
    let first_refresh = text(&tokens, "refresh_token");
    assert!(!access.is_empty() && !first_refresh.is_empty());

    // The code is single use.
    let (status, body) = token_call(
        &emu,
        json!({
            "grant_type": "authorization_code",
            "client_id": client_id(&emu),
            "client_secret": client_secret(&emu),
            "code": code,
            "redirect_uri": "http://127.0.0.1:9/callback?app=1",
        }),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"], "invalid_grant");

    // Accessible resources name the site and the granted scopes.
    let (status, resources) = status_json(
        emu.http
            .get(emu.url("/oauth/token/accessible-resources"))
            .bearer_auth(&access)
            .send()
            .await
            .expect("resources"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(resources[0]["id"], emu.cloud_id().as_str());
    assert_eq!(resources[0]["url"], emu.base_url.as_str());
    assert_eq!(
        resources[0]["scopes"],
        json!(["read:jira-user", "manage:jira-configuration"])
    );
    assert!(resources[0]["avatarUrl"].is_string());

    // The access token works through the gateway as the consenting user.
    let (status, me) = myself(&emu, &access).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["emailAddress"], ADMIN_EMAIL);

    // Three refreshes, each rotating the refresh token.
    let mut used = vec![first_refresh.clone()];
    for round in 1..=3 {
        emu.emu.clock().advance(MINUTE);
        let current = used.last().cloned().unwrap_or_default();
        let (status, next) = refresh(&emu, &current).await;
        assert_eq!(status, StatusCode::OK, "refresh {round}: {next}");
        let new_refresh = text(&next, "refresh_token");
        assert!(
            !used.contains(&new_refresh),
            "refresh {round} did not rotate"
        );
        assert_ne!(text(&next, "access_token"), access);
        access = text(&next, "access_token");
        assert_eq!(myself(&emu, &access).await.0, StatusCode::OK);
        used.push(new_refresh);
    }

    // Past the 10-minute leeway, replaying the first refresh token fails and kills the family.
    emu.emu.clock().advance(11 * MINUTE);
    let (status, body) = refresh(&emu, &first_refresh).await;
    assert_invalid_grant(status, &body);
    let newest = used.last().cloned().unwrap_or_default();
    let (status, body) = refresh(&emu, &newest).await;
    assert_invalid_grant(status, &body);
    // Access tokens already issued live on until they expire.
    assert_eq!(myself(&emu, &access).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_rotated_token_still_works_inside_the_leeway() {
    let emu = start().await;
    let tokens = emu.oauth_tokens(ALL_SCOPES).await;
    let r1 = text(&tokens, "refresh_token");
    let (status, second) = refresh(&emu, &r1).await;
    assert_eq!(status, StatusCode::OK);
    emu.emu.clock().advance(10 * MINUTE);
    let (status, again) = refresh(&emu, &r1).await;
    assert_eq!(status, StatusCode::OK, "inside the leeway: {again}");
    // Both descendants are live: a retried refresh does not lock the client out.
    assert_eq!(
        refresh(&emu, &text(&second, "refresh_token")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        refresh(&emu, &text(&again, "refresh_token")).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn access_tokens_live_one_hour() {
    let emu = start().await;
    let tokens = emu.oauth_tokens("read:jira-user").await;
    assert!(
        tokens.get("refresh_token").is_none(),
        "no offline_access, no refresh token"
    );
    let access = text(&tokens, "access_token");
    emu.emu.clock().advance(60 * MINUTE - 1000);
    assert_eq!(myself(&emu, &access).await.0, StatusCode::OK);
    emu.emu.clock().advance(1000);
    let (status, body) = myself(&emu, &access).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, _) = status_json(
        emu.http
            .get(emu.url("/oauth/token/accessible-resources"))
            .bearer_auth(&access)
            .send()
            .await
            .expect("resources"),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn refresh_tokens_die_after_90_idle_days() {
    let emu = start().await;
    let tokens = emu.oauth_tokens(ALL_SCOPES).await;
    let mut token = text(&tokens, "refresh_token");
    // Used within 90 days: fine, and the clock restarts with the new token.
    emu.emu.clock().advance(89 * DAY);
    let (status, next) = refresh(&emu, &token).await;
    assert_eq!(status, StatusCode::OK);
    token = text(&next, "refresh_token");
    emu.emu.clock().advance(90 * DAY);
    let (status, body) = refresh(&emu, &token).await;
    assert_invalid_grant(status, &body);
}

#[tokio::test]
async fn refresh_tokens_die_365_days_after_consent() {
    let emu = start().await;
    let tokens = emu.oauth_tokens(ALL_SCOPES).await;
    let mut token = text(&tokens, "refresh_token");
    let mut elapsed = 0;
    while elapsed + 80 * DAY < 365 * DAY {
        emu.emu.clock().advance(80 * DAY);
        elapsed += 80 * DAY;
        let (status, next) = refresh(&emu, &token).await;
        assert_eq!(status, StatusCode::OK, "day {}", elapsed / DAY);
        token = text(&next, "refresh_token");
    }
    emu.emu.clock().advance(365 * DAY - elapsed);
    let (status, body) = refresh(&emu, &token).await;
    assert_invalid_grant(status, &body);
}

#[tokio::test]
async fn api_tokens_expire_on_the_emulator_clock() {
    let emu = start().await;
    let answer = emu
        .control(
            Method::POST,
            "/tokens",
            Some(json!({"email": ADMIN_EMAIL, "expiresInDays": 365})),
        )
        .await;
    let token = text(&answer, "token");
    let call = || {
        emu.as_user(Method::GET, "/rest/api/3/myself", ADMIN_EMAIL, &token)
            .send()
    };
    assert_eq!(call().await.expect("myself").status(), StatusCode::OK);
    emu.emu.clock().advance(365 * DAY - 1000);
    assert_eq!(call().await.expect("myself").status(), StatusCode::OK);
    emu.emu.clock().advance(1000);
    assert_eq!(
        call().await.expect("myself").status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn bearer_tokens_work_only_through_the_gateway_of_this_site() {
    let emu = start().await;
    let access = text(&emu.oauth_tokens("read:jira-user").await, "access_token");
    let site = emu
        .http
        .get(emu.url("/rest/api/3/myself"))
        .bearer_auth(&access)
        .send()
        .await
        .expect("site");
    assert_eq!(site.status(), StatusCode::UNAUTHORIZED);
    let other = emu
        .http
        .get(emu.url("/ex/jira/00000000-0000-4000-8000-000000000000/rest/api/3/myself"))
        .bearer_auth(&access)
        .send()
        .await
        .expect("other site");
    assert_eq!(other.status(), StatusCode::UNAUTHORIZED);
    let (status, _) = status_json(
        emu.gateway(Method::GET, "/rest/api/3/myself", "not-a-token")
            .send()
            .await
            .expect("bad token"),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn scopes_are_enforced_per_operation() {
    let emu = start().await;
    let access = text(&emu.oauth_tokens("read:jira-user").await, "access_token");
    let agent = crate::support::demo_people(&emu).0[0].clone();
    let agent_id = crate::support::account_id(&emu, &agent);
    let (status, _) = status_json(
        emu.gateway(
            Method::GET,
            &format!("/rest/api/3/user?accountId={agent_id}"),
            &access,
        )
        .send()
        .await
        .expect("user"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for (method, path) in [
        (Method::POST, "/rest/api/3/group"),
        (
            Method::GET,
            "/rest/api/2/group/member?groupname=jira-administrators",
        ),
        (Method::GET, "/rest/servicedeskapi/servicedesk"),
        (Method::GET, "/rest/api/3/webhook"),
    ] {
        let (status, body) = status_json(
            emu.gateway(method.clone(), path, &access)
                .json(&json!({"name": "x"}))
                .send()
                .await
                .expect("call"),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}");
        assert_eq!(
            body,
            json!({"code": 401, "message": "Unauthorized; scope does not match"})
        );
    }
    // A broader grant opens the JSM operations.
    let access = text(
        &emu.oauth_tokens("read:servicedesk-request manage:servicedesk-customer")
            .await,
        "access_token",
    );
    let (status, _) = status_json(
        emu.gateway(Method::GET, "/rest/servicedeskapi/servicedesk", &access)
            .send()
            .await
            .expect("desks"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn scoped_api_tokens_work_only_through_the_gateway() {
    let emu = start().await;
    let answer = emu
        .control(
            Method::POST,
            "/tokens",
            Some(json!({"email": ADMIN_EMAIL, "scoped": true, "scopes": ["read:jira-user"]})),
        )
        .await;
    assert_eq!(answer["scoped"], true);
    let token = text(&answer, "token");
    let (status, body) = status_json(
        emu.as_user(Method::GET, "/rest/api/3/myself", ADMIN_EMAIL, &token)
            .send()
            .await
            .expect("site"),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body["errorMessages"][0],
        "Client must be authenticated to access this resource."
    );
    let through_gateway = emu
        .http
        .get(emu.gateway_url("/rest/api/3/myself"))
        .basic_auth(ADMIN_EMAIL, Some(&token))
        .send()
        .await
        .expect("gateway");
    assert_eq!(through_gateway.status(), StatusCode::OK);
    let (status, body) = status_json(
        emu.http
            .post(emu.gateway_url("/rest/api/3/group"))
            .basic_auth(ADMIN_EMAIL, Some(&token))
            .json(&json!({"name": "scoped-group"}))
            .send()
            .await
            .expect("gateway"),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["message"], "Unauthorized; scope does not match");
    // Classic tokens keep working at the site URL.
    let classic = emu
        .admin(Method::GET, "/rest/api/3/myself")
        .send()
        .await
        .expect("site");
    assert_eq!(classic.status(), StatusCode::OK);
}

#[tokio::test]
async fn scoped_token_requests_are_validated() {
    let emu = start().await;
    for (body, field) in [
        (json!({"email": ADMIN_EMAIL, "scoped": true}), "scopes"),
        (
            json!({"email": ADMIN_EMAIL, "scoped": true, "scopes": ["admin"]}),
            "scopes",
        ),
        (
            json!({"email": ADMIN_EMAIL, "scopes": ["read:jira-user"]}),
            "scopes",
        ),
    ] {
        let resp = emu
            .http
            .post(emu.url("/_emulator/tokens"))
            .bearer_auth(jsm_testkit::ADMIN_TOKEN)
            .json(&body)
            .send()
            .await
            .expect("tokens");
        let (status, answer) = status_json(resp).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            answer["error"].as_str().unwrap_or_default().contains(field),
            "{answer}"
        );
    }
}

#[tokio::test]
async fn authorize_refuses_bad_requests_clearly() {
    let emu = start().await;
    let http = no_redirects();
    let authorize =
        |pairs: Vec<(&'static str, String)>| http.get(emu.url("/authorize")).query(&pairs).send();
    let id = client_id(&emu);
    let good = |extra: Vec<(&'static str, String)>| {
        let mut pairs = vec![
            ("client_id", id.clone()),
            ("redirect_uri", REDIRECT.to_string()),
            ("response_type", "code".to_string()),
            ("scope", "read:jira-user".to_string()),
            ("state", "st".to_string()),
        ];
        for (k, v) in extra {
            pairs.retain(|(key, _)| *key != k);
            pairs.push((k, v));
        }
        pairs
    };
    // Problems with the client or the redirect URI: a 400, no redirect.
    for pairs in [
        good(vec![("client_id", "nobody".into())]),
        good(vec![("redirect_uri", "not a url".into())]),
        good(vec![("redirect_uri", "".into())]),
    ] {
        let resp = authorize(pairs).await.expect("authorize");
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        let body: Value = resp.json().await.expect("json");
        assert!(body["error"].is_string() && body["error_description"].is_string());
    }
    // Other problems go back to the app as error= with the state.
    for (extra, error) in [
        (
            vec![("response_type", "token".to_string())],
            "unsupported_response_type",
        ),
        (
            vec![("scope", "read:jira-user delete:everything".to_string())],
            "invalid_scope",
        ),
        (vec![("scope", "".to_string())], "invalid_scope"),
        (
            vec![("audience", "example.com".to_string())],
            "invalid_request",
        ),
    ] {
        let resp = authorize(good(extra)).await.expect("authorize");
        assert_eq!(resp.status(), StatusCode::FOUND);
        let location = resp.headers()["location"]
            .to_str()
            .expect("ascii")
            .to_string();
        let url = reqwest::Url::parse(&location).expect("url");
        let pairs: std::collections::HashMap<String, String> =
            url.query_pairs().into_owned().collect();
        assert_eq!(
            pairs.get("error").map(String::as_str),
            Some(error),
            "{location}"
        );
        assert_eq!(pairs.get("state").map(String::as_str), Some("st"));
        assert!(!pairs.contains_key("code"));
    }
}

#[tokio::test]
async fn the_token_endpoint_refuses_bad_requests_clearly() {
    let emu = start().await;
    let id = client_id(&emu);
    let secret = client_secret(&emu);
    for (body, status, error) in [
        (json!({}), 400, "invalid_request"),
        (
            json!({"grant_type": "password", "client_id": id, "client_secret": secret}),
            400,
            "unsupported_grant_type",
        ),
        (
            json!({"grant_type": "refresh_token", "client_id": id}),
            400,
            "invalid_request",
        ),
        (
            json!({"grant_type": "refresh_token", "client_id": id, "client_secret": "wrong", "refresh_token": "x"}),
            401,
            "invalid_client",
        ),
        (
            json!({"grant_type": "refresh_token", "client_id": id, "client_secret": secret, "refresh_token": "x"}),
            403,
            "invalid_grant",
        ),
        (
            json!({"grant_type": "authorization_code", "client_id": id, "client_secret": secret, "code": "x", "redirect_uri": REDIRECT}),
            403,
            "invalid_grant",
        ),
        (
            json!({"grant_type": "authorization_code", "client_id": id, "client_secret": secret, "redirect_uri": REDIRECT}),
            400,
            "invalid_request",
        ),
        (json!({"grant_type": 5}), 400, "invalid_request"),
    ] {
        let (got, answer) = token_call(&emu, body.clone()).await;
        assert_eq!(got.as_u16(), status, "{body}: {answer}");
        assert_eq!(answer["error"], error, "{body}");
        assert!(answer["error_description"].is_string());
    }
    for raw in ["", "{", "[1,2]", "null"] {
        let (status, answer) = status_json(
            emu.http
                .post(emu.url("/oauth/token"))
                .header("content-type", "application/json")
                .body(raw)
                .send()
                .await
                .expect("token"),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{raw:?}");
        assert_eq!(answer["error"], "invalid_request");
    }
}

#[tokio::test]
async fn the_token_endpoint_takes_form_bodies_and_basic_client_auth() {
    let emu = start().await;
    let code = emu.oauth_code(ALL_SCOPES, REDIRECT).await;
    let form = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}",
        form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
    );
    let (status, tokens) = status_json(
        emu.http
            .post(emu.url("/oauth/token"))
            .basic_auth(client_id(&emu), Some(client_secret(&emu)))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .expect("token"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert!(tokens["refresh_token"].is_string());
}

#[tokio::test]
async fn extra_apps_can_be_registered_and_codes_are_bound_to_their_app() {
    let emu = start().await;
    emu.control(
        Method::POST,
        "/oauth/apps",
        Some(json!({"clientId": "other-app", "clientSecret": "other-secret"})),
    )
    .await;
    let code = emu.oauth_code(ALL_SCOPES, REDIRECT).await;
    let (status, body) = token_call(
        &emu,
        json!({
            "grant_type": "authorization_code",
            "client_id": "other-app",
            "client_secret": "other-secret",
            "code": code,
            "redirect_uri": REDIRECT,
        }),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "another app's code: {body}");
}

#[tokio::test]
async fn deactivated_users_lose_oauth_access() {
    let emu = start().await;
    let tokens = emu.oauth_tokens(ALL_SCOPES).await;
    {
        let mut site = emu.emu.site_mut();
        let key = site.find_by_email(ADMIN_EMAIL).expect("admin");
        site.account_mut(key).active = false;
    }
    assert_eq!(
        myself(&emu, &text(&tokens, "access_token")).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, body) = refresh(&emu, &text(&tokens, "refresh_token")).await;
    assert_invalid_grant(status, &body);
}

#[tokio::test]
async fn secrets_stay_out_of_debug_output() {
    let emu = start().await;
    let tokens = emu.oauth_tokens(ALL_SCOPES).await;
    let debug = format!("{:?} {:?}", emu.emu.site().oauth, emu.emu.config());
    for secret in [
        text(&tokens, "access_token"),
        text(&tokens, "refresh_token"),
        client_secret(&emu),
    ] {
        assert!(
            !debug.contains(&secret),
            "a secret leaked into Debug output"
        );
    }
}
