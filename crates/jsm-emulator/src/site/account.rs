use jsm_proto::jira::AccountType;
use serde::{Deserialize, Serialize};

/// Index of an account in the site; accounts are never removed (Atlassian accounts outlive site access).
pub type AccountKey = u32;

/// Time zones handed out to generated accounts; an account stores an index into this table.
pub const TIME_ZONES: [&str; 7] = [
    "Australia/Sydney",
    "Europe/London",
    "America/New_York",
    "Europe/Berlin",
    "Asia/Tokyo",
    "America/Los_Angeles",
    "UTC",
];

/// An Atlassian account (agent, admin, app or JSM customer) as the site knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub account_id: String,
    pub account_type: AccountType,
    pub email: String,
    pub display_name: String,
    pub active: bool,
    /// Profile privacy: the email is left out of every response.
    #[serde(default)]
    pub email_hidden: bool,
    #[serde(default)]
    pub tz: u8,
    /// The account has a user on this Jira site (false after `DELETE /user`).
    #[serde(default = "yes")]
    pub site_access: bool,
    pub created: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_active: Option<i64>,
    /// Access to this site is suspended (v2 directory `suspend`): roles and groups are kept, no product seat
    /// is billed, Atlassian Guard still bills the account.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub suspended: bool,
    /// Product keys whose user role was granted to the account itself rather than through a group.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub direct_roles: Vec<String>,
    /// Holds the Trusted role (original user management only): access to every product without a group.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub trusted: bool,
}

fn yes() -> bool {
    true
}

impl Account {
    /// The account's time zone name.
    pub fn time_zone(&self) -> &'static str {
        TIME_ZONES[self.tz as usize % TIME_ZONES.len()]
    }

    /// The email as responses may show it: `None` when the profile hides it.
    pub fn visible_email(&self) -> Option<&str> {
        (!self.email_hidden).then_some(self.email.as_str())
    }

    /// Up to two initials for the avatar URL.
    pub fn initials(&self) -> String {
        self.display_name
            .split_whitespace()
            .filter_map(|w| w.chars().next())
            .take(2)
            .flat_map(char::to_uppercase)
            .collect()
    }
}

/// What it takes to create an account.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub account_type: AccountType,
    pub email: String,
    pub display_name: String,
    pub email_hidden: bool,
}

/// A loose check of an email address: one `@`, a non-empty local part and a dotted domain, no spaces.
pub fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert!(valid_email("fred@example.com"));
        for bad in [
            "fred",
            "fred@",
            "@example.com",
            "fred@example",
            "a b@example.com",
            "a@b@c.com",
            "a@.com",
        ] {
            assert!(!valid_email(bad), "{bad}");
        }
    }
}
