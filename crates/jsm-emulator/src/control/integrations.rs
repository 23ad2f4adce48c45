//! Control-plane pieces for integrations: scoped API tokens, extra OAuth apps and the webhook delivery log.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use crate::Emulator;
use crate::http::{self as h, ApiError, Body};
use crate::scopes;
use crate::site::{OAuthApp, Redacted};

/// The scopes of a new API token: none for a classic token; at least one known scope for a scoped one.
pub fn token_scopes(scoped: bool, given: Option<&[String]>) -> Result<Vec<String>, ApiError> {
    match (scoped, given) {
        (false, None) => Ok(Vec::new()),
        (false, Some(_)) => Err(ApiError::field(
            "scopes",
            "scopes are only for scoped tokens: add \"scoped\": true",
        )),
        (true, None) => Err(ApiError::field(
            "scopes",
            "a scoped token needs at least one scope, e.g. [\"read:jira-user\"]",
        )),
        (true, Some(list)) => {
            let joined = list.join(" ");
            let parsed = scopes::parse(&joined)
                .map_err(|bad| ApiError::field("scopes", format!("unknown scope '{bad}'")))?;
            if parsed.is_empty() || list.iter().any(|s| s.split_whitespace().count() != 1) {
                return Err(ApiError::field(
                    "scopes",
                    "give each scope as its own non-empty string",
                ));
            }
            Ok(parsed)
        }
    }
}

/// Body of `POST /_emulator/oauth/apps`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppBody {
    client_id: String,
    client_secret: Redacted,
    #[serde(default)]
    name: Option<String>,
}

/// Registers another OAuth 2.0 app (any redirect URI is accepted for it); 409 when the id is taken.
pub async fn register_app(
    State(emu): State<Emulator>,
    Body(body): Body<AppBody>,
) -> Result<Response, ApiError> {
    let client_id = body.client_id.trim().to_string();
    if client_id.is_empty() {
        return Err(ApiError::field("clientId", "must not be empty"));
    }
    if body.client_secret.expose().is_empty() {
        return Err(ApiError::field("clientSecret", "must not be empty"));
    }
    let mut site = emu.site_mut();
    if client_id == emu.config().oauth.client_id || site.oauth.app(&client_id).is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("an app with client id {client_id} is already registered"),
        ));
    }
    let name = body.name.unwrap_or_else(|| client_id.clone());
    site.oauth.apps.push(OAuthApp {
        client_id: client_id.clone(),
        client_secret: body.client_secret,
        name: name.clone(),
    });
    Ok(h::json(
        StatusCode::CREATED,
        &json!({ "clientId": client_id, "name": name }),
    ))
}

/// Every recorded delivery attempt, oldest first.
pub async fn deliveries(State(emu): State<Emulator>) -> Response {
    h::ok(&json!({ "attempts": emu.webhooks().attempts() }))
}
