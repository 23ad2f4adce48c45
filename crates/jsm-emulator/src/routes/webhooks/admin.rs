//! Admin webhooks, `/rest/webhooks/1.0/webhook`: registered by Jira administrators, they receive the user
//! events. The secret is write-only: it signs deliveries and is never shown; an update that omits it keeps it,
//! and `""` removes it.

use std::collections::BTreeMap;

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::ADMIN_EVENTS;
use crate::http::{self as h, ApiError, Body, Ctx};
use crate::site::{AdminWebhook, Redacted, Site};
use crate::webhooks::check_target;

const ADMIN_ONLY: &str = "Only Jira administrators can manage webhooks.";

/// Body of `POST` and `PUT`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookBody {
    name: Option<String>,
    url: Option<String>,
    events: Option<Vec<String>>,
    #[serde(default)]
    filters: Option<BTreeMap<String, String>>,
    #[serde(default)]
    exclude_body: Option<bool>,
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default)]
    secret: Option<Redacted>,
    #[serde(default)]
    description: Option<String>,
}

/// A webhook as the API shows it (never with its secret).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct WebhookView {
    #[serde(rename = "self")]
    self_url: String,
    name: String,
    url: String,
    events: Vec<String>,
    filters: BTreeMap<String, String>,
    exclude_body: bool,
    enabled: bool,
    last_updated_user: String,
    last_updated_display_name: String,
    last_updated: i64,
}

fn view(ctx: &Ctx, site: &Site, hook: &AdminWebhook) -> WebhookView {
    let display_name = site
        .find_account(&hook.last_updated_by)
        .map(|k| site.account(k).display_name.clone())
        .unwrap_or_default();
    WebhookView {
        self_url: format!("{}/rest/webhooks/1.0/webhook/{}", ctx.base, hook.id),
        name: hook.name.clone(),
        url: hook.url.clone(),
        events: hook.events.clone(),
        filters: hook.filters.clone(),
        exclude_body: hook.exclude_body,
        enabled: hook.enabled,
        last_updated_user: hook.last_updated_by.clone(),
        last_updated_display_name: display_name,
        last_updated: hook.last_updated,
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Webhook with id {id} does not exist."))
}

fn find(site: &Site, id: &str) -> Result<usize, ApiError> {
    let wanted: u64 = id.parse().map_err(|_| not_found(id))?;
    site.webhooks
        .admin
        .iter()
        .position(|h| h.id == wanted)
        .ok_or_else(|| not_found(id))
}

fn validate_events(events: &[String]) -> Result<(), ApiError> {
    if events.is_empty() {
        return Err(ApiError::field(
            "events",
            "At least one event must be given.",
        ));
    }
    if let Some(unknown) = events.iter().find(|e| !ADMIN_EVENTS.contains(&e.as_str())) {
        return Err(ApiError::field(
            "events",
            format!("Unknown webhook event '{unknown}'."),
        ));
    }
    Ok(())
}

fn validate_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ApiError::field(
            "name",
            "The webhook name must not be empty.",
        ));
    }
    Ok(name.to_string())
}

fn validate_url(ctx: &Ctx, url: &str) -> Result<String, ApiError> {
    let allow_any = ctx.emu.webhooks().config().allow_any_host;
    check_target(url, allow_any)
        .map(|u| u.to_string())
        .map_err(|e| ApiError::field("url", e))
}

fn created(ctx: &Ctx, site: &Site, hook: &AdminWebhook) -> Response {
    let v = view(ctx, site, hook);
    let location = HeaderValue::from_str(&v.self_url).ok();
    let mut resp = h::json(StatusCode::CREATED, &v);
    if let Some(location) = location {
        resp.headers_mut().insert(header::LOCATION, location);
    }
    resp
}

/// `POST /rest/webhooks/1.0/webhook`.
pub async fn create(ctx: Ctx, Body(body): Body<WebhookBody>) -> Result<Response, ApiError> {
    let me = ctx.require(|p| p.jira_admin, ADMIN_ONLY)?;
    let name = validate_name(
        body.name
            .as_deref()
            .ok_or_else(|| ApiError::field("name", "The webhook name is required."))?,
    )?;
    let url = validate_url(
        &ctx,
        body.url
            .as_deref()
            .ok_or_else(|| ApiError::field("url", "The webhook URL is required."))?,
    )?;
    let events = body
        .events
        .ok_or_else(|| ApiError::field("events", "At least one event must be given."))?;
    validate_events(&events)?;
    // Jira's form sends a description; it is accepted and not kept.
    let _ = body.description;
    let now = ctx.emu.now();
    let mut site = ctx.emu.site_mut();
    let account_id = site.account(me).account_id.clone();
    let hook = AdminWebhook {
        id: site.webhooks.allocate_id(),
        name,
        url,
        events,
        filters: body.filters.unwrap_or_default(),
        exclude_body: body.exclude_body.unwrap_or(false),
        enabled: body.enabled.unwrap_or(true),
        secret: body.secret.filter(|s| !s.expose().is_empty()),
        last_updated: now,
        last_updated_by: account_id,
    };
    let resp = created(&ctx, &site, &hook);
    site.webhooks.admin.push(hook);
    Ok(resp)
}

/// `GET /rest/webhooks/1.0/webhook`.
pub async fn list(ctx: Ctx) -> Result<Response, ApiError> {
    ctx.require(|p| p.jira_admin, ADMIN_ONLY)?;
    let site = ctx.emu.site();
    let all: Vec<WebhookView> = site
        .webhooks
        .admin
        .iter()
        .map(|hook| view(&ctx, &site, hook))
        .collect();
    Ok(h::ok(&all))
}

/// `GET /rest/webhooks/1.0/webhook/{id}`.
pub async fn one(ctx: Ctx, Path(id): Path<String>) -> Result<Response, ApiError> {
    ctx.require(|p| p.jira_admin, ADMIN_ONLY)?;
    let site = ctx.emu.site();
    let at = find(&site, &id)?;
    Ok(h::ok(&view(&ctx, &site, &site.webhooks.admin[at])))
}

/// `PUT /rest/webhooks/1.0/webhook/{id}`: changes the fields given.
pub async fn update(
    ctx: Ctx,
    Path(id): Path<String>,
    Body(body): Body<WebhookBody>,
) -> Result<Response, ApiError> {
    let me = ctx.require(|p| p.jira_admin, ADMIN_ONLY)?;
    let name = body.name.as_deref().map(validate_name).transpose()?;
    let url = body
        .url
        .as_deref()
        .map(|u| validate_url(&ctx, u))
        .transpose()?;
    if let Some(events) = &body.events {
        validate_events(events)?;
    }
    let now = ctx.emu.now();
    let mut site = ctx.emu.site_mut();
    let at = find(&site, &id)?;
    let account_id = site.account(me).account_id.clone();
    let hook = &mut site.webhooks.admin[at];
    if let Some(name) = name {
        hook.name = name;
    }
    if let Some(url) = url {
        hook.url = url;
    }
    if let Some(events) = body.events {
        hook.events = events;
    }
    if let Some(filters) = body.filters {
        hook.filters = filters;
    }
    if let Some(exclude) = body.exclude_body {
        hook.exclude_body = exclude;
    }
    if let Some(enabled) = body.enabled {
        hook.enabled = enabled;
    }
    if let Some(secret) = body.secret {
        hook.secret = (!secret.expose().is_empty()).then_some(secret);
    }
    hook.last_updated = now;
    hook.last_updated_by = account_id;
    let hook = hook.clone();
    Ok(h::ok(&view(&ctx, &site, &hook)))
}

/// `DELETE /rest/webhooks/1.0/webhook/{id}`.
pub async fn delete(ctx: Ctx, Path(id): Path<String>) -> Result<Response, ApiError> {
    ctx.require(|p| p.jira_admin, ADMIN_ONLY)?;
    let mut site = ctx.emu.site_mut();
    let at = find(&site, &id)?;
    site.webhooks.admin.remove(at);
    Ok(h::empty(StatusCode::NO_CONTENT))
}
