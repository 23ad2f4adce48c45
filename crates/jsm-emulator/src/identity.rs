//! The identity surfaces' credentials and their request guard: the SCIM directory key, the organization API
//! key, and the middleware that runs faults and rate limits (shared with the Jira pipeline), checks the Bearer
//! key of the surface and answers SCIM in `application/scim+json` unless the client asked for plain JSON.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::http::{ApiError, Surface};
use crate::{Emulator, gate};

/// SCIM media type (RFC 7644 §8.1).
pub const SCIM_JSON: &str = "application/scim+json;charset=UTF-8";

/// Default directory id of `jsmctl emulator --directory-id`.
pub const DEFAULT_DIRECTORY_ID: &str = "d0d0d0d0-0000-4000-8000-000000000001";
/// Default SCIM directory API key of `--scim-token`.
pub const DEFAULT_SCIM_TOKEN: &str = "scim-emulator-directory-key";
/// Default organization id of `--org-id`.
pub const DEFAULT_ORG_ID: &str = "0a0a0a0a-0000-4000-8000-000000000001";
/// Default organization API key of `--org-api-key`.
pub const DEFAULT_ORG_API_KEY: &str = "org-emulator-admin-key";

/// Identifiers and keys of the organization and its SCIM directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub directory_id: String,
    pub scim_token: String,
    pub org_id: String,
    pub org_api_key: String,
}

impl Default for Identity {
    fn default() -> Self {
        Self {
            directory_id: DEFAULT_DIRECTORY_ID.into(),
            scim_token: DEFAULT_SCIM_TOKEN.into(),
            org_id: DEFAULT_ORG_ID.into(),
            org_api_key: DEFAULT_ORG_API_KEY.into(),
        }
    }
}

/// The guard of `/scim`, `/admin` and `/users`: faults, rate limit, Bearer key, then the handler.
pub async fn guard(
    State(emu): State<Emulator>,
    matched: Option<MatchedPath>,
    req: Request,
    next: Next,
) -> Response {
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let route = matched
        .as_ref()
        .map_or(path.as_str(), MatchedPath::as_str)
        .to_string();
    let surface = Surface::of(&path);
    let verdict = match gate::admit(&emu, &method, &path, &route, emu.now()).await {
        Ok(verdict) => verdict,
        Err(answer) => return answer,
    };
    if let Err(err) = check_key(&emu, surface, req.headers(), &path) {
        return err.into_response();
    }
    let scim_media = surface == Surface::Scim && !wants_plain_json(req.headers());
    let mut resp = next.run(req).await;
    if surface == Surface::Scim {
        if let Some(mut err) = resp.extensions_mut().remove::<ApiError>() {
            if err.status == StatusCode::BAD_REQUEST && err.code.is_none() {
                err.code = Some("invalidSyntax");
            }
            let extensions = std::mem::take(resp.extensions_mut());
            resp = err.render(Surface::Scim);
            *resp.extensions_mut() = extensions;
        }
        if scim_media && resp.headers().get(header::CONTENT_TYPE).is_some() {
            resp.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
        }
    }
    gate::finish(&emu, &verdict, resp.headers_mut());
    resp
}

/// Whether the client accepts `application/json` but not `application/scim+json`.
fn wants_plain_json(headers: &HeaderMap) -> bool {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    accept.contains("application/json") && !accept.contains("application/scim+json")
}

/// The Bearer credential of the request, if any.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// Compares two secrets without an early exit on the first differing byte.
fn same_secret(given: &str, expected: &str) -> bool {
    given.len() == expected.len()
        && given
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// Admits the surface's own key: the directory key for SCIM, the organization key for the admin and user
/// management APIs. A SCIM request for another directory answers 404.
fn check_key(
    emu: &Emulator,
    surface: Surface,
    headers: &HeaderMap,
    path: &str,
) -> Result<(), ApiError> {
    let identity = &emu.config().identity;
    let given = bearer(headers);
    match surface {
        Surface::Scim => {
            let Some(given) = given else {
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "Missing authorization header.",
                ));
            };
            if same_secret(given, &identity.org_api_key) {
                return Err(ApiError::forbidden(
                    "You are not authorized to call the API: this is an organization API key, not the directory's.",
                ));
            }
            if !same_secret(given, &identity.scim_token) {
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "The API key is invalid or has been regenerated.",
                ));
            }
            let directory = path
                .strip_prefix("/scim/directory/")
                .and_then(|rest| rest.split('/').next())
                .unwrap_or("");
            if directory != identity.directory_id {
                return Err(ApiError::not_found(format!(
                    "Directory {directory} does not exist."
                )));
            }
            Ok(())
        }
        _ => match given {
            Some(given) if same_secret(given, &identity.org_api_key) => Ok(()),
            _ => Err(ApiError::new(StatusCode::UNAUTHORIZED, "Unauthorized").code("unauthorized")),
        },
    }
}

/// Minimum time between two last-active writes for one account, so requests rarely take the write lock.
const TOUCH_EVERY_MS: i64 = 60_000;

impl Emulator {
    /// Records that `account` used the site at `now` through `path`: the JSM product for `/rest/servicedeskapi`,
    /// every product it holds for the Jira API. Cheap when the date is fresh (a read lock only).
    pub fn touch_last_active(&self, account: crate::site::AccountKey, path: &str, now: i64) {
        let jsm_only = path.starts_with("/rest/servicedeskapi");
        let products: Vec<String> = {
            let site = self.site();
            let fresh = site
                .account(account)
                .last_active
                .is_some_and(|at| now - at < TOUCH_EVERY_MS);
            if fresh {
                return;
            }
            site.products
                .iter()
                .filter(|p| !site.grants(account, p).is_empty())
                .filter(|p| !jsm_only || p.group == crate::site::groups::JSM_USERS)
                .map(|p| p.key.clone())
                .collect()
        };
        let mut site = self.site_mut();
        for product in &products {
            site.directory.touch(account, product, now);
        }
        let account = site.account_mut(account);
        account.last_active = Some(account.last_active.map_or(now, |at| at.max(now)));
    }
}
