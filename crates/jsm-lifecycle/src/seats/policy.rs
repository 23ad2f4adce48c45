//! The `[seats]` section of the policy: the inactivity threshold, who keeps a seat without activity, whether a
//! reclaim may suspend, and how the plan is billed (price, currency, cycle day), so savings are stated, never
//! invented.

use serde::Deserialize;

/// How the subscription is billed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Billing {
    /// Monthly ("maximum quantity billing"): the count at the start of each cycle is billed, removals during a
    /// cycle earn no credit.
    #[default]
    Monthly,
    /// Annual: billed by tier; removals free headroom in the tier, not money, until renewal.
    Annual,
}

impl Billing {
    /// `monthly` or `annual`.
    pub fn as_str(self) -> &'static str {
        match self {
            Billing::Monthly => "monthly",
            Billing::Annual => "annual",
        }
    }
}

/// Whether the site uses original or centralized user management (which names the `inferred` path Trusted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserManagementSetting {
    /// Ask the admin API (`added_to_org` is only on centralized user management).
    #[default]
    Detect,
    /// Original user management (per-site users, Trusted role).
    Original,
    /// Centralized user management.
    Centralized,
}

/// `[seats]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SeatsPolicy {
    /// Days without activity after which a seat is reclaimable (`--inactive-days` overrides it).
    pub inactive_days: u32,
    /// Emails or account ids that keep their seats without activity (service accounts, on-call).
    pub allowlist: Vec<String>,
    /// Members of these groups keep their seats without activity (e.g. an on-call rota).
    pub allowlist_groups: Vec<String>,
    /// A reclaim may suspend the account on the site when removing groups cannot free the seat.
    pub suspend: bool,
    /// How the subscription is billed.
    pub billing: Billing,
    /// Price of one seat per month (`--price-per-seat` overrides it).
    pub price_per_seat: Option<f64>,
    /// Currency of the price.
    pub currency: String,
    /// Day of the month a monthly cycle starts (`--cycle-day` overrides it).
    pub cycle_day: Option<u32>,
    /// Original or centralized user management, or detect.
    pub user_management: UserManagementSetting,
    /// Reads in flight while the report runs (the client's rate limiter still paces them).
    pub concurrency: usize,
}

impl Default for SeatsPolicy {
    fn default() -> Self {
        Self {
            inactive_days: 90,
            allowlist: Vec::new(),
            allowlist_groups: Vec::new(),
            suspend: true,
            billing: Billing::Monthly,
            price_per_seat: None,
            currency: "USD".into(),
            cycle_day: None,
            user_management: UserManagementSetting::Detect,
            concurrency: 16,
        }
    }
}

impl SeatsPolicy {
    /// What is wrong with the values, naming the key.
    pub fn problem(&self) -> Option<String> {
        if self.inactive_days == 0 {
            return Some("seats.inactive_days must be at least 1".into());
        }
        if let Some(day) = self.cycle_day
            && !(1..=31).contains(&day)
        {
            return Some(format!(
                "seats.cycle_day = {day}: give a day of the month, 1 to 31"
            ));
        }
        if let Some(p) = self.price_per_seat
            && (!p.is_finite() || p < 0.0)
        {
            return Some(format!(
                "seats.price_per_seat = {p}: give a price of 0 or more"
            ));
        }
        if self.concurrency == 0 {
            return Some("seats.concurrency must be at least 1".into());
        }
        None
    }

    /// Whether an account (by id or email) or one of its groups is on the allowlist.
    pub fn allowlisted(&self, account_id: &str, email: Option<&str>, groups: &[String]) -> bool {
        self.allowlist
            .iter()
            .any(|a| a == account_id || email.is_some_and(|e| a.eq_ignore_ascii_case(e)))
            || groups.iter().any(|g| {
                self.allowlist_groups
                    .iter()
                    .any(|k| k.eq_ignore_ascii_case(g))
            })
    }
}

#[cfg(test)]
mod tests {
    use crate::Policy;

    #[test]
    fn the_seats_and_credentials_sections_parse_and_bad_values_name_the_key() {
        let p = Policy::from_toml(
            "version = 1\n[seats]\ninactive_days = 60\nallowlist = [\"svc@x.example\"]\nbilling = \"annual\"\n\
             price_per_seat = 23.6\ncycle_day = 5\n[credentials]\nwarn_days = 14\n",
            "policy.toml",
        )
        .unwrap();
        assert_eq!(p.seats.inactive_days, 60);
        assert_eq!(p.seats.billing, super::Billing::Annual);
        assert!(p.seats.allowlisted("id", Some("SVC@x.example"), &[]));
        assert_eq!(p.credentials.warn_days, 14);
        let err = Policy::from_toml("version = 1\n[seats]\ncycle_day = 40\n", "policy.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("seats.cycle_day = 40"), "{err}");
        let err = Policy::from_toml("version = 1\n[seats]\nprice = 3\n", "policy.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("price"), "{err}");
    }
}
