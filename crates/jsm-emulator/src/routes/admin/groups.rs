//! Directory groups: create, delete, add and remove members. Groups synced from the identity provider (SCIM)
//! are managed there, so their memberships cannot be changed here (403 `ADMIN-403-5`).

use axum::extract::Path;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use super::{managed_account, managed_org};
use crate::http::{self as h, ApiError, Body, Ctx};
use crate::site::{GroupKey, Site, groups};

fn missing_group(id: &str) -> ApiError {
    ApiError::not_found(format!("Group {id} was not found.")).code("ADMIN-404-10")
}

fn group(site: &Site, id: &str) -> Result<GroupKey, ApiError> {
    site.find_group_by_id(id).ok_or_else(|| missing_group(id))
}

/// 403 when the identity provider owns the group's memberships.
fn not_synced(site: &Site, key: GroupKey, id: &str) -> Result<(), ApiError> {
    if site.directory.group_of(key).is_some() {
        return Err(ApiError::forbidden(format!(
            "Group {id} is synced from your identity provider: change its members there."
        ))
        .code("ADMIN-403-5"));
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
pub struct NewGroup {
    name: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
}

pub async fn create(
    ctx: Ctx,
    Path(org_id): Path<String>,
    Body(body): Body<NewGroup>,
) -> Result<Response, ApiError> {
    managed_org(&ctx, &org_id)?;
    let name = body
        .name
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::bad_request("'name' is required.").code("ADMIN-400-24"))?;
    let mut site = ctx.emu.site_mut();
    let key = site.create_group(&name).ok_or_else(|| {
        ApiError::bad_request(format!("A group named '{name}' already exists.")).code("ADMIN-400-4")
    })?;
    let id = site
        .group(key)
        .map(|g| g.group_id.clone())
        .unwrap_or_default();
    Ok(h::ok(&json!({
        "message": format!("Group {name} was created"),
        "groupId": id,
    })))
}

pub async fn delete(
    ctx: Ctx,
    Path((org_id, group_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    managed_org(&ctx, &org_id)?;
    let mut site = ctx.emu.site_mut();
    let key = group(&site, &group_id)?;
    let name = site.group(key).map(|g| g.name.clone()).unwrap_or_default();
    if site.product_of_group(&name).is_some() {
        return Err(ApiError::forbidden(format!(
            "Group {group_id} grants product access and cannot be deleted."
        ))
        .code("ADMIN-403-7"));
    }
    if name.eq_ignore_ascii_case(groups::SITE_ADMINS)
        || name.eq_ignore_ascii_case(groups::JIRA_ADMINS)
    {
        return Err(ApiError::forbidden(format!(
            "Group {group_id} grants admin access and cannot be deleted."
        ))
        .code("ADMIN-403-7"));
    }
    not_synced(&site, key, &group_id)?;
    site.delete_group(key);
    Ok(h::ok(
        &json!({ "message": format!("Group {group_id} was removed") }),
    ))
}

#[derive(Debug, Deserialize)]
pub struct Membership {
    account_id: Option<String>,
}

pub async fn add_member(
    ctx: Ctx,
    Path((org_id, group_id)): Path<(String, String)>,
    Body(body): Body<Membership>,
) -> Result<Response, ApiError> {
    managed_org(&ctx, &org_id)?;
    let account_id = body
        .account_id
        .filter(|a| !a.trim().is_empty())
        .ok_or_else(|| ApiError::bad_request("'account_id' is required.").code("ADMIN-400-24"))?;
    let mut site = ctx.emu.site_mut();
    let key = group(&site, &group_id)?;
    let account = managed_account(&site, &account_id)?;
    not_synced(&site, key, &group_id)?;
    if let Some(g) = site.group_mut(key) {
        g.members.insert(account);
    }
    Ok(h::ok(&json!({
        "message": format!("User {account_id} was added to group {group_id}")
    })))
}

pub async fn remove_member(
    ctx: Ctx,
    Path((org_id, group_id, account_id)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    managed_org(&ctx, &org_id)?;
    let mut site = ctx.emu.site_mut();
    let key = group(&site, &group_id)?;
    let account = managed_account(&site, &account_id)?;
    not_synced(&site, key, &group_id)?;
    if let Some(g) = site.group_mut(key) {
        g.members.remove(&account);
    }
    Ok(h::ok(&json!({
        "message": format!("User {account_id} was removed from group {group_id}")
    })))
}
