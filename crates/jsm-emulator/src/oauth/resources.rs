//! `GET /oauth/token/accessible-resources`: the sites a Bearer access token may call; here, the one site.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::json;

use crate::Emulator;
use crate::auth::gateway_error;
use crate::http as h;

/// The avatar Atlassian shows for a site without its own.
const SITE_AVATAR: &str =
    "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/flag.png";

/// Lists `[{id, name, url, scopes, avatarUrl}]` for a live access token; 401 otherwise.
pub async fn accessible_resources(State(emu): State<Emulator>, headers: HeaderMap) -> Response {
    let unauthorized = || gateway_error(StatusCode::UNAUTHORIZED, "Unauthorized");
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_string())
    else {
        return unauthorized();
    };
    let site = emu.site();
    let Ok(grant) = site.oauth.access(&token, emu.now()) else {
        return unauthorized();
    };
    let config = &emu.config().oauth;
    let scopes: Vec<&String> = grant
        .scopes
        .iter()
        .filter(|s| s.as_str() != crate::site::OFFLINE_ACCESS)
        .collect();
    h::ok(&json!([{
        "id": config.cloud_id,
        "name": config.site_name,
        "url": emu.base_url(),
        "scopes": scopes,
        "avatarUrl": SITE_AVATAR,
    }]))
}
