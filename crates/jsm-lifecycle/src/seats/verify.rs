//! Whether an account still holds a product's seat, read fresh: what a reclaim re-checks after apply, because
//! SCIM can re-add a membership and a direct grant survives a group removal.

use jsm_client::{AuthReason, Client};

use super::rules::{role_methods, suspended_in};
use crate::error::Result;

/// True when the account holds no billed seat of `product`: it is inactive or gone, or it is in no group that
/// grants the product and (with the admin API key) has no direct or inferred role on it, or is suspended.
pub async fn seat_is_free(client: &Client, account_id: &str, product: &str) -> Result<bool> {
    let user = match client.users().get(account_id).await {
        Ok(u) => u,
        Err(e) if e.is_not_found() => return Ok(true),
        Err(e) => return Err(e.into()),
    };
    if !user.active {
        return Ok(true);
    }
    let role = client.application_roles().get(product).await?;
    let groups = client.users().groups(account_id).await?;
    if groups
        .iter()
        .any(|g| role.groups.iter().any(|r| r.eq_ignore_ascii_case(&g.name)))
    {
        return Ok(false);
    }
    match client.admin().role_assignments("-", account_id).await {
        Ok(roles) => Ok(suspended_in(&roles, product) || role_methods(&roles, product).is_empty()),
        Err(jsm_client::Error::Auth {
            reason: AuthReason::Missing,
            ..
        }) => Ok(true),
        Err(e) if e.is_not_found() => Ok(true),
        Err(e) => Err(e.into()),
    }
}
