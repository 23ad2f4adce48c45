//! Shared helpers: a client pointed at a wiremock server with a paused-time clock, an event recorder, and a
//! catch-all mock so an unexpected request fails readably.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use jsm_client::{Client, ClientBuilder, Event, Observer, RetryCause, TokioClock};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The wall time every test clock starts at.
pub fn epoch() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or_default()
}

/// Records every event.
#[derive(Debug, Default)]
pub struct Recorder(Mutex<Vec<Event>>);

impl Observer for Recorder {
    fn on_event(&self, event: &Event) {
        self.0.lock().unwrap().push(event.clone());
    }
}

impl Recorder {
    pub fn events(&self) -> Vec<Event> {
        self.0.lock().unwrap().clone()
    }

    /// Waits before each retry, in order.
    pub fn retry_waits(&self) -> Vec<(Duration, RetryCause)> {
        self.events()
            .into_iter()
            .filter_map(|e| match e {
                Event::Retrying { wait, cause, .. } => Some((wait, cause)),
                _ => None,
            })
            .collect()
    }

    /// Limiter waits of one endpoint class.
    pub fn limiter_waits(&self, class: &str) -> Vec<Duration> {
        self.events()
            .into_iter()
            .filter_map(|e| match e {
                Event::LimiterWait { class: c, wait } if c == class => Some(wait),
                _ => None,
            })
            .collect()
    }

    pub fn count(&self, pred: impl Fn(&Event) -> bool) -> usize {
        self.events().iter().filter(|e| pred(e)).count()
    }
}

/// A builder for `server` with Basic auth, a seeded jitter, a clock on tokio's (paused) time and no timeouts.
pub fn builder(server: &MockServer, recorder: &Arc<Recorder>) -> ClientBuilder {
    Client::builder()
        .site(server.uri())
        .api_url(server.uri())
        .auth_url(server.uri())
        .basic_auth("admin@example.com", "s3cr3t-api-token")
        .clock(Arc::new(TokioClock::starting_at(epoch())))
        .jitter_seed(42)
        .no_timeouts()
        .observer(recorder.clone())
}

/// A client for `server` and its recorder.
pub fn client(server: &MockServer) -> (Client, Arc<Recorder>) {
    let recorder = Arc::new(Recorder::default());
    let client = builder(server, &recorder).build().unwrap();
    (client, recorder)
}

/// Lowest-priority mock answering 418, so a request no test expected fails with a readable error.
pub async fn catch_all(server: &MockServer) {
    Mock::given(any())
        .respond_with(ResponseTemplate::new(418).set_body_json(serde_json::json!({
            "errorMessages": ["unexpected request: no mock matched"], "errors": {}
        })))
        .with_priority(u8::MAX)
        .mount(server)
        .await;
}

/// A Jira user JSON object.
pub fn user_json(id: &str, email: Option<&str>) -> serde_json::Value {
    let mut u = serde_json::json!({
        "self": format!("http://x/rest/api/3/user?accountId={id}"),
        "accountId": id,
        "accountType": "atlassian",
        "displayName": format!("User {id}"),
        "active": true
    });
    if let Some(e) = email {
        u["emailAddress"] = serde_json::json!(e);
    }
    u
}

/// A JSM customer JSON object.
pub fn customer_json(id: &str) -> serde_json::Value {
    serde_json::json!({
        "accountId": id, "displayName": format!("Customer {id}"), "emailAddress": format!("{id}@example.com"),
        "active": true, "_links": {"jiraRest": "", "avatarUrls": {}, "self": ""}
    })
}
