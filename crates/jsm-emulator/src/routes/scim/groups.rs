//! `/Groups`: SCIM groups are Jira groups. Creating one takes over a Jira group of the same name (so an IdP can
//! drive `jira-servicemanagement-users` and hand out agent seats) or creates it; member changes land in the
//! Jira group; members the IdP does not manage (accounts without a SCIM record) are left alone, and a `POST`
//! that takes over an existing Jira group only adds members (later `PUT`/`PATCH` calls define them).

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Map, Value};

use super::attrs::Projection;
use super::patch;
use super::schema::{self, Resource};
use super::value::{kind_of, normalize};
use super::view::{self, scim_base};
use super::{eq_filter, list_response};
use crate::http::{self as h, ApiError, Body, Ctx};
use crate::site::{AccountKey, DirectoryGroup, Site, groups};

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Group {id} does not exist in the directory."))
}

fn invalid_value(message: impl Into<String>) -> ApiError {
    ApiError::bad_request(message).code("invalidValue")
}

fn base(ctx: &Ctx) -> String {
    scim_base(&ctx.base, &ctx.emu.config().identity.directory_id)
}

fn live(site: &Site, id: &str) -> Result<usize, ApiError> {
    site.directory
        .group_index(id)
        .filter(|i| {
            site.directory
                .group(*i)
                .is_some_and(|g| site.group(g.group).is_some())
        })
        .ok_or_else(|| not_found(id))
}

/// A group body in canonical form (`displayName`, `externalId`, `members`).
fn read_doc(body: &Value) -> Result<Map<String, Value>, ApiError> {
    let Value::Object(fields) = body else {
        return Err(ApiError::bad_request(format!(
            "A group is a JSON object, got {}.",
            kind_of(body)
        ))
        .code("invalidSyntax"));
    };
    let mut doc = Map::new();
    for (key, value) in fields {
        let attr = if key.eq_ignore_ascii_case("externalId") {
            &schema::EXTERNAL_ID
        } else {
            match schema::GROUP_ATTRS
                .iter()
                .find(|a| a.name.eq_ignore_ascii_case(key))
            {
                Some(a) => a,
                None => continue,
            }
        };
        if let Some(v) = normalize(attr, value.clone()).map_err(invalid_value)? {
            doc.insert(attr.name.into(), v);
        }
    }
    Ok(doc)
}

/// A checked group: name, external id, and members as accounts with their echoed `display`.
struct Input {
    name: String,
    external_id: Option<String>,
    members: BTreeMap<AccountKey, Option<String>>,
}

/// Resolves members to accounts; an unknown member is `missing` (400 on PUT/POST, 404 on PATCH).
fn check(site: &Site, doc: &Map<String, Value>, missing: StatusCode) -> Result<Input, ApiError> {
    let name = match doc.get("displayName") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        _ => return Err(invalid_value("'displayName' is required.")),
    };
    let external_id = doc
        .get("externalId")
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut members = BTreeMap::new();
    for m in doc
        .get("members")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(id) = m.get("value").and_then(Value::as_str) else {
            return Err(invalid_value(
                "Every member needs a 'value' (the user's SCIM id).",
            ));
        };
        let user = site
            .directory
            .user_index(id)
            .map(|i| &site.directory.users[i])
            .filter(|u| !u.deleted)
            .ok_or_else(|| {
                ApiError::new(missing, format!("The users referenced do not exist: {id}."))
                    .code("invalidValue")
            })?;
        let display = m.get("display").and_then(Value::as_str).map(str::to_string);
        members.insert(user.account, display);
    }
    Ok(Input {
        name,
        external_id,
        members,
    })
}

/// Makes the Jira group's SCIM-managed members exactly `input.members` (only adds them when `additive`: a
/// `POST` that takes over an existing Jira group keeps its members); members without a SCIM record stay.
fn set_members(
    site: &mut Site,
    idx: usize,
    input: &Input,
    additive: bool,
    now: i64,
) -> Result<(), ApiError> {
    let Some(record) = site.directory.group(idx) else {
        return Err(ApiError::internal("group record vanished"));
    };
    let key = record.group;
    let managed = |site: &Site, k: &AccountKey| {
        site.directory
            .user_of_account(*k)
            .is_some_and(|i| !site.directory.users[i].deleted)
    };
    let current: BTreeSet<AccountKey> = site
        .group(key)
        .map(|g| {
            g.members
                .iter()
                .copied()
                .filter(|k| managed(site, k))
                .collect()
        })
        .unwrap_or_default();
    let mut wanted: BTreeSet<AccountKey> = input.members.keys().copied().collect();
    if additive {
        wanted.extend(current.iter().copied());
    }
    let total = site.group(key).map_or(0, |g| g.members.len())
        + wanted.difference(&current).count()
        - current.difference(&wanted).count();
    if total > site.directory.limits.group_members {
        return Err(invalid_value(format!(
            "A group can sync at most {} users.",
            site.directory.limits.group_members
        )));
    }
    if let Some(group) = site.group_mut(key) {
        for gone in current.difference(&wanted) {
            group.members.remove(gone);
        }
        group.members.extend(wanted.iter().copied());
    }
    if let Some(record) = site.directory.group_mut(idx) {
        record.displays = input
            .members
            .iter()
            .filter_map(|(k, d)| d.clone().map(|d| (*k, d)))
            .collect();
        record.external_id = input.external_id.clone();
        record.last_modified = now;
    }
    Ok(())
}

pub async fn list(ctx: Ctx) -> Result<Response, ApiError> {
    let projection = Projection::from_params(&ctx.params)?;
    let filter = eq_filter(&ctx.params, &["displayName"])?;
    let scim = base(&ctx);
    let site = ctx.emu.site();
    let all: Vec<Value> = site
        .directory
        .live_groups()
        .filter_map(|(_, g)| Some((g, site.group(g.group)?)))
        .filter(|(_, jira)| {
            filter
                .as_ref()
                .is_none_or(|(_, v)| jira.name.eq_ignore_ascii_case(v))
        })
        .map(|(g, _)| projection.apply(view::group(&site, &scim, g)))
        .collect();
    Ok(h::ok(&list_response(all, &ctx.params)?))
}

pub async fn get(ctx: Ctx, Path((_, id)): Path<(String, String)>) -> Result<Response, ApiError> {
    let projection = Projection::from_params(&ctx.params)?;
    let scim = base(&ctx);
    let site = ctx.emu.site();
    let idx = live(&site, &id)?;
    let group = site.directory.group(idx).ok_or_else(|| not_found(&id))?;
    Ok(h::ok(&projection.apply(view::group(&site, &scim, group))))
}

pub async fn create(ctx: Ctx, Body(body): Body<Value>) -> Result<Response, ApiError> {
    let projection = Projection::from_params(&ctx.params)?;
    let doc = read_doc(&body)?;
    let now = ctx.emu.now();
    let scim = base(&ctx);
    let mut site = ctx.emu.site_mut();
    let input = check(&site, &doc, StatusCode::BAD_REQUEST)?;
    let jira = match site.find_group_by_name(&input.name) {
        Some(key) if site.directory.group_of(key).is_some() => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!("A group named '{}' already exists.", input.name),
            )
            .code("uniqueness"));
        }
        Some(key) => key,
        None => site
            .create_group(&input.name)
            .ok_or_else(|| ApiError::internal("could not create the group"))?,
    };
    let id = site.ids.uuid();
    let idx = site.directory.add_group(DirectoryGroup {
        id,
        group: jira,
        external_id: None,
        displays: BTreeMap::new(),
        created: now,
        last_modified: now,
    });
    set_members(&mut site, idx, &input, true, now)?;
    let group = site
        .directory
        .group(idx)
        .ok_or_else(|| ApiError::internal("group vanished"))?;
    let location = format!("{scim}/Groups/{}", group.id);
    let mut resp = h::json(
        StatusCode::CREATED,
        &projection.apply(view::group(&site, &scim, group)),
    );
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

/// Writes a document over group `idx`: the name cannot change; members are replaced. The caller holds the write
/// lock from the lookup of `idx` on, so no other request runs between what it read and what this writes.
fn write(
    ctx: &Ctx,
    site: &mut Site,
    idx: usize,
    doc: &Map<String, Value>,
    missing: StatusCode,
) -> Result<Response, ApiError> {
    let projection = Projection::from_params(&ctx.params)?;
    let now = ctx.emu.now();
    let scim = base(ctx);
    let input = check(site, doc, missing)?;
    let current = site
        .directory
        .group(idx)
        .and_then(|g| site.group(g.group))
        .map(|g| g.name.clone())
        .unwrap_or_default();
    if input.name != current {
        return Err(ApiError::bad_request(format!(
            "Groups cannot be renamed ('{current}' to '{}'): delete the group and create it again.",
            input.name
        ))
        .code("mutability"));
    }
    set_members(site, idx, &input, false, now)?;
    let group = site
        .directory
        .group(idx)
        .ok_or_else(|| ApiError::internal("group vanished"))?;
    Ok(h::ok(&projection.apply(view::group(site, &scim, group))))
}

pub async fn replace(
    ctx: Ctx,
    Path((_, id)): Path<(String, String)>,
    Body(body): Body<Value>,
) -> Result<Response, ApiError> {
    let doc = read_doc(&body)?;
    let mut site = ctx.emu.site_mut();
    let idx = live(&site, &id)?;
    write(&ctx, &mut site, idx, &doc, StatusCode::BAD_REQUEST)
}

pub async fn patch(
    ctx: Ctx,
    Path((_, id)): Path<(String, String)>,
    Body(body): Body<Value>,
) -> Result<Response, ApiError> {
    let ops = patch::read_body(&body)?;
    // One write lock from read to write: two PATCHes adding different members must both land.
    let mut site = ctx.emu.site_mut();
    let idx = live(&site, &id)?;
    let group = site.directory.group(idx).ok_or_else(|| not_found(&id))?;
    let mut doc = view::group_doc(&site, group);
    patch::apply(Resource::Group, &mut doc, &ops)?;
    write(&ctx, &mut site, idx, &doc, StatusCode::NOT_FOUND)
}

/// Groups whose Jira group must outlive the SCIM record (admin and product-access groups).
fn protected(site: &Site, name: &str) -> bool {
    name.eq_ignore_ascii_case(groups::SITE_ADMINS)
        || name.eq_ignore_ascii_case(groups::JIRA_ADMINS)
        || site.product_of_group(name).is_some()
}

pub async fn delete(ctx: Ctx, Path((_, id)): Path<(String, String)>) -> Result<Response, ApiError> {
    let mut site = ctx.emu.site_mut();
    let idx = live(&site, &id)?;
    let Some(record) = site.directory.remove_group(idx) else {
        return Err(not_found(&id));
    };
    let name = site
        .group(record.group)
        .map(|g| g.name.clone())
        .unwrap_or_default();
    if !protected(&site, &name) {
        site.delete_group(record.group);
    }
    Ok(h::empty(StatusCode::NO_CONTENT))
}
