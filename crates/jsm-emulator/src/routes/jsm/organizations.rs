use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use jsm_proto::jsm::{AccountIds, Organization, SelfLink};
use serde::Deserialize;

use super::customers::{partial, resolve};
use super::{Change, desks, staff};
use crate::http::{self as h, ApiError, Body, Ctx, PageArgs, jsm_page};
use crate::routes::views;
use crate::site::{self, AccountKey, Site};

const STAFF_ONLY: &str = "You do not have permission to manage organizations.";

fn view(ctx: &Ctx, org: &site::Organization) -> Organization {
    Organization {
        id: org.id.to_string(),
        name: org.name.clone(),
        uuid: Some(org.uuid.clone()),
        scim_managed: false,
        created: Some(desks::date(org.created)),
        links: SelfLink {
            self_url: ctx.jsm_url(&format!("/organization/{}", org.id)),
        },
    }
}

/// The organization in the path; customers may only see their own.
fn find(ctx: &Ctx, site: &Site, ident: &str) -> Result<u32, ApiError> {
    let missing = || {
        ApiError::not_found(format!("The organization '{ident}' does not exist."))
            .key("sd.organization.error.not.found")
    };
    let id = ident.parse::<u32>().map_err(|_| missing())?;
    let org = site.organizations.get(&id).ok_or_else(missing)?;
    let mine = ctx
        .caller
        .account
        .is_some_and(|me| org.members.contains(&me));
    if staff(&ctx.caller.perms) || mine {
        Ok(id)
    } else {
        Err(missing())
    }
}

pub async fn list(ctx: Ctx) -> Result<Response, ApiError> {
    let me = ctx.account()?;
    let args = PageArgs::jsm(&ctx, 50, 50)?;
    let site = ctx.emu.site();
    let member = match ctx.params.text("accountId") {
        Some(id) => {
            ctx.require(
                staff,
                "Filtering organizations by accountId requires an agent licence.",
            )?;
            Some(site.find_account(id).ok_or_else(|| {
                ApiError::not_found(format!("The user '{id}' does not exist."))
                    .key("sd.error.user.not.found")
            })?)
        }
        None if staff(&ctx.caller.perms) => None,
        None => Some(me),
    };
    let orgs: Vec<&site::Organization> = site
        .organizations
        .values()
        .filter(|o| member.is_none_or(|m| o.members.contains(&m)))
        .collect();
    let values = args.window(&orgs).iter().map(|o| view(&ctx, o)).collect();
    Ok(h::ok(&jsm_page(&ctx, args, values, orgs.len() as u64)))
}

#[derive(Debug, Deserialize)]
pub struct NewOrganizationBody {
    name: Option<String>,
}

pub async fn create(ctx: Ctx, Body(body): Body<NewOrganizationBody>) -> Result<Response, ApiError> {
    ctx.require(staff, STAFF_ONLY)?;
    let name = body.name.as_deref().map(str::trim).unwrap_or("");
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::bad_request(
            "The organization name must be between 1 and 200 characters.",
        )
        .key("sd.organization.name.invalid"));
    }
    let now = ctx.emu.now();
    let mut site = ctx.emu.site_mut();
    let id = match site.find_org_by_name(name) {
        Some(id) => id,
        None => {
            let id = site.next_org_id();
            let uuid = site.ids.uuid();
            site.organizations.insert(
                id,
                site::Organization {
                    id,
                    uuid,
                    name: name.to_string(),
                    created: now,
                    members: Default::default(),
                },
            );
            id
        }
    };
    let org = site
        .organizations
        .get(&id)
        .ok_or_else(|| ApiError::internal("organization vanished"))?;
    Ok(h::json(StatusCode::CREATED, &view(&ctx, org)))
}

pub async fn one(ctx: Ctx, Path(ident): Path<String>) -> Result<Response, ApiError> {
    ctx.account()?;
    let site = ctx.emu.site();
    let id = find(&ctx, &site, &ident)?;
    let org = site
        .organizations
        .get(&id)
        .ok_or_else(|| ApiError::internal("organization vanished"))?;
    Ok(h::ok(&view(&ctx, org)))
}

pub async fn delete(ctx: Ctx, Path(ident): Path<String>) -> Result<Response, ApiError> {
    ctx.require(
        |p| p.jira_admin,
        "You must have Jira administrator rights to delete organizations.",
    )?;
    let mut site = ctx.emu.site_mut();
    let id = find(&ctx, &site, &ident)?;
    site.organizations.remove(&id);
    for desk in site.desks.iter_mut() {
        desk.organizations.remove(&id);
    }
    Ok(h::empty(StatusCode::NO_CONTENT))
}

pub async fn members(ctx: Ctx, Path(ident): Path<String>) -> Result<Response, ApiError> {
    ctx.require(staff, STAFF_ONLY)?;
    let args = PageArgs::jsm(&ctx, 50, 50)?;
    let site = ctx.emu.site();
    let id = find(&ctx, &site, &ident)?;
    let mut keys: Vec<AccountKey> = site
        .organizations
        .get(&id)
        .map(|o| o.members.iter().copied().collect())
        .unwrap_or_default();
    keys.sort_by(|a, b| {
        site.account(*a)
            .account_id
            .cmp(&site.account(*b).account_id)
    });
    let values = args
        .window(&keys)
        .iter()
        .map(|k| views::customer(&ctx, &site, *k))
        .collect();
    Ok(h::ok(&jsm_page(&ctx, args, values, keys.len() as u64)))
}

pub async fn add_members(
    ctx: Ctx,
    Path(ident): Path<String>,
    Body(body): Body<AccountIds>,
) -> Result<Response, ApiError> {
    change_members(ctx, &ident, &body, Change::Add)
}

pub async fn remove_members(
    ctx: Ctx,
    Path(ident): Path<String>,
    Body(body): Body<AccountIds>,
) -> Result<Response, ApiError> {
    change_members(ctx, &ident, &body, Change::Remove)
}

fn change_members(
    ctx: Ctx,
    ident: &str,
    body: &AccountIds,
    change: Change,
) -> Result<Response, ApiError> {
    ctx.require(staff, STAFF_ONLY)?;
    let mut site = ctx.emu.site_mut();
    let id = find(&ctx, &site, ident)?;
    let (known, unknown) = resolve(&site, body)?;
    if let Some(org) = site.organizations.get_mut(&id) {
        change.apply(&mut org.members, known);
    }
    partial(unknown)
}

pub async fn of_desk(ctx: Ctx, Path(desk): Path<String>) -> Result<Response, ApiError> {
    ctx.require(staff, STAFF_ONLY)?;
    let args = PageArgs::jsm(&ctx, 50, 50)?;
    let site = ctx.emu.site();
    let index = desks::find(&ctx, &site, &desk)?;
    let orgs: Vec<&site::Organization> = site.desks[index]
        .organizations
        .iter()
        .filter_map(|id| site.organizations.get(id))
        .collect();
    let values = args.window(&orgs).iter().map(|o| view(&ctx, o)).collect();
    Ok(h::ok(&jsm_page(&ctx, args, values, orgs.len() as u64)))
}

/// `{"organizationId": 1}`; real clients also send the id as a string.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationRefBody {
    organization_id: Option<serde_json::Value>,
}

fn organization_id(body: &OrganizationRefBody) -> Result<u32, ApiError> {
    let bad = || {
        ApiError::bad_request("'organizationId' must be an integer organization id.")
            .key("sd.organization.id.invalid")
    };
    match &body.organization_id {
        Some(serde_json::Value::Number(n)) => n
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(bad),
        Some(serde_json::Value::String(s)) => s.trim().parse().map_err(|_| bad()),
        _ => Err(bad()),
    }
}

pub async fn link_desk(
    ctx: Ctx,
    Path(desk): Path<String>,
    Body(body): Body<OrganizationRefBody>,
) -> Result<Response, ApiError> {
    change_desk_link(ctx, &desk, &body, Change::Add)
}

pub async fn unlink_desk(
    ctx: Ctx,
    Path(desk): Path<String>,
    Body(body): Body<OrganizationRefBody>,
) -> Result<Response, ApiError> {
    change_desk_link(ctx, &desk, &body, Change::Remove)
}

fn change_desk_link(
    ctx: Ctx,
    desk: &str,
    body: &OrganizationRefBody,
    change: Change,
) -> Result<Response, ApiError> {
    ctx.require(staff, STAFF_ONLY)?;
    let org = organization_id(body)?;
    let mut site = ctx.emu.site_mut();
    let index = desks::find(&ctx, &site, desk)?;
    find(&ctx, &site, &org.to_string())?;
    change.apply(&mut site.desks[index].organizations, [org]);
    Ok(h::empty(StatusCode::NO_CONTENT))
}
