//! Seats: who holds a billable seat of each product and every path that grants it, which seats are unused (per
//! product, Atlassian's 24-hour lag taken out), what reclaiming them would save and when, and the reclaim
//! itself as a plan (safest action first, each seat re-checked after apply).
//!
//! The rules are Atlassian's (see `reference/seats-and-licensing.md`): groups with product access (default
//! groups, other groups, and the admin groups that grant JSM by default), direct role grants and the Trusted
//! role of original user management grant seats; apps, portal-only customers, the customer role, deactivated
//! and suspended accounts never hold one; an invite never accepted is billed all the same. Atlassian Guard
//! billing is reported apart.

pub mod model;
pub mod money;
mod observe;
pub mod policy;
mod reclaim;
pub mod rules;
mod verify;

pub use model::{
    GuardBilling, PathKind, ProductSeats, ReclaimAction, Saving, SeatAccount, SeatPath, SeatReport,
    SeatStatus,
};
pub use policy::{Billing, SeatsPolicy, UserManagementSetting};
pub use verify::seat_is_free;

use crate::engine::Engine;
use crate::error::{Error, Result};

/// The lag of Atlassian's last-active dates ("may be delayed by up to 24 hours").
pub const ACTIVITY_LAG_HOURS: u32 = 24;

/// The product key of Jira Service Management, the product a reclaim works on by default.
pub const JSM: &str = "jira-servicedesk";

/// What to report on; every field is optional and falls back on the `[seats]` policy.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SeatQuery {
    /// Product keys (`jira-servicedesk`, `jira-software`); every product the site reports when empty.
    pub products: Vec<String>,
    /// Days without activity after which a seat is reclaimable.
    pub inactive_days: Option<u32>,
    /// Only accounts holding a seat through this group.
    pub group: Option<String>,
    /// Price of one seat per month.
    pub price_per_seat: Option<f64>,
    /// Day of the month the monthly cycle starts.
    pub cycle_day: Option<u32>,
}

impl Engine {
    /// The `[seats]` policy with the query's overrides, checked (errors name the flag).
    fn seat_policy(&self, query: &SeatQuery) -> Result<SeatsPolicy> {
        let mut p = self.policy.seats.clone();
        if let Some(n) = query.inactive_days {
            p.inactive_days = n;
        }
        if let Some(price) = query.price_per_seat {
            p.price_per_seat = Some(price);
        }
        if let Some(day) = query.cycle_day {
            p.cycle_day = Some(day);
        }
        if let Some(problem) = p.problem() {
            let field = if problem.contains("inactive_days") {
                "--inactive-days"
            } else if problem.contains("cycle_day") {
                "--cycle-day"
            } else if problem.contains("price_per_seat") {
                "--price-per-seat"
            } else {
                "seats"
            };
            return Err(Error::InvalidInput {
                field: field.into(),
                detail: problem,
            });
        }
        Ok(p)
    }

    /// The seat report: reads only, no change.
    pub async fn seat_report(&self, query: &SeatQuery) -> Result<SeatReport> {
        Ok(self.seat_facts(query).await?.0)
    }

    /// The report, and the directory a suspension goes to.
    async fn seat_facts(&self, query: &SeatQuery) -> Result<(SeatReport, Option<String>)> {
        let policy = self.seat_policy(query)?;
        let before = self.calls_sent();
        let products = (!query.products.is_empty()).then_some(query.products.as_slice());
        let scope = observe::Scope {
            products,
            group: query.group.as_deref(),
            concurrency: policy.concurrency,
            user_management: policy.user_management,
            allowlist_groups: &policy.allowlist_groups,
        };
        // Atlassian's clock judges inactivity, as the dates it reports are on it (one read).
        let now = crate::credentials::server_time(&self.client)
            .await
            .unwrap_or_else(|| self.client.clock().now());
        let facts = observe::gather(&self.client, self.caps, &scope).await?;
        if let Some(p) = products
            && facts.roles.is_empty()
        {
            return Err(Error::not_found(format!(
                "product {} (application role)",
                p.join(", ")
            )));
        }
        let inputs = rules::Inputs {
            policy: &policy,
            inactive_days: policy.inactive_days,
            group: query.group.as_deref(),
            now,
            site: &self.site,
            admin: self.caps.admin,
            scim: self.caps.scim,
            calls: self.calls_sent().saturating_sub(before),
        };
        let report = rules::report(&facts, &inputs);
        Ok((report, facts.admin.and_then(|a| a.directory)))
    }
}
