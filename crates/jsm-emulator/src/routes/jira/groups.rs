use axum::http::StatusCode;
use axum::response::Response;
use jsm_proto::jira::{AccountType, FoundGroup, FoundGroups, Group, GroupDetails, PagedUsers};
use serde::Deserialize;

use super::super::views;
use crate::http::{self as h, ApiError, Body, Ctx, PageArgs, jira_page};
use crate::site::{AccountKey, GroupKey, Site};

const NO_PERMISSION: &str = "Browse users and groups permission is required to view groups.";
const ADMIN_ONLY: &str = "Only site administrators can change groups.";

/// The group named by `groupId` or `groupname` (or the given alternatives, for swap groups).
fn named_group(
    ctx: &Ctx,
    site: &Site,
    id_key: &str,
    name_key: &str,
) -> Result<Option<GroupKey>, ApiError> {
    let by_id = ctx.params.text(id_key);
    let by_name = ctx.params.text(name_key);
    let key = match (by_id, by_name) {
        (None, None) => return Ok(None),
        (Some(id), None) => site.find_group_by_id(id),
        (None, Some(name)) => site.find_group_by_name(name),
        (Some(id), Some(name)) => {
            let key = site.find_group_by_id(id);
            if key.is_some() && key != site.find_group_by_name(name) {
                return Err(ApiError::bad_request(format!(
                    "The '{id_key}' and '{name_key}' parameters identify different groups."
                )));
            }
            key
        }
    };
    key.map(Some)
        .ok_or_else(|| ApiError::not_found("Specified group does not exist."))
}

fn required_group(ctx: &Ctx, site: &Site) -> Result<GroupKey, ApiError> {
    named_group(ctx, site, "groupId", "groupname")?
        .ok_or_else(|| ApiError::bad_request("You must specify a group name or group id."))
}

/// A group as `POST /group`, `POST /group/user` and `GET /group` return it; members listed from `start`.
fn group_view(
    ctx: &Ctx,
    site: &Site,
    key: GroupKey,
    window: Option<(u64, u64)>,
) -> Result<Group, ApiError> {
    let group = site
        .group(key)
        .ok_or_else(|| ApiError::not_found("Specified group does not exist."))?;
    let (start, items) = match window {
        Some((start, end)) => {
            // Expand ranges include both ends: users[10:40] is items 10 to 40.
            let count = (end.saturating_sub(start) + 1).min(50);
            let items: Vec<_> = group
                .members
                .iter()
                .skip(start as usize)
                .take(count as usize)
                .map(|k| views::user_details(ctx, site, *k))
                .collect();
            (start, items)
        }
        None => (0, Vec::new()),
    };
    let end_index = (start + items.len() as u64).saturating_sub(1);
    Ok(Group {
        name: group.name.clone(),
        group_id: Some(group.group_id.clone()),
        self_url: Some(ctx.jira_url(&format!("/group?groupId={}", group.group_id))),
        users: Some(PagedUsers {
            size: group.members.len() as u64,
            items,
            max_results: 50,
            start_index: start,
            end_index,
        }),
        expand: Some("users".to_string()),
    })
}

/// Reads the legacy `expand=users[start:end]` (both ends included; plain `users` is `users[0:49]`).
fn users_window(ctx: &Ctx) -> Result<Option<(u64, u64)>, ApiError> {
    let Some(expand) = ctx.params.get("expand") else {
        return Ok(None);
    };
    for part in expand.split(',') {
        let part = part.trim();
        if part == "users" {
            return Ok(Some((0, 49)));
        }
        if let Some(range) = part
            .strip_prefix("users[")
            .and_then(|r| r.strip_suffix(']'))
        {
            let bad = || {
                ApiError::bad_request(format!(
                    "Invalid expand range '{part}': expected users[start:end]."
                ))
            };
            let (a, b) = range.split_once(':').ok_or_else(bad)?;
            let a = a.trim().parse::<u64>().map_err(|_| bad())?;
            let b = b.trim().parse::<u64>().map_err(|_| bad())?;
            return Ok(Some((a, b.max(a))));
        }
    }
    Ok(None)
}

pub async fn get_group(ctx: Ctx) -> Result<Response, ApiError> {
    ctx.require(|p| p.browse_users, NO_PERMISSION)?;
    let site = ctx.emu.site();
    let key = required_group(&ctx, &site)?;
    let window = users_window(&ctx)?;
    Ok(h::ok(&group_view(&ctx, &site, key, window)?))
}

#[derive(Debug, Deserialize)]
pub struct NewGroupBody {
    name: Option<String>,
}

pub async fn create_group(ctx: Ctx, Body(body): Body<NewGroupBody>) -> Result<Response, ApiError> {
    ctx.require(|p| p.site_admin, ADMIN_ONLY)?;
    let name = body
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::field("name", "You must specify a group name."))?;
    if name.len() > 255 {
        return Err(ApiError::field(
            "name",
            "The group name must not be longer than 255 characters.",
        ));
    }
    let mut site = ctx.emu.site_mut();
    let key = site
        .create_group(name)
        .ok_or_else(|| ApiError::field("name", "A group with this name already exists."))?;
    Ok(h::json(
        StatusCode::CREATED,
        &group_view(&ctx, &site, key, None)?,
    ))
}

pub async fn delete_group(ctx: Ctx) -> Result<Response, ApiError> {
    ctx.require(|p| p.site_admin, ADMIN_ONLY)?;
    let mut site = ctx.emu.site_mut();
    let key = required_group(&ctx, &site)?;
    if let Some(swap) = named_group(&ctx, &site, "swapGroupId", "swapGroup")?
        && swap == key
    {
        return Err(ApiError::bad_request(
            "You cannot swap comments and worklogs to the group being deleted.",
        ));
    }
    site.delete_group(key);
    Ok(h::empty(StatusCode::OK))
}

pub async fn members(ctx: Ctx) -> Result<Response, ApiError> {
    ctx.require(|p| p.browse_users, NO_PERMISSION)?;
    let include_inactive = ctx.params.flag("includeInactiveUsers", false)?;
    let args = PageArgs::jira(&ctx, 50, 50)?;
    let site = ctx.emu.site();
    let key = required_group(&ctx, &site)?;
    let group = site
        .group(key)
        .ok_or_else(|| ApiError::not_found("Specified group does not exist."))?;
    let visible = |k: &&AccountKey| {
        let a = site.account(**k);
        include_inactive || (a.active && a.site_access)
    };
    let total = if include_inactive {
        group.members.len()
    } else {
        group.members.iter().filter(visible).count()
    };
    let values = group
        .members
        .iter()
        .filter(visible)
        .skip(args.start as usize)
        .take(args.size as usize)
        .map(|k| views::user_details(&ctx, &site, *k))
        .collect();
    Ok(h::ok(&jira_page(&ctx, args, values, total as u64)))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberBody {
    account_id: Option<String>,
    name: Option<String>,
}

fn member_of_body(site: &Site, body: &MemberBody) -> Result<AccountKey, ApiError> {
    let id = match (&body.account_id, &body.name) {
        (Some(id), _) if !id.trim().is_empty() => id.trim(),
        (_, Some(_)) => {
            return Err(ApiError::field(
                "name",
                "The property 'name' is not supported in GDPR strict mode; identify the user by 'accountId'.",
            ));
        }
        _ => {
            return Err(ApiError::field(
                "accountId",
                "You must specify an accountId.",
            ));
        }
    };
    site.find_account(id)
        .ok_or_else(|| ApiError::not_found(format!("User with accountId '{id}' does not exist.")))
}

pub async fn add_user(ctx: Ctx, Body(body): Body<MemberBody>) -> Result<Response, ApiError> {
    ctx.require(|p| p.site_admin, ADMIN_ONLY)?;
    let mut site = ctx.emu.site_mut();
    let key = required_group(&ctx, &site)?;
    let account = member_of_body(&site, &body)?;
    let group_name = site.group(key).map(|g| g.name.clone()).unwrap_or_default();
    if site.account(account).account_type == AccountType::Customer {
        return Err(ApiError::bad_request(format!(
            "Cannot add user. Portal-only customers cannot be members of '{group_name}'."
        )));
    }
    if site
        .group(key)
        .is_some_and(|g| g.members.contains(&account))
    {
        return Err(ApiError::bad_request(format!(
            "Cannot add user. User is already a member of '{group_name}'"
        )));
    }
    if let Some(product) = site.product_of_group(&group_name)
        && let Some(seats) = product.seats
        && site.can_hold_seat(account)
        && !site.holds_seat(account, product)
        && site.seats_used(product) >= seats
    {
        return Err(ApiError::bad_request(format!(
            "Cannot add user. The licence limit of {} ({seats} seats) has been reached.",
            product.name
        )));
    }
    if let Some(g) = site.group_mut(key) {
        g.members.insert(account);
    }
    site.account_mut(account).site_access = true;
    Ok(h::json(
        StatusCode::CREATED,
        &group_view(&ctx, &site, key, None)?,
    ))
}

pub async fn remove_user(ctx: Ctx) -> Result<Response, ApiError> {
    ctx.require(|p| p.site_admin, ADMIN_ONLY)?;
    let mut site = ctx.emu.site_mut();
    let key = required_group(&ctx, &site)?;
    if ctx.params.get("username").is_some() {
        return Err(ApiError::bad_request(
            "The query parameter 'username' is not supported in GDPR strict mode.",
        ));
    }
    let id = ctx.params.text("accountId").ok_or_else(|| {
        ApiError::bad_request("The 'accountId' query parameter needs to be provided.")
    })?;
    let account = site.find_account(id).ok_or_else(|| {
        ApiError::not_found(format!("User with accountId '{id}' does not exist."))
    })?;
    let Some(group) = site.group_mut(key) else {
        return Err(ApiError::not_found("Specified group does not exist."));
    };
    if !group.members.remove(&account) {
        return Err(ApiError::bad_request(format!(
            "Cannot remove user '{id}' from group '{}' since user is not a member of the group.",
            group.name
        )));
    }
    Ok(h::empty(StatusCode::OK))
}

pub async fn bulk(ctx: Ctx) -> Result<Response, ApiError> {
    ctx.require(|p| p.browse_users, NO_PERMISSION)?;
    let args = PageArgs::jira(&ctx, 50, 50)?;
    let site = ctx.emu.site();
    let ids = ctx.params.all("groupId");
    let names: Vec<String> = ctx
        .params
        .all("groupName")
        .iter()
        .map(|n| n.to_lowercase())
        .collect();
    let product_group = match ctx.params.text("applicationKey") {
        Some(app) => Some(
            site.products
                .iter()
                .find(|p| p.key == app)
                .map(|p| {
                    std::iter::once(&p.group)
                        .chain(p.groups.iter())
                        .map(|g| g.to_lowercase())
                        .collect::<Vec<_>>()
                })
                .ok_or_else(|| {
                    ApiError::bad_request(format!("Unknown application key '{app}'."))
                })?,
        ),
        None => None,
    };
    let mut found: Vec<GroupDetails> = site
        .live_groups()
        .map(|(_, g)| g)
        .filter(|g| {
            ids.is_empty() && names.is_empty()
                || ids.contains(&g.group_id.as_str())
                || names.contains(&g.name.to_lowercase())
        })
        .filter(|g| {
            product_group
                .as_ref()
                .is_none_or(|p| p.contains(&g.name.to_lowercase()))
        })
        .map(|g| GroupDetails {
            name: g.name.clone(),
            group_id: g.group_id.clone(),
        })
        .collect();
    found.sort_by_key(|a| a.name.to_lowercase());
    let total = found.len() as u64;
    let values = args.window(&found).to_vec();
    Ok(h::ok(&jira_page(&ctx, args, values, total)))
}

pub async fn picker(ctx: Ctx) -> Result<Response, ApiError> {
    let max = ctx.params.number("maxResults", 20)? as usize;
    if ctx.caller.account.is_none() || !ctx.caller.perms.browse_users {
        return Ok(h::ok(&FoundGroups {
            header: "Showing 0 of 0 matching groups".into(),
            total: 0,
            groups: Vec::new(),
        }));
    }
    let query = ctx.params.get("query").unwrap_or("").to_lowercase();
    let excluded: Vec<String> = ctx
        .params
        .all("exclude")
        .iter()
        .map(|e| e.to_lowercase())
        .collect();
    let excluded_ids = ctx.params.all("excludeId");
    let site = ctx.emu.site();
    let mut matching: Vec<_> = site
        .live_groups()
        .map(|(_, g)| g)
        .filter(|g| g.name.to_lowercase().contains(&query))
        .filter(|g| {
            !excluded.contains(&g.name.to_lowercase())
                && !excluded_ids.contains(&g.group_id.as_str())
        })
        .collect();
    matching.sort_by_key(|g| g.name.to_lowercase());
    let total = matching.len();
    let groups: Vec<FoundGroup> = matching
        .into_iter()
        .take(max)
        .map(|g| FoundGroup {
            name: g.name.clone(),
            html: highlight(&g.name, &query),
            group_id: Some(g.group_id.clone()),
            labels: Vec::new(),
        })
        .collect();
    Ok(h::ok(&FoundGroups {
        header: format!("Showing {} of {total} matching groups", groups.len()),
        total: total as u64,
        groups,
    }))
}

/// The name with the first match of `query` in bold, as the picker's `html` shows it.
fn highlight(name: &str, query: &str) -> String {
    if query.is_empty() {
        return name.to_string();
    }
    match name.to_lowercase().find(query) {
        Some(at) if name.is_char_boundary(at) && name.is_char_boundary(at + query.len()) => {
            format!(
                "{}<b>{}</b>{}",
                &name[..at],
                &name[at..at + query.len()],
                &name[at + query.len()..]
            )
        }
        _ => name.to_string(),
    }
}
