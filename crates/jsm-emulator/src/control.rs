//! The control plane under `/_emulator`: not part of Atlassian. Guarded by the admin token (Bearer), it resets,
//! exports and imports the state, sets limits, faults, privacy and quirks, issues API tokens, moves the clock and
//! reads the request log.

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use serde::Deserialize;
use serde_json::json;

use crate::Emulator;
use crate::clock::iso_utc;
use crate::emulator::Quirks;
use crate::faults::FaultRule;
use crate::http::{self as h, ApiError, Body, Params};
use crate::limits::LimitConfig;
use crate::seed::{Seed, TOKEN_LIFETIME_MS};
use crate::site::{ApiToken, SiteFile, UserEventKind};

mod directory;
mod integrations;
mod seats;

const DAY_MS: i64 = 24 * 3600 * 1000;

/// Routes under `/_emulator`.
pub fn router() -> Router<Emulator> {
    Router::new()
        .route("/reset", post(reset))
        .route("/state", get(export).put(import))
        .route("/limits", get(get_limits).put(set_limits))
        .route(
            "/faults",
            get(get_faults).put(set_faults).delete(clear_faults),
        )
        .route("/privacy", put(privacy))
        .route("/products/{key}", put(product))
        .route("/products/{key}/groups", put(seats::set_product_groups))
        .route("/access/{accountId}", put(seats::set_access))
        .route("/user-management", put(seats::set_user_management))
        .route("/tokens", post(create_token))
        .route("/tokens/{id}", delete(revoke_token))
        .route("/oauth/apps", post(integrations::register_app))
        .route("/webhooks/deliveries", get(integrations::deliveries))
        .route("/clock", get(clock).put(set_clock))
        .route("/clock/advance", post(advance_clock))
        .route("/requests", get(requests))
        .route("/quirks", get(get_quirks).put(set_quirks))
        .route("/last-active", put(directory::set_last_active))
        .route(
            "/directory/limits",
            get(directory::get_limits).put(directory::set_limits),
        )
        .fallback(|| async { ApiError::not_found("No such control-plane endpoint.") })
}

/// The control plane with its guard, for a router whose state is `emu`.
pub fn guarded(emu: Emulator) -> Router<Emulator> {
    router().layer(from_fn_with_state(emu, guard))
}

/// Admits only `Authorization: Bearer <admin token>`.
async fn guard(State(emu): State<Emulator>, req: Request, next: Next) -> Response {
    let expected = format!("Bearer {}", emu.config().admin.token);
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if given != Some(expected.as_str()) {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "The control plane needs 'Authorization: Bearer <admin token>'.",
        )
        .into_response();
    }
    next.run(req).await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ResetBody {
    #[serde(default)]
    seed: Option<String>,
    #[serde(default)]
    users: Option<usize>,
}

async fn reset(
    State(emu): State<Emulator>,
    Body(body): Body<ResetBody>,
) -> Result<Response, ApiError> {
    let seed = match (body.seed.as_deref(), body.users) {
        (_, Some(users)) => Seed::Generated { users },
        (None, None) => emu.config().seed,
        (Some("demo"), None) => Seed::Demo,
        (Some("empty"), None) => Seed::Empty,
        (Some(other), None) => {
            return Err(ApiError::field(
                "seed",
                format!("unknown seed '{other}': use demo or empty"),
            ));
        }
    };
    emu.reset(seed);
    let site = emu.site();
    Ok(h::ok(&json!({ "accounts": site.accounts.len() })))
}

async fn export(State(emu): State<Emulator>) -> Response {
    h::ok(&emu.export())
}

async fn import(
    State(emu): State<Emulator>,
    Body(file): Body<SiteFile>,
) -> Result<Response, ApiError> {
    emu.import(file).map_err(ApiError::bad_request)?;
    Ok(h::empty(StatusCode::NO_CONTENT))
}

async fn get_limits(State(emu): State<Emulator>) -> Response {
    h::ok(&emu.limits().config())
}

async fn set_limits(State(emu): State<Emulator>, Body(config): Body<LimitConfig>) -> Response {
    emu.limits().set_config(config);
    h::ok(&emu.limits().config())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultsBody {
    rules: Vec<FaultRule>,
}

async fn get_faults(State(emu): State<Emulator>) -> Response {
    h::ok(&json!({ "rules": emu.faults().rules() }))
}

async fn set_faults(
    State(emu): State<Emulator>,
    Body(body): Body<FaultsBody>,
) -> Result<Response, ApiError> {
    for (i, rule) in body.rules.iter().enumerate() {
        rule.validate()
            .map_err(|e| ApiError::field(&format!("rules[{i}]"), e))?;
    }
    emu.faults().set_rules(body.rules);
    Ok(h::ok(&json!({ "rules": emu.faults().rules() })))
}

async fn clear_faults(State(emu): State<Emulator>) -> Response {
    emu.faults().set_rules(Vec::new());
    h::empty(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PrivacyBody {
    account_id: String,
    email_hidden: bool,
}

async fn privacy(
    State(emu): State<Emulator>,
    Body(body): Body<PrivacyBody>,
) -> Result<Response, ApiError> {
    let mut site = emu.site_mut();
    let key = site
        .find_account(&body.account_id)
        .ok_or_else(|| ApiError::not_found(format!("unknown accountId {}", body.account_id)))?;
    if site.account(key).email_hidden != body.email_hidden {
        site.account_mut(key).email_hidden = body.email_hidden;
        site.record_user_event(UserEventKind::Updated, key);
    }
    Ok(h::empty(StatusCode::NO_CONTENT))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProductBody {
    seats: Option<u32>,
}

async fn product(
    State(emu): State<Emulator>,
    Path(key): Path<String>,
    Body(body): Body<ProductBody>,
) -> Result<Response, ApiError> {
    let mut site = emu.site_mut();
    let product = site
        .products
        .iter_mut()
        .find(|p| p.key == key)
        .ok_or_else(|| ApiError::not_found(format!("unknown product {key}")))?;
    product.seats = body.seats;
    Ok(h::ok(&*product))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TokenBody {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    account_id: Option<String>,
    #[serde(default)]
    expires_in_days: Option<i64>,
    #[serde(default)]
    expires_at: Option<i64>,
    #[serde(default)]
    label: Option<String>,
    /// A scoped token: gateway only, limited to `scopes`.
    #[serde(default)]
    scoped: bool,
    #[serde(default)]
    scopes: Option<Vec<String>>,
}

async fn create_token(
    State(emu): State<Emulator>,
    Body(body): Body<TokenBody>,
) -> Result<Response, ApiError> {
    let scopes = integrations::token_scopes(body.scoped, body.scopes.as_deref())?;
    let now = emu.now();
    let mut site = emu.site_mut();
    let account = match (&body.email, &body.account_id) {
        (Some(email), _) => site.find_by_email(email),
        (None, Some(id)) => site.find_account(id),
        (None, None) => {
            return Err(ApiError::field(
                "email",
                "give the owner's email or accountId",
            ));
        }
    }
    .ok_or_else(|| ApiError::not_found("no account has that email or accountId"))?;
    let expires_at = match (body.expires_at, body.expires_in_days) {
        (Some(at), _) => at,
        (None, Some(days)) => now + days * DAY_MS,
        (None, None) => now + TOKEN_LIFETIME_MS,
    };
    let token = ApiToken {
        id: site.ids.uuid(),
        account,
        secret: site.ids.api_token(),
        label: body.label.unwrap_or_else(|| "control plane".into()),
        created: now,
        expires_at,
        revoked: false,
        last_used: None,
        scoped: body.scoped,
        scopes: scopes.clone(),
    };
    let answer = json!({
        "id": token.id,
        "token": token.secret,
        "scoped": body.scoped,
        "scopes": scopes,
        "accountId": site.account(account).account_id,
        "email": site.account(account).email,
        "expiresAt": expires_at,
        "expiresAtIso": iso_utc(expires_at),
    });
    site.add_token(token);
    Ok(h::json(StatusCode::CREATED, &answer))
}

async fn revoke_token(
    State(emu): State<Emulator>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let mut site = emu.site_mut();
    let token = site
        .tokens
        .iter_mut()
        .find(|t| t.id == id)
        .ok_or_else(|| ApiError::not_found(format!("unknown token {id}")))?;
    token.revoked = true;
    Ok(h::empty(StatusCode::NO_CONTENT))
}

fn clock_view(emu: &Emulator) -> Response {
    let now = emu.now();
    h::ok(&json!({ "now": now, "iso": iso_utc(now), "frozen": emu.clock().is_frozen() }))
}

async fn clock(State(emu): State<Emulator>) -> Response {
    clock_view(&emu)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SetClockBody {
    now: i64,
}

async fn set_clock(State(emu): State<Emulator>, Body(body): Body<SetClockBody>) -> Response {
    emu.clock().set(body.now);
    clock_view(&emu)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AdvanceBody {
    #[serde(default)]
    seconds: i64,
    #[serde(default)]
    days: i64,
}

async fn advance_clock(State(emu): State<Emulator>, Body(body): Body<AdvanceBody>) -> Response {
    emu.clock()
        .advance(body.seconds * 1000 + body.days * DAY_MS);
    clock_view(&emu)
}

async fn requests(State(emu): State<Emulator>, params: Params) -> Result<Response, ApiError> {
    let since = params.number("since", 0)?;
    let limit = params.number("limit", 1000)? as usize;
    Ok(h::ok(&emu.log().since(since, limit)))
}

async fn get_quirks(State(emu): State<Emulator>) -> Response {
    h::ok(&emu.quirks())
}

async fn set_quirks(State(emu): State<Emulator>, Body(quirks): Body<Quirks>) -> Response {
    emu.set_quirks(quirks);
    h::ok(&emu.quirks())
}
