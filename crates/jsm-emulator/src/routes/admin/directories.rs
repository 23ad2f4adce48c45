//! The organizations API v2 at `/admin/v2/orgs/{orgId}`: the organization's directories, a user's role
//! assignments per resource (the "why" of every product role: `group_direct`, `direct` or `inferred`), and
//! suspending or restoring a user's access in a directory (roles and groups kept, no seat billed).
//!
//! Shapes follow Atlassian's v2 models (`MultiDirectoryUserRoleAssignmentPage`: `resourceId`, `resourceOwner`,
//! `roleAssignments[{role, roleAssignmentMethods}]`, `directoryId`, `userDirectoryStatus`). The emulator has one
//! directory, whose id is the SCIM directory's; `-` stands for every directory, as in Atlassian's paths.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::{managed_account, managed_org};
use crate::http::{self as h, ApiError, Ctx};
use crate::site::{AccountKey, SeatPath, Site, UserEventKind, UserManagement, groups};

/// The one directory of the emulated organization, or `ADMIN-404-…` for another id (`-` is every directory).
fn directory(ctx: &Ctx, id: &str) -> Result<String, ApiError> {
    let own = &ctx.emu.config().identity.directory_id;
    if id == "-" || id == own {
        Ok(own.clone())
    } else {
        Err(ApiError::not_found(format!("Directory {id} was not found.")).code("ADMIN-404-11"))
    }
}

/// `GET /admin/v2/orgs/{orgId}/directories`.
pub async fn list(ctx: Ctx, Path(org_id): Path<String>) -> Result<Response, ApiError> {
    managed_org(&ctx, &org_id)?;
    let id = &ctx.emu.config().identity.directory_id;
    Ok(h::ok(&json!({
        "data": [{ "directoryId": id, "name": "Example Corp" }],
        "links": {},
    })))
}

/// The ARI of a product on this site (`ari:cloud:jira-servicedesk::site/{cloudId}`).
fn product_ari(key: &str, cloud_id: &str) -> String {
    format!("ari:cloud:{key}::site/{cloud_id}")
}

/// How each path shows as a role assignment method.
fn method(path: SeatPath) -> &'static str {
    match path {
        SeatPath::Group(_) => "group_direct",
        SeatPath::Direct => "direct",
        SeatPath::Trusted => "inferred",
    }
}

/// Every role the account has on a product of the site or on the site itself.
fn assignments(site: &Site, key: AccountKey, cloud_id: &str, directory_id: &str) -> Vec<Value> {
    let account = site.account(key);
    let status = if account.suspended {
        "suspended"
    } else if site.directory.removed.contains(&key) || !account.site_access {
        "no_membership"
    } else {
        "active"
    };
    let mut out = Vec::new();
    for product in &site.products {
        let mut roles = Vec::new();
        let mut methods: Vec<&str> = Vec::new();
        for path in site.grants(key, product) {
            let m = method(path);
            if !methods.contains(&m) {
                methods.push(m);
            }
        }
        if !methods.is_empty() {
            roles.push(json!({ "role": "atlassian/user", "roleAssignmentMethods": methods }));
        }
        if site.has_customer_role(key, product) {
            roles.push(
                json!({ "role": "atlassian/customer", "roleAssignmentMethods": ["group_direct"] }),
            );
        }
        if roles.is_empty() {
            continue;
        }
        out.push(json!({
            "resourceId": product_ari(&product.key, cloud_id),
            "resourceOwner": product.key,
            "roleAssignments": roles,
            "directoryId": directory_id,
            "userDirectoryStatus": status,
        }));
    }
    if site.is_member_of(key, groups::SITE_ADMINS) {
        // Platform roles belong to no directory, so both directory fields are null.
        out.push(json!({
            "resourceId": format!("ari:cloud:platform::site/{cloud_id}"),
            "resourceOwner": "platform",
            "roleAssignments": [{ "role": "atlassian/site-admin", "roleAssignmentMethods": ["group_direct"] }],
            "directoryId": null,
            "userDirectoryStatus": null,
        }));
    }
    if account.trusted && site.user_management == UserManagement::Original {
        // The Trusted role's id is not documented (UNCONFIRMED); the product roles it grants show as `inferred`,
        // which is what clients should rely on.
        out.push(json!({
            "resourceId": format!("ari:cloud:platform::site/{cloud_id}"),
            "resourceOwner": "platform",
            "roleAssignments": [{ "role": "atlassian/trusted-user", "roleAssignmentMethods": ["direct"] }],
            "directoryId": null,
            "userDirectoryStatus": null,
        }));
    }
    out
}

/// `GET …/directories/{directoryId}/users/{accountId}/role-assignments`: one page holds them all (a site has a
/// handful of products), so `links` has no `next`.
pub async fn role_assignments(
    ctx: Ctx,
    Path((org_id, directory_id, account_id)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    managed_org(&ctx, &org_id)?;
    let directory_id = directory(&ctx, &directory_id)?;
    let site = ctx.emu.site();
    let key = managed_account(&site, &account_id)?;
    let cloud_id = &ctx.emu.config().oauth.cloud_id;
    Ok(h::ok(&json!({
        "data": assignments(&site, key, cloud_id, &directory_id),
        "links": {},
    })))
}

fn set_suspended(
    ctx: &Ctx,
    org_id: &str,
    directory_id: &str,
    account_id: &str,
    suspended: bool,
) -> Result<Response, ApiError> {
    managed_org(ctx, org_id)?;
    directory(ctx, directory_id)?;
    let mut site = ctx.emu.site_mut();
    let key = managed_account(&site, account_id)?;
    if site.account(key).suspended != suspended {
        site.account_mut(key).suspended = suspended;
        site.record_user_event(UserEventKind::Updated, key);
    }
    Ok(h::empty(StatusCode::NO_CONTENT))
}

/// `POST …/users/{accountId}/suspend`: no access to the site's apps and no seat billed; roles and groups stay.
pub async fn suspend(
    ctx: Ctx,
    Path((org_id, directory_id, account_id)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    set_suspended(&ctx, &org_id, &directory_id, &account_id, true)
}

/// `POST …/users/{accountId}/restore`: access and billing resume with the roles and groups from before.
pub async fn restore(
    ctx: Ctx,
    Path((org_id, directory_id, account_id)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    set_suspended(&ctx, &org_id, &directory_id, &account_id, false)
}
