//! The organizations admin API at `/admin/v1` (Bearer organization API key): the organization, its managed
//! users with product access and last-active dates, directory suspension, restoration and removal, and directory
//! groups, whose SCIM-synced memberships cannot be changed here. Errors carry `ADMIN-…` codes.

pub(crate) mod api_tokens;
mod directories;
mod groups;
mod orgs;
mod users;

use axum::Router;
use axum::routing::{delete, get, post};

use crate::Emulator;
use crate::http::{ApiError, Ctx};
use crate::site::{AccountKey, Site};

/// Routes under `/admin/v1`.
pub fn router() -> Router<Emulator> {
    Router::new()
        .route("/orgs", get(orgs::list))
        .route("/orgs/{orgId}", get(orgs::one))
        .route("/orgs/{orgId}/users", get(users::list))
        .route(
            "/orgs/{orgId}/directory/users/{accountId}",
            delete(users::remove),
        )
        .route(
            "/orgs/{orgId}/directory/users/{accountId}/suspend-access",
            post(users::suspend),
        )
        .route(
            "/orgs/{orgId}/directory/users/{accountId}/restore-access",
            post(users::restore),
        )
        .route(
            "/orgs/{orgId}/directory/users/{accountId}/last-active-dates",
            get(users::last_active_dates),
        )
        .route("/orgs/{orgId}/directory/groups", post(groups::create))
        .route(
            "/orgs/{orgId}/directory/groups/{groupId}",
            delete(groups::delete),
        )
        .route(
            "/orgs/{orgId}/directory/groups/{groupId}/memberships",
            post(groups::add_member),
        )
        .route(
            "/orgs/{orgId}/directory/groups/{groupId}/memberships/{accountId}",
            delete(groups::remove_member),
        )
        .fallback(|| async { ApiError::not_found("Unknown resource.").code("ADMIN-404-1") })
}

/// Routes under `/admin/v2`: directories, role assignments, suspend and restore in a directory.
pub fn v2_router() -> Router<Emulator> {
    let user = "/orgs/{orgId}/directories/{directoryId}/users/{accountId}";
    Router::new()
        .route("/orgs/{orgId}/directories", get(directories::list))
        .route(
            &format!("{user}/role-assignments"),
            get(directories::role_assignments),
        )
        .route(&format!("{user}/suspend"), post(directories::suspend))
        .route(&format!("{user}/restore"), post(directories::restore))
        .fallback(|| async { ApiError::not_found("Unknown resource.").code("ADMIN-404-1") })
}

/// Routes under `/admin/api-access/v1`: the organization's API tokens.
pub fn api_access_router() -> Router<Emulator> {
    Router::new()
        .route("/orgs/{orgId}/api-tokens", get(api_tokens::org_tokens))
        .fallback(|| async { ApiError::not_found("Unknown resource.").code("ADMIN-404-1") })
}

/// 404 `ADMIN-404-2` unless `org_id` is this organization (reads of the organization itself).
fn known_org(ctx: &Ctx, org_id: &str) -> Result<(), ApiError> {
    if org_id == ctx.emu.config().identity.org_id {
        Ok(())
    } else {
        Err(
            ApiError::not_found(format!("Organization {org_id} was not found."))
                .code("ADMIN-404-2"),
        )
    }
}

/// 403 `ADMIN-403-3` unless the key may manage `org_id` (directory operations).
fn managed_org(ctx: &Ctx, org_id: &str) -> Result<(), ApiError> {
    if org_id == ctx.emu.config().identity.org_id {
        Ok(())
    } else {
        Err(
            ApiError::forbidden(format!("Not allowed to manage organization {org_id}."))
                .code("ADMIN-403-3"),
        )
    }
}

/// A managed account of the organization (an Atlassian account still in the directory), or `ADMIN-404-8`.
fn managed_account(site: &Site, account_id: &str) -> Result<AccountKey, ApiError> {
    site.find_account(account_id)
        .filter(|k| is_managed(site, *k))
        .ok_or_else(|| {
            ApiError::not_found(format!("User {account_id} was not found.")).code("ADMIN-404-8")
        })
}

/// Atlassian accounts (not customers or apps) that were not removed from the directory.
fn is_managed(site: &Site, key: AccountKey) -> bool {
    site.account(key).account_type == jsm_proto::jira::AccountType::Atlassian
        && !site.directory.removed.contains(&key)
}

/// The admin API's key for a product (`jira-servicedesk` is `jira-service-desk` there).
fn admin_product_key(key: &str) -> &str {
    match key {
        "jira-servicedesk" => "jira-service-desk",
        other => other,
    }
}
