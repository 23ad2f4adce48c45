use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use jsm_proto::jira::AccountType;
use jsm_proto::jsm::{AccountIds, NewCustomer};

use super::{Change, desks, staff};
use crate::http::{self as h, ApiError, Body, Ctx, PageArgs, jsm_page};
use crate::routes::views;
use crate::site::{AccountKey, DeskAccess, NewAccount, Site, UserEventKind, valid_email};

const STAFF_ONLY: &str = "You do not have permission to manage the customers of this service desk.";

pub async fn create(ctx: Ctx, Body(body): Body<NewCustomer>) -> Result<Response, ApiError> {
    ctx.require(
        |p| p.jira_admin,
        "You must have Jira administrator rights to create customers.",
    )?;
    let strict = ctx.params.flag("strictConflictStatusCode", false)?;
    let email = body.email.trim();
    if !valid_email(email) {
        return Err(
            ApiError::bad_request(format!("The email address '{email}' is not valid."))
                .key("sd.customer.create.email.invalid"),
        );
    }
    let display_name = body
        .display_name
        .or(body.full_name)
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            ApiError::bad_request("The customer's display name must be provided.")
                .key("sd.customer.create.name.required")
        })?;
    let mut site = ctx.emu.site_mut();
    if let Some(existing) = site.find_by_email(email) {
        if site.account(existing).account_type != AccountType::Customer {
            // An Atlassian account already owns the email: the customer is that account.
            return Ok(h::json(
                StatusCode::CREATED,
                &views::customer(&ctx, &site, existing),
            ));
        }
        let status = if strict {
            StatusCode::CONFLICT
        } else {
            StatusCode::BAD_REQUEST
        };
        return Err(ApiError::new(
            status,
            format!("An account already exists for this email: {email}"),
        )
        .key("sd.customer.create.email.exists"));
    }
    let key = site.add_account(
        NewAccount {
            account_type: AccountType::Customer,
            email: email.to_string(),
            display_name,
            email_hidden: false,
        },
        ctx.emu.now(),
    );
    site.record_user_event(UserEventKind::Created, key);
    Ok(h::json(
        StatusCode::CREATED,
        &views::customer(&ctx, &site, key),
    ))
}

pub async fn list(ctx: Ctx, Path(id): Path<String>) -> Result<Response, ApiError> {
    ctx.require_opt_in()?;
    ctx.require(staff, STAFF_ONLY)?;
    let args = PageArgs::jsm(&ctx, 50, 50)?;
    let site = ctx.emu.site();
    let desk = desks::find(&ctx, &site, &id)?;
    let query = ctx.params.text("query");
    let matching: Vec<AccountKey> = site.desks[desk]
        .customers
        .iter()
        .copied()
        .filter(|k| query.is_none_or(|q| site.matches_query(*k, q)))
        .collect();
    let values = args
        .window(&matching)
        .iter()
        .map(|k| views::customer(&ctx, &site, *k))
        .collect();
    Ok(h::ok(&jsm_page(&ctx, args, values, matching.len() as u64)))
}

/// Resolves account ids; unknown ones (and any legacy usernames) are returned separately.
pub fn resolve(site: &Site, body: &AccountIds) -> Result<(Vec<AccountKey>, Vec<String>), ApiError> {
    if body.account_ids.is_empty() && body.usernames.is_empty() {
        return Err(
            ApiError::bad_request("You must specify at least one accountId.")
                .key("sd.error.accountids.empty"),
        );
    }
    let mut known = Vec::new();
    let mut unknown: Vec<String> = body.usernames.clone();
    for id in &body.account_ids {
        match site.find_account(id) {
            Some(k) => known.push(k),
            None => unknown.push(id.clone()),
        }
    }
    Ok((known, unknown))
}

/// 204 when every account was known; else 400 naming the unknown ones (the known ones were still applied).
pub fn partial(unknown: Vec<String>) -> Result<Response, ApiError> {
    if unknown.is_empty() {
        return Ok(h::empty(StatusCode::NO_CONTENT));
    }
    Err(ApiError::bad_request(format!(
        "The following users do not exist: {}",
        unknown.join(", ")
    ))
    .key("sd.error.users.unknown"))
}

pub async fn add(
    ctx: Ctx,
    Path(id): Path<String>,
    Body(body): Body<AccountIds>,
) -> Result<Response, ApiError> {
    ctx.require(staff, STAFF_ONLY)?;
    let mut site = ctx.emu.site_mut();
    let desk = desks::find(&ctx, &site, &id)?;
    let (known, unknown) = resolve(&site, &body)?;
    Change::Add.apply(&mut site.desks[desk].customers, known);
    partial(unknown)
}

pub async fn remove(
    ctx: Ctx,
    Path(id): Path<String>,
    Body(body): Body<AccountIds>,
) -> Result<Response, ApiError> {
    ctx.require_opt_in()?;
    ctx.require(staff, STAFF_ONLY)?;
    let mut site = ctx.emu.site_mut();
    let desk = desks::find(&ctx, &site, &id)?;
    if site.desks[desk].access != DeskAccess::Closed {
        return Err(ApiError::bad_request(
            "Customers can only be removed from a service desk whose customer access is restricted (closed); this one has open access or public signup.",
        )
        .key("sd.customer.remove.open.access"));
    }
    let (known, unknown) = resolve(&site, &body)?;
    Change::Remove.apply(&mut site.desks[desk].customers, known);
    partial(unknown)
}
