//! `GET /orgs` and `GET /orgs/{orgId}`: the one organization the key manages.

use axum::extract::Path;
use axum::response::Response;
use serde_json::{Value, json};

use super::known_org;
use crate::http::{self as h, ApiError, Ctx};

fn org(ctx: &Ctx) -> Value {
    let id = &ctx.emu.config().identity.org_id;
    let base = format!("{}/admin/v1/orgs/{id}", ctx.base);
    json!({
        "id": id,
        "type": "orgs",
        "attributes": { "name": "Example Corp" },
        "relationships": {
            "domains": { "links": { "related": format!("{base}/domains") } },
            "users": { "links": { "related": format!("{base}/users") } },
        },
        "links": { "self": base },
    })
}

pub async fn list(ctx: Ctx) -> Response {
    h::ok(&json!({
        "data": [org(&ctx)],
        "links": { "self": format!("{}/admin/v1/orgs", ctx.base) },
    }))
}

pub async fn one(ctx: Ctx, Path(org_id): Path<String>) -> Result<Response, ApiError> {
    known_org(&ctx, &org_id)?;
    Ok(h::ok(&json!({ "data": org(&ctx) })))
}
