//! Control-plane endpoints for the facts seat reports depend on and no Atlassian API writes in the emulator:
//! original or centralized user management, an account's direct role grants, Trusted role and suspension, when
//! it was added (an invite's date), and which groups grant a product or only its customer role.

use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use crate::Emulator;
use crate::http::{self as h, ApiError, Body};
use crate::site::{UserEventKind, UserManagement};

const DAY_MS: i64 = 24 * 3600 * 1000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserManagementBody {
    mode: UserManagement,
}

/// `PUT /_emulator/user-management`: `{"mode": "original" | "centralized"}`.
pub async fn set_user_management(
    State(emu): State<Emulator>,
    Body(body): Body<UserManagementBody>,
) -> Response {
    emu.site_mut().user_management = body.mode;
    h::ok(&json!({ "mode": body.mode }))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccessBody {
    #[serde(default)]
    suspended: Option<bool>,
    #[serde(default)]
    trusted: Option<bool>,
    /// Product keys granted to the account directly (replaces the list).
    #[serde(default)]
    direct_roles: Option<Vec<String>>,
    /// When the account was added (epoch ms), e.g. an invite never accepted; or `addedDaysAgo`.
    #[serde(default)]
    added: Option<i64>,
    #[serde(default)]
    added_days_ago: Option<i64>,
}

/// `PUT /_emulator/access/{accountId}`: changes only the fields given.
pub async fn set_access(
    State(emu): State<Emulator>,
    Path(account_id): Path<String>,
    Body(body): Body<AccessBody>,
) -> Result<Response, ApiError> {
    let now = emu.now();
    let mut site = emu.site_mut();
    let key = site
        .find_account(&account_id)
        .ok_or_else(|| ApiError::not_found(format!("unknown accountId {account_id}")))?;
    if let Some(roles) = &body.direct_roles
        && let Some(bad) = roles
            .iter()
            .find(|r| !site.products.iter().any(|p| &p.key == *r))
    {
        return Err(ApiError::field(
            "directRoles",
            format!("unknown product {bad}"),
        ));
    }
    let added = body.added.or(body.added_days_ago.map(|d| now - d * DAY_MS));
    let before = site.account(key).clone();
    let account = site.account_mut(key);
    if let Some(s) = body.suspended {
        account.suspended = s;
    }
    if let Some(t) = body.trusted {
        account.trusted = t;
    }
    if let Some(roles) = body.direct_roles {
        account.direct_roles = roles;
    }
    if let Some(at) = added {
        account.created = at;
    }
    let after = account.clone();
    if let Some(at) = added
        && let Some(idx) = site.directory.user_of_account(key)
    {
        site.directory.users[idx].created = at;
    }
    if before.suspended != after.suspended {
        site.record_user_event(UserEventKind::Updated, key);
    }
    Ok(h::ok(&json!({
        "accountId": account_id,
        "suspended": after.suspended,
        "trusted": after.trusted,
        "directRoles": after.direct_roles,
        "added": after.created,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProductGroupsBody {
    /// Groups besides the default one that grant the product (replaces the list).
    #[serde(default)]
    groups: Option<Vec<String>>,
    /// Groups granted only the product's customer role (replaces the list).
    #[serde(default)]
    customer_groups: Option<Vec<String>>,
}

/// `PUT /_emulator/products/{key}/groups`.
pub async fn set_product_groups(
    State(emu): State<Emulator>,
    Path(key): Path<String>,
    Body(body): Body<ProductGroupsBody>,
) -> Result<Response, ApiError> {
    let mut site = emu.site_mut();
    let product = site
        .products
        .iter_mut()
        .find(|p| p.key == key)
        .ok_or_else(|| ApiError::not_found(format!("unknown product {key}")))?;
    if let Some(g) = body.groups {
        product.groups = g;
    }
    if let Some(g) = body.customer_groups {
        product.customer_groups = g;
    }
    Ok(h::ok(&*product))
}
