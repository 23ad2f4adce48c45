//! API tokens of the organization's managed accounts, as two Atlassian APIs list them:
//!
//! - the admin API-access API, `GET /admin/api-access/v1/orgs/{orgId}/api-tokens` (cursor-paged, `pageSize`,
//!   `q` matching the label, the owner's name or email, `status`): `id`, `label`, `status`, `createdAt`,
//!   `expiresAt`, `lastActiveAt`, `scopes` and the owner (`user{id,orgId,name,email}`). No official OpenAPI file
//!   of this API is in the repository; the shape follows the published models of clients that call it
//!   (go-atlassian's `OrgTokenScheme`, baton-atlassian). Its `status` values are UNCONFIRMED: the emulator says
//!   `active`, `expired` or `revoked`.
//! - the user management API, `GET /users/{account_id}/manage/api-tokens` (official spec, `ApiTokenModel`):
//!   `id`, `label`, `createdAt`, `lastAccess`, for the live tokens of one managed account, and no expiry.

use axum::extract::Path;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::{is_managed, known_org};
use crate::clock::iso_utc;
use crate::http::{self as h, ApiError, Ctx};
use crate::site::{ApiToken, Site};

/// Default and largest `pageSize`.
const PAGE: usize = 50;
const MAX_PAGE: usize = 100;

fn status(token: &ApiToken, now: i64) -> &'static str {
    if token.revoked {
        "revoked"
    } else if token.expires_at <= now {
        "expired"
    } else {
        "active"
    }
}

fn bad_cursor(cursor: &str) -> ApiError {
    ApiError::bad_request(format!("Invalid page cursor '{cursor}'.")).code("ADMIN-400-1")
}

fn read_cursor(cursor: Option<&str>) -> Result<usize, ApiError> {
    let Some(cursor) = cursor.filter(|c| !c.is_empty()) else {
        return Ok(0);
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| bad_cursor(cursor))?;
    String::from_utf8(bytes)
        .ok()
        .and_then(|s| s.strip_prefix("tokens:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| bad_cursor(cursor))
}

fn cursor(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("tokens:{offset}"))
}

fn org_token(site: &Site, token: &ApiToken, org_id: &str, now: i64) -> Value {
    let owner = site.account(token.account);
    let mut v = json!({
        "id": token.id,
        "label": token.label,
        "status": status(token, now),
        "createdAt": iso_utc(token.created),
        "expiresAt": iso_utc(token.expires_at),
        "scopes": token.scopes,
        "user": {
            "id": owner.account_id,
            "orgId": org_id,
            "name": owner.display_name,
            "email": owner.email,
        },
    });
    if let Some(at) = token.last_used {
        v["lastActiveAt"] = json!(iso_utc(at));
    }
    v
}

/// `GET /admin/api-access/v1/orgs/{orgId}/api-tokens`.
pub async fn org_tokens(ctx: Ctx, Path(org_id): Path<String>) -> Result<Response, ApiError> {
    known_org(&ctx, &org_id)?;
    let offset = read_cursor(ctx.params.get("cursor"))?;
    let size = match ctx.params.get("pageSize") {
        None | Some("") => PAGE,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(format!("pageSize must be between 1 and {MAX_PAGE}."))
                    .code("ADMIN-400-24")
            })?,
    };
    let q = ctx.params.get("q").map(str::to_lowercase);
    let wanted = ctx.params.get("status").map(str::to_lowercase);
    let now = ctx.emu.now();
    let site = ctx.emu.site();
    let tokens: Vec<&ApiToken> = site
        .tokens
        .iter()
        .filter(|t| is_managed(&site, t.account))
        .filter(|t| wanted.as_deref().is_none_or(|w| w == status(t, now)))
        .filter(|t| {
            q.as_deref().is_none_or(|q| {
                let owner = site.account(t.account);
                [&t.label, &owner.display_name, &owner.email]
                    .iter()
                    .any(|s| s.to_lowercase().contains(q))
            })
        })
        .collect();
    let data: Vec<Value> = tokens
        .iter()
        .skip(offset)
        .take(size)
        .map(|t| org_token(&site, t, &org_id, now))
        .collect();
    let url = |offset: usize| {
        format!(
            "{}/admin/api-access/v1/orgs/{org_id}/api-tokens?pageSize={size}&cursor={}",
            ctx.base,
            cursor(offset)
        )
    };
    let mut links = json!({ "self": url(offset) });
    if offset + data.len() < tokens.len() {
        links["next"] = json!(cursor(offset + data.len()));
    }
    if offset > 0 {
        links["prev"] = json!(cursor(offset.saturating_sub(size)));
    }
    Ok(h::ok(&json!({ "data": data, "links": links })))
}

/// `GET /users/{account_id}/manage/api-tokens`: the live tokens of one managed account.
pub async fn user_tokens(ctx: Ctx, Path(account_id): Path<String>) -> Result<Response, ApiError> {
    let now = ctx.emu.now();
    let site = ctx.emu.site();
    let key = site.find_account(&account_id).ok_or_else(|| {
        ApiError::not_found(format!("Account {account_id} was not found.")).code("accountNotFound")
    })?;
    if !is_managed(&site, key) {
        return Err(ApiError::forbidden(format!(
            "Account {account_id} is not managed by your organization."
        ))
        .code("forbidden"));
    }
    let tokens: Vec<Value> = site
        .tokens
        .iter()
        .filter(|t| t.account == key && status(t, now) == "active")
        .map(|t| {
            let mut v = json!({
                "id": t.id,
                "label": t.label,
                "createdAt": iso_utc(t.created),
            });
            if let Some(at) = t.last_used {
                v["lastAccess"] = json!(iso_utc(at));
            }
            v
        })
        .collect();
    Ok(h::ok(&tokens))
}
