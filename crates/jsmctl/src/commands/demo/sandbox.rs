//! Where the demo runs: the demo site served in-process on a loopback port (with the emulator's default rate
//! limits), jsmctl's state in a SQLite file in a temporary directory, and two engines on them, one with every
//! credential and one as a client without SCIM. `stop` shuts the emulator down and removes the directory.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, Result};
use jsm_client::{Metrics, MetricsSnapshot};
use jsm_emulator::site::groups::JSM_USERS;
use jsm_emulator::site::{Account, AccountKey, Site};
use jsm_emulator::{Emulator, RunningEmulator, Seed};
use jsm_lifecycle::Engine;
use secrecy::SecretString;

use crate::cli::Format;
use crate::context::{Context, Settings};

/// Who asks for every change in the demo.
pub const REQUESTER: &str = "demo-admin";
/// Who approves the plans that need it.
pub const APPROVER: &str = "demo-approver";

/// A person picked from the emulator's state.
#[derive(Debug, Clone)]
pub struct Someone {
    /// Atlassian account id.
    pub account_id: String,
    /// Email, as the directory knows it.
    pub email: String,
    /// Display name.
    pub name: String,
}

/// What the emulator's state says about an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    /// The Atlassian account is active.
    pub account_active: bool,
    /// The SCIM user that manages it is active (None: not SCIM-managed).
    pub scim_active: Option<bool>,
    /// It holds a Jira Service Management seat.
    pub agent: bool,
}

/// The running demo site and jsmctl's state.
pub struct Sandbox {
    running: RunningEmulator,
    dir: tempfile::TempDir,
    metrics: Vec<Arc<Metrics>>,
    /// Jira, JSM, SCIM and the admin API.
    pub engine: Engine,
    /// The same site and state, through a client that has no SCIM credentials.
    pub no_scim: Engine,
}

impl Sandbox {
    /// Starts the emulator and opens the state.
    pub async fn start() -> Result<Self> {
        let token = format!("demo-{}", uuid::Uuid::new_v4().simple());
        let running = Emulator::builder()
            .seed(Seed::Demo)
            .admin("admin@example.com", token)
            .spawn("127.0.0.1:0")
            .await
            .context("starting the emulator on a loopback port")?;
        let dir = tempfile::Builder::new()
            .prefix("jsmctl-demo-")
            .tempdir()
            .context("creating a temporary directory for jsmctl's state")?;
        let state = dir.path().join("state.db");
        let policy = dir.path().join("policy.toml");
        std::fs::write(&policy, DEMO_POLICY).context("writing the demo's policy")?;
        let with_policy = |scim| Settings {
            policy: Some(policy.clone()),
            ..settings(&running, &state, scim)
        };
        let full = Context::from_settings(with_policy(true), Format::Table);
        let engine = full.engine().await.context("opening the engine")?;
        let bare = Context::from_settings(with_policy(false), Format::Table);
        let no_scim = Engine {
            client: bare.client().context("building a client without SCIM")?,
            caps: bare.settings.capabilities(),
            metrics: Some(bare.metrics().clone()),
            ..engine.clone()
        };
        Ok(Self {
            metrics: vec![full.metrics().clone(), bare.metrics().clone()],
            running,
            dir,
            engine,
            no_scim,
        })
    }

    /// The site's base URL.
    pub fn url(&self) -> &str {
        self.running.base_url()
    }

    /// Accounts, service desks and SCIM users the site starts with.
    pub fn census(&self) -> (usize, usize, usize) {
        let site = self.running.emu.site();
        (
            site.accounts.len(),
            site.desks.len(),
            site.directory.live_users().count(),
        )
    }

    /// An active agent whose email is hidden, preferring one the SCIM directory manages (so the offboard
    /// deactivates through SCIM), in the seed's order so every run picks the same person.
    pub fn hidden_agent(&self) -> Option<Someone> {
        let site = self.running.emu.site();
        let candidates: Vec<(AccountKey, &Account)> = (0..)
            .zip(site.accounts.iter())
            .filter(|(key, a)| a.email_hidden && a.active && site.is_member_of(*key, JSM_USERS))
            .collect();
        let managed = candidates
            .iter()
            .find(|(key, _)| scim_active(&site, *key) == Some(true));
        managed.or(candidates.first()).map(|(_, a)| Someone {
            account_id: a.account_id.clone(),
            email: a.email.clone(),
            name: a.display_name.clone(),
        })
    }

    /// The standing of the account with this id, read behind the API; None when there is no such account.
    pub fn standing(&self, account_id: &str) -> Option<Standing> {
        let site = self.running.emu.site();
        standing(&site, site.find_account(account_id)?)
    }

    /// The standing of the account with this email.
    pub fn standing_by_email(&self, email: &str) -> Option<Standing> {
        let site = self.running.emu.site();
        standing(&site, site.find_by_email(email)?)
    }

    /// Calls made by both clients so far.
    pub fn calls(&self) -> MetricsSnapshot {
        self.metrics
            .iter()
            .map(|m| m.snapshot())
            .fold(MetricsSnapshot::default(), |a, b| MetricsSnapshot {
                sent: a.sent + b.sent,
                throttled: a.throttled + b.throttled,
                retries: a.retries + b.retries,
                ..a
            })
    }

    /// Closes the state, stops the emulator and removes the temporary directory.
    pub async fn stop(self) -> Result<()> {
        self.engine.store.close().await;
        let stopped = self.running.stop().await.context("stopping the emulator");
        let removed = self
            .dir
            .close()
            .context("removing the demo's temporary state");
        stopped?;
        removed
    }
}

fn standing(site: &Site, key: AccountKey) -> Option<Standing> {
    let account = site.accounts.get(usize::try_from(key).ok()?)?;
    Some(Standing {
        account_active: account.active,
        scim_active: scim_active(site, key),
        agent: site.is_member_of(key, JSM_USERS),
    })
}

/// Whether the SCIM user that manages the account is active; None when no live SCIM user manages it.
fn scim_active(site: &Site, key: AccountKey) -> Option<bool> {
    site.directory
        .user_of_account(key)
        .and_then(|i| site.directory.users.get(i))
        .filter(|u| !u.deleted)
        .map(|u| u.active != Some(false))
}

/// The demo's policy: the safe defaults, plus a second person for every deactivation (a common choice for
/// offboarding; by default only bulk deactivations beyond the deletion guard need one).
const DEMO_POLICY: &str = "version = 1\n[approval]\ndeactivations = \"always\"\n";

/// The settings `jsmctl emulator --env-file` would give, with the state in `state` and, unless `scim`, no SCIM.
fn settings(running: &RunningEmulator, state: &Path, scim: bool) -> Settings {
    let secret = |s: &str| Some(SecretString::from(s.to_string()));
    Settings {
        site: Some(running.base_url().to_string()),
        email: Some(running.admin_email().to_string()),
        api_token: secret(running.admin_token().expose()),
        api_url: Some(running.base_url().to_string()),
        scim_url: scim.then(|| running.scim_url().to_string()),
        scim_token: if scim {
            secret(running.scim_token().expose())
        } else {
            None
        },
        org_id: Some(running.org_id().to_string()),
        admin_api_key: secret(running.org_api_key().expose()),
        state: Some(state.to_string_lossy().into_owned()),
        policy: None,
        actor: REQUESTER.to_string(),
    }
}
