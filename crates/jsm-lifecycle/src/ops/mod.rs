//! Operations: each observes what it needs and builds a plan; none of them writes to the site.

mod agent;
mod customer;
mod membership;
mod offboard;
mod restore;

pub use agent::AgentRequest;
pub use customer::CustomerRequest;

use crate::error::{Error, Result};

/// Cost line on items that grant a billable agent seat.
pub const AGENT_SEAT_COST: &str = "grants a billable Jira Service Management agent seat";

/// Checks that an email looks like one; names the argument otherwise.
pub(crate) fn check_email(email: &str) -> Result<()> {
    let ok = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !domain.ends_with('.')
    }) && !email.chars().any(char::is_whitespace);
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidInput {
            field: "--email".into(),
            detail: format!("{email:?} is not an email address"),
        })
    }
}

/// Checks that a name is not blank.
pub(crate) fn check_name(name: &str) -> Result<()> {
    if name.trim().is_empty() {
        Err(Error::InvalidInput {
            field: "--name".into(),
            detail: "is empty".into(),
        })
    } else {
        Ok(())
    }
}
