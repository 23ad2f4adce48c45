//! `GET /authorize`: validates the request, consents as the configured user, and redirects to the app.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use url::Url;

use super::{app_exists, oauth_error};
use crate::Emulator;
use crate::http::Params;
use crate::scopes;
use crate::site::{AuthCode, CODE_LIFETIME_MS};

/// The only audience Atlassian's authorization server serves.
const AUDIENCE: &str = "api.atlassian.com";

/// Answers `/authorize`. Problems with `client_id` or `redirect_uri` are shown as a 400 (redirecting would
/// hand an error to an unverified URL); every other problem is sent to the app as `error=` on its redirect.
pub async fn authorize(State(emu): State<Emulator>, params: Params) -> Response {
    let Some(client_id) = params.text("client_id") else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing required parameter: client_id",
        );
    };
    if !app_exists(&emu, client_id) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            &format!("Unknown client_id '{client_id}': no app with this client id is registered."),
        );
    }
    let Some(redirect_uri) = params.text("redirect_uri") else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing required parameter: redirect_uri",
        );
    };
    let Some(target) = Url::parse(redirect_uri)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
    else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "redirect_uri must be an absolute http or https URL.",
        );
    };
    let state = params.get("state");
    let fail = |error: &str, description: &str| {
        redirect(
            &target,
            &[("error", error), ("error_description", description)],
            state,
        )
    };

    match params.get("response_type") {
        Some("code") => {}
        None => {
            return fail(
                "invalid_request",
                "Missing required parameter: response_type",
            );
        }
        Some(_) => {
            return fail("unsupported_response_type", "response_type must be 'code'.");
        }
    }
    if let Some(audience) = params.get("audience")
        && audience != AUDIENCE
    {
        return fail(
            "invalid_request",
            &format!("Unknown audience '{audience}': use {AUDIENCE}."),
        );
    }
    let granted = match params.text("scope").map(scopes::parse) {
        None => return fail("invalid_scope", "Missing required parameter: scope"),
        Some(Err(unknown)) => {
            return fail("invalid_scope", &format!("Unknown scope '{unknown}'."));
        }
        Some(Ok(granted)) if granted.is_empty() => {
            return fail("invalid_scope", "Missing required parameter: scope");
        }
        Some(Ok(granted)) => granted,
    };
    let email = emu
        .config()
        .oauth
        .user
        .clone()
        .unwrap_or_else(|| emu.config().admin.email.clone());
    let now = emu.now();
    let mut site = emu.site_mut();
    let Some(account) = site
        .find_by_email(&email)
        .filter(|k| site.account(*k).active)
    else {
        drop(site);
        return fail(
            "access_denied",
            &format!(
                "The consenting user {email} (--oauth-user) has no active account on this site."
            ),
        );
    };
    let account_id = site.account(account).account_id.clone();
    let site = &mut *site;
    let code = site.oauth.authorize(
        &mut site.ids,
        AuthCode {
            client_id: client_id.to_string(),
            account_id,
            scopes: granted,
            redirect_uri: redirect_uri.to_string(),
            expires_at: now + CODE_LIFETIME_MS,
        },
        now,
    );
    redirect(&target, &[("code", code.expose())], state)
}

/// 302 to `target` with `pairs` and `state` added to its query.
fn redirect(target: &Url, pairs: &[(&str, &str)], state: Option<&str>) -> Response {
    let mut url = target.clone();
    {
        let mut query = url.query_pairs_mut();
        for (k, v) in pairs {
            query.append_pair(k, v);
        }
        if let Some(state) = state {
            query.append_pair("state", state);
        }
    }
    let mut resp = StatusCode::FOUND.into_response();
    match HeaderValue::from_str(url.as_str()) {
        Ok(location) => {
            resp.headers_mut().insert(header::LOCATION, location);
            resp
        }
        Err(_) => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "redirect_uri cannot be used in a Location header.",
        ),
    }
}
