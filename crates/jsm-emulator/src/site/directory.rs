//! The organization's identity directory: SCIM user records linked to Atlassian accounts, SCIM groups linked to
//! Jira groups, accounts removed from the directory by the admin API, and per-product last-active dates.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{AccountKey, GroupKey};

/// Atlassian's published limit of users in one directory.
pub const DIRECTORY_USER_LIMIT: usize = 150_000;
/// Atlassian's published limit of synced users in one group.
pub const GROUP_MEMBER_LIMIT: usize = 35_000;
/// How late the admin API reports activity: "data for the last activity may be delayed by up to 24 hours".
/// The emulator takes the whole 24 hours, so a use shows in last-active dates a day after it happened.
pub const ACTIVITY_LAG_MS: i64 = 24 * 3600 * 1000;

/// A SCIM user: the IdP's record of one managed account.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectoryUser {
    /// SCIM `id` (a UUID, not the Atlassian account id).
    pub id: String,
    /// The Atlassian account this record is linked to.
    pub account: AccountKey,
    pub user_name: String,
    pub external_id: Option<String>,
    /// Every other writable attribute as the IdP wrote it (`name`, `emails`, `title`, the enterprise extension…).
    pub attributes: Map<String, Value>,
    /// `active` as the IdP set it; unassigned counts as active.
    pub active: Option<bool>,
    /// Deactivated by `DELETE`: the record answers 404 until the account is restored or re-provisioned.
    pub deleted: bool,
    pub created: i64,
    pub last_modified: i64,
}

/// A SCIM group: a Jira group the IdP manages.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectoryGroup {
    /// SCIM `id` (a UUID, not the Jira group id).
    pub id: String,
    /// The Jira group it is synced to.
    pub group: GroupKey,
    pub external_id: Option<String>,
    /// `display` values the IdP sent for members, echoed back; others show the member's `userName`.
    pub displays: BTreeMap<AccountKey, String>,
    pub created: i64,
    pub last_modified: i64,
}

/// Size limits of the directory (Atlassian's by default; lowered in tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DirectoryLimits {
    #[serde(default = "user_limit")]
    pub users: usize,
    #[serde(default = "member_limit")]
    pub group_members: usize,
}

fn user_limit() -> usize {
    DIRECTORY_USER_LIMIT
}

fn member_limit() -> usize {
    GROUP_MEMBER_LIMIT
}

impl Default for DirectoryLimits {
    fn default() -> Self {
        Self {
            users: DIRECTORY_USER_LIMIT,
            group_members: GROUP_MEMBER_LIMIT,
        }
    }
}

/// Users, groups, removals and activity of the directory, with lookups by SCIM id and by account.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    pub users: Vec<DirectoryUser>,
    pub groups: Vec<Option<DirectoryGroup>>,
    /// Accounts removed from the organization directory (`DELETE /directory/users/{accountId}`).
    pub removed: BTreeSet<AccountKey>,
    /// Last-active time per account and product key (`jira-servicedesk`, `jira-software`): the latest use.
    pub activity: BTreeMap<AccountKey, BTreeMap<String, i64>>,
    /// The last use the admin API already reports while a newer one is inside [`ACTIVITY_LAG_MS`].
    pub activity_settled: BTreeMap<AccountKey, BTreeMap<String, i64>>,
    pub limits: DirectoryLimits,
    user_by_id: HashMap<String, usize>,
    user_by_account: HashMap<AccountKey, usize>,
    group_by_id: HashMap<String, usize>,
}

impl Directory {
    /// Adds a user record; the caller checked that the account has none.
    pub fn add_user(&mut self, user: DirectoryUser) -> usize {
        let idx = self.users.len();
        self.user_by_id.insert(user.id.clone(), idx);
        self.user_by_account.insert(user.account, idx);
        self.users.push(user);
        idx
    }

    /// The record with this SCIM id, deleted or not.
    pub fn user_index(&self, id: &str) -> Option<usize> {
        self.user_by_id.get(id).copied()
    }

    /// The record linked to an account, deleted or not.
    pub fn user_of_account(&self, account: AccountKey) -> Option<usize> {
        self.user_by_account.get(&account).copied()
    }

    /// Records that answer (not deleted), in creation order.
    pub fn live_users(&self) -> impl Iterator<Item = (usize, &DirectoryUser)> {
        self.users.iter().enumerate().filter(|(_, u)| !u.deleted)
    }

    /// Adds a group record; the caller checked that the Jira group has none.
    pub fn add_group(&mut self, group: DirectoryGroup) -> usize {
        let idx = self.groups.len();
        self.group_by_id.insert(group.id.clone(), idx);
        self.groups.push(Some(group));
        idx
    }

    /// The group record with this SCIM id.
    pub fn group_index(&self, id: &str) -> Option<usize> {
        self.group_by_id
            .get(id)
            .copied()
            .filter(|i| self.groups.get(*i).is_some_and(Option::is_some))
    }

    /// The group record, if it exists.
    pub fn group(&self, idx: usize) -> Option<&DirectoryGroup> {
        self.groups.get(idx).and_then(Option::as_ref)
    }

    /// The group record, for changes.
    pub fn group_mut(&mut self, idx: usize) -> Option<&mut DirectoryGroup> {
        self.groups.get_mut(idx).and_then(Option::as_mut)
    }

    /// The SCIM group synced to a Jira group.
    pub fn group_of(&self, group: GroupKey) -> Option<usize> {
        self.groups
            .iter()
            .position(|g| g.as_ref().is_some_and(|g| g.group == group))
    }

    /// Removes a group record (the Jira group is the caller's business).
    pub fn remove_group(&mut self, idx: usize) -> Option<DirectoryGroup> {
        let group = self.groups.get_mut(idx).and_then(Option::take)?;
        self.group_by_id.remove(&group.id);
        Some(group)
    }

    /// Existing group records in creation order.
    pub fn live_groups(&self) -> impl Iterator<Item = (usize, &DirectoryGroup)> {
        self.groups
            .iter()
            .enumerate()
            .filter_map(|(i, g)| g.as_ref().map(|g| (i, g)))
    }

    /// Records that the account used `product` at `at` (keeps the latest). The admin API shows the use only
    /// [`ACTIVITY_LAG_MS`] later; until then it keeps showing the previous one.
    pub fn touch(&mut self, account: AccountKey, product: &str, at: i64) {
        let latest = self
            .activity
            .get(&account)
            .and_then(|p| p.get(product))
            .copied();
        if let Some(previous) = latest {
            if at <= previous {
                return;
            }
            if previous <= at - ACTIVITY_LAG_MS {
                self.activity_settled
                    .entry(account)
                    .or_default()
                    .insert(product.to_string(), previous);
            }
        }
        self.activity
            .entry(account)
            .or_default()
            .insert(product.to_string(), at);
    }

    /// Sets the last use as already reported (seeds and the control plane: history the admin API has processed).
    pub fn record(&mut self, account: AccountKey, product: &str, at: i64) {
        self.activity
            .entry(account)
            .or_default()
            .insert(product.to_string(), at);
        self.activity_settled
            .entry(account)
            .or_default()
            .insert(product.to_string(), at);
    }

    /// The last use of `product` the admin API reports at `now`, lag included.
    pub fn reported(&self, account: AccountKey, product: &str, now: i64) -> Option<i64> {
        let latest = self.activity.get(&account)?.get(product).copied()?;
        if latest <= now - ACTIVITY_LAG_MS {
            return Some(latest);
        }
        self.activity_settled
            .get(&account)
            .and_then(|p| p.get(product))
            .copied()
            .filter(|at| *at <= latest)
    }

    /// The latest use of any product the admin API reports at `now`.
    pub fn reported_any(&self, account: AccountKey, now: i64) -> Option<i64> {
        let products = self.activity.get(&account)?;
        products
            .keys()
            .filter_map(|p| self.reported(account, p, now))
            .max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_use_shows_a_day_later_and_the_previous_one_until_then() {
        let day = ACTIVITY_LAG_MS;
        let mut dir = Directory::default();
        dir.record(1, "jira-servicedesk", 10 * day);
        dir.touch(1, "jira-servicedesk", 100 * day);
        assert_eq!(
            dir.reported(1, "jira-servicedesk", 100 * day),
            Some(10 * day)
        );
        assert_eq!(
            dir.reported(1, "jira-servicedesk", 101 * day),
            Some(100 * day)
        );
        dir.touch(2, "jira-servicedesk", 100 * day);
        assert_eq!(
            dir.reported(2, "jira-servicedesk", 100 * day + 5),
            None,
            "never used before"
        );
        dir.touch(2, "jira-servicedesk", 100 * day + 10);
        assert_eq!(
            dir.reported(2, "jira-servicedesk", 101 * day + 10),
            Some(100 * day + 10)
        );
    }
}
