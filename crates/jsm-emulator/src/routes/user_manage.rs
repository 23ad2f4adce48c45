//! The user management API at `/users/{accountId}/manage` (Bearer organization API key): deactivating and
//! reactivating a managed account, and listing its API tokens. Deactivation reaches every surface, as
//! suspension does.

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::Value;

use crate::Emulator;
use crate::http::{self as h, ApiError, Ctx};
use crate::site::{AccountKey, Site};

/// Routes under `/users/{accountId}/manage`.
pub fn router() -> Router<Emulator> {
    Router::new()
        .route("/lifecycle/disable", post(disable))
        .route("/lifecycle/enable", post(enable))
        .route("/api-tokens", get(super::admin::api_tokens::user_tokens))
        .fallback(|| async { ApiError::not_found("Not found.").code("notFound") })
}

fn account(site: &Site, account_id: &str) -> Result<AccountKey, ApiError> {
    let key = site.find_account(account_id).ok_or_else(|| {
        ApiError::not_found(format!("Account {account_id} was not found.")).code("accountNotFound")
    })?;
    let managed = site.account(key).account_type == jsm_proto::jira::AccountType::Atlassian
        && !site.directory.removed.contains(&key);
    if !managed {
        return Err(ApiError::forbidden(format!(
            "Account {account_id} is not managed by your organization."
        ))
        .code("forbidden"));
    }
    Ok(key)
}

fn set(ctx: &Ctx, account_id: &str, active: bool) -> Result<Response, ApiError> {
    let now = ctx.emu.now();
    let mut site = ctx.emu.site_mut();
    let key = account(&site, account_id)?;
    site.set_managed_active(key, active, now);
    Ok(h::empty(StatusCode::NO_CONTENT))
}

/// `POST …/lifecycle/disable` with an optional `{"message"}` (shown to the user at Atlassian).
pub async fn disable(
    ctx: Ctx,
    Path(account_id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    if !body.iter().all(u8::is_ascii_whitespace) {
        let parsed: Value = serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_request(format!("Invalid body: {e}")).code("bodyParseFailure")
        })?;
        if parsed
            .get("message")
            .is_some_and(|m| !m.is_string() && !m.is_null())
        {
            return Err(
                ApiError::bad_request("'message' must be a string.").code("bodyParseFailure")
            );
        }
    }
    set(&ctx, &account_id, false)
}

/// `POST …/lifecycle/enable`.
pub async fn enable(ctx: Ctx, Path(account_id): Path<String>) -> Result<Response, ApiError> {
    set(&ctx, &account_id, true)
}
