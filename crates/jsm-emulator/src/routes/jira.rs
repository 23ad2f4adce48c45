//! Jira platform REST (`/rest/api/{3,2,latest}`): users, groups, application roles, server info.

mod groups;
mod roles;
mod users;

use axum::Router;
use axum::routing::{get, post, put};

use super::webhooks;
use crate::Emulator;

/// Routes of one Jira API version; mounted under `/rest/api/3`, `/2` and `/latest`.
pub fn router() -> Router<Emulator> {
    Router::new()
        .route(
            "/user",
            get(users::get_user)
                .post(users::create_user)
                .delete(users::delete_user),
        )
        .route("/user/groups", get(users::user_groups))
        .route("/user/search", get(users::search))
        .route("/user/bulk", get(users::bulk))
        .route("/users/search", get(users::list_all))
        .route("/users", get(users::list_all))
        .route("/myself", get(users::myself))
        .route(
            "/group",
            get(groups::get_group)
                .post(groups::create_group)
                .delete(groups::delete_group),
        )
        .route("/group/bulk", get(groups::bulk))
        .route("/group/member", get(groups::members))
        .route(
            "/group/user",
            post(groups::add_user).delete(groups::remove_user),
        )
        .route("/groups/picker", get(groups::picker))
        .route("/applicationrole", get(roles::list))
        .route("/applicationrole/{key}", get(roles::one))
        .route("/serverInfo", get(roles::server_info))
        .route(
            "/webhook",
            get(webhooks::app::list)
                .post(webhooks::app::register)
                .delete(webhooks::app::delete),
        )
        .route("/webhook/refresh", put(webhooks::app::refresh))
}
