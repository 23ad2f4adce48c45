//! Managed users: the cursor-paged list with product access and last-active dates, suspension and restoration
//! (which reach every surface), removal from the directory, and per-product last-active dates.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::{admin_product_key, is_managed, known_org, managed_account, managed_org};
use crate::clock::{iso_utc, to_datetime};
use crate::http::{self as h, ApiError, Ctx};
use crate::routes::views::avatar_urls;
use crate::site::{AccountKey, Site, UserEventKind, UserManagement};

/// Users per page.
const PAGE: usize = 50;

fn bad_cursor(cursor: &str) -> ApiError {
    ApiError::bad_request(format!("Invalid page cursor '{cursor}'.")).code("ADMIN-400-1")
}

/// The offset a cursor stands for (cursors are opaque to clients).
fn read_cursor(cursor: Option<&str>) -> Result<usize, ApiError> {
    let Some(cursor) = cursor.filter(|c| !c.is_empty()) else {
        return Ok(0);
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| bad_cursor(cursor))?;
    String::from_utf8(bytes)
        .ok()
        .and_then(|s| s.strip_prefix("offset:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| bad_cursor(cursor))
}

fn cursor(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("offset:{offset}"))
}

/// Products the account can use on the site (none while its access is suspended), with the last-active date
/// the admin API reports (24 hours late).
fn product_access(site: &Site, key: AccountKey, base: &str, now: i64) -> Vec<Value> {
    if site.account(key).suspended {
        return Vec::new();
    }
    site.products
        .iter()
        .filter(|p| !site.grants(key, p).is_empty())
        .map(|p| {
            let mut v = json!({
                "key": admin_product_key(&p.key),
                "name": p.name,
                "url": base,
            });
            if let Some(at) = site.directory.reported(key, &p.key, now) {
                v["last_active"] = json!(iso_utc(at));
            }
            v
        })
        .collect()
}

fn user(ctx: &Ctx, site: &Site, key: AccountKey) -> Value {
    let account = site.account(key);
    let now = ctx.emu.now();
    let products = product_access(site, key, &ctx.base, now);
    let mut v = json!({
        "account_id": account.account_id,
        "account_type": "atlassian",
        "account_status": if account.active { "active" } else { "inactive" },
        "name": account.display_name,
        "picture": avatar_urls(site, key).x48,
        // Atlassian Guard billing, not a product seat: a suspended account stays Guard-billable.
        "access_billable": site.guard_billable(key),
        "product_access": products,
        "links": { "self": format!("{}/users/{}/manage", ctx.base, account.account_id) },
    });
    if let Some(email) = account.visible_email() {
        v["email"] = json!(email);
    }
    let latest = site.directory.reported_any(key, now).or(account
        .last_active
        .filter(|at| *at <= now - crate::site::ACTIVITY_LAG_MS));
    if let Some(at) = latest {
        v["last_active"] = json!(iso_utc(at));
    }
    v
}

pub async fn list(ctx: Ctx, Path(org_id): Path<String>) -> Result<Response, ApiError> {
    known_org(&ctx, &org_id)?;
    let offset = read_cursor(ctx.params.get("cursor"))?;
    let site = ctx.emu.site();
    let keys: Vec<AccountKey> = (0..site.accounts.len() as AccountKey)
        .filter(|k| is_managed(&site, *k))
        .collect();
    let data: Vec<Value> = keys
        .iter()
        .skip(offset)
        .take(PAGE)
        .map(|k| user(&ctx, &site, *k))
        .collect();
    let url = |offset: usize| {
        format!(
            "{}/admin/v1/orgs/{org_id}/users?cursor={}",
            ctx.base,
            cursor(offset)
        )
    };
    let mut links = json!({ "self": url(offset) });
    if offset + data.len() < keys.len() {
        links["next"] = json!(url(offset + data.len()));
    }
    if offset > 0 {
        links["prev"] = json!(url(offset.saturating_sub(PAGE)));
    }
    Ok(h::ok(&json!({
        "data": data,
        "meta": { "total": keys.len() },
        "links": links,
    })))
}

/// `suspend-access` and `restore-access`.
fn set_access(
    ctx: &Ctx,
    org_id: &str,
    account_id: &str,
    active: bool,
) -> Result<Response, ApiError> {
    managed_org(ctx, org_id)?;
    let now = ctx.emu.now();
    let mut site = ctx.emu.site_mut();
    let key = managed_account(&site, account_id)?;
    site.set_managed_active(key, active, now);
    let message = if active {
        format!("Access to organization {org_id} was restored for user {account_id}")
    } else {
        format!("Access to organization {org_id} was suspended for user {account_id}")
    };
    Ok(h::ok(&json!({ "message": message })))
}

pub async fn suspend(
    ctx: Ctx,
    Path((org_id, account_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    set_access(&ctx, &org_id, &account_id, false)
}

pub async fn restore(
    ctx: Ctx,
    Path((org_id, account_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    set_access(&ctx, &org_id, &account_id, true)
}

/// Removes the account from the directory: product access and group memberships go, the SCIM record answers
/// 404, and the account leaves the organization's user list.
pub async fn remove(
    ctx: Ctx,
    Path((org_id, account_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    managed_org(&ctx, &org_id)?;
    let now = ctx.emu.now();
    let mut site = ctx.emu.site_mut();
    let key = site.find_account(&account_id).ok_or_else(|| {
        ApiError::bad_request(format!("User {account_id} is not in the directory."))
            .code("ADMIN-400-4")
    })?;
    if !is_managed(&site, key) {
        return Err(
            ApiError::bad_request(format!("User {account_id} is not in the directory."))
                .code("ADMIN-400-4"),
        );
    }
    for g in site.groups_of(key) {
        if let Some(group) = site.group_mut(g) {
            group.members.remove(&key);
        }
    }
    if let Some(idx) = site.directory.user_of_account(key) {
        let user = &mut site.directory.users[idx];
        user.deleted = true;
        user.last_modified = now;
    }
    site.directory.removed.insert(key);
    site.account_mut(key).site_access = false;
    site.record_user_event(UserEventKind::Deleted, key);
    Ok(h::empty(StatusCode::NO_CONTENT))
}

pub async fn last_active_dates(
    ctx: Ctx,
    Path((org_id, account_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    managed_org(&ctx, &org_id)?;
    read_cursor(ctx.params.get("cursor"))?;
    let site = ctx.emu.site();
    let key = managed_account(&site, &account_id)?;
    let cloud_id = &ctx.emu.config().oauth.cloud_id;
    let now = ctx.emu.now();
    // "Products accessed by the user": a product never used (or used within the last 24 hours only) is absent.
    let products: Vec<Value> = site
        .products
        .iter()
        .filter_map(|p| {
            let at = site.directory.reported(key, &p.key, now)?;
            Some(json!({
                "id": cloud_id,
                "key": admin_product_key(&p.key),
                "last_active": to_datetime(at).format("%Y-%m-%d").to_string(),
            }))
        })
        .collect();
    let mut data = json!({ "product_access": products });
    // `added_to_org` exists only in the new (centralized) user management experience.
    if site.user_management == UserManagement::Centralized {
        let added = site
            .directory
            .user_of_account(key)
            .map_or(site.account(key).created, |i| {
                site.directory.users[i].created
            });
        data["added_to_org"] = json!(to_datetime(added).format("%Y-%m-%d").to_string());
    }
    Ok(h::ok(&json!({ "data": data, "links": {} })))
}
