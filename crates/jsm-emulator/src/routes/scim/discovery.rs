//! Discovery (RFC 7644 §4): `ServiceProviderConfig`, `ResourceTypes` and `Schemas`, plus `POST /.search`, which
//! Atlassian does not offer (501).

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::view::scim_base;
use super::{MAX_COUNT, schema};
use crate::http::{self as h, ApiError, Ctx};

fn base(ctx: &Ctx) -> String {
    scim_base(&ctx.base, &ctx.emu.config().identity.directory_id)
}

fn listing(items: Vec<Value>) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": items.len(),
        "startIndex": 1,
        "itemsPerPage": items.len(),
        "Resources": items,
    })
}

pub async fn config(ctx: Ctx) -> Response {
    h::ok(&schema::service_provider_config(&base(&ctx), MAX_COUNT))
}

pub async fn resource_types(ctx: Ctx) -> Response {
    let items = schema::resource_types(&base(&ctx))
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    h::ok(&listing(items))
}

pub async fn resource_type(
    ctx: Ctx,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    schema::resource_types(&base(&ctx))
        .into_iter()
        .find(|(name, _)| *name == id)
        .map(|(_, v)| h::ok(&v))
        .ok_or_else(|| ApiError::not_found(format!("Resource type {id} does not exist.")))
}

pub async fn schemas(ctx: Ctx) -> Response {
    let items = schema::schemas(&base(&ctx))
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    h::ok(&listing(items))
}

pub async fn schema(ctx: Ctx, Path((_, id)): Path<(String, String)>) -> Result<Response, ApiError> {
    schema::schemas(&base(&ctx))
        .into_iter()
        .find(|(urn, _)| urn.eq_ignore_ascii_case(&id))
        .map(|(_, v)| h::ok(&v))
        .ok_or_else(|| ApiError::not_found(format!("Schema {id} does not exist.")))
}

pub async fn search() -> ApiError {
    ApiError::new(
        StatusCode::NOT_IMPLEMENTED,
        "Searching with POST /.search is not supported; use GET with a filter.",
    )
}
