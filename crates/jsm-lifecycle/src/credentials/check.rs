//! `credentials check`: the state of every registered credential, judged against Atlassian's clock (its
//! `serverTime`) when a site is configured. Expiry comes from Atlassian where it says (the admin API's token
//! listing: `expiresAt`, `lastActiveAt`, status), else the registered date, else the rules (API tokens at most a
//! year, refresh tokens 90 idle days and a year from consent, SCIM and admin keys as configured). An API token or
//! OAuth grant whose owner is deactivated or suspended is dead now, whatever its date. `--verify` makes one
//! cheap authenticated call per credential.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use jsm_client::{Client, Clock, OAuthConfig};
use jsm_proto::admin::{AdminUser, OrgApiToken};
use jsm_store::{CredentialMeta, Store};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use super::facts::CredentialFacts;
use super::oauth::{StoreTokenStore, grant_expiry};
use super::policy::CredentialsPolicy;
use super::{Kind, SecretRef};
use crate::error::Result;
use crate::observe::Capabilities;

/// The state of one credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Works and does not expire within the window (or no expiry is known).
    Ok,
    /// Expires within the warning window.
    Expiring,
    /// Past its expiry.
    Expired,
    /// Its owner's account is deactivated or suspended: dead now.
    OwnerInactive,
    /// Refused when verified, or revoked in Atlassian.
    Rejected,
}

impl State {
    /// How bad it is.
    pub fn severity(self) -> Severity {
        match self {
            State::Ok => Severity::Fine,
            State::Expiring => Severity::Warn,
            State::Expired | State::OwnerInactive | State::Rejected => Severity::Dead,
        }
    }

    /// As written in the table.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Ok => "ok",
            State::Expiring => "expiring",
            State::Expired => "expired",
            State::OwnerInactive => "owner inactive",
            State::Rejected => "rejected",
        }
    }
}

/// The worst state, which is the exit code: 0 all fine, 1 something expires within the window, 2 something is
/// already dead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// 0.
    Fine,
    /// 1.
    Warn,
    /// 2.
    Dead,
}

impl Severity {
    /// The process exit code.
    pub fn exit_code(self) -> u8 {
        match self {
            Severity::Fine => 0,
            Severity::Warn => 1,
            Severity::Dead => 2,
        }
    }
}

/// One credential's line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialCheck {
    /// Name.
    pub name: String,
    /// Kind (`api-token`, …).
    pub kind: String,
    /// Owner.
    pub owner: Option<String>,
    /// State.
    pub state: State,
    /// Whole days until expiry (negative once expired).
    pub days_left: Option<i64>,
    /// When it expires, when known.
    pub expires_at: Option<DateTime<Utc>>,
    /// Where the expiry comes from (`atlassian`, `registered`, `rule: …`).
    pub expiry_source: Option<String>,
    /// Last use, from Atlassian or jsmctl.
    pub last_used_at: Option<DateTime<Utc>>,
    /// `Some(true)` verified now, `Some(false)` refused, `None` not verified.
    pub verified: Option<bool>,
    /// One sentence for people.
    pub detail: String,
}

/// The check of every credential.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckReport {
    /// The instant judged against.
    pub checked_at: DateTime<Utc>,
    /// `atlassian` (the site's `serverTime`) or `local`.
    pub clock: String,
    /// The warning window in days.
    pub warn_days: u32,
    /// One entry per credential, by name.
    pub credentials: Vec<CredentialCheck>,
    /// The worst state.
    pub worst: Severity,
    /// Facts people should know (a listing that was unavailable, …).
    pub notes: Vec<String>,
}

impl CheckReport {
    /// 0, 1 or 2.
    pub fn exit_code(&self) -> u8 {
        self.worst.exit_code()
    }
}

/// Where `--verify` sends its calls.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Targets {
    /// Site base URL (API tokens).
    pub site: Option<String>,
    /// Admin API and gateway host (admin keys, OAuth's accessible resources).
    pub api_url: Option<String>,
    /// OAuth token endpoint host.
    pub auth_url: Option<String>,
    /// SCIM directory base URL (SCIM keys).
    pub scim_url: Option<String>,
    /// Organization id (admin keys).
    pub org_id: Option<String>,
}

/// What `check` does.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CheckOptions {
    /// Warning window in days (the policy's otherwise).
    pub warn_days: Option<u32>,
    /// Verify each credential with one call to these targets.
    pub verify: Option<Targets>,
}

/// What Atlassian and the store said, shared by every credential.
struct Context<'a> {
    store: &'a Store,
    client: Option<&'a Client>,
    policy: &'a CredentialsPolicy,
    clock: Arc<dyn Clock>,
    now: DateTime<Utc>,
    owners: HashMap<String, AdminUser>,
    tokens: Vec<OrgApiToken>,
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.3f%z"))
        .map(|d| d.with_timezone(&Utc))
        .ok()
}

/// Atlassian's clock (`serverInfo.serverTime`), or `None` when it cannot be read.
pub(crate) async fn server_time(client: &Client) -> Option<DateTime<Utc>> {
    let info: jsm_proto::jira::ServerInfo = client
        .get("/rest/api/3/serverInfo", &[] as &[(&str, &str)])
        .await
        .ok()?;
    parse_time(&info.server_time)
}

/// Checks every registered credential. `client` is the configured site (owner checks, Atlassian's clock and
/// token listing need it); `clock` is used when there is none.
pub async fn check(
    store: &Store,
    client: Option<&Client>,
    caps: Capabilities,
    policy: &CredentialsPolicy,
    clock: Arc<dyn Clock>,
    opts: &CheckOptions,
) -> Result<CheckReport> {
    let warn_days = opts.warn_days.unwrap_or(policy.warn_days);
    let metas = store.credentials().await?;
    let mut notes = Vec::new();
    let (now, clock_name) = match client {
        Some(c) => match server_time(c).await {
            Some(t) => (t, "atlassian"),
            None => {
                notes.push(
                    "Atlassian's serverTime could not be read: judged on the local clock".into(),
                );
                (clock.now(), "local")
            }
        },
        None => (clock.now(), "local"),
    };
    let wants = |k: Kind| metas.iter().any(|m| Kind::parse(&m.kind) == Some(k));
    let has_owner = metas.iter().any(|m| m.owner.is_some());
    let mut owners = HashMap::new();
    let mut tokens = Vec::new();
    if let Some(c) = client
        && caps.admin
    {
        if has_owner {
            for u in c.admin().users()?.all().await? {
                if let Some(e) = &u.email {
                    owners.insert(e.to_lowercase(), u);
                }
            }
        }
        if wants(Kind::ApiToken) {
            match c.admin().api_tokens().pager()?.all().await {
                Ok(t) => tokens = t,
                Err(e) => notes.push(format!(
                    "Atlassian's API-token listing is unavailable ({e}): API tokens judged by the rules"
                )),
            }
        }
    } else if client.is_some() && wants(Kind::ApiToken) {
        notes.push(
            "without the admin API key Atlassian's API-token listing (expiresAt, lastActiveAt) is not read: API \
             tokens judged by their registered date or the one-year rule"
                .into(),
        );
    }
    let ctx = Context {
        store,
        client,
        policy,
        clock,
        now,
        owners,
        tokens,
    };
    let mut out = Vec::with_capacity(metas.len());
    for meta in metas {
        out.push(one(&ctx, meta, warn_days, opts.verify.as_ref()).await?);
    }
    let worst = out
        .iter()
        .map(|c| c.state.severity())
        .max()
        .unwrap_or(Severity::Fine);
    Ok(CheckReport {
        checked_at: now,
        clock: clock_name.into(),
        warn_days,
        credentials: out,
        worst,
        notes,
    })
}

/// The owner's account: `Err(reason)` when it is dead, `Ok(account id)` when active, `Ok(None)` when unknown.
async fn owner_state(
    ctx: &Context<'_>,
    owner: &str,
) -> Result<std::result::Result<Option<String>, String>> {
    if !owner.contains('@') {
        return Ok(Ok(None));
    }
    let Some(client) = ctx.client else {
        return Ok(Ok(None));
    };
    let (id, admin_status) = match ctx.owners.get(&owner.to_lowercase()) {
        Some(u) => (u.account_id.clone(), u.account_status.clone()),
        None => match client.users().find_by_email(owner).await {
            Ok(Some(u)) => (u.account_id, None),
            Ok(None) => return Ok(Err(format!("its owner {owner} has no account on the site"))),
            // The site's own credential no longer works, or the email is hidden: the owner is unknown.
            Err(jsm_client::Error::EmailHidden { .. } | jsm_client::Error::Auth { .. }) => {
                return Ok(Ok(None));
            }
            Err(e) => return Err(e.into()),
        },
    };
    if matches!(admin_status.as_deref(), Some("inactive") | Some("closed")) {
        return Ok(Err(format!("its owner {owner} is deactivated")));
    }
    match client.users().get(&id).await {
        Ok(u) if !u.active => Ok(Err(format!(
            "its owner {owner} is {} on the site",
            if admin_status.is_some() {
                "suspended"
            } else {
                "inactive"
            }
        ))),
        Ok(_) => Ok(Ok(Some(id))),
        Err(e) if e.is_not_found() => Ok(Err(format!("its owner {owner} no longer exists"))),
        Err(jsm_client::Error::Auth { .. }) => Ok(Ok(Some(id))),
        Err(e) => Err(e.into()),
    }
}

/// The Atlassian token this API-token credential is: the owner's token labelled like it, or the owner's only one.
fn matched_token<'a>(
    ctx: &'a Context<'_>,
    meta: &CredentialMeta,
    owner_id: Option<&str>,
    facts: &CredentialFacts,
) -> std::result::Result<Option<&'a OrgApiToken>, String> {
    let owner = meta.owner.as_deref().unwrap_or_default();
    if let Some(id) = &facts.atlassian_token_id
        && let Some(t) = ctx.tokens.iter().find(|t| &t.id == id)
    {
        return Ok(Some(t));
    }
    let mine: Vec<&OrgApiToken> = ctx
        .tokens
        .iter()
        .filter(|t| {
            t.user.as_ref().is_some_and(|u| {
                owner_id == Some(u.id.as_str())
                    || u.email
                        .as_deref()
                        .is_some_and(|e| e.eq_ignore_ascii_case(owner))
            })
        })
        .collect();
    if let Some(t) = mine
        .iter()
        .find(|t| t.label.eq_ignore_ascii_case(&meta.name))
    {
        return Ok(Some(t));
    }
    match mine.as_slice() {
        [only] => Ok(Some(only)),
        [] => Ok(None),
        many => Err(format!(
            "{} tokens of {owner} in Atlassian, none labelled {}: label the token like the credential",
            many.len(),
            meta.name
        )),
    }
}

async fn one(
    ctx: &Context<'_>,
    mut meta: CredentialMeta,
    warn_days: u32,
    verify: Option<&Targets>,
) -> Result<CredentialCheck> {
    let kind = Kind::parse(&meta.kind);
    let mut facts = CredentialFacts::load(ctx.store, &meta.name).await?;
    let facts_before = facts.clone();
    let mut details: Vec<String> = Vec::new();
    let mut dead: Option<(State, String)> = None;

    let owner_id = match (&meta.owner, kind) {
        (Some(owner), Some(Kind::ApiToken | Kind::OAuth)) => match owner_state(ctx, owner).await? {
            Ok(id) => id,
            Err(why) => {
                dead = Some((
                    State::OwnerInactive,
                    format!("{why}: the credential stopped working with it"),
                ));
                None
            }
        },
        _ => None,
    };
    if let Some(id) = &owner_id {
        facts.owner_account_id = Some(id.clone());
    }

    // Expiry candidates, earliest wins.
    let mut expiries: Vec<(DateTime<Utc>, String)> = Vec::new();
    if let Some(at) = meta.expires_at {
        expiries.push((at, "registered".into()));
    }
    match kind {
        Some(Kind::ApiToken) => match matched_token(ctx, &meta, owner_id.as_deref(), &facts) {
            Ok(Some(t)) => {
                facts.atlassian_token_id = Some(t.id.clone());
                expiries.retain(|(_, s)| s != "registered");
                if let Some(at) = t.expires_at.as_deref().and_then(parse_time) {
                    expiries.push((at, "atlassian".into()));
                    meta.expires_at = Some(at);
                }
                if let Some(at) = t.last_active_at.as_deref().and_then(parse_time) {
                    meta.last_used_at = Some(at);
                }
                match t.status.as_deref() {
                    Some(s) if s.eq_ignore_ascii_case("revoked") && dead.is_none() => {
                        dead = Some((State::Rejected, "revoked in Atlassian".into()));
                    }
                    Some(s) if s.eq_ignore_ascii_case("expired") && dead.is_none() => {
                        dead = Some((
                            State::Expired,
                            format!(
                                "expired: Atlassian's token listing says so (expiresAt {})",
                                t.expires_at.as_deref().unwrap_or("unknown")
                            ),
                        ));
                    }
                    _ => {}
                }
                details.push(format!("matched Atlassian token {:?}", t.label));
            }
            Ok(None) => {
                let at = meta.created_at + Duration::days(i64::from(ctx.policy.api_token_days));
                expiries.push((
                    at,
                    format!(
                        "rule: API tokens last at most {} days",
                        ctx.policy.api_token_days
                    ),
                ));
            }
            Err(why) => {
                details.push(why);
                let at = meta.created_at + Duration::days(i64::from(ctx.policy.api_token_days));
                expiries.push((
                    at,
                    format!(
                        "rule: API tokens last at most {} days",
                        ctx.policy.api_token_days
                    ),
                ));
            }
        },
        Some(Kind::OAuth) => {
            if let Some(at) = grant_expiry(&facts, ctx.policy) {
                expiries.retain(|(_, s)| s != "registered");
                expiries.push((
                    at,
                    format!(
                        "rule: refresh tokens die {} idle days after the last rotation and {} days after consent",
                        ctx.policy.refresh_idle_days, ctx.policy.refresh_absolute_days
                    ),
                ));
            }
        }
        Some(Kind::ScimKey) if meta.expires_at.is_none() => {
            if let Some(days) = ctx.policy.scim_key_days {
                expiries.push((
                    meta.created_at + Duration::days(i64::from(days)),
                    format!("rule: credentials.scim_key_days = {days}"),
                ));
            }
        }
        Some(Kind::AdminKey) if meta.expires_at.is_none() => {
            if let Some(days) = ctx.policy.admin_key_days {
                expiries.push((
                    meta.created_at + Duration::days(i64::from(days)),
                    format!("rule: credentials.admin_key_days = {days}"),
                ));
            }
        }
        _ => {}
    }
    let expiry = expiries.into_iter().min_by_key(|(at, _)| *at);

    let expired = expiry.as_ref().is_some_and(|(at, _)| *at <= ctx.now);
    let mut verified = None;
    if let Some(targets) = verify
        && dead.is_none()
        && !expired
    {
        match verify_one(ctx, &meta, kind, targets).await {
            Ok(Some(true)) => {
                verified = Some(true);
                meta.last_verified_at = Some(ctx.now);
            }
            Ok(Some(false)) => {
                verified = Some(false);
                dead = Some((State::Rejected, "refused by Atlassian when verified".into()));
            }
            Ok(None) => {}
            Err(why) => details.push(why),
        }
    }

    let days_left = expiry
        .as_ref()
        .map(|(at, _)| at.signed_duration_since(ctx.now).num_days());
    let source = expiry
        .as_ref()
        .map(|(_, s)| format!(" ({s})"))
        .unwrap_or_default();
    let (state, mut detail) = if let Some((state, why)) = dead {
        (state, why)
    } else {
        match &expiry {
            Some((at, _)) if *at <= ctx.now => (
                State::Expired,
                format!("expired on {}{source}", at.date_naive()),
            ),
            Some((at, _)) if *at - ctx.now <= Duration::days(i64::from(warn_days)) => (
                State::Expiring,
                format!(
                    "expiring in {} day(s), on {}{source}",
                    at.signed_duration_since(ctx.now).num_days(),
                    at.date_naive()
                ),
            ),
            Some((at, _)) => (State::Ok, format!("expires on {}{source}", at.date_naive())),
            None => (State::Ok, "no expiry known".into()),
        }
    };
    if verified == Some(true) {
        detail.push_str("; verified now");
    }
    for d in details {
        detail.push_str("; ");
        detail.push_str(&d);
    }
    if meta.secret_ref.is_none() {
        detail.push_str("; no secret registered (metadata only)");
    }
    ctx.store.credential_put(&meta).await?;
    if facts != facts_before {
        ctx.store
            .credential_facts_put(&meta.name, &facts.to_json(), ctx.now)
            .await?;
    }
    Ok(CredentialCheck {
        name: meta.name,
        kind: meta.kind,
        owner: meta.owner,
        state,
        days_left,
        expires_at: expiry.as_ref().map(|(at, _)| *at),
        expiry_source: expiry.map(|(_, s)| s),
        last_used_at: meta.last_used_at,
        verified,
        detail,
    })
}

/// One authenticated call with the credential: `Some(true)` accepted, `Some(false)` refused, `None` not
/// verifiable here, `Err` with why it could not be tried.
async fn verify_one(
    ctx: &Context<'_>,
    meta: &CredentialMeta,
    kind: Option<Kind>,
    targets: &Targets,
) -> std::result::Result<Option<bool>, String> {
    let Some(secret_ref) = meta.secret_ref.as_deref().and_then(SecretRef::parse) else {
        return Err("not verified: no secret registered".into());
    };
    let refused = |e: &jsm_client::Error| matches!(e, jsm_client::Error::Auth { .. });
    let missing = |what: &str| Err(format!("not verified: no {what} configured"));
    let base = || {
        let mut b = Client::builder().clock(ctx.clock.clone());
        if let Some(api) = &targets.api_url {
            b = b.api_url(api);
        }
        if let Some(auth) = targets.auth_url.as_ref().or(targets.api_url.as_ref()) {
            b = b.auth_url(auth);
        }
        b
    };
    let outcome: std::result::Result<(), jsm_client::Error> = match kind {
        Some(Kind::ApiToken) => {
            let (Some(site), Some(owner)) = (&targets.site, &meta.owner) else {
                return missing("site URL or owner email");
            };
            let secret = secret_ref.read().map_err(|e| e.to_string())?;
            let client = base()
                .site(site)
                .basic_auth(owner, secret.expose_secret())
                .build()
                .map_err(|e| e.to_string())?;
            client.users().myself().await.map(|_| ())
        }
        Some(Kind::ScimKey) => {
            let Some(url) = &targets.scim_url else {
                return missing("SCIM directory URL");
            };
            let secret = secret_ref.read().map_err(|e| e.to_string())?;
            let client = base()
                .site(targets.site.as_deref().unwrap_or("http://localhost"))
                .scim_url(url, secret.expose_secret())
                .build()
                .map_err(|e| e.to_string())?;
            client
                .scim()
                .find_user_by_user_name("jsmctl-verify@invalid.example")
                .await
                .map(|_| ())
        }
        Some(Kind::AdminKey) => {
            let Some(org) = &targets.org_id else {
                return missing("organization id");
            };
            let secret = secret_ref.read().map_err(|e| e.to_string())?;
            let client = base()
                .site(targets.site.as_deref().unwrap_or("http://localhost"))
                .org_admin(org, secret.expose_secret())
                .build()
                .map_err(|e| e.to_string())?;
            match client.admin().directories() {
                Ok(p) => p.all().await.map(|_| ()),
                Err(e) => Err(e),
            }
        }
        Some(Kind::OAuth) => {
            let store = StoreTokenStore::open(
                ctx.store.clone(),
                &meta.name,
                ctx.clock.clone(),
                ctx.policy.clone(),
            )
            .await
            .map_err(|e| e.to_string())?;
            let (client_id, client_secret) = store.client().map_err(|e| e.to_string())?;
            let client = base()
                .site(targets.site.as_deref().unwrap_or("http://localhost"))
                .oauth(OAuthConfig::new(
                    client_id,
                    client_secret.expose_secret().to_string(),
                    Arc::new(store),
                ))
                .build()
                .map_err(|e| e.to_string())?;
            client.oauth().accessible_resources().await.map(|_| ())
        }
        Some(Kind::Ldap) => {
            return Err("not verified: LDAP binds are checked by the LDAP source, not here".into());
        }
        None => return Err(format!("not verified: unknown kind {}", meta.kind)),
    };
    match outcome {
        Ok(()) => Ok(Some(true)),
        Err(e) if refused(&e) => Ok(Some(false)),
        Err(e) => Err(format!("not verified: {e}")),
    }
}
