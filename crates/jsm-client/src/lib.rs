//! `jsm-client`: one typed async client for the four Atlassian user-management surfaces (Jira platform v3, JSM
//! `servicedeskapi`, SCIM 2.0 user provisioning, the organizations admin API) plus OAuth 2.0 (3LO).
//!
//! Every request goes through one send loop (proactive limiter, `Retry-After`/`X-RateLimit-*`/`RateLimit-Reason`
//! aware retries for idempotent requests only), and every list is a [`Pager`] that ends only on the server's own
//! end signal and fails with [`Error::Truncated`] rather than drop items silently.
//!
//! ```no_run
//! # async fn demo() -> jsm_client::Result<()> {
//! use futures::TryStreamExt;
//! let client = jsm_client::Client::builder()
//!     .site("https://example.atlassian.net")
//!     .basic_auth("admin@example.com", "api-token")
//!     .build()?;
//! let group = jsm_client::GroupRef::name("jira-servicedesk-users");
//! let members: Vec<_> = client
//!     .groups()
//!     .members(&group)
//!     .include_inactive(true)
//!     .pager()
//!     .into_stream()
//!     .try_collect()
//!     .await?;
//! # Ok(()) }
//! ```

#![deny(missing_docs)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::todo)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod auth;
pub mod clock;
pub mod error;
pub mod handlers;
pub mod observer;
pub mod pager;
pub mod transport;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use secrecy::SecretString;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;
use url::Url;

pub use auth::{MemoryTokenStore, OAuthConfig, StoreError, TokenSet, TokenStore};
pub use clock::{Clock, Jitter, SeededJitter, SystemClock, TokioClock};
pub use error::{ApiErrorBody, AuthReason, Credential, Error, Result, TruncationReason};
pub use handlers::{Change, Created, GroupRef};
pub use observer::{
    Event, Metrics, MetricsSnapshot, NoopObserver, Observer, RetryCause, ThrottleScope,
};
pub use pager::Pager;
pub use transport::limiter::LimiterConfig;
pub use transport::retry::RetryConfig;
pub use transport::{Request, Response, Surface};

/// Atlassian's API gateway (SCIM, admin API, OAuth resources, `/ex/jira/{cloudId}`).
pub const DEFAULT_API_URL: &str = "https://api.atlassian.com";
/// Atlassian's OAuth authorization server.
pub const DEFAULT_AUTH_URL: &str = "https://auth.atlassian.com";

/// A configured client; cheap to clone (an `Arc` inside), shareable across tasks.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct ScimAuth {
    pub base: Url,
    pub key: SecretString,
}

pub(crate) struct AdminAuth {
    pub org_id: String,
    pub key: SecretString,
}

pub(crate) struct Inner {
    pub http: reqwest::Client,
    pub product_base: Option<Url>,
    pub api_base: Url,
    pub auth_base: Url,
    pub basic: Option<auth::BasicAuth>,
    pub oauth: Option<auth::OAuthState>,
    pub scim: Option<ScimAuth>,
    pub admin: Option<AdminAuth>,
    pub retry: RetryConfig,
    pub limiter: transport::limiter::Limiter,
    pub clock: Arc<dyn Clock>,
    pub jitter: Arc<dyn Jitter>,
    pub observer: Arc<dyn Observer>,
    pub permits: Semaphore,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("Client")
            .field("product_base", &i.product_base.as_ref().map(Url::as_str))
            .field("api_base", &i.api_base.as_str())
            .field("auth_base", &i.auth_base.as_str())
            .field("basic", &i.basic)
            .field("oauth", &i.oauth.as_ref().map(|o| &o.config))
            .field("scim", &i.scim.as_ref().map(|s| s.base.as_str()))
            .field("admin_org", &i.admin.as_ref().map(|a| a.org_id.as_str()))
            .field("retry", &i.retry)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts building a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// Jira platform users (`/rest/api/3/user*`, `users/search`).
    pub fn users(&self) -> handlers::users::UsersHandler<'_> {
        handlers::users::UsersHandler::new(self)
    }

    /// Jira platform groups and memberships.
    pub fn groups(&self) -> handlers::groups::GroupsHandler<'_> {
        handlers::groups::GroupsHandler::new(self)
    }

    /// Jira application roles (product licences and seats).
    pub fn application_roles(&self) -> handlers::roles::RolesHandler<'_> {
        handlers::roles::RolesHandler::new(self)
    }

    /// JSM customers (portal-only accounts) and their desk membership.
    pub fn customers(&self) -> handlers::customers::CustomersHandler<'_> {
        handlers::customers::CustomersHandler::new(self)
    }

    /// JSM service desks.
    pub fn service_desks(&self) -> handlers::service_desks::ServiceDesksHandler<'_> {
        handlers::service_desks::ServiceDesksHandler::new(self)
    }

    /// JSM organizations and their users.
    pub fn organizations(&self) -> handlers::organizations::OrganizationsHandler<'_> {
        handlers::organizations::OrganizationsHandler::new(self)
    }

    /// SCIM 2.0 user provisioning (needs a directory key).
    pub fn scim(&self) -> handlers::scim::ScimHandler<'_> {
        handlers::scim::ScimHandler::new(self)
    }

    /// The organizations admin API and user lifecycle (needs an org admin key).
    pub fn admin(&self) -> handlers::admin::AdminHandler<'_> {
        handlers::admin::AdminHandler::new(self)
    }

    /// Admin webhooks (user events) and app webhooks (issue events).
    pub fn webhooks(&self) -> handlers::webhooks::WebhooksHandler<'_> {
        handlers::webhooks::WebhooksHandler::new(self)
    }

    /// OAuth 2.0 (3LO): code exchange, refresh, accessible resources.
    pub fn oauth(&self) -> handlers::oauth::OAuthHandler<'_> {
        handlers::oauth::OAuthHandler::new(self)
    }

    /// Sends any [`Request`] through the same limiter, auth and retry rules as the typed handlers.
    pub async fn send(&self, request: Request) -> Result<Response> {
        self.execute(&request).await
    }

    /// Raw `GET` of a Jira/JSM path (relative to the site or gateway), decoded as `T`.
    pub async fn get<T: DeserializeOwned, Q: Serialize + ?Sized>(
        &self,
        path: &str,
        query: &Q,
    ) -> Result<T> {
        let mut req = Request::raw(Method::GET, Surface::Product, path);
        req.query = query_pairs(query)?;
        self.execute_json(&req).await
    }

    /// Raw `POST` of a JSON body to a Jira/JSM path, decoded as `T`. Not retried after it may have been
    /// processed; use [`Client::send`] with [`Request::idempotent`] for a POST that is safe to repeat.
    pub async fn post<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T> {
        let req = Request::raw(Method::POST, Surface::Product, path).json(body)?;
        self.execute_json(&req).await
    }

    /// The client's clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    pub(crate) fn has_scim(&self) -> bool {
        self.inner.scim.is_some()
    }

    pub(crate) fn has_admin(&self) -> bool {
        self.inner.admin.is_some()
    }
}

/// Serializes a query struct (or map, or slice of pairs) into pairs.
fn query_pairs<Q: Serialize + ?Sized>(query: &Q) -> Result<Vec<(String, String)>> {
    let value = serde_json::to_value(query)
        .map_err(|e| Error::config(format!("cannot serialize query: {e}")))?;
    let mut out = Vec::new();
    let scalar = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Null => None,
        other => Some(other.to_string()),
    };
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                match v {
                    serde_json::Value::Array(items) => {
                        out.extend(items.iter().filter_map(scalar).map(|s| (k.clone(), s)))
                    }
                    other => out.extend(scalar(&other).map(|s| (k.clone(), s))),
                }
            }
        }
        serde_json::Value::Array(pairs) => {
            for pair in pairs {
                if let serde_json::Value::Array(kv) = pair
                    && let (Some(serde_json::Value::String(k)), Some(v)) = (kv.first(), kv.get(1))
                {
                    out.extend(scalar(v).map(|s| (k.clone(), s)));
                }
            }
        }
        serde_json::Value::Null => {}
        _ => {
            return Err(Error::config(
                "query must serialize to a map or a list of pairs",
            ));
        }
    }
    Ok(out)
}

/// Where the SCIM directory is: an id under the gateway, or a full URL.
#[derive(Debug, Clone)]
enum ScimTarget {
    Directory(String),
    Url(String),
}

/// Builds a [`Client`]. Every setting has a default except where the calls need a URL or a credential.
pub struct ClientBuilder {
    site: Option<String>,
    cloud_id: Option<String>,
    api_url: String,
    auth_url: String,
    basic: Option<auth::BasicAuth>,
    oauth: Option<OAuthConfig>,
    scim: Option<(ScimTarget, SecretString)>,
    admin: Option<(String, SecretString)>,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    pool_idle_timeout: Option<Duration>,
    user_agent: String,
    max_concurrency: usize,
    retry: RetryConfig,
    limiter: LimiterConfig,
    clock: Arc<dyn Clock>,
    jitter: Option<Arc<dyn Jitter>>,
    observer: Arc<dyn Observer>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            site: None,
            cloud_id: None,
            api_url: DEFAULT_API_URL.to_string(),
            auth_url: DEFAULT_AUTH_URL.to_string(),
            basic: None,
            oauth: None,
            scim: None,
            admin: None,
            timeout: Some(Duration::from_secs(30)),
            connect_timeout: Some(Duration::from_secs(10)),
            pool_idle_timeout: Some(Duration::from_secs(90)),
            user_agent: format!("jsm-client/{}", env!("CARGO_PKG_VERSION")),
            max_concurrency: 8,
            retry: RetryConfig::default(),
            limiter: LimiterConfig::default(),
            clock: Arc::new(SystemClock),
            jitter: None,
            observer: Arc::new(NoopObserver),
        }
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("site", &self.site)
            .field("cloud_id", &self.cloud_id)
            .field("api_url", &self.api_url)
            .field("auth_url", &self.auth_url)
            .field("basic", &self.basic)
            .field("oauth", &self.oauth)
            .field("scim_directory", &self.scim.as_ref().map(|(d, _)| d))
            .field("admin_org", &self.admin.as_ref().map(|(o, _)| o))
            .field("timeout", &self.timeout)
            .field("max_concurrency", &self.max_concurrency)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// The site URL, e.g. `https://example.atlassian.net` (may carry a context path).
    pub fn site(mut self, url: impl Into<String>) -> Self {
        self.site = Some(url.into());
        self
    }

    /// Call Jira/JSM through the gateway, `{api}/ex/jira/{cloudId}` (OAuth and scoped API tokens need this).
    pub fn gateway(mut self, cloud_id: impl Into<String>) -> Self {
        self.cloud_id = Some(cloud_id.into());
        self
    }

    /// The API gateway base (default `https://api.atlassian.com`); an emulator's URL in tests.
    pub fn api_url(mut self, url: impl Into<String>) -> Self {
        self.api_url = url.into();
        self
    }

    /// The OAuth authorization server (default `https://auth.atlassian.com`).
    pub fn auth_url(mut self, url: impl Into<String>) -> Self {
        self.auth_url = url.into();
        self
    }

    /// Basic auth with an account email and an API token (classic on the site, scoped through the gateway).
    pub fn basic_auth(mut self, email: impl Into<String>, api_token: impl Into<String>) -> Self {
        self.basic = Some(auth::BasicAuth {
            email: email.into(),
            token: SecretString::from(api_token.into()),
        });
        self
    }

    /// OAuth 2.0 Bearer for Jira/JSM, with tokens from (and rotated tokens saved to) the config's store.
    pub fn oauth(mut self, config: OAuthConfig) -> Self {
        self.oauth = Some(config);
        self
    }

    /// SCIM directory id and its API key.
    pub fn scim(mut self, directory_id: impl Into<String>, key: impl Into<String>) -> Self {
        self.scim = Some((
            ScimTarget::Directory(directory_id.into()),
            SecretString::from(key.into()),
        ));
        self
    }

    /// The SCIM directory by its full base URL (`…/scim/directory/{directoryId}`), as Atlassian Administration
    /// shows it, and its API key.
    pub fn scim_url(mut self, url: impl Into<String>, key: impl Into<String>) -> Self {
        self.scim = Some((ScimTarget::Url(url.into()), SecretString::from(key.into())));
        self
    }

    /// Organization id and an org admin API key.
    pub fn org_admin(mut self, org_id: impl Into<String>, key: impl Into<String>) -> Self {
        self.admin = Some((org_id.into(), SecretString::from(key.into())));
        self
    }

    /// Whole-request timeout (default 30 s).
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = Some(d);
        self
    }

    /// Connect timeout (default 10 s).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = Some(d);
        self
    }

    /// No request, connect or idle-connection timeout (tests under `tokio::time::pause`, where any pending timer
    /// would be auto-advanced to while a real socket is still busy).
    pub fn no_timeouts(mut self) -> Self {
        self.timeout = None;
        self.connect_timeout = None;
        self.pool_idle_timeout = None;
        self
    }

    /// `User-Agent` header.
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = ua.into();
        self
    }

    /// At most this many requests in flight (default 8; Atlassian advises 5–10).
    pub fn max_concurrency(mut self, n: usize) -> Self {
        self.max_concurrency = n.max(1);
        self
    }

    /// Retry bounds and backoff.
    pub fn retry(mut self, config: RetryConfig) -> Self {
        self.retry = config;
        self
    }

    /// Proactive limiter settings.
    pub fn limiter(mut self, config: LimiterConfig) -> Self {
        self.limiter = config;
        self
    }

    /// The clock (default: system time and tokio's timer).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// A seeded jitter source, for reproducible waits.
    pub fn jitter_seed(mut self, seed: u64) -> Self {
        self.jitter = Some(Arc::new(SeededJitter::new(seed)));
        self
    }

    /// A custom jitter source.
    pub fn jitter(mut self, jitter: Arc<dyn Jitter>) -> Self {
        self.jitter = Some(jitter);
        self
    }

    /// The metrics hook.
    pub fn observer(mut self, observer: Arc<dyn Observer>) -> Self {
        self.observer = observer;
        self
    }

    /// Validates the settings and builds the client.
    pub fn build(self) -> Result<Client> {
        let parse = |what: &str, raw: &str| -> Result<Url> {
            let url = Url::parse(raw)
                .map_err(|e| Error::config(format!("{what} `{raw}` is not a URL: {e}")))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(Error::config(format!(
                    "{what} `{raw}` must be http or https"
                )));
            }
            Ok(url)
        };
        let api_base = parse("API URL", &self.api_url)?;
        let auth_base = parse("auth URL", &self.auth_url)?;
        let join = |base: &Url, segments: &[&str]| -> Url {
            let mut url = base.clone();
            let mut path = url.path().trim_end_matches('/').to_string();
            for s in segments {
                path.push('/');
                path.push_str(&transport::encode_segment(s));
            }
            url.set_path(&path);
            url
        };
        let product_base = match (&self.cloud_id, &self.site) {
            (Some(cloud), _) => Some(join(&api_base, &["ex", "jira", cloud])),
            (None, Some(site)) => Some(parse("site URL", site)?),
            (None, None) => None,
        };
        if self.oauth.is_some() && self.cloud_id.is_none() && self.site.is_none() {
            return Err(Error::config(
                "OAuth calls go through the gateway: set `gateway(cloud_id)`",
            ));
        }
        let scim = match self.scim {
            Some((ScimTarget::Directory(dir), key)) => Some(ScimAuth {
                base: join(&api_base, &["scim", "directory", &dir]),
                key,
            }),
            Some((ScimTarget::Url(url), key)) => Some(ScimAuth {
                base: parse("SCIM directory URL", url.trim_end_matches('/'))?,
                key,
            }),
            None => None,
        };
        let admin = self.admin.map(|(org_id, key)| AdminAuth { org_id, key });
        let mut http = reqwest::Client::builder()
            .user_agent(self.user_agent)
            .pool_idle_timeout(self.pool_idle_timeout);
        if let Some(t) = self.timeout {
            http = http.timeout(t);
        }
        if let Some(t) = self.connect_timeout {
            http = http.connect_timeout(t);
        }
        let http = http
            .build()
            .map_err(|e| Error::config(format!("cannot build the HTTP client: {e}")))?;
        let jitter = self
            .jitter
            .unwrap_or_else(|| Arc::new(SeededJitter::from_entropy()));
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                product_base,
                api_base,
                auth_base,
                basic: self.basic,
                oauth: self.oauth.map(auth::OAuthState::new),
                scim,
                admin,
                retry: self.retry,
                limiter: transport::limiter::Limiter::new(self.limiter),
                clock: self.clock,
                jitter,
                observer: self.observer,
                permits: Semaphore::new(self.max_concurrency),
            }),
        })
    }
}
