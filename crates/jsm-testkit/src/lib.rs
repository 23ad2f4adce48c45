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

    /// A SCIM request for `path` under `/scim/directory/{directoryId}`, with the directory's Bearer key.
    pub fn scim(&self, method: Method, path: &str) -> RequestBuilder {
        let identity = &self.emu.config().identity;
        self.http
            .request(
                method,
                self.url(&format!("/scim/directory/{}{path}", identity.directory_id)),
            )
            .bearer_auth(&identity.scim_token)
    }

    /// An organizations admin API request for `path` under `/admin/v1/orgs/{orgId}`, with the org API key.
    pub fn org(&self, method: Method, path: &str) -> RequestBuilder {
        let identity = &self.emu.config().identity;
        self.http
            .request(
                method,
                self.url(&format!("/admin/v1/orgs/{}{path}", identity.org_id)),
            )
            .bearer_auth(&identity.org_api_key)
    }

    /// The directory's SCIM API key.
    pub fn scim_token(&self) -> String {
        self.emu.config().identity.scim_token.clone()
    }

    /// The organization API key.
    pub fn org_key(&self) -> String {
        self.emu.config().identity.org_api_key.clone()
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

    /// The site's cloud id (the gateway is `/ex/jira/{cloudId}`).
    pub fn cloud_id(&self) -> String {
        self.emu.config().oauth.cloud_id.clone()
    }

    /// `base_url` + `/ex/jira/{cloudId}` + `path`: the OAuth and scoped-token gateway.
    pub fn gateway_url(&self, path: &str) -> String {
        format!("{}/ex/jira/{}{path}", self.base_url, self.cloud_id())
    }

    /// A request through the gateway with an OAuth access token.
    pub fn gateway(&self, method: Method, path: &str, access_token: &str) -> RequestBuilder {
        self.http
            .request(method, self.gateway_url(path))
            .bearer_auth(access_token)
    }

    /// Consents at `/authorize` as the configured user for the configured app and returns the code from the
    /// redirect to `redirect_uri`; panics when the emulator does not redirect with a code.
    pub async fn oauth_code(&self, scope: &str, redirect_uri: &str) -> String {
        let client = match reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
        {
            Ok(c) => c,
            Err(e) => panic!("testkit: http client: {e}"),
        };
        let oauth = &self.emu.config().oauth;
        let resp = client
            .get(self.url("/authorize"))
            .query(&[
                ("audience", "api.atlassian.com"),
                ("client_id", oauth.client_id.as_str()),
                ("scope", scope),
                ("redirect_uri", redirect_uri),
                ("state", "testkit-state"),
                ("response_type", "code"),
                ("prompt", "consent"),
            ])
            .send()
            .await;
        let location = match resp {
            Ok(r) if r.status().as_u16() == 302 => r
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string(),
            Ok(r) => panic!("testkit: /authorize answered {}", r.status()),
            Err(e) => panic!("testkit: /authorize: {e}"),
        };
        let code = reqwest::Url::parse(&location).ok().and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == "code")
                .map(|(_, v)| v.into_owned())
        });
        match code {
            Some(code) => code,
            None => panic!("testkit: /authorize redirected without a code: {location}"),
        }
    }

    /// Runs the whole 3LO flow for the configured app and returns the token endpoint's JSON answer.
    pub async fn oauth_tokens(&self, scope: &str) -> Value {
        let redirect_uri = "http://127.0.0.1:9/callback";
        let code = self.oauth_code(scope, redirect_uri).await;
        let oauth = &self.emu.config().oauth;
        let body = serde_json::json!({
            "grant_type": "authorization_code",
            "client_id": oauth.client_id,
            "client_secret": oauth.client_secret.expose(),
            "code": code,
            "redirect_uri": redirect_uri,
        });
        let resp = match self
            .http
            .post(self.url("/oauth/token"))
            .json(&body)
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => panic!("testkit: /oauth/token: {e}"),
        };
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        assert!(
            status.is_success(),
            "/oauth/token answered {status}: {text}"
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
