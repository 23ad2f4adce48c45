//! JSM `servicedeskapi`: customers, service desks, organizations.

mod customers;
mod desks;
mod organizations;

use axum::Router;
use axum::routing::get;

use crate::Emulator;
use crate::site::Perms;

/// Routes under `/rest/servicedeskapi`.
pub fn router() -> Router<Emulator> {
    Router::new()
        .route("/customer", axum::routing::post(customers::create))
        .route("/info", get(desks::info))
        .route("/servicedesk", get(desks::list))
        .route("/servicedesk/{id}", get(desks::one))
        .route(
            "/servicedesk/{id}/customer",
            get(customers::list)
                .post(customers::add)
                .delete(customers::remove),
        )
        .route(
            "/servicedesk/{id}/organization",
            get(organizations::of_desk)
                .post(organizations::link_desk)
                .delete(organizations::unlink_desk),
        )
        .route(
            "/organization",
            get(organizations::list).post(organizations::create),
        )
        .route(
            "/organization/{id}",
            get(organizations::one).delete(organizations::delete),
        )
        .route(
            "/organization/{id}/user",
            get(organizations::members)
                .post(organizations::add_members)
                .delete(organizations::remove_members),
        )
}

/// Agents and Jira administrators manage customers and organizations.
fn staff(p: &Perms) -> bool {
    p.agent || p.jira_admin
}

/// Whether a JSM call adds to or removes from a set of members; both are idempotent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Add,
    Remove,
}

impl Change {
    fn apply(
        self,
        set: &mut std::collections::BTreeSet<u32>,
        items: impl IntoIterator<Item = u32>,
    ) {
        for item in items {
            match self {
                Change::Add => set.insert(item),
                Change::Remove => set.remove(&item),
            };
        }
    }
}
