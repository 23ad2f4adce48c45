//! The emulator's shared state: the site, clock, limiter, faults and request log, behind one cheap handle.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use serde::{Deserialize, Serialize};

use crate::clock::{Clock, Millis};
use crate::faults::{FaultRule, Faults};
use crate::identity::Identity;
use crate::limits::{LimitConfig, Limiter};
use crate::log::RequestLog;
use crate::oauth::OAuthConfig;
use crate::seed::{self, Admin, Seed};
use crate::site::{Redacted, Site, SiteFile};
use crate::webhooks::{Dispatcher, WebhookConfig};

/// Default cap on request bodies (Atlassian does not publish its own).
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// Behaviours of real Atlassian that are useful to reproduce but surprising by default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Quirks {
    /// `POST /user` for an email with no Atlassian account fails with
    /// "User could not be created: Failed to add user HttpErrorCode 404 - User not found".
    #[serde(default)]
    pub create_user_requires_account: bool,
}

/// Settings fixed at start.
#[derive(Debug, Clone)]
pub struct Config {
    pub admin: Admin,
    pub seed: Seed,
    pub max_body_bytes: usize,
    /// Cloud id, registered 3LO app and consenting user.
    pub oauth: OAuthConfig,
    /// The organization, its SCIM directory and their API keys.
    pub identity: Identity,
}

/// A handle on one running emulator; clones share the same state.
#[derive(Debug, Clone)]
pub struct Emulator(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    site: RwLock<Site>,
    clock: Clock,
    limits: Limiter,
    faults: Faults,
    log: RequestLog,
    quirks: RwLock<Quirks>,
    config: Config,
    base_url: OnceLock<String>,
    request_seq: AtomicU64,
    webhooks: Dispatcher,
}

/// Builds an [`Emulator`]: seed, admin credentials, clock, limits and faults.
#[derive(Debug)]
pub struct EmulatorBuilder {
    seed: Seed,
    admin: Admin,
    clock: Clock,
    limits: LimitConfig,
    faults: Vec<FaultRule>,
    site: Option<Site>,
    max_body_bytes: usize,
    identity: Identity,
    log_capacity: usize,
    base_url: Option<String>,
    oauth: OAuthConfig,
    webhooks: WebhookConfig,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        Self {
            seed: Seed::Demo,
            admin: Admin {
                email: "admin@example.com".into(),
                token: "jsmctl-admin-token".into(),
            },
            clock: Clock::real(),
            limits: LimitConfig::default(),
            faults: Vec::new(),
            site: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            identity: Identity::default(),
            log_capacity: 10_000,
            base_url: None,
            oauth: OAuthConfig::default(),
            webhooks: WebhookConfig::default(),
        }
    }
}

impl EmulatorBuilder {
    /// The seed to build the site from (default `demo`).
    pub fn seed(mut self, seed: Seed) -> Self {
        self.seed = seed;
        self
    }

    /// The site administrator's email and API token; the token also guards the control plane.
    pub fn admin(mut self, email: impl Into<String>, token: impl Into<String>) -> Self {
        self.admin = Admin {
            email: email.into(),
            token: token.into(),
        };
        self
    }

    /// The clock (default: real time).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Rate limits (default: Atlassian's published defaults).
    pub fn limits(mut self, limits: LimitConfig) -> Self {
        self.limits = limits;
        self
    }

    /// Fault rules in force from the start.
    pub fn faults(mut self, rules: Vec<FaultRule>) -> Self {
        self.faults = rules;
        self
    }

    /// Starts from this site instead of a seed (a saved state file).
    pub fn site(mut self, site: Site) -> Self {
        self.site = Some(site);
        self
    }

    /// The organization id, SCIM directory id and their keys (deterministic defaults otherwise).
    pub fn identity(mut self, identity: Identity) -> Self {
        self.identity = identity;
        self
    }

    /// Largest accepted request body.
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// How many requests the log keeps (0 turns it off).
    pub fn log_capacity(mut self, n: usize) -> Self {
        self.log_capacity = n;
        self
    }

    /// The URL links point at; by default the address `serve` listens on.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The site's cloud id, for the gateway `/ex/jira/{cloudId}` (default [`crate::oauth::DEFAULT_CLOUD_ID`]).
    pub fn cloud_id(mut self, id: impl Into<String>) -> Self {
        self.oauth.cloud_id = id.into();
        self
    }

    /// The registered OAuth 2.0 (3LO) app (default [`crate::oauth::DEFAULT_CLIENT_ID`]).
    pub fn oauth_client(mut self, client_id: impl Into<String>, secret: impl Into<String>) -> Self {
        self.oauth.client_id = client_id.into();
        self.oauth.client_secret = Redacted::new(secret);
        self
    }

    /// Email of the account that consents at `/authorize` (default: the site administrator).
    pub fn oauth_user(mut self, email: impl Into<String>) -> Self {
        self.oauth.user = Some(email.into());
        self
    }

    /// How webhooks are delivered: allowed hosts, attempts, backoff.
    pub fn webhooks(mut self, config: WebhookConfig) -> Self {
        self.webhooks = config;
        self
    }

    /// The emulator.
    pub fn build(self) -> Emulator {
        let now = self.clock.now_ms();
        let site = self
            .site
            .unwrap_or_else(|| seed::build(self.seed, &self.admin, now));
        let base_url = OnceLock::new();
        if let Some(url) = self.base_url {
            let _ = base_url.set(url.trim_end_matches('/').to_string());
        }
        Emulator(Arc::new(Inner {
            site: RwLock::new(site),
            clock: self.clock,
            limits: Limiter::new(self.limits),
            faults: Faults::new(self.faults, 0x000F_A017),
            log: RequestLog::new(self.log_capacity),
            quirks: RwLock::new(Quirks::default()),
            config: Config {
                admin: self.admin,
                seed: self.seed,
                max_body_bytes: self.max_body_bytes,
                oauth: self.oauth,
                identity: self.identity,
            },
            base_url,
            request_seq: AtomicU64::new(0),
            webhooks: Dispatcher::new(self.webhooks),
        }))
    }
}

impl Emulator {
    /// A builder with the demo seed and default limits.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// Reads the site.
    pub fn site(&self) -> RwLockReadGuard<'_, Site> {
        self.0.site.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Changes the site.
    pub fn site_mut(&self) -> RwLockWriteGuard<'_, Site> {
        self.0.site.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Now on the emulator clock.
    pub fn now(&self) -> Millis {
        self.0.clock.now_ms()
    }

    /// The emulator clock.
    pub fn clock(&self) -> &Clock {
        &self.0.clock
    }

    /// The rate limiter.
    pub fn limits(&self) -> &Limiter {
        &self.0.limits
    }

    /// The fault injector.
    pub fn faults(&self) -> &Faults {
        &self.0.faults
    }

    /// The request log.
    pub fn log(&self) -> &RequestLog {
        &self.0.log
    }

    /// The webhook delivery queue.
    pub fn webhooks(&self) -> &Dispatcher {
        &self.0.webhooks
    }

    /// Settings fixed at start.
    pub fn config(&self) -> &Config {
        &self.0.config
    }

    /// The quirks in force.
    pub fn quirks(&self) -> Quirks {
        self.0
            .quirks
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the quirks.
    pub fn set_quirks(&self, quirks: Quirks) {
        *self
            .0
            .quirks
            .write()
            .unwrap_or_else(PoisonError::into_inner) = quirks;
    }

    /// The URL links point at, without a trailing slash.
    pub fn base_url(&self) -> &str {
        self.0
            .base_url
            .get()
            .map(String::as_str)
            .unwrap_or("http://localhost")
    }

    /// Sets the link base once; later calls are ignored.
    pub fn set_base_url(&self, url: &str) {
        let _ = self.0.base_url.set(url.trim_end_matches('/').to_string());
    }

    /// A fresh request id for `X-ARequestId`.
    pub fn next_request_id(&self) -> String {
        format!(
            "{:x}",
            self.0.request_seq.fetch_add(1, Ordering::Relaxed) + 1
        )
    }

    /// Throws the site away and seeds it again.
    pub fn reset(&self, seed: Seed) {
        let site = seed::build(seed, &self.0.config.admin, self.now());
        *self.site_mut() = site;
        self.0.log.clear();
    }

    /// The whole state as a document.
    pub fn export(&self) -> SiteFile {
        self.site().to_file()
    }

    /// Replaces the state with a document; on error the state is unchanged.
    pub fn import(&self, file: SiteFile) -> Result<(), String> {
        let site = Site::from_file(file)?;
        *self.site_mut() = site;
        Ok(())
    }
}
