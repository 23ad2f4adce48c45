use axum::extract::Path;
use axum::response::Response;
use jsm_proto::jsm::{DateDto, SelfLink, ServiceDesk, SoftwareInfo};

use super::staff;
use crate::clock::{jira_time, to_datetime};
use crate::http::{self as h, ApiError, Ctx, PageArgs, jsm_page};
use crate::site::Site;

/// JSM's four-way date for an instant.
pub fn date(ms: i64) -> DateDto {
    let dt = to_datetime(ms);
    DateDto {
        iso8601: dt.format("%Y-%m-%dT%H:%M:%S%z").to_string(),
        jira: jira_time(ms),
        friendly: dt.format("%d/%b/%y %-I:%M %p").to_string(),
        epoch_millis: ms,
    }
}

/// The desk at `index`, as the API shows it.
pub fn desk_view(ctx: &Ctx, site: &Site, index: usize) -> ServiceDesk {
    let d = &site.desks[index];
    ServiceDesk {
        id: d.id.to_string(),
        project_id: d.project_id.to_string(),
        project_name: d.project_name.clone(),
        project_key: d.project_key.clone(),
        project_type_key: Some("service_desk".into()),
        links: SelfLink {
            self_url: ctx.jsm_url(&format!("/servicedesk/{}", d.id)),
        },
    }
}

/// Whether the caller may see the desk: staff see every desk, customers the desks they belong to.
pub fn can_see(ctx: &Ctx, site: &Site, index: usize) -> bool {
    if staff(&ctx.caller.perms) {
        return true;
    }
    let Some(me) = ctx.caller.account else {
        return false;
    };
    let desk = &site.desks[index];
    desk.customers.contains(&me)
        || desk
            .organizations
            .iter()
            .filter_map(|o| site.organizations.get(o))
            .any(|o| o.members.contains(&me))
}

/// The desk named in the path, or 404 (also for desks the caller cannot see).
pub fn find(ctx: &Ctx, site: &Site, ident: &str) -> Result<usize, ApiError> {
    site.find_desk(ident)
        .filter(|i| can_see(ctx, site, *i))
        .ok_or_else(|| {
            ApiError::not_found(format!("The service desk '{ident}' does not exist."))
                .key("sd.servicedesk.error.not.found")
        })
}

pub async fn list(ctx: Ctx) -> Result<Response, ApiError> {
    ctx.account()?;
    let args = PageArgs::jsm(&ctx, 50, 100)?;
    let site = ctx.emu.site();
    let visible: Vec<usize> = (0..site.desks.len())
        .filter(|i| can_see(&ctx, &site, *i))
        .collect();
    let values = args
        .window(&visible)
        .iter()
        .map(|i| desk_view(&ctx, &site, *i))
        .collect();
    Ok(h::ok(&jsm_page(&ctx, args, values, visible.len() as u64)))
}

pub async fn one(ctx: Ctx, Path(id): Path<String>) -> Result<Response, ApiError> {
    ctx.account()?;
    let site = ctx.emu.site();
    let index = find(&ctx, &site, &id)?;
    Ok(h::ok(&desk_view(&ctx, &site, index)))
}

pub async fn info(ctx: Ctx) -> Response {
    h::ok(&SoftwareInfo {
        version: "10.3.0-OD-1001".into(),
        platform_version: "1001.0.0-SNAPSHOT".into(),
        build_date: date(1_767_225_600_000),
        build_change_set: "57a0ca5b0f3c3f5c3e7b2b1f0c1d6e4a8b9c0d1e".into(),
        is_licensed_for_use: true,
        links: SelfLink {
            self_url: ctx.jsm_url("/info"),
        },
    })
}
