//! Who holds a product seat, and every path that grants it, by Atlassian's licensing rules:
//!
//! - a seat comes from the product's user role, granted by any group with product access (the default group,
//!   other groups, and the admin groups `site-admins`, `administrators` and `org-admins`, which grant JSM by
//!   default), by a direct role grant, or (original user management only) by the Trusted role;
//! - app accounts and portal-only customers never hold one, nor do deactivated accounts, accounts removed from
//!   the site, or accounts whose access to the site is suspended (their roles and groups are kept);
//! - groups granted only the JSM customer role are not billable;
//! - an invite never accepted is billed all the same (it is an active account with a grant and no activity).
//!
//! Atlassian Guard bills apart: a managed account with any product role is Guard-billable, suspended or not.

use serde::{Deserialize, Serialize};

use super::{AccountKey, GroupKey, Product, Site};
use jsm_proto::jira::AccountType;

/// How the organization manages the site's users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserManagement {
    /// One directory per organization; app roles are granted through groups or directly; no Trusted role.
    #[default]
    Centralized,
    /// Per-site user lists, a Product access page and the Trusted role; no `added_to_org` in last-active dates
    /// and no v1 directory operations.
    Original,
}

/// One path that grants a product's user role to an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeatPath {
    /// Membership of a group with product access.
    Group(GroupKey),
    /// A role granted to the account itself.
    Direct,
    /// The Trusted role of original user management.
    Trusted,
}

impl Site {
    /// Groups that grant the product's user role and exist: the default group first, then the others in the
    /// product's order.
    pub fn granting_groups(&self, product: &Product) -> Vec<GroupKey> {
        let mut keys = Vec::new();
        for name in std::iter::once(&product.group).chain(product.groups.iter()) {
            if let Some(k) = self.find_group_by_name(name)
                && !keys.contains(&k)
            {
                keys.push(k);
            }
        }
        keys
    }

    /// Every path that grants `product` to the account, whether or not a seat is billed for it (a suspended or
    /// deactivated account keeps its paths).
    pub fn grants(&self, account: AccountKey, product: &Product) -> Vec<SeatPath> {
        let mut out: Vec<SeatPath> = self
            .granting_groups(product)
            .into_iter()
            .filter(|k| self.group(*k).is_some_and(|g| g.members.contains(&account)))
            .map(SeatPath::Group)
            .collect();
        let a = self.account(account);
        if a.direct_roles.iter().any(|k| k == &product.key) {
            out.push(SeatPath::Direct);
        }
        if a.trusted && self.user_management == UserManagement::Original {
            out.push(SeatPath::Trusted);
        }
        out
    }

    /// Whether the account may hold seats at all: an Atlassian account (not an app or a customer), active, on
    /// the site and not suspended there.
    pub fn can_hold_seat(&self, account: AccountKey) -> bool {
        let a = self.account(account);
        a.account_type == AccountType::Atlassian && a.active && a.site_access && !a.suspended
    }

    /// Whether a seat of the product is billed for the account.
    pub fn holds_seat(&self, account: AccountKey, product: &Product) -> bool {
        self.can_hold_seat(account) && !self.grants(account, product).is_empty()
    }

    /// Accounts billed for a seat of the product, by key.
    pub fn seat_holders(&self, product: &Product) -> Vec<AccountKey> {
        let groups: Vec<&super::Group> = self
            .granting_groups(product)
            .into_iter()
            .filter_map(|k| self.group(k))
            .collect();
        let trusted = self.user_management == UserManagement::Original;
        (0..self.accounts.len() as AccountKey)
            .filter(|k| self.can_hold_seat(*k))
            .filter(|k| {
                let a = self.account(*k);
                groups.iter().any(|g| g.members.contains(k))
                    || a.direct_roles.iter().any(|r| r == &product.key)
                    || (trusted && a.trusted)
            })
            .collect()
    }

    /// Whether Atlassian Guard bills the account: a managed account (Atlassian type, in the directory), not
    /// deactivated, with a role on some product. Suspension on the site does not stop Guard billing.
    pub fn guard_billable(&self, account: AccountKey) -> bool {
        let a = self.account(account);
        a.account_type == AccountType::Atlassian
            && a.active
            && a.site_access
            && !self.directory.removed.contains(&account)
            && self
                .products
                .iter()
                .any(|p| !self.grants(account, p).is_empty())
    }

    /// Whether the account is in a group granted the product's customer role (JSM: free portal access).
    pub fn has_customer_role(&self, account: AccountKey, product: &Product) -> bool {
        product
            .customer_groups
            .iter()
            .any(|g| self.is_member_of(account, g))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::{NewAccount, groups};

    fn person(site: &mut Site, email: &str, kind: AccountType) -> AccountKey {
        site.add_account(
            NewAccount {
                account_type: kind,
                email: email.into(),
                display_name: email.into(),
                email_hidden: false,
            },
            0,
        )
    }

    fn join(site: &mut Site, group: &str, key: AccountKey) {
        let g = site
            .find_group_by_name(group)
            .or_else(|| site.create_group(group));
        if let Some(g) = g.and_then(|g| site.group_mut(g)) {
            g.members.insert(key);
        }
    }

    #[test]
    fn every_path_counts_once_and_only_billable_accounts_hold_seats() {
        let mut site = Site::new(1);
        let jsm = site.products[0].clone();
        let agent = person(&mut site, "a@x.example", AccountType::Atlassian);
        join(&mut site, groups::JSM_USERS, agent);
        join(&mut site, groups::SITE_ADMINS, agent);
        let admin = person(&mut site, "b@x.example", AccountType::Atlassian);
        join(&mut site, groups::SITE_ADMINS, admin);
        let direct = person(&mut site, "c@x.example", AccountType::Atlassian);
        site.account_mut(direct).direct_roles.push(jsm.key.clone());
        let trusted = person(&mut site, "d@x.example", AccountType::Atlassian);
        site.account_mut(trusted).trusted = true;
        let app = person(&mut site, "e@x.example", AccountType::App);
        join(&mut site, groups::JSM_USERS, app);
        let suspended = person(&mut site, "f@x.example", AccountType::Atlassian);
        join(&mut site, groups::JSM_USERS, suspended);
        site.account_mut(suspended).suspended = true;

        assert_eq!(site.grants(agent, &jsm).len(), 2);
        assert_eq!(site.seat_holders(&jsm), vec![agent, admin, direct]);
        assert_eq!(site.seats_used(&jsm), 3);
        assert!(
            !site.holds_seat(trusted, &jsm),
            "Trusted exists on original UM only"
        );
        site.user_management = UserManagement::Original;
        assert!(site.holds_seat(trusted, &jsm));
        assert!(!site.holds_seat(app, &jsm) && !site.holds_seat(suspended, &jsm));
        assert!(
            site.guard_billable(suspended),
            "suspension does not stop Guard billing"
        );
        assert!(!site.guard_billable(app));
    }
}
