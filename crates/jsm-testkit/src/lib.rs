//! Test kit: boots a real emulator on `127.0.0.1:0` in the test's runtime and hands back its base URL,
//! credentials and a ready HTTP client. Dropping it stops the server.

use jsm_emulator::limits::LimitConfig;
use jsm_emulator::{Emulator, EmulatorBuilder, Seed};
use reqwest::{Method, RequestBuilder};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// Email of the site administrator in every testkit emulator.
pub const ADMIN_EMAIL: &str = "admin@example.com";
/// API token of that administrator; also the control-plane Bearer token.
pub const ADMIN_TOKEN: &str = "testkit-admin-token";

/// A running emulator for one test.
pub struct TestEmulator {
    /// Handle on the emulator's state, for assertions that look behind the API.
    pub emu: Emulator,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// A plain HTTP client.
    pub http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
}

impl TestEmulator {
    /// The demo site with rate limits off.
    pub async fn start() -> Self {
        Self::start_with(
            Emulator::builder()
                .seed(Seed::Demo)
                .limits(LimitConfig::off()),
        )
        .await
    }

    /// An emulator from `builder`; the admin credentials are always the testkit's.
    pub async fn start_with(builder: EmulatorBuilder) -> Self {
        let emu = builder.admin(ADMIN_EMAIL, ADMIN_TOKEN).build();
        let listener = match TcpListener::bind("127.0.0.1:0").await {
            Ok(l) => l,
            Err(e) => panic!("testkit: cannot bind a loopback port: {e}"),
        };
        let base_url = match listener.local_addr() {
            Ok(a) => format!("http://{a}"),
            Err(e) => panic!("testkit: no local address: {e}"),
        };
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(jsm_emulator::serve(listener, emu.clone(), async {
            let _ = stopped.await;
        }));
        Self {
            emu,
            base_url,
            http: reqwest::Client::new(),
            stop: Some(stop),
        }
    }

    /// `base_url` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// A request as the site administrator (Basic auth).
    pub fn admin(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, self.url(path))
            .basic_auth(ADMIN_EMAIL, Some(ADMIN_TOKEN))
    }

    /// A request with Basic credentials of another account.
    pub fn as_user(&self, method: Method, path: &str, email: &str, token: &str) -> RequestBuilder {
        self.http
            .request(method, self.url(path))
            .basic_auth(email, Some(token))
    }

    /// A control-plane call; panics on failure, since a test cannot go on without it.
    pub async fn control(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self
            .http
            .request(method, self.url(&format!("/_emulator{path}")))
            .bearer_auth(ADMIN_TOKEN);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => panic!("testkit: control plane {path}: {e}"),
        };
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        assert!(
            status.is_success(),
            "control plane {path} answered {status}: {text}"
        );
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// Issues an API token for the account with `email` and returns it.
    pub async fn token_for(&self, email: &str) -> String {
        let answer = self
            .control(
                Method::POST,
                "/tokens",
                Some(serde_json::json!({ "email": email })),
            )
            .await;
        answer["token"].as_str().unwrap_or_default().to_string()
    }
}

impl Drop for TestEmulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
