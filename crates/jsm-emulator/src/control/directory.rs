//! Control-plane endpoints of the identity directory: set last-active dates (for seat-waste reports) and the
//! directory's size limits (to test the 150,000-user and 35,000-member limits with small numbers).

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use crate::Emulator;
use crate::clock::iso_utc;
use crate::http::{self as h, ApiError, Body};
use crate::site::DirectoryLimits;

const DAY_MS: i64 = 24 * 3600 * 1000;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LastActiveBody {
    account_id: String,
    /// Only this product (`jira-servicedesk`, `jira-software`); every product the account holds otherwise.
    #[serde(default)]
    product: Option<String>,
    /// The instant (epoch ms); or `daysAgo` on the emulator clock.
    #[serde(default)]
    at: Option<i64>,
    #[serde(default)]
    days_ago: Option<i64>,
}

/// `PUT /_emulator/last-active`: sets an account's last-active date as the admin API already reports it (the
/// 24-hour lag applies to uses, not to dates set here).
pub async fn set_last_active(
    State(emu): State<Emulator>,
    Body(body): Body<LastActiveBody>,
) -> Result<Response, ApiError> {
    let at = match (body.at, body.days_ago) {
        (Some(at), _) => at,
        (None, Some(days)) => emu.now() - days * DAY_MS,
        (None, None) => return Err(ApiError::field("at", "give 'at' (epoch ms) or 'daysAgo'")),
    };
    let mut site = emu.site_mut();
    let key = site
        .find_account(&body.account_id)
        .ok_or_else(|| ApiError::not_found(format!("unknown accountId {}", body.account_id)))?;
    let products: Vec<String> = match body.product {
        Some(p) => {
            if !site.products.iter().any(|x| x.key == p) {
                return Err(ApiError::field("product", format!("unknown product {p}")));
            }
            vec![p]
        }
        None => site
            .products
            .iter()
            .filter(|p| !site.grants(key, p).is_empty())
            .map(|p| p.key.clone())
            .collect(),
    };
    for p in &products {
        site.directory.record(key, p, at);
    }
    let latest = site
        .directory
        .activity
        .get(&key)
        .and_then(|a| a.values().max().copied());
    site.account_mut(key).last_active = latest;
    Ok(h::ok(&json!({
        "accountId": body.account_id,
        "products": products,
        "lastActive": latest.map(iso_utc),
    })))
}

/// `GET /_emulator/directory/limits`.
pub async fn get_limits(State(emu): State<Emulator>) -> Response {
    h::ok(&emu.site().directory.limits)
}

/// `PUT /_emulator/directory/limits`.
pub async fn set_limits(
    State(emu): State<Emulator>,
    Body(limits): Body<DirectoryLimits>,
) -> Response {
    emu.site_mut().directory.limits = limits;
    h::ok(&limits)
}
