//! OAuth 2.0 (3LO), outside `/rest`: `GET /authorize` (the emulator consents as the configured user and
//! redirects with `code` and `state`), `POST /oauth/token` (authorization-code and refresh-token grants, with
//! rotating refresh tokens) and `GET /oauth/token/accessible-resources`. The token rules live in
//! [`crate::site::OAuthState`]; Bearer calls to the REST surfaces are checked in [`crate::auth`].

mod authorize;
mod resources;
mod token;

use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::json;

use crate::Emulator;
use crate::http as h;
use crate::site::Redacted;

/// Cloud id of the emulated site unless `--cloud-id` says otherwise.
pub const DEFAULT_CLOUD_ID: &str = "e2b5f7a0-3c1d-4e8f-9a6b-0c4d2e1f3a5b";
/// Client id of the registered 3LO app unless `--oauth-client` says otherwise.
pub const DEFAULT_CLIENT_ID: &str = "jsmctl-emulator-app";
/// Client secret of that app unless `--oauth-client` says otherwise.
pub const DEFAULT_CLIENT_SECRET: &str = "jsmctl-emulator-secret";

/// OAuth settings fixed at start.
#[derive(Debug, Clone, PartialEq)]
pub struct OAuthConfig {
    /// The site's cloud id: the gateway is `/ex/jira/{cloudId}`.
    pub cloud_id: String,
    /// The registered 3LO app; any redirect URI is accepted for it.
    pub client_id: String,
    /// Its secret.
    pub client_secret: Redacted,
    /// Email of the account that consents at `/authorize`; `None` means the site administrator.
    pub user: Option<String>,
    /// The site name shown by accessible-resources.
    pub site_name: String,
}

impl Default for OAuthConfig {
    fn default() -> Self {
        Self {
            cloud_id: DEFAULT_CLOUD_ID.to_string(),
            client_id: DEFAULT_CLIENT_ID.to_string(),
            client_secret: Redacted::new(DEFAULT_CLIENT_SECRET),
            user: None,
            site_name: "jsmctl-emulator".to_string(),
        }
    }
}

/// The OAuth routes, mounted at the root (not under `/rest`).
pub fn router() -> Router<Emulator> {
    Router::new()
        .route("/authorize", get(authorize::authorize))
        .route("/oauth/token", post(token::token))
        .route(
            "/oauth/token/accessible-resources",
            get(resources::accessible_resources),
        )
}

/// Whether `client_id` names a registered app (the configured one or one added through the control plane).
fn app_exists(emu: &Emulator, client_id: &str) -> bool {
    emu.config().oauth.client_id == client_id || emu.site().oauth.app(client_id).is_some()
}

/// Whether `client_id` and `secret` are the credentials of a registered app.
fn app_credentials_match(emu: &Emulator, client_id: &str, secret: &str) -> bool {
    let config = &emu.config().oauth;
    if config.client_id == client_id {
        return config.client_secret.matches(secret);
    }
    emu.site()
        .oauth
        .app(client_id)
        .is_some_and(|app| app.client_secret.matches(secret))
}

/// An OAuth error body: `{"error","error_description"}`.
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    h::json(
        status,
        &json!({ "error": error, "error_description": description }),
    )
}
