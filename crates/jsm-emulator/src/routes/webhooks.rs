//! Webhook registration: admin webhooks under `/rest/webhooks/1.0` (user events are delivered to these) and
//! app webhooks under `/rest/api/{3,2,latest}/webhook` (OAuth apps; issue and comment events only, as
//! Atlassian's spec allows, so they are registered and listed but never fire here).

pub mod admin;
pub mod app;
mod jql;

use axum::Router;
use axum::routing::get;

use crate::Emulator;

/// Events an admin webhook may subscribe to; only the user events fire in the emulator.
pub const ADMIN_EVENTS: [&str; 22] = [
    "user_created",
    "user_updated",
    "user_deleted",
    "group_created",
    "group_deleted",
    "jira:issue_created",
    "jira:issue_updated",
    "jira:issue_deleted",
    "comment_created",
    "comment_updated",
    "comment_deleted",
    "issue_property_set",
    "issue_property_deleted",
    "issuelink_created",
    "issuelink_deleted",
    "worklog_created",
    "worklog_updated",
    "worklog_deleted",
    "project_created",
    "project_updated",
    "project_deleted",
    "jira:version_released",
];

/// Events an app webhook may subscribe to (the `WebhookDetails.events` enum of the Jira spec).
pub const APP_EVENTS: [&str; 8] = [
    "jira:issue_created",
    "jira:issue_updated",
    "jira:issue_deleted",
    "comment_created",
    "comment_updated",
    "comment_deleted",
    "issue_property_set",
    "issue_property_deleted",
];

/// Routes under `/rest/webhooks/1.0`.
pub fn admin_router() -> Router<Emulator> {
    Router::new()
        .route("/webhook", get(admin::list).post(admin::create))
        .route(
            "/webhook/{id}",
            get(admin::one).put(admin::update).delete(admin::delete),
        )
}
