//! OAuth 2.0 (3LO) grants on the emulator clock: extra registered apps, authorization codes, token families
//! (one per consent) with rotating refresh tokens, and access tokens.
//!
//! Rules, from Atlassian's documentation (reference section 6.2):
//! - access tokens live 1 hour;
//! - a refresh token is issued only when `offline_access` was granted;
//! - every refresh returns a new refresh token and retires the one used; a retired token still works for
//!   10 minutes (the reuse leeway), and replaying it later kills the whole family;
//! - a refresh token dies after 90 days without use, and every token of a family 365 days after consent.
//!
//! Access tokens already issued keep working until they expire, even when their family dies (they are
//! self-contained JWTs at Atlassian and cannot be recalled).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::Redacted;
use crate::ids::IdGen;

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 24 * 60 * MINUTE_MS;

/// Lifetime of an access token (`expires_in: 3600`).
pub const ACCESS_TOKEN_LIFETIME_MS: i64 = 60 * MINUTE_MS;
/// Lifetime of an authorization code (Atlassian does not publish one; codes are meant for immediate use).
pub const CODE_LIFETIME_MS: i64 = 10 * MINUTE_MS;
/// How long a rotated refresh token may still be used.
pub const REUSE_LEEWAY_MS: i64 = 10 * MINUTE_MS;
/// A refresh token unused for this long is dead.
pub const REFRESH_INACTIVITY_MS: i64 = 90 * DAY_MS;
/// Every refresh token of a family is dead this long after consent.
pub const REFRESH_ABSOLUTE_MS: i64 = 365 * DAY_MS;
/// The scope that earns a refresh token.
pub const OFFLINE_ACCESS: &str = "offline_access";

/// An OAuth 2.0 app registered with the emulator besides the one given on the command line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OAuthApp {
    pub client_id: String,
    pub client_secret: Redacted,
    #[serde(default)]
    pub name: String,
}

/// A code handed out by `/authorize`, good for one exchange.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthCode {
    pub client_id: String,
    pub account_id: String,
    pub scopes: Vec<String>,
    pub redirect_uri: String,
    pub expires_at: i64,
}

/// One consent: the family every refresh token and access token of that consent belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Grant {
    pub client_id: String,
    pub account_id: String,
    pub scopes: Vec<String>,
    pub consented_at: i64,
    /// The family was killed by a replayed refresh token.
    #[serde(default)]
    pub revoked: bool,
}

impl Grant {
    /// Whether the grant includes `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// The granted scopes, space-separated, as the token endpoint writes them.
    pub fn scope_string(&self) -> String {
        self.scopes.join(" ")
    }
}

/// A refresh token of a family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RefreshToken {
    pub grant: String,
    pub issued_at: i64,
    /// When it was used and replaced; it stays usable for the reuse leeway after that.
    #[serde(default)]
    pub rotated_at: Option<i64>,
}

/// An access token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccessToken {
    pub grant: String,
    pub expires_at: i64,
}

/// All OAuth state of the site. Tokens and codes are map keys, so `Debug` prints only counts.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OAuthState {
    #[serde(default)]
    pub apps: Vec<OAuthApp>,
    #[serde(default)]
    pub codes: BTreeMap<String, AuthCode>,
    #[serde(default)]
    pub grants: BTreeMap<String, Grant>,
    #[serde(default)]
    pub refresh_tokens: BTreeMap<String, RefreshToken>,
    #[serde(default)]
    pub access_tokens: BTreeMap<String, AccessToken>,
}

impl fmt::Debug for OAuthState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthState")
            .field("apps", &self.apps)
            .field("codes", &self.codes.len())
            .field("grants", &self.grants.len())
            .field("refresh_tokens", &self.refresh_tokens.len())
            .field("access_tokens", &self.access_tokens.len())
            .finish()
    }
}

/// Tokens handed out by the token endpoint.
#[derive(Clone, PartialEq)]
pub struct Issued {
    pub access_token: Redacted,
    pub refresh_token: Option<Redacted>,
    pub expires_in: i64,
    pub scope: String,
}

impl fmt::Debug for Issued {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Issued")
            .field("access_token", &self.access_token)
            .field("refresh_token", &self.refresh_token)
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .finish()
    }
}

/// Why a grant request was refused; every variant is `invalid_grant` on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantFailure {
    /// The code is unknown, used, expired, or was issued to another app or redirect URI.
    BadCode,
    /// The refresh token is unknown or was issued to another app.
    UnknownRefresh,
    /// Unused for 90 days.
    Inactive,
    /// 365 days after consent.
    Absolute,
    /// The family was killed earlier.
    FamilyRevoked,
    /// A rotated token replayed after the leeway: this call killed the family.
    Replayed,
}

/// Why an access token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessFailure {
    Unknown,
    Expired,
}

impl OAuthState {
    /// The extra app with this client id.
    pub fn app(&self, client_id: &str) -> Option<&OAuthApp> {
        self.apps.iter().find(|a| a.client_id == client_id)
    }

    /// Records the consent of `account_id` and returns the authorization code.
    pub fn authorize(&mut self, ids: &mut IdGen, code: AuthCode, now: i64) -> Redacted {
        self.codes.retain(|_, c| c.expires_at > now);
        let secret = format!("emu-code-{}", ids.hex(32));
        self.codes.insert(secret.clone(), code);
        Redacted::new(secret)
    }

    /// Exchanges a code (single use) for tokens, starting a new family.
    pub fn exchange_code(
        &mut self,
        ids: &mut IdGen,
        client_id: &str,
        code: &str,
        redirect_uri: &str,
        now: i64,
    ) -> Result<Issued, GrantFailure> {
        let found = self.codes.remove(code).ok_or(GrantFailure::BadCode)?;
        if found.client_id != client_id
            || found.redirect_uri != redirect_uri
            || found.expires_at <= now
        {
            return Err(GrantFailure::BadCode);
        }
        let grant_id = ids.uuid();
        let grant = Grant {
            client_id: found.client_id,
            account_id: found.account_id,
            scopes: found.scopes,
            consented_at: now,
            revoked: false,
        };
        let offline = grant.has_scope(OFFLINE_ACCESS);
        let scope = grant.scope_string();
        self.grants.insert(grant_id.clone(), grant);
        Ok(self.issue(ids, &grant_id, scope, offline, now))
    }

    /// Trades a refresh token for new tokens, rotating it; the grant's account is checked by the caller.
    pub fn refresh(
        &mut self,
        ids: &mut IdGen,
        client_id: &str,
        token: &str,
        now: i64,
    ) -> Result<(Issued, &Grant), GrantFailure> {
        let found = self
            .refresh_tokens
            .get(token)
            .cloned()
            .ok_or(GrantFailure::UnknownRefresh)?;
        let grant = self
            .grants
            .get_mut(&found.grant)
            .ok_or(GrantFailure::UnknownRefresh)?;
        if grant.client_id != client_id {
            return Err(GrantFailure::UnknownRefresh);
        }
        if grant.revoked {
            return Err(GrantFailure::FamilyRevoked);
        }
        if now >= grant.consented_at.saturating_add(REFRESH_ABSOLUTE_MS) {
            return Err(GrantFailure::Absolute);
        }
        match found.rotated_at {
            Some(at) if now > at.saturating_add(REUSE_LEEWAY_MS) => {
                grant.revoked = true;
                return Err(GrantFailure::Replayed);
            }
            Some(_) => {}
            None => {
                if now >= found.issued_at.saturating_add(REFRESH_INACTIVITY_MS) {
                    return Err(GrantFailure::Inactive);
                }
            }
        }
        let scope = grant.scope_string();
        if let Some(used) = self.refresh_tokens.get_mut(token) {
            used.rotated_at.get_or_insert(now);
        }
        let issued = self.issue(ids, &found.grant, scope, true, now);
        let grant = self
            .grants
            .get(&found.grant)
            .ok_or(GrantFailure::UnknownRefresh)?;
        Ok((issued, grant))
    }

    /// The grant behind a live access token.
    pub fn access(&self, token: &str, now: i64) -> Result<&Grant, AccessFailure> {
        let found = self
            .access_tokens
            .get(token)
            .ok_or(AccessFailure::Unknown)?;
        if found.expires_at <= now {
            return Err(AccessFailure::Expired);
        }
        self.grants.get(&found.grant).ok_or(AccessFailure::Unknown)
    }

    /// The grant a code or family belongs to, by id.
    pub fn grant(&self, id: &str) -> Option<&Grant> {
        self.grants.get(id)
    }

    fn issue(
        &mut self,
        ids: &mut IdGen,
        grant: &str,
        scope: String,
        offline: bool,
        now: i64,
    ) -> Issued {
        self.prune(now);
        let access = format!("emu-at-{}", ids.hex(48));
        self.access_tokens.insert(
            access.clone(),
            AccessToken {
                grant: grant.to_string(),
                expires_at: now.saturating_add(ACCESS_TOKEN_LIFETIME_MS),
            },
        );
        let refresh = offline.then(|| {
            let token = format!("emu-rt-{}", ids.hex(48));
            self.refresh_tokens.insert(
                token.clone(),
                RefreshToken {
                    grant: grant.to_string(),
                    issued_at: now,
                    rotated_at: None,
                },
            );
            Redacted::new(token)
        });
        Issued {
            access_token: Redacted::new(access),
            refresh_token: refresh,
            expires_in: ACCESS_TOKEN_LIFETIME_MS / 1000,
            scope,
        }
    }

    /// Forgets what can no longer be used: expired access tokens and codes, and families past their absolute
    /// expiry (their refresh tokens would be refused anyway).
    fn prune(&mut self, now: i64) {
        self.access_tokens.retain(|_, t| t.expires_at > now);
        self.codes.retain(|_, c| c.expires_at > now);
        let dead: Vec<String> = self
            .grants
            .iter()
            .filter(|(_, g)| now >= g.consented_at.saturating_add(REFRESH_ABSOLUTE_MS))
            .map(|(id, _)| id.clone())
            .collect();
        if dead.is_empty() {
            return;
        }
        let live_access: std::collections::BTreeSet<&str> = self
            .access_tokens
            .values()
            .map(|t| t.grant.as_str())
            .collect();
        let dead: Vec<String> = dead
            .into_iter()
            .filter(|id| !live_access.contains(id.as_str()))
            .collect();
        for id in &dead {
            self.grants.remove(id);
        }
        self.refresh_tokens.retain(|_, t| !dead.contains(&t.grant));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_700_000_000_000;

    fn consent(state: &mut OAuthState, ids: &mut IdGen, scopes: &[&str]) -> Issued {
        let code = state.authorize(
            ids,
            AuthCode {
                client_id: "app".into(),
                account_id: "712020:me".into(),
                scopes: scopes.iter().map(|s| s.to_string()).collect(),
                redirect_uri: "http://127.0.0.1/cb".into(),
                expires_at: T0 + CODE_LIFETIME_MS,
            },
            T0,
        );
        match state.exchange_code(ids, "app", code.expose(), "http://127.0.0.1/cb", T0) {
            Ok(issued) => issued,
            Err(e) => panic!("exchange failed: {e:?}"),
        }
    }

    fn refresh_of(issued: &Issued) -> String {
        issued
            .refresh_token
            .as_ref()
            .map(|t| t.expose().to_string())
            .unwrap_or_default()
    }

    #[test]
    fn codes_are_single_use_and_bound_to_app_and_redirect() {
        let (mut s, mut ids) = (OAuthState::default(), IdGen::new(1));
        let code = AuthCode {
            client_id: "app".into(),
            account_id: "a".into(),
            scopes: vec!["read:jira-user".into()],
            redirect_uri: "http://127.0.0.1/cb".into(),
            expires_at: T0 + CODE_LIFETIME_MS,
        };
        let c = s.authorize(&mut ids, code.clone(), T0);
        let other = s.exchange_code(&mut ids, "other", c.expose(), "http://127.0.0.1/cb", T0);
        assert_eq!(other.err(), Some(GrantFailure::BadCode));
        let c = s.authorize(&mut ids, code.clone(), T0);
        let ok = s.exchange_code(&mut ids, "app", c.expose(), "http://127.0.0.1/cb", T0);
        assert!(ok.as_ref().is_ok_and(|i| i.refresh_token.is_none()));
        let again = s.exchange_code(&mut ids, "app", c.expose(), "http://127.0.0.1/cb", T0);
        assert_eq!(again.err(), Some(GrantFailure::BadCode));
        let c = s.authorize(&mut ids, code, T0);
        let late = s.exchange_code(
            &mut ids,
            "app",
            c.expose(),
            "http://127.0.0.1/cb",
            T0 + CODE_LIFETIME_MS,
        );
        assert_eq!(late.err(), Some(GrantFailure::BadCode));
    }

    #[test]
    fn rotation_leeway_and_family_death() {
        let (mut s, mut ids) = (OAuthState::default(), IdGen::new(2));
        let first = consent(&mut s, &mut ids, &["read:jira-user", OFFLINE_ACCESS]);
        let r1 = refresh_of(&first);
        let second = s.refresh(&mut ids, "app", &r1, T0 + 1000).map(|(i, _)| i);
        let r2 = second.as_ref().map(refresh_of).unwrap_or_default();
        assert_ne!(r1, r2);
        // Inside the leeway the old token still works.
        assert!(
            s.refresh(&mut ids, "app", &r1, T0 + 1000 + REUSE_LEEWAY_MS)
                .is_ok()
        );
        // After it, the replay kills the family, r2 included.
        let replay = s.refresh(&mut ids, "app", &r1, T0 + 1001 + REUSE_LEEWAY_MS);
        assert_eq!(replay.err(), Some(GrantFailure::Replayed));
        let after = s.refresh(&mut ids, "app", &r2, T0 + 1002 + REUSE_LEEWAY_MS);
        assert_eq!(after.err(), Some(GrantFailure::FamilyRevoked));
    }

    #[test]
    fn inactivity_and_absolute_expiry() {
        let (mut s, mut ids) = (OAuthState::default(), IdGen::new(3));
        let first = consent(&mut s, &mut ids, &[OFFLINE_ACCESS]);
        let r1 = refresh_of(&first);
        let idle = s.refresh(&mut ids, "app", &r1, T0 + REFRESH_INACTIVITY_MS);
        assert_eq!(idle.err(), Some(GrantFailure::Inactive));

        let first = consent(&mut s, &mut ids, &[OFFLINE_ACCESS]);
        let mut token = refresh_of(&first);
        let mut now = T0;
        // Refreshing every 80 days keeps the family alive until day 365.
        while now + 80 * DAY_MS < T0 + REFRESH_ABSOLUTE_MS {
            now += 80 * DAY_MS;
            let next = s
                .refresh(&mut ids, "app", &token, now)
                .map(|(i, _)| refresh_of(&i));
            token = next.unwrap_or_default();
            assert!(!token.is_empty(), "refresh on day {}", (now - T0) / DAY_MS);
        }
        let end = s.refresh(&mut ids, "app", &token, T0 + REFRESH_ABSOLUTE_MS);
        assert_eq!(end.err(), Some(GrantFailure::Absolute));
    }

    #[test]
    fn access_tokens_expire_after_an_hour() {
        let (mut s, mut ids) = (OAuthState::default(), IdGen::new(4));
        let issued = consent(&mut s, &mut ids, &["read:jira-user"]);
        let at = issued.access_token.expose().to_string();
        assert!(s.access(&at, T0 + ACCESS_TOKEN_LIFETIME_MS - 1).is_ok());
        assert_eq!(
            s.access(&at, T0 + ACCESS_TOKEN_LIFETIME_MS).err(),
            Some(AccessFailure::Expired)
        );
        assert_eq!(s.access("nope", T0).err(), Some(AccessFailure::Unknown));
        assert!(!format!("{s:?}").contains(&at));
        assert!(!format!("{issued:?}").contains(&at));
    }
}
