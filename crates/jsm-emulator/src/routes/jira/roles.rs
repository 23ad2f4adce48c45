use axum::extract::Path;
use axum::response::Response;
use jsm_proto::jira::ServerInfo;

use super::super::views;
use crate::clock::jira_time;
use crate::http::{self as h, ApiError, Ctx};

const ADMIN_ONLY: &str = "You must have Jira administrator rights to view application roles.";

pub async fn list(ctx: Ctx) -> Result<Response, ApiError> {
    ctx.require(|p| p.jira_admin, ADMIN_ONLY)?;
    let site = ctx.emu.site();
    let roles: Vec<_> = site
        .products
        .iter()
        .map(|p| views::application_role(&ctx, &site, p))
        .collect();
    Ok(h::ok(&roles))
}

pub async fn one(ctx: Ctx, Path(key): Path<String>) -> Result<Response, ApiError> {
    ctx.require(|p| p.jira_admin, ADMIN_ONLY)?;
    let site = ctx.emu.site();
    let product = site.products.iter().find(|p| p.key == key).ok_or_else(|| {
        ApiError::not_found(format!("The application role '{key}' does not exist."))
    })?;
    Ok(h::ok(&views::application_role(&ctx, &site, product)))
}

pub async fn server_info(ctx: Ctx) -> Response {
    h::ok(&ServerInfo {
        base_url: ctx.base.clone(),
        version: "1001.0.0-SNAPSHOT".into(),
        version_numbers: vec![1001, 0, 0],
        deployment_type: "Cloud".into(),
        build_number: 100_289,
        build_date: jira_time(1_767_225_600_000),
        server_time: jira_time(ctx.emu.now()),
        scm_info: "57a0ca5b0f3c3f5c3e7b2b1f0c1d6e4a8b9c0d1e".into(),
        server_title: "Jira".into(),
    })
}
