//! App webhooks, `/rest/api/3/webhook`: only OAuth 2.0 apps may call these (anyone else gets 403 "caller isn't
//! an app"); each app sees and changes only its own webhooks, which expire 30 days after registration or the
//! last refresh. Events are limited to the spec's issue, comment and issue-property events, so user events are
//! refused per webhook: register an admin webhook for those.

use axum::Extension;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{APP_EVENTS, jql};
use crate::auth::Credential;
use crate::http::{self as h, ApiError, Body, Ctx, PageArgs, jira_page};
use crate::site::{APP_WEBHOOK_LIFETIME_MS, AppWebhook};
use crate::webhooks::check_target;

/// Body of `POST /webhook`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegistrationBody {
    url: Option<String>,
    webhooks: Option<Vec<DetailsBody>>,
}

/// One webhook of a registration.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DetailsBody {
    events: Option<Vec<String>>,
    jql_filter: Option<String>,
    field_ids_filter: Option<Vec<String>>,
    issue_property_keys_filter: Option<Vec<String>>,
}

/// Body of `DELETE /webhook` and `PUT /webhook/refresh`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IdsBody {
    webhook_ids: Option<Vec<i64>>,
}

/// A webhook as `GET /webhook` lists it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct WebhookView {
    id: u64,
    events: Vec<String>,
    jql_filter: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field_ids_filter: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    issue_property_keys_filter: Option<Vec<String>>,
    url: String,
    expiration_date: i64,
}

/// The calling app's client id, or 403.
fn app_of(credential: Option<Extension<Credential>>) -> Result<String, ApiError> {
    credential
        .as_ref()
        .and_then(|Extension(c)| c.app())
        .map(str::to_string)
        .ok_or_else(|| {
            ApiError::forbidden(
                "Only Connect apps and OAuth 2.0 apps can use this operation: the caller isn't an app.",
            )
        })
}

fn ids_of(body: IdsBody) -> Result<Vec<u64>, ApiError> {
    let ids = body.webhook_ids.ok_or_else(|| {
        ApiError::field("webhookIds", "The list of webhook IDs must be provided.")
    })?;
    Ok(ids
        .into_iter()
        .filter_map(|id| u64::try_from(id).ok())
        .collect())
}

/// `POST /webhook`: registers each webhook on its own and reports each result in order.
pub async fn register(
    ctx: Ctx,
    credential: Option<Extension<Credential>>,
    Body(body): Body<RegistrationBody>,
) -> Result<Response, ApiError> {
    let app = app_of(credential)?;
    let url = body
        .url
        .ok_or_else(|| ApiError::field("url", "The webhook URL is required."))?;
    let webhooks = body
        .webhooks
        .ok_or_else(|| ApiError::field("webhooks", "The list of webhooks is required."))?;
    let allow_any = ctx.emu.webhooks().config().allow_any_host;
    let url = check_target(&url, allow_any)
        .map_err(|e| ApiError::field("url", e))?
        .to_string();
    let now = ctx.emu.now();
    let mut site = ctx.emu.site_mut();
    site.webhooks.app.retain(|w| w.expires_at > now);
    if site
        .webhooks
        .app
        .iter()
        .any(|w| w.client_id == app && w.url != url)
    {
        return Err(ApiError::field(
            "url",
            "Only a single URL per app is allowed to be registered; delete the app's webhooks first.",
        ));
    }
    let mut results = Vec::with_capacity(webhooks.len());
    for details in webhooks {
        let mut errors = Vec::new();
        let events = details.events.unwrap_or_default();
        if events.is_empty() {
            errors.push("At least one event must be given.".to_string());
        }
        for event in &events {
            if !APP_EVENTS.contains(&event.as_str()) {
                errors.push(format!(
                    "The event {event} is not supported for app webhooks; supported events: {}.",
                    APP_EVENTS.join(", ")
                ));
            }
        }
        match details.jql_filter.as_deref().map(str::trim) {
            None | Some("") => errors.push("The jqlFilter is required.".to_string()),
            Some(jql_filter) => errors.extend(jql::problems(jql_filter)),
        }
        if !errors.is_empty() {
            results.push(json!({ "errors": errors }));
            continue;
        }
        let id = site.webhooks.allocate_id();
        site.webhooks.app.push(AppWebhook {
            id,
            client_id: app.clone(),
            url: url.clone(),
            events,
            jql_filter: details.jql_filter.unwrap_or_default(),
            field_ids_filter: details.field_ids_filter,
            issue_property_keys_filter: details.issue_property_keys_filter,
            expires_at: now + APP_WEBHOOK_LIFETIME_MS,
        });
        results.push(json!({ "createdWebhookId": id }));
    }
    Ok(h::ok(&json!({ "webhookRegistrationResult": results })))
}

/// `GET /webhook`: the app's live webhooks, a page at a time.
pub async fn list(
    ctx: Ctx,
    credential: Option<Extension<Credential>>,
) -> Result<Response, ApiError> {
    let app = app_of(credential)?;
    let args = PageArgs::jira(&ctx, 100, 100)?;
    let now = ctx.emu.now();
    let site = ctx.emu.site();
    let mine: Vec<&AppWebhook> = site
        .webhooks
        .app
        .iter()
        .filter(|w| w.client_id == app && w.expires_at > now)
        .collect();
    let values = args
        .window(&mine)
        .iter()
        .map(|w| WebhookView {
            id: w.id,
            events: w.events.clone(),
            jql_filter: w.jql_filter.clone(),
            field_ids_filter: w.field_ids_filter.clone(),
            issue_property_keys_filter: w.issue_property_keys_filter.clone(),
            url: w.url.clone(),
            expiration_date: w.expires_at,
        })
        .collect();
    Ok(h::ok(&jira_page(&ctx, args, values, mine.len() as u64)))
}

/// `DELETE /webhook`: 202; ids of other apps' webhooks are ignored.
pub async fn delete(
    ctx: Ctx,
    credential: Option<Extension<Credential>>,
    Body(body): Body<IdsBody>,
) -> Result<Response, ApiError> {
    let app = app_of(credential)?;
    let ids = ids_of(body)?;
    let mut site = ctx.emu.site_mut();
    site.webhooks
        .app
        .retain(|w| !(w.client_id == app && ids.contains(&w.id)));
    Ok(h::empty(StatusCode::ACCEPTED))
}

/// `PUT /webhook/refresh`: another 30 days for the app's webhooks among the ids.
pub async fn refresh(
    ctx: Ctx,
    credential: Option<Extension<Credential>>,
    Body(body): Body<IdsBody>,
) -> Result<Response, ApiError> {
    let app = app_of(credential)?;
    let ids = ids_of(body)?;
    let now = ctx.emu.now();
    let expiration = now + APP_WEBHOOK_LIFETIME_MS;
    let mut site = ctx.emu.site_mut();
    for w in site
        .webhooks
        .app
        .iter_mut()
        .filter(|w| w.client_id == app && w.expires_at > now && ids.contains(&w.id))
    {
        w.expires_at = expiration;
    }
    Ok(h::ok(&json!({ "expirationDate": expiration })))
}
