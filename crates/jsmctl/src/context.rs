//! One `Context` per run: the resolved settings (file < environment < flags), and from them the client, the
//! store, the policy and the engine, each built only when a command needs it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use jsm_client::{Client, Metrics};
use jsm_lifecycle::{Capabilities, Engine, Policy};
use jsm_store::Store;
use secrecy::{ExposeSecret, SecretString};

use crate::cli::{Format, Global, Output};
use crate::config::{self, Profile};
use crate::error::{CliError, CliResult};

/// Settings after precedence, secrets wrapped.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Site base URL.
    pub site: Option<String>,
    /// Email of the API token's account.
    pub email: Option<String>,
    /// API token.
    pub api_token: Option<SecretString>,
    /// Gateway and admin host.
    pub api_url: Option<String>,
    /// SCIM directory base URL.
    pub scim_url: Option<String>,
    /// SCIM key.
    pub scim_token: Option<SecretString>,
    /// Organization id.
    pub org_id: Option<String>,
    /// Admin API key.
    pub admin_api_key: Option<SecretString>,
    /// State target.
    pub state: Option<String>,
    /// Policy file.
    pub policy: Option<PathBuf>,
    /// Who is asking.
    pub actor: String,
}

impl Settings {
    /// Flags and environment (already merged by clap) over the profile.
    pub fn resolve(global: &Global, profile: Profile) -> Self {
        let secret = |flag: &Option<String>, file: Option<String>| {
            flag.clone()
                .or(file)
                .filter(|s| !s.is_empty())
                .map(SecretString::from)
        };
        let pick = |flag: &Option<String>, file: Option<String>| {
            flag.clone().or(file).filter(|s| !s.is_empty())
        };
        let actor = pick(&global.actor, profile.actor.clone())
            .or_else(|| std::env::var("USER").ok().filter(|u| !u.is_empty()))
            .unwrap_or_else(|| "unknown".into());
        Self {
            site: pick(&global.site, profile.site),
            email: pick(&global.api_email, profile.email),
            api_token: secret(&global.api_token, profile.api_token),
            api_url: pick(&global.api_url, profile.api_url),
            scim_url: pick(&global.scim_url, profile.scim_url),
            scim_token: secret(&global.scim_token, profile.scim_token),
            org_id: pick(&global.org_id, profile.org_id),
            admin_api_key: secret(&global.admin_api_key, profile.admin_api_key),
            state: pick(&global.state, profile.state),
            policy: global.policy.clone().or(profile.policy.map(PathBuf::from)),
            actor,
        }
    }

    /// A client builder with the site, the credentials and the identity surfaces set; needs a site, an email and
    /// an API token.
    pub fn client_builder(&self) -> CliResult<jsm_client::ClientBuilder> {
        let s = self;
        let missing = |what: &str, var: &str, flag: &str| {
            CliError::usage(format!(
                "no {what}: set {var}, pass {flag} or add it to a profile"
            ))
        };
        let site = s
            .site
            .as_deref()
            .ok_or_else(|| missing("site", "ATLASSIAN_SITE", "--site"))?;
        let email = s
            .email
            .as_deref()
            .ok_or_else(|| missing("email", "ATLASSIAN_EMAIL", "--api-email"))?;
        let token = s
            .api_token
            .as_ref()
            .ok_or_else(|| missing("API token", "ATLASSIAN_API_TOKEN", "--api-token"))?;
        let mut builder = Client::builder()
            .site(site)
            .basic_auth(email, token.expose_secret());
        if let Some(api) = &s.api_url {
            builder = builder.api_url(api).auth_url(api);
        }
        if let (Some(url), Some(key)) = (&s.scim_url, &s.scim_token) {
            builder = builder.scim_url(url, key.expose_secret());
        }
        if let (Some(org), Some(key)) = (&s.org_id, &s.admin_api_key) {
            builder = builder.org_admin(org, key.expose_secret());
        }
        Ok(builder)
    }

    /// Which optional surfaces are configured.
    pub fn capabilities(&self) -> Capabilities {
        Capabilities {
            scim: self.scim_url.is_some() && self.scim_token.is_some(),
            admin: self.org_id.is_some() && self.admin_api_key.is_some(),
        }
    }
}

/// The run's context.
#[derive(Debug)]
pub struct Context {
    /// Resolved settings.
    pub settings: Settings,
    /// Output format.
    pub format: Format,
    /// `--output` as given (`csv` only for `seats`).
    pub output: Output,
    metrics: Arc<Metrics>,
}

impl Context {
    /// Reads the config file and resolves the settings.
    pub fn new(global: &Global) -> CliResult<Self> {
        let file = config::load(global.config.as_deref())?;
        let profile = file.profile(global.profile.as_deref())?;
        Ok(Self {
            settings: Settings::resolve(global, profile),
            format: global.output.format(),
            output: global.output,
            metrics: Arc::new(Metrics::default()),
        })
    }

    /// A context from settings already resolved (tests, the demo).
    pub fn from_settings(settings: Settings, format: Format) -> Self {
        Self {
            settings,
            format,
            output: match format {
                Format::Table => Output::Table,
                Format::Json => Output::Json,
            },
            metrics: Arc::new(Metrics::default()),
        }
    }

    /// The client's call counters.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// The Atlassian client; needs a site, an email and an API token.
    pub fn client(&self) -> CliResult<Client> {
        Ok(self
            .client_builder()?
            .observer(Arc::new(jsm_client::observer::Observers(vec![
                self.metrics.clone(),
                Arc::new(jsm_lifecycle::RequestIds),
            ])))
            .build()?)
    }

    /// A client builder with the site, the credentials and the identity surfaces set (no observer), for callers
    /// that set their own limiter and observer (`jsmctl serve` builds one client per job).
    pub fn client_builder(&self) -> CliResult<jsm_client::ClientBuilder> {
        self.settings.client_builder()
    }

    /// The store: `--state`, `JSMCTL_STATE`, the profile, else the default SQLite file.
    pub async fn store(&self) -> CliResult<Store> {
        let target = match &self.settings.state {
            Some(t) => t.clone(),
            None => Store::default_path()
                .ok_or_else(|| CliError::usage("no state location: set JSMCTL_STATE or --state"))?
                .to_string_lossy()
                .into_owned(),
        };
        Ok(Store::open(&target).await?)
    }

    /// The policy file, or the safe defaults.
    pub fn policy(&self) -> CliResult<Policy> {
        match &self.settings.policy {
            Some(path) => read_policy(path),
            None => Ok(Policy::default()),
        }
    }

    /// Client, store and policy as one engine.
    pub async fn engine(&self) -> CliResult<Engine> {
        let client = self.client()?;
        let policy = self.policy()?;
        let store = self.store().await?;
        let site = self.settings.site.clone().unwrap_or_default();
        Ok(Engine::new(
            client,
            store,
            policy,
            self.settings.capabilities(),
            self.settings.actor.clone(),
            site,
        )
        .with_metrics(self.metrics.clone()))
    }
}

/// Reads and checks a policy file.
pub fn read_policy(path: &Path) -> CliResult<Policy> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::usage(format!("policy {shown}: {e}")))?;
    Ok(Policy::from_toml(&text, &shown)?)
}
