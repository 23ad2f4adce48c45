//! What the seat report says: per product, every account seen with a seat path, whether it is billed and why,
//! every path that grants it, its per-product activity, and whether a reclaim would free its seat; totals per
//! product and per path; Atlassian Guard billing apart; and what a reclaim would save and when.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// How a path grants a product's seat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PathKind {
    /// One of the product's default groups (`jira-servicemanagement-users[-site]`, `jira-servicedesk-users`).
    DefaultGroup,
    /// Another group with product access.
    Group,
    /// An admin group with product access (`site-admins`, `administrators`, `org-admins` grant JSM by default).
    AdminGroup,
    /// A role granted to the account itself.
    Direct,
    /// The Trusted role of original user management (grants every product).
    Trusted,
    /// A role Atlassian says is inferred, on centralized user management (no Trusted role there).
    Inferred,
}

impl PathKind {
    /// The kind as written in JSON and CSV.
    pub fn as_str(self) -> &'static str {
        match self {
            PathKind::DefaultGroup => "default_group",
            PathKind::Group => "group",
            PathKind::AdminGroup => "admin_group",
            PathKind::Direct => "direct",
            PathKind::Trusted => "trusted",
            PathKind::Inferred => "inferred",
        }
    }
}

/// One path that grants a seat.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SeatPath {
    /// What kind of path.
    pub kind: PathKind,
    /// The group, for group paths.
    pub group: Option<String>,
    /// The group is synced from the identity provider (SCIM): change it there, or it is re-synced.
    pub scim_managed: bool,
}

impl SeatPath {
    /// `default_group:jira-servicemanagement-users`, `direct`, `trusted`, …
    pub fn label(&self) -> String {
        match &self.group {
            Some(g) => format!("{}:{g}", self.kind.as_str()),
            None => self.kind.as_str().to_string(),
        }
    }

    /// True for paths that come from a group.
    pub fn is_group(&self) -> bool {
        self.group.is_some()
    }
}

/// Why an account does or does not hold a billed seat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeatStatus {
    /// Active on the site: billed when a path grants the seat.
    Active,
    /// The account is deactivated: never billed.
    Deactivated,
    /// Access to this site is suspended: no seat billed (Guard may still bill it).
    Suspended,
    /// Inactive on the site, deactivated or suspended (no admin API key to tell which): not billed.
    Inactive,
    /// An app or bot account created by an app: never billed.
    App,
    /// A portal-only customer: never billed.
    Customer,
}

/// What a reclaim does to free one account's seat, safest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReclaimAction {
    /// Remove every granting group (one left keeps the seat).
    RemoveGroups,
    /// Suspend the account's access on this site (groups kept; reversible; frees every product's seat).
    Suspend,
    /// Only a person can free it (an IdP group, a direct grant or the Trusted role, without suspension).
    Manual,
}

/// One account's seat of one product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeatAccount {
    /// Atlassian account id.
    pub account_id: String,
    /// Email, when visible (Jira or the admin API).
    pub email: Option<String>,
    /// Display name.
    pub name: String,
    /// The product key (`jira-servicedesk`).
    pub product: String,
    /// A seat of the product is billed for this account now.
    pub billable: bool,
    /// Its status on the site.
    pub status: SeatStatus,
    /// Every path that grants the seat (also for accounts not billed, whose paths are kept).
    pub paths: Vec<SeatPath>,
    /// Last use of this product as Atlassian reports it (up to 24 h late); `None` when never used or unknown.
    pub last_active: Option<DateTime<Utc>>,
    /// The admin API knows the account and reports no use of the product.
    pub never_active: bool,
    /// When the account was added to the organization (centralized user management only).
    pub added: Option<NaiveDate>,
    /// Whole days without activity that are certain despite the 24-hour lag (since added, when never used).
    pub inactive_days: Option<u32>,
    /// A reclaim would take this seat back.
    pub reclaimable: bool,
    /// Why it is or is not reclaimable (or not billable).
    pub reason: String,
    /// What a reclaim would do, for reclaimable seats.
    pub reclaim: Option<ReclaimAction>,
    /// Whether a reclaim frees the seat by itself (false when a person must also act, e.g. at the IdP).
    pub frees: bool,
    /// Atlassian Guard billing of the account (`access_billable`), a separate meter.
    pub guard_billable: Option<bool>,
}

/// What reclaiming saves and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Saving {
    /// Seats freed.
    pub seats: u32,
    /// `monthly` or `annual`.
    pub billing: String,
    /// Price of one seat per month, when given.
    pub price_per_seat: Option<f64>,
    /// Currency of the price.
    pub currency: String,
    /// Money saved per month, monthly billing with a price only.
    pub per_month: Option<f64>,
    /// The first billing cycle that counts fewer seats (monthly billing with a cycle day only).
    pub from: Option<NaiveDate>,
    /// One sentence for people.
    pub summary: String,
}

/// Totals of one product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductSeats {
    /// Product key.
    pub key: String,
    /// Product name.
    pub name: String,
    /// Accounts billed for a seat, each once.
    pub billable: u32,
    /// Atlassian's own `userCount` of the application role, to compare.
    pub atlassian_user_count: i64,
    /// `numberOfSeats` (may be a plan ceiling rather than what was bought); `None` when unlimited.
    pub number_of_seats: Option<i64>,
    /// Billable accounts per path (`default_group:…`, `admin_group:site-admins`, `direct`, …); an account with
    /// two paths counts under both.
    pub by_path: BTreeMap<String, u32>,
    /// Accounts seen with a path that are not billed, by status.
    pub not_billable: BTreeMap<String, u32>,
    /// Billable seats a reclaim would take back.
    pub reclaimable: u32,
    /// Of those, seats a reclaim frees without a person's help.
    pub frees: u32,
    /// What that saves and when.
    pub saving: Saving,
}

/// Atlassian Guard billing, reported apart from product seats and never added to them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuardBilling {
    /// Managed accounts the admin API marks `access_billable` (`None` without the admin API key).
    pub billable: Option<u32>,
    /// Of the accounts seen with a seat path, those Guard bills though no seat is billed (suspended on the site).
    pub billable_without_seat: u32,
    /// What the figure means.
    pub note: String,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeatReport {
    /// When it was made.
    pub generated_at: DateTime<Utc>,
    /// The site.
    pub site: String,
    /// `centralized`, `original` or `unknown` (detected from the admin API, or set in the policy).
    pub user_management: String,
    /// The inactivity threshold used.
    pub inactive_days: u32,
    /// The lag Atlassian documents for last-active dates, taken out of every `inactive_days`.
    pub activity_lag_hours: u32,
    /// Totals per product, JSM first.
    pub products: Vec<ProductSeats>,
    /// One entry per account and product.
    pub accounts: Vec<SeatAccount>,
    /// Guard billing, apart.
    pub guard: GuardBilling,
    /// API calls the report made.
    pub calls: u32,
    /// Facts people should know (missing credentials, count mismatches, …).
    pub notes: Vec<String>,
}

impl SeatReport {
    /// The entries of one product.
    pub fn of_product<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a SeatAccount> + 'a {
        self.accounts.iter().filter(move |a| a.product == key)
    }

    /// The entry of one account and product.
    pub fn account(&self, account_id: &str, product: &str) -> Option<&SeatAccount> {
        self.accounts
            .iter()
            .find(|a| a.account_id == account_id && a.product == product)
    }
}
