//! Test kit: boots a real emulator on `127.0.0.1:0` in the test's runtime and hands back its base URL,
//! credentials, a plain HTTP client and a configured [`jsm_client::Client`]. Dropping it stops the server.
//! [`servers`] starts and seeds the real SCIM and LDAP servers that identity-source tests read.
//!
//! The helpers panic when the emulator cannot start or a control-plane call fails: a test cannot go on without
//! them, and the message says which step failed.

#![allow(
    clippy::panic,
    reason = "a test kit fails the test that uses it, loudly, rather than return errors"
)]

use jsm_client::{Client, ClientBuilder};
use jsm_emulator::limits::LimitConfig;
use jsm_emulator::{Emulator, EmulatorBuilder, RunningEmulator, Seed};
use reqwest::{Method, RequestBuilder};
use serde_json::Value;

pub mod servers;

/// Email of the site administrator in every testkit emulator.
pub const ADMIN_EMAIL: &str = "admin@example.com";
/// API token of that administrator; also the control-plane Bearer token.
pub const ADMIN_TOKEN: &str = "testkit-admin-token";

/// Which identity surfaces a [`TestEmulator::client_with`] client is configured for; Jira and JSM always are.
/// The default is all of them, so `Surfaces { scim: false, ..Default::default() }` reads "a site without SCIM".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Surfaces {
    /// SCIM user provisioning (`{base}/scim/directory/{directoryId}`, directory key).
    pub scim: bool,
    /// The organizations admin API (`{base}/admin/v1/orgs/{orgId}`, org API key).
    pub admin: bool,
}

impl Surfaces {
    /// Jira, JSM, SCIM and the admin API.
    pub const ALL: Self = Self {
        scim: true,
        admin: true,
    };
    /// Jira and JSM only, as with an API token and no organization keys.
    pub const SITE_ONLY: Self = Self {
        scim: false,
        admin: false,
    };
}

impl Default for Surfaces {
    fn default() -> Self {
        Self::ALL
    }
}

/// A running emulator for one test.
pub struct TestEmulator {
    /// Handle on the emulator's state, for assertions that look behind the API.
    pub emu: Emulator,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// A plain HTTP client.
    pub http: reqwest::Client,
    running: RunningEmulator,
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
        let running = match builder
            .admin(ADMIN_EMAIL, ADMIN_TOKEN)
            .spawn("127.0.0.1:0")
            .await
        {
            Ok(r) => r,
            Err(e) => panic!("testkit: cannot serve the emulator on a loopback port: {e}"),
        };
        Self {
            emu: running.emu.clone(),
            base_url: running.base_url().to_string(),
            http: reqwest::Client::new(),
            running,
        }
    }

    /// The running server: its address, URLs, credentials and connection variables.
    pub fn running(&self) -> &RunningEmulator {
        &self.running
    }

    /// Stops the server, letting requests in flight finish, and waits until it has.
    pub async fn stop(self) {
        if let Err(e) = self.running.stop().await {
            panic!("testkit: the emulator stopped with an error: {e}");
        }
    }

    /// A client builder for the site with every surface: Basic auth as the admin, SCIM and the admin API.
    pub fn client_builder(&self) -> ClientBuilder {
        self.client_builder_with(Surfaces::ALL)
    }

    /// A client builder for the site (site, gateway and auth URLs all the emulator's, Basic auth as the admin),
    /// plus the SCIM and admin API keys that `surfaces` asks for; a seeded jitter keeps retry waits reproducible.
    pub fn client_builder_with(&self, surfaces: Surfaces) -> ClientBuilder {
        let r = &self.running;
        let mut builder = Client::builder()
            .site(r.base_url())
            .api_url(r.base_url())
            .auth_url(r.base_url())
            .basic_auth(r.admin_email(), r.admin_token().expose())
            .jitter_seed(7);
        if surfaces.scim {
            builder = builder.scim(r.directory_id(), r.scim_token().expose());
        }
        if surfaces.admin {
            builder = builder.org_admin(r.org_id(), r.org_api_key().expose());
        }
        builder
    }

    /// A client for the site with every surface (see [`Self::client_builder`]).
    pub fn client(&self) -> Client {
        self.client_with(Surfaces::ALL)
    }

    /// A client for the site with the identity surfaces `surfaces` asks for (see [`Self::client_builder_with`]).
    pub fn client_with(&self, surfaces: Surfaces) -> Client {
        match self.client_builder_with(surfaces).build() {
            Ok(c) => c,
            Err(e) => panic!("testkit: cannot build a client for the emulator: {e}"),
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
        self.http
            .request(method, format!("{}{path}", self.running.scim_url()))
            .bearer_auth(self.running.scim_token().expose())
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
        self.issue_token(serde_json::json!({ "email": email }))
            .await
    }

    /// Issues an API token for `email`, labelled `label`, that expires in `days` (as the admin API's token
    /// listing shows it), and returns it.
    pub async fn token_expiring(&self, email: &str, label: &str, days: i64) -> String {
        self.issue_token(
            serde_json::json!({ "email": email, "label": label, "expiresInDays": days }),
        )
        .await
    }

    async fn issue_token(&self, body: Value) -> String {
        let answer = self.control(Method::POST, "/tokens", Some(body)).await;
        answer["token"].as_str().unwrap_or_default().to_string()
    }
}

impl std::fmt::Debug for TestEmulator {
    // `Emulator`'s own Debug shows its configuration, tokens included; the running handle redacts them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestEmulator")
            .field("running", &self.running)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use jsm_client::{AuthReason, Credential, Error};

    use super::*;

    #[tokio::test]
    async fn client_reaches_every_surface() {
        let emu = TestEmulator::start().await;
        let client = emu.client();
        let me = client.users().myself().await.unwrap();
        assert_eq!(me.email_address.as_deref(), Some(ADMIN_EMAIL));
        assert!(!client.scim().users().all().await.unwrap().is_empty());
        assert!(
            !client
                .admin()
                .users()
                .unwrap()
                .all()
                .await
                .unwrap()
                .is_empty()
        );
        emu.stop().await;
    }

    #[tokio::test]
    async fn client_with_leaves_out_the_surfaces_not_asked_for() {
        let emu = TestEmulator::start().await;
        let site_only = emu.client_with(Surfaces::SITE_ONLY);
        assert!(site_only.users().myself().await.is_ok());
        let scim = site_only.scim().users().all().await;
        assert!(
            matches!(
                scim,
                Err(Error::Auth {
                    credential: Credential::ScimKey,
                    reason: AuthReason::Missing
                })
            ),
            "{scim:?}"
        );
        let no_admin = emu.client_with(Surfaces {
            admin: false,
            ..Default::default()
        });
        assert!(no_admin.scim().users().all().await.is_ok());
        assert!(matches!(
            no_admin.admin().users(),
            Err(Error::Auth {
                credential: Credential::AdminKey,
                reason: AuthReason::Missing
            })
        ));
    }

    #[tokio::test]
    async fn debug_keeps_the_tokens_out() {
        let emu = TestEmulator::start().await;
        let shown = format!("{emu:?}");
        assert!(!shown.contains(ADMIN_TOKEN), "{shown}");
        assert!(!shown.contains(&emu.scim_token()), "{shown}");
        assert!(!shown.contains(&emu.org_key()), "{shown}");
        assert!(shown.contains(&emu.base_url), "{shown}");
    }
}
