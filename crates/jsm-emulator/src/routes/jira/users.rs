use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use jsm_proto::jira::AccountType;
use serde::Deserialize;

use super::super::views::{self, Expand};
use crate::http::{self as h, ApiError, Body, Ctx, PageArgs, jira_page};
use crate::site::{AccountKey, NewAccount, Site, UserEventKind, valid_email};

/// `user/search` never pages past this many results.
const SEARCH_CEILING: usize = 1000;
const NO_PERMISSION: &str = "You do not have the permission to browse users and groups.";

fn gdpr(ctx: &Ctx) -> Result<(), ApiError> {
    for legacy in ["username", "key"] {
        if ctx.params.get(legacy).is_some() {
            return Err(ApiError::bad_request(format!(
                "The query parameter '{legacy}' is not supported in GDPR strict mode."
            )));
        }
    }
    Ok(())
}

/// The account named by `accountId`, or 400 when missing and 404 when unknown.
fn named_account(ctx: &Ctx, site: &Site) -> Result<AccountKey, ApiError> {
    gdpr(ctx)?;
    let id = ctx.params.text("accountId").ok_or_else(|| {
        ApiError::bad_request("The 'accountId' query parameter needs to be provided.")
    })?;
    site.find_account(id).ok_or_else(|| {
        ApiError::not_found("Specified user does not exist or you do not have required permissions")
    })
}

pub async fn get_user(ctx: Ctx) -> Result<Response, ApiError> {
    ctx.require(|p| p.browse_users, NO_PERMISSION)?;
    let site = ctx.emu.site();
    let key = named_account(&ctx, &site)?;
    Ok(h::ok(&views::user(
        &ctx,
        &site,
        key,
        Expand::from_ctx(&ctx),
    )))
}

pub async fn myself(ctx: Ctx) -> Result<Response, ApiError> {
    let key = ctx.account()?;
    let site = ctx.emu.site();
    Ok(h::ok(&views::user(
        &ctx,
        &site,
        key,
        Expand::from_ctx(&ctx),
    )))
}

pub async fn user_groups(ctx: Ctx) -> Result<Response, ApiError> {
    ctx.require(|p| p.browse_users, NO_PERMISSION)?;
    let site = ctx.emu.site();
    let key = named_account(&ctx, &site)?;
    let mut groups: Vec<_> = site
        .groups_of(key)
        .into_iter()
        .filter_map(|g| site.group(g))
        .map(|g| views::group_name(&ctx, g))
        .collect();
    groups.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(h::ok(&groups))
}

pub async fn search(ctx: Ctx) -> Result<Response, ApiError> {
    gdpr(&ctx)?;
    let query = ctx.params.get("query");
    let account_id = ctx.params.get("accountId");
    let property = ctx.params.get("property");
    if query.is_none() && account_id.is_none() && property.is_none() {
        return Err(ApiError::bad_request(
            "One of 'query', 'accountId' or 'property' query parameters must be provided.",
        ));
    }
    if query.is_some() && account_id.is_some() {
        return Err(ApiError::bad_request(
            "The 'query' and 'accountId' query parameters cannot be used together.",
        ));
    }
    let args = PageArgs::jira(&ctx, 50, SEARCH_CEILING as u64)?;
    // Anonymous callers and callers without permission get an empty answer, not an error.
    if ctx.caller.account.is_none() || !ctx.caller.perms.browse_users || property.is_some() {
        return Ok(h::ok(&Vec::<()>::new()));
    }
    let site = ctx.emu.site();
    let mut found: Vec<AccountKey> = match account_id {
        Some(id) => site.find_account(id).into_iter().collect(),
        None => (0..site.accounts.len() as AccountKey)
            .filter(|k| query.is_none_or(|q| site.matches_query(*k, q)))
            .collect(),
    };
    found.retain(|k| {
        let a = site.account(*k);
        a.active && a.site_access
    });
    site.sort_accounts(&mut found);
    found.truncate(SEARCH_CEILING);
    let users: Vec<_> = args
        .window(&found)
        .iter()
        .map(|k| views::user(&ctx, &site, *k, Expand::default()))
        .collect();
    Ok(h::ok(&users))
}

pub async fn list_all(ctx: Ctx) -> Result<Response, ApiError> {
    let args = PageArgs::jira(&ctx, 50, 1000)?;
    if ctx.caller.account.is_none() {
        return Ok(h::ok(&Vec::<()>::new()));
    }
    ctx.require(|p| p.browse_users, NO_PERMISSION)?;
    let site = ctx.emu.site();
    let all: Vec<AccountKey> = (0..site.accounts.len() as AccountKey).collect();
    let users: Vec<_> = args
        .window(&all)
        .iter()
        .map(|k| views::user(&ctx, &site, *k, Expand::default()))
        .collect();
    Ok(h::ok(&users))
}

pub async fn bulk(ctx: Ctx) -> Result<Response, ApiError> {
    ctx.require(|p| p.browse_users, NO_PERMISSION)?;
    gdpr(&ctx)?;
    let ids = ctx.params.all("accountId");
    if ids.is_empty() {
        return Err(ApiError::bad_request(
            "The 'accountId' query parameter needs to be provided.",
        ));
    }
    let args = PageArgs::jira(&ctx, 10, 200)?;
    let site = ctx.emu.site();
    let mut found: Vec<AccountKey> = ids.iter().filter_map(|id| site.find_account(id)).collect();
    found.dedup();
    let users = args
        .window(&found)
        .iter()
        .map(|k| views::user(&ctx, &site, *k, Expand::default()))
        .collect();
    Ok(h::ok(&jira_page(&ctx, args, users, found.len() as u64)))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewUserBody {
    email_address: Option<String>,
    products: Option<Vec<String>>,
}

pub async fn create_user(ctx: Ctx, Body(body): Body<NewUserBody>) -> Result<Response, ApiError> {
    ctx.require(
        |p| p.jira_admin,
        "You must have Jira administrator rights to create users.",
    )?;
    let email = body
        .email_address
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .ok_or_else(|| ApiError::field("emailAddress", "You must specify an email address."))?;
    if !valid_email(email) {
        return Err(ApiError::field(
            "emailAddress",
            "You must specify a valid email address.",
        ));
    }
    let products = body.products.ok_or_else(|| {
        ApiError::bad_request("You must specify the products that user can access.")
    })?;
    let quirks = ctx.emu.quirks();
    let mut site = ctx.emu.site_mut();
    let mut groups = Vec::new();
    for key in &products {
        let product = site
            .products
            .iter()
            .find(|p| &p.key == key)
            .ok_or_else(|| ApiError::field("products", format!("Invalid product key: {key}")))?;
        groups.push((product.clone(), site.find_group_by_name(&product.group)));
    }
    if let Some(existing) = site.find_by_email(email) {
        let account = site.account(existing);
        if account.account_type == AccountType::Customer {
            return Err(ApiError::bad_request(
                "User could not be created: a portal-only customer account already uses this email address.",
            ));
        }
        let has_jira = account.site_access
            && site
                .products
                .iter()
                .any(|p| !site.grants(existing, p).is_empty());
        if has_jira {
            return Ok(created(views::user(
                &ctx,
                &site,
                existing,
                Expand::default(),
            )));
        }
        return Err(ApiError::bad_request(
            "User could not be created: the user already exists but does not have access to Jira.",
        ));
    }
    if quirks.create_user_requires_account {
        return Err(ApiError::bad_request(
            "User could not be created: Failed to add user HttpErrorCode 404 - User not found",
        ));
    }
    for (product, _) in &groups {
        if let Some(seats) = product.seats
            && site.seats_used(product) >= seats
        {
            return Err(ApiError::bad_request(format!(
                "User could not be created: the licence limit of {} has been exceeded.",
                product.name
            )));
        }
    }
    let display_name = email.split('@').next().unwrap_or(email).to_string();
    let now = ctx.emu.now();
    let key = site.add_account(
        NewAccount {
            account_type: AccountType::Atlassian,
            email: email.to_string(),
            display_name,
            email_hidden: false,
        },
        now,
    );
    for (_, group) in groups {
        if let Some(g) = group.and_then(|g| site.group_mut(g)) {
            g.members.insert(key);
        }
    }
    site.record_user_event(UserEventKind::Created, key);
    Ok(created(views::user(&ctx, &site, key, Expand::default())))
}

fn created(user: jsm_proto::jira::User) -> Response {
    let location = HeaderValue::from_str(&user.self_url).ok();
    let mut resp = h::json(StatusCode::CREATED, &user);
    if let Some(location) = location {
        resp.headers_mut().insert(header::LOCATION, location);
    }
    resp
}

pub async fn delete_user(ctx: Ctx) -> Result<Response, ApiError> {
    let me = ctx.require(
        |p| p.site_admin,
        "Only site administrators can remove users.",
    )?;
    let mut site = ctx.emu.site_mut();
    let key = named_account(&ctx, &site)?;
    if !site.account(key).site_access {
        return Err(ApiError::not_found(
            "Specified user does not exist or you do not have required permissions",
        ));
    }
    if key == me {
        return Err(ApiError::bad_request("You cannot remove yourself."));
    }
    for g in site.groups_of(key) {
        if let Some(group) = site.group_mut(g) {
            group.members.remove(&key);
        }
    }
    site.account_mut(key).site_access = false;
    site.record_user_event(UserEventKind::Deleted, key);
    Ok(h::empty(StatusCode::NO_CONTENT))
}
