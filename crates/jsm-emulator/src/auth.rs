//! Who is calling the Jira and JSM surfaces, and whether that credential may call this operation.
//!
//! - Basic `email:api-token` with a classic API token: any URL (site or gateway, any cloud id), no scope
//!   checks; anonymous calls likewise, as before OAuth existed here.
//! - Basic with a scoped API token: only through the gateway `/ex/jira/{cloudId}` with the emulator's cloud id;
//!   at the site URL it gets 401 "Client must be authenticated to access this resource.".
//! - Bearer OAuth 2.0 access token: only through the gateway with the right cloud id.
//! - OAuth and scoped tokens need every classic scope [`crate::scopes`] lists for the operation; otherwise
//!   the gateway's 401 `{"code":401,"message":"Unauthorized; scope does not match"}`.

use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::json;

use crate::Emulator;
use crate::http::{self as h, ApiError, Caller, Routed};
use crate::scopes;
use crate::site::AuthFailure;

/// The kind of credential a request carried; handlers that care (app webhooks) read it from the request's
/// extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// No `Authorization` header.
    Anonymous,
    /// A classic API token.
    ApiToken,
    /// A scoped API token and its scopes.
    ScopedApiToken { scopes: Vec<String> },
    /// An OAuth 2.0 (3LO) access token: the app's client id and the granted scopes.
    OAuth {
        client_id: String,
        scopes: Vec<String>,
    },
}

impl Credential {
    /// The OAuth app's client id, when an app is calling.
    pub fn app(&self) -> Option<&str> {
        match self {
            Credential::OAuth { client_id, .. } => Some(client_id),
            _ => None,
        }
    }
}

/// How the request reached the emulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entry<'a> {
    /// The site URL (no prefix, or a prefix other than the gateway's).
    Site,
    /// `/ex/jira/{cloudId}` with this cloud id.
    Gateway(&'a str),
}

fn entry_of(routed: Option<&Routed>) -> Entry<'_> {
    routed
        .and_then(|r| r.prefix.strip_prefix("/ex/jira/"))
        .filter(|id| !id.is_empty() && !id.contains('/'))
        .map_or(Entry::Site, Entry::Gateway)
}

/// The gateway's own error body.
pub fn gateway_error(status: StatusCode, message: &str) -> Response {
    h::json(
        status,
        &json!({ "code": status.as_u16(), "message": message }),
    )
}

/// Why a request was not let in; each renders as the answer Atlassian gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The site's 401 "Client must be authenticated to access this resource.".
    Site,
    /// The gateway's 401 `{"code":401,"message":"Unauthorized"}`.
    Gateway,
    /// The gateway's 401 "Unauthorized; scope does not match".
    Scope,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Site => ApiError::unauthorized()
                .header("x-seraph-loginreason", "AUTHENTICATED_FAILED")
                .into_response(),
            Refusal::Gateway => gateway_error(StatusCode::UNAUTHORIZED, "Unauthorized"),
            Refusal::Scope => gateway_error(
                StatusCode::UNAUTHORIZED,
                "Unauthorized; scope does not match",
            ),
        }
    }
}

fn refused() -> Refusal {
    Refusal::Site
}

fn scope_mismatch() -> Refusal {
    Refusal::Scope
}

/// Authenticates the request for `method route` (the matched route template) and records the
/// [`Credential`] in its extensions.
pub fn authenticate(
    emu: &Emulator,
    req: &mut Request,
    method: &str,
    route: &str,
) -> Result<Caller, Refusal> {
    let cloud_id = emu.config().oauth.cloud_id.clone();
    let entry = entry_of(req.extensions().get::<Routed>());
    let this_site = entry == Entry::Gateway(cloud_id.as_str());
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        req.extensions_mut().insert(Credential::Anonymous);
        return Ok(Caller::default());
    };
    let value = value.to_str().map_err(|_| refused())?.to_string();
    let (scheme, credentials) = value.split_once(' ').ok_or_else(refused)?;
    let credentials = credentials.trim();
    let (caller, credential) = if scheme.eq_ignore_ascii_case("bearer") {
        match entry {
            Entry::Site => return Err(refused()),
            Entry::Gateway(_) if !this_site => return Err(Refusal::Gateway),
            Entry::Gateway(_) => {}
        }
        bearer(emu, credentials, method, route)?
    } else if scheme.eq_ignore_ascii_case("basic") {
        basic(emu, credentials, entry, this_site, method, route)?
    } else {
        return Err(refused());
    };
    req.extensions_mut().insert(credential);
    Ok(caller)
}

fn bearer(
    emu: &Emulator,
    token: &str,
    method: &str,
    route: &str,
) -> Result<(Caller, Credential), Refusal> {
    let unauthorized = || Refusal::Gateway;
    let site = emu.site();
    let grant = site
        .oauth
        .access(token, emu.now())
        .map_err(|_| unauthorized())?;
    let account = site
        .find_account(&grant.account_id)
        .filter(|k| site.account(*k).active && !site.account(*k).suspended)
        .ok_or_else(unauthorized)?;
    if !scopes::allows(&grant.scopes, method, route) {
        return Err(scope_mismatch());
    }
    Ok((
        Caller {
            account: Some(account),
            perms: site.perms(account),
        },
        Credential::OAuth {
            client_id: grant.client_id.clone(),
            scopes: grant.scopes.clone(),
        },
    ))
}

fn basic(
    emu: &Emulator,
    credentials: &str,
    entry: Entry<'_>,
    this_site: bool,
    method: &str,
    route: &str,
) -> Result<(Caller, Credential), Refusal> {
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(credentials)
        .map_err(|_| refused())?;
    let decoded = String::from_utf8(decoded).map_err(|_| refused())?;
    let (email, secret) = decoded.split_once(':').ok_or_else(refused)?;
    let site = emu.site();
    let account = match site.authenticate(email, secret, emu.now()) {
        Ok(account) => account,
        Err(
            AuthFailure::Unknown
            | AuthFailure::Expired
            | AuthFailure::Revoked
            | AuthFailure::Inactive,
        ) => return Err(refused()),
    };
    let credential = match site.token_by_secret(secret) {
        Some(token) if token.scoped => {
            match entry {
                Entry::Site => return Err(refused()),
                Entry::Gateway(_) if !this_site => return Err(Refusal::Gateway),
                Entry::Gateway(_) => {}
            }
            if !scopes::allows(&token.scopes, method, route) {
                return Err(scope_mismatch());
            }
            Credential::ScopedApiToken {
                scopes: token.scopes.clone(),
            }
        }
        _ => Credential::ApiToken,
    };
    let caller = Caller {
        account: Some(account),
        perms: site.perms(account),
    };
    let now = emu.now();
    let stale = site.token_use_is_stale(secret, now);
    drop(site);
    if stale {
        emu.site_mut().mark_token_used(secret, now);
    }
    Ok((caller, credential))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_prefix() {
        let r = |prefix: &str| Routed {
            path: "/rest/api/3/myself".into(),
            prefix: prefix.into(),
        };
        assert_eq!(entry_of(None), Entry::Site);
        assert_eq!(entry_of(Some(&r(""))), Entry::Site);
        assert_eq!(entry_of(Some(&r("/jira"))), Entry::Site);
        assert_eq!(entry_of(Some(&r("/ex/jira/abc"))), Entry::Gateway("abc"));
        assert_eq!(entry_of(Some(&r("/ex/jira/"))), Entry::Site);
        assert_eq!(entry_of(Some(&r("/ex/jira/a/b"))), Entry::Site);
    }
}
