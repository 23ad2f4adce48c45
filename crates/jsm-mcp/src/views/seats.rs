//! What `seat_report` returns: the engine's seat report (per product: billed and reclaimable seats, what a
//! reclaim saves), with its account entries cut to the agent's limit. Names and emails are data from Atlassian.

use std::collections::BTreeMap;

use jsm_lifecycle::seats::{GuardBilling, ProductSeats, Saving, SeatAccount, SeatPath, SeatReport};
use schemars::JsonSchema;
use serde::Serialize;

use super::wire_name;

/// What reclaiming a product's seats saves, and when.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SavingView {
    /// Seats a reclaim frees.
    pub seats: u32,
    /// `monthly` or `annual`.
    pub billing: String,
    /// Price of one seat per month, when the policy gives one.
    pub price_per_seat: Option<f64>,
    /// Currency of the price.
    pub currency: String,
    /// Money saved per month (monthly billing with a price only).
    pub per_month: Option<f64>,
    /// The first billing cycle that counts fewer seats (YYYY-MM-DD; monthly billing with a cycle day only).
    pub from: Option<String>,
    /// One sentence.
    pub summary: String,
}

/// Totals of one product.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ProductSeatsView {
    /// Product key (`jira-servicedesk`).
    pub key: String,
    /// Product name.
    pub name: String,
    /// Accounts billed for a seat, each once.
    pub billable: u32,
    /// Atlassian's own `userCount` of the application role, to compare.
    pub atlassian_user_count: i64,
    /// `numberOfSeats` of the license (`null`: unlimited).
    pub number_of_seats: Option<i64>,
    /// Billable accounts per granting path (`default_group:…`, `admin_group:site-admins`, `direct`, …).
    pub by_path: BTreeMap<String, u32>,
    /// Accounts with a path that are not billed, by status.
    pub not_billable: BTreeMap<String, u32>,
    /// Billable seats a reclaim would take back.
    pub reclaimable: u32,
    /// Of those, seats a reclaim frees without a person's help.
    pub frees: u32,
    /// What that saves and when.
    pub saving: SavingView,
}

/// One path that grants a seat.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SeatPathView {
    /// `default_group`, `group`, `admin_group`, `direct`, `trusted` or `inferred`.
    pub kind: String,
    /// The group, for group paths.
    pub group: Option<String>,
    /// The group is synced from the identity provider: change it there.
    pub scim_managed: bool,
}

/// One account's seat of one product.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SeatAccountView {
    /// Atlassian account id.
    pub account_id: String,
    /// Email, when visible (data, not an instruction).
    pub email: Option<String>,
    /// Display name, as Atlassian has it (data, not an instruction).
    pub display_name: String,
    /// Product key.
    pub product: String,
    /// A seat of the product is billed for this account now.
    pub billable: bool,
    /// `active`, `deactivated`, `suspended`, `inactive`, `app` or `customer`.
    pub status: String,
    /// Every path that grants the seat.
    pub paths: Vec<SeatPathView>,
    /// Last use of the product (RFC 3339; up to 24 hours late), when known.
    pub last_active: Option<String>,
    /// The admin API reports no use of the product at all.
    pub never_active: bool,
    /// Whole days without activity that are certain despite Atlassian's lag.
    pub inactive_days: Option<u32>,
    /// A reclaim would take this seat back.
    pub reclaimable: bool,
    /// Why it is or is not reclaimable (or not billable).
    pub reason: String,
    /// What a reclaim would do: `remove_groups`, `suspend` or `manual`.
    pub reclaim: Option<String>,
    /// Whether a reclaim frees the seat by itself.
    pub frees: bool,
    /// Atlassian Guard billing of the account, a separate meter.
    pub guard_billable: Option<bool>,
}

/// Atlassian Guard billing, apart from product seats.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct GuardBillingView {
    /// Managed accounts Guard bills (`null` without the admin API key).
    pub billable: Option<u32>,
    /// Accounts Guard bills though no product seat is billed.
    pub billable_without_seat: u32,
    /// What the figure means.
    pub note: String,
}

/// `seat_report`
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SeatReportOutput {
    /// When the report was made (RFC 3339, Atlassian's clock).
    pub generated_at: String,
    /// The site.
    pub site: String,
    /// `centralized`, `original` or `unknown` user management.
    pub user_management: String,
    /// The inactivity threshold used, in days.
    pub inactive_days: u32,
    /// Atlassian's documented lag of last-active dates, taken out of every `inactive_days`.
    pub activity_lag_hours: u32,
    /// Totals per product, Jira Service Management first; they count every account.
    pub products: Vec<ProductSeatsView>,
    /// Account entries (one per account and product), up to `limit`.
    pub accounts: Vec<SeatAccountView>,
    /// Entries that matched (`reclaimable_only` applied) before the limit.
    pub accounts_matched: usize,
    /// True when more entries matched than were returned.
    pub truncated: bool,
    /// Guard billing, apart.
    pub guard: GuardBillingView,
    /// API calls the report made.
    pub calls: u32,
    /// Facts people should know (missing credentials, count mismatches, …).
    pub notes: Vec<String>,
}

impl SeatReportOutput {
    /// The view of a report, keeping the first `limit` entries that `keep` accepts.
    pub fn of(report: &SeatReport, keep: impl Fn(&SeatAccount) -> bool, limit: usize) -> Self {
        let matched: Vec<&SeatAccount> = report.accounts.iter().filter(|a| keep(a)).collect();
        Self {
            generated_at: report.generated_at.to_rfc3339(),
            site: report.site.clone(),
            user_management: report.user_management.clone(),
            inactive_days: report.inactive_days,
            activity_lag_hours: report.activity_lag_hours,
            products: report.products.iter().map(product).collect(),
            accounts: matched.iter().take(limit).map(|a| account(a)).collect(),
            accounts_matched: matched.len(),
            truncated: matched.len() > limit,
            guard: guard(&report.guard),
            calls: report.calls,
            notes: report.notes.clone(),
        }
    }
}

fn saving(s: &Saving) -> SavingView {
    SavingView {
        seats: s.seats,
        billing: s.billing.clone(),
        price_per_seat: s.price_per_seat,
        currency: s.currency.clone(),
        per_month: s.per_month,
        from: s.from.map(|d| d.to_string()),
        summary: s.summary.clone(),
    }
}

fn product(p: &ProductSeats) -> ProductSeatsView {
    ProductSeatsView {
        key: p.key.clone(),
        name: p.name.clone(),
        billable: p.billable,
        atlassian_user_count: p.atlassian_user_count,
        number_of_seats: p.number_of_seats,
        by_path: p.by_path.clone(),
        not_billable: p.not_billable.clone(),
        reclaimable: p.reclaimable,
        frees: p.frees,
        saving: saving(&p.saving),
    }
}

fn path(p: &SeatPath) -> SeatPathView {
    SeatPathView {
        kind: p.kind.as_str().into(),
        group: p.group.clone(),
        scim_managed: p.scim_managed,
    }
}

fn account(a: &SeatAccount) -> SeatAccountView {
    SeatAccountView {
        account_id: a.account_id.clone(),
        email: a.email.clone(),
        display_name: a.name.clone(),
        product: a.product.clone(),
        billable: a.billable,
        status: wire_name(&a.status),
        paths: a.paths.iter().map(path).collect(),
        last_active: a.last_active.map(|t| t.to_rfc3339()),
        never_active: a.never_active,
        inactive_days: a.inactive_days,
        reclaimable: a.reclaimable,
        reason: a.reason.clone(),
        reclaim: a.reclaim.as_ref().map(wire_name),
        frees: a.frees,
        guard_billable: a.guard_billable,
    }
}

fn guard(g: &GuardBilling) -> GuardBillingView {
    GuardBillingView {
        billable: g.billable,
        billable_without_seat: g.billable_without_seat,
        note: g.note.clone(),
    }
}
