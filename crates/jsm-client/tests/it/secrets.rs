//! Secrets never reach `Debug`, logs or errors: every credential kind is configured with a recognisable value,
//! requests fail and retry in every way, and the formatted client, builder, errors, events and captured TRACE logs
//! are searched for each value (and for the Basic header's base64 form).

use std::io::Write;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use jsm_client::{Client, MemoryTokenStore, OAuthConfig, TokenSet, TokioClock};
use secrecy::SecretString;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{Recorder, catch_all, epoch};

const SECRETS: &[&str] = &[
    "BASIC-SECRET-1",
    "SCIM-SECRET-2",
    "ADMIN-SECRET-3",
    "CLIENT-SECRET-4",
    "ACCESS-SECRET-5",
    "REFRESH-SECRET-6",
    "ACCESS-SECRET-7",
    "REFRESH-SECRET-8",
];

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

/// The process-wide log buffer. A global subscriber (not a thread-local one) so that callsite interest cached by
/// other tests running in parallel cannot hide events from this test.
fn global_logs() -> Buffer {
    static LOGS: std::sync::OnceLock<Buffer> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Buffer::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        logs
    })
    .clone()
}

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn assert_clean(what: &str, text: &str) {
    let basic =
        base64::engine::general_purpose::STANDARD.encode("admin@example.com:BASIC-SECRET-1");
    for s in SECRETS.iter().copied().chain([basic.as_str()]) {
        assert!(!text.contains(s), "{what} leaks {s}:\n{text}");
    }
}

#[tokio::test(start_paused = true)]
async fn secrets_never_reach_debug_logs_or_errors() {
    let logs = global_logs();

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "ACCESS-SECRET-7", "refresh_token": "REFRESH-SECRET-8", "expires_in": 3600})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/ex/jira/c1/rest/api/3/myself"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/ex/jira/c1/rest/api/3/myself"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_string("Client must be authenticated to access this resource."),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/scim/directory/d1/Users/x"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"error": "Missing authorization header", "traceId": "t1"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/admin/v1/orgs/o1/users"))
        .respond_with(ResponseTemplate::new(500).set_body_string("boom"))
        .mount(&server)
        .await;
    catch_all(&server).await;

    let store = Arc::new(MemoryTokenStore::new(Some(TokenSet {
        access_token: SecretString::from("ACCESS-SECRET-5".to_string()),
        refresh_token: Some(SecretString::from("REFRESH-SECRET-6".to_string())),
        expires_at: epoch(),
        scope: None,
    })));
    let oauth = OAuthConfig::new("client-1", "CLIENT-SECRET-4", store.clone());
    let recorder = Arc::new(Recorder::default());
    let builder = Client::builder()
        .gateway("c1")
        .api_url(server.uri())
        .auth_url(server.uri())
        .basic_auth("admin@example.com", "BASIC-SECRET-1")
        .oauth(oauth.clone())
        .scim("d1", "SCIM-SECRET-2")
        .org_admin("o1", "ADMIN-SECRET-3")
        .retry(jsm_client::RetryConfig {
            max_retries: 1,
            ..Default::default()
        })
        .clock(Arc::new(TokioClock::starting_at(epoch())))
        .jitter_seed(1)
        .no_timeouts()
        .observer(recorder.clone());
    assert_clean("builder Debug", &format!("{builder:?}"));
    let client = builder.build().unwrap();
    assert_clean("client Debug", &format!("{client:?} {client:#?}"));
    assert_clean("OAuthConfig Debug", &format!("{oauth:?}"));

    let mut errors = Vec::new();
    errors.push(client.users().myself().await.unwrap_err());
    errors.push(client.scim().get_user("x").await.unwrap_err());
    errors.push(client.admin().users().unwrap().all().await.unwrap_err());
    for e in &errors {
        assert_clean("error", &format!("{e} {e:?}"));
    }
    assert_clean("token store Debug", &format!("{:?}", store.current()));
    assert_clean("events", &format!("{:?}", recorder.events()));
    let captured = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        captured.contains("throttled"),
        "logs were captured: {captured}"
    );
    assert_clean("logs", &captured);
    let proto = jsm_proto::oauth::TokenResponse {
        access_token: "ACCESS-SECRET-5".into(),
        refresh_token: Some("REFRESH-SECRET-6".into()),
        expires_in: 1,
        scope: None,
        token_type: None,
    };
    assert_clean("TokenResponse Debug", &format!("{proto:?}"));
}
