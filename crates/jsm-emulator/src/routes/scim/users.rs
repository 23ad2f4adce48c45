//! `/Users`: list with `eq` filters and paging, create (linking to an existing account by email), get, full
//! replace, PATCH, and DELETE (which deactivates; the record then answers 404).

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use jsm_proto::jira::AccountType;
use serde_json::{Map, Value};

use super::attrs::Projection;
use super::patch::{self, Operation};
use super::schema::{self, Mutability, Resource};
use super::value::{kind_of, normalize};
use super::view::{self, scim_base};
use super::{eq_filter, list_response};
use crate::http::{self as h, ApiError, Body, Ctx};
use crate::site::{
    AccountKey, DirectoryUser, NewAccount, Site, UserEventKind, primary_email, valid_email,
};

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("User {id} does not exist in the directory."))
}

fn invalid_value(message: impl Into<String>) -> ApiError {
    ApiError::bad_request(message).code("invalidValue")
}

fn conflict(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, message).code("uniqueness")
}

fn base(ctx: &Ctx) -> String {
    scim_base(&ctx.base, &ctx.emu.config().identity.directory_id)
}

/// The writable attributes of a POST or PUT body, in canonical form; read-only and unknown ones are ignored.
fn read_doc(body: &Value) -> Result<Map<String, Value>, ApiError> {
    let Value::Object(fields) = body else {
        return Err(ApiError::bad_request(format!(
            "A user is a JSON object, got {}.",
            kind_of(body)
        ))
        .code("invalidSyntax"));
    };
    let mut doc = Map::new();
    for (key, value) in fields {
        if let Some((urn, attrs)) = schema::extensions(Resource::User)
            .iter()
            .find(|(u, _)| u.eq_ignore_ascii_case(key))
        {
            let Value::Object(inner) = value else {
                continue;
            };
            let mut ext = Map::new();
            for (k, v) in inner {
                let Some(attr) = attrs.iter().find(|a| a.name.eq_ignore_ascii_case(k)) else {
                    continue;
                };
                if attr.mutability == Mutability::ReadOnly {
                    continue;
                }
                if let Some(v) = normalize(attr, v.clone()).map_err(invalid_value)? {
                    ext.insert(attr.name.into(), v);
                }
            }
            if !ext.is_empty() {
                doc.insert((*urn).into(), Value::Object(ext));
            }
            continue;
        }
        let attr = if key.eq_ignore_ascii_case("externalId") {
            &schema::EXTERNAL_ID
        } else {
            match schema::USER_ATTRS
                .iter()
                .find(|a| a.name.eq_ignore_ascii_case(key))
            {
                Some(a) => a,
                None => continue,
            }
        };
        if attr.mutability == Mutability::ReadOnly {
            continue;
        }
        if let Some(v) = normalize(attr, value.clone()).map_err(invalid_value)? {
            doc.insert(attr.name.into(), v);
        }
    }
    Ok(doc)
}

/// A checked user: `userName`, `externalId`, `active` and the rest of the attributes.
struct Input {
    user_name: String,
    external_id: Option<String>,
    active: Option<bool>,
    attributes: Map<String, Value>,
    email: String,
}

fn check(mut doc: Map<String, Value>) -> Result<Input, ApiError> {
    let user_name = match doc.remove("userName") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        _ => return Err(invalid_value("'userName' is required.")),
    };
    let external_id = match doc.remove("externalId") {
        Some(Value::String(s)) => Some(s),
        _ => None,
    };
    let active = doc.remove("active").and_then(|v| v.as_bool());
    let primaries = doc.get("emails").and_then(Value::as_array).map_or(0, |e| {
        e.iter()
            .filter(|e| e.get("primary").and_then(Value::as_bool) == Some(true))
            .count()
    });
    if primaries > 1 {
        return Err(invalid_value("Only one email can be primary."));
    }
    let email = primary_email(&doc)
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .ok_or_else(|| invalid_value("'emails' with a primary email is required."))?
        .to_string();
    if !valid_email(&email) {
        return Err(invalid_value(format!(
            "'{email}' is not a valid email address."
        )));
    }
    Ok(Input {
        user_name,
        external_id,
        active,
        attributes: doc,
        email,
    })
}

/// 409 when another live record has this userName, or the email belongs to another record or an account the
/// directory cannot manage. `Ok(Some(account))` is an existing account to link; `own` is the record written.
fn check_unique(
    site: &Site,
    input: &Input,
    own: Option<usize>,
) -> Result<Option<AccountKey>, ApiError> {
    let taken = site
        .directory
        .live_users()
        .any(|(i, u)| Some(i) != own && u.user_name.eq_ignore_ascii_case(&input.user_name));
    if taken {
        return Err(conflict(format!(
            "User already exists: userName '{}' is taken.",
            input.user_name
        )));
    }
    let Some(key) = site.find_by_email(&input.email) else {
        return Ok(None);
    };
    let account = site.account(key);
    if account.account_type != AccountType::Atlassian {
        return Err(conflict(format!(
            "User already exists: {} belongs to a {} account.",
            input.email,
            match account.account_type {
                AccountType::Customer => "portal-only customer",
                _ => "non-user",
            }
        )));
    }
    match (site.directory.user_of_account(key), own) {
        (Some(i), Some(own)) if i == own => Ok(Some(key)),
        (Some(i), None) if site.directory.users[i].deleted => Ok(Some(key)),
        (Some(_), _) => Err(conflict(format!(
            "User already exists: the email {} is in use.",
            input.email
        ))),
        (None, Some(_)) => Err(conflict(format!(
            "User already exists: the email {} belongs to another account.",
            input.email
        ))),
        (None, None) => Ok(Some(key)),
    }
}

fn created_response(location: &str, body: &Value) -> Response {
    let mut resp = h::json(StatusCode::CREATED, body);
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

pub async fn list(ctx: Ctx) -> Result<Response, ApiError> {
    let projection = Projection::from_params(&ctx.params)?;
    let filter = eq_filter(&ctx.params, &["userName", "externalId"])?;
    let scim = base(&ctx);
    let site = ctx.emu.site();
    let all: Vec<Value> = site
        .directory
        .live_users()
        .filter(|(_, u)| match &filter {
            None => true,
            Some(("userName", v)) => u.user_name.eq_ignore_ascii_case(v),
            Some((_, v)) => u.external_id.as_deref() == Some(v.as_str()),
        })
        .map(|(_, u)| projection.apply(view::user(&site, &scim, u)))
        .collect();
    Ok(h::ok(&list_response(all, &ctx.params)?))
}

pub async fn get(ctx: Ctx, Path((_, id)): Path<(String, String)>) -> Result<Response, ApiError> {
    let projection = Projection::from_params(&ctx.params)?;
    let scim = base(&ctx);
    let site = ctx.emu.site();
    let user = live(&site, &id)?;
    Ok(h::ok(&projection.apply(view::user(
        &site,
        &scim,
        &site.directory.users[user],
    ))))
}

fn live(site: &Site, id: &str) -> Result<usize, ApiError> {
    site.directory
        .user_index(id)
        .filter(|i| !site.directory.users[*i].deleted)
        .ok_or_else(|| not_found(id))
}

pub async fn create(ctx: Ctx, Body(body): Body<Value>) -> Result<Response, ApiError> {
    let projection = Projection::from_params(&ctx.params)?;
    let mut input = check(read_doc(&body)?)?;
    if input.active.is_none() {
        input.active = Some(true);
    }
    let now = ctx.emu.now();
    let scim = base(&ctx);
    let mut site = ctx.emu.site_mut();
    let linked = check_unique(&site, &input, None)?;
    let revived = linked.and_then(|k| site.directory.user_of_account(k));
    let live = site.directory.live_users().count();
    if revived.is_none() && live >= site.directory.limits.users {
        return Err(invalid_value(format!(
            "The directory holds its limit of {} users.",
            site.directory.limits.users
        )));
    }
    let (account, fresh) = match linked {
        Some(key) => (key, false),
        None => {
            let key = site.add_account(
                NewAccount {
                    account_type: AccountType::Atlassian,
                    email: input.email.clone(),
                    display_name: input.user_name.clone(),
                    email_hidden: false,
                },
                now,
            );
            (key, true)
        }
    };
    let record = DirectoryUser {
        id: String::new(),
        account,
        user_name: input.user_name,
        external_id: input.external_id,
        attributes: input.attributes,
        active: input.active,
        deleted: false,
        created: now,
        last_modified: now,
    };
    let idx = match revived {
        Some(idx) => {
            let old = &mut site.directory.users[idx];
            *old = DirectoryUser {
                id: old.id.clone(),
                created: old.created,
                ..record
            };
            idx
        }
        None => {
            let id = site.ids.uuid();
            site.directory.add_user(DirectoryUser { id, ..record })
        }
    };
    site.directory.removed.remove(&account);
    site.sync_account(idx);
    if fresh {
        site.record_user_event(UserEventKind::Created, account);
    }
    let user = &site.directory.users[idx];
    let location = format!("{scim}/Users/{}", user.id);
    let body = projection.apply(view::user(&site, &scim, user));
    Ok(created_response(&location, &body))
}

/// Writes a checked document over record `idx` (PUT and PATCH). The caller holds the write lock from the lookup
/// of `idx` on, so no other request runs between what it read and what this writes.
fn write(
    ctx: &Ctx,
    site: &mut Site,
    idx: usize,
    doc: Map<String, Value>,
) -> Result<Response, ApiError> {
    let projection = Projection::from_params(&ctx.params)?;
    let input = check(doc)?;
    let now = ctx.emu.now();
    let scim = base(ctx);
    check_unique(site, &input, Some(idx))?;
    let user = &mut site.directory.users[idx];
    user.user_name = input.user_name;
    user.external_id = input.external_id;
    user.attributes = input.attributes;
    user.active = input.active;
    user.last_modified = now;
    site.sync_account(idx);
    Ok(h::ok(&projection.apply(view::user(
        site,
        &scim,
        &site.directory.users[idx],
    ))))
}

pub async fn replace(
    ctx: Ctx,
    Path((_, id)): Path<(String, String)>,
    Body(body): Body<Value>,
) -> Result<Response, ApiError> {
    let doc = read_doc(&body)?;
    let mut site = ctx.emu.site_mut();
    let idx = live(&site, &id)?;
    write(&ctx, &mut site, idx, doc)
}

pub async fn patch(
    ctx: Ctx,
    Path((_, id)): Path<(String, String)>,
    Body(body): Body<Value>,
) -> Result<Response, ApiError> {
    let ops: Vec<Operation> = patch::read_body(&body)?;
    // One write lock from read to write, so concurrent PATCHes of one user all land.
    let mut site = ctx.emu.site_mut();
    let idx = live(&site, &id)?;
    let mut doc = view::user_doc(&site.directory.users[idx]);
    patch::apply(Resource::User, &mut doc, &ops)?;
    write(&ctx, &mut site, idx, doc)
}

pub async fn delete(ctx: Ctx, Path((_, id)): Path<(String, String)>) -> Result<Response, ApiError> {
    let now = ctx.emu.now();
    let mut site = ctx.emu.site_mut();
    let idx = live(&site, &id)?;
    let user = &mut site.directory.users[idx];
    user.deleted = true;
    user.last_modified = now;
    site.sync_account(idx);
    Ok(h::empty(StatusCode::NO_CONTENT))
}
