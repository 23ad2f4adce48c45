//! The directory inside the state file: SCIM records refer to accounts by account id and to Jira groups by
//! group id, so the file stays readable and older files (without a directory) still load.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{AccountKey, Directory, DirectoryGroup, DirectoryLimits, DirectoryUser, Site};

/// The directory, serialisable.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DirectoryFile {
    #[serde(default)]
    pub users: Vec<DirectoryUserFile>,
    #[serde(default)]
    pub groups: Vec<DirectoryGroupFile>,
    /// Account ids removed from the organization directory.
    #[serde(default)]
    pub removed: Vec<String>,
    /// Last-active times (epoch ms) by account id, then product key.
    #[serde(default)]
    pub activity: BTreeMap<String, BTreeMap<String, i64>>,
    /// Uses already reported while a newer one is inside the 24-hour lag; absent in older files, where every
    /// date counts as reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_settled: Option<BTreeMap<String, BTreeMap<String, i64>>>,
    #[serde(default)]
    pub limits: DirectoryLimits,
}

/// A SCIM user record with its account's id.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DirectoryUserFile {
    pub id: String,
    pub account_id: String,
    pub user_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(default)]
    pub attributes: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    #[serde(default)]
    pub deleted: bool,
    pub created: i64,
    pub last_modified: i64,
}

/// A SCIM group with the id of its Jira group and members' `display` values by account id.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DirectoryGroupFile {
    pub id: String,
    pub group_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(default)]
    pub displays: BTreeMap<String, String>,
    pub created: i64,
    pub last_modified: i64,
}

impl Site {
    /// The directory as a document.
    pub fn directory_to_file(&self) -> DirectoryFile {
        let id = |k: AccountKey| self.account(k).account_id.clone();
        let dir = &self.directory;
        DirectoryFile {
            users: dir
                .users
                .iter()
                .map(|u| DirectoryUserFile {
                    id: u.id.clone(),
                    account_id: id(u.account),
                    user_name: u.user_name.clone(),
                    external_id: u.external_id.clone(),
                    attributes: u.attributes.clone(),
                    active: u.active,
                    deleted: u.deleted,
                    created: u.created,
                    last_modified: u.last_modified,
                })
                .collect(),
            groups: dir
                .live_groups()
                .filter_map(|(_, g)| {
                    let group = self.group(g.group)?;
                    Some(DirectoryGroupFile {
                        id: g.id.clone(),
                        group_id: group.group_id.clone(),
                        external_id: g.external_id.clone(),
                        displays: g
                            .displays
                            .iter()
                            .map(|(k, d)| (id(*k), d.clone()))
                            .collect(),
                        created: g.created,
                        last_modified: g.last_modified,
                    })
                })
                .collect(),
            removed: dir.removed.iter().map(|k| id(*k)).collect(),
            activity: dir
                .activity
                .iter()
                .map(|(k, products)| (id(*k), products.clone()))
                .collect(),
            activity_settled: Some(
                dir.activity_settled
                    .iter()
                    .map(|(k, products)| (id(*k), products.clone()))
                    .collect(),
            ),
            limits: dir.limits,
        }
    }

    /// Rebuilds the directory from a document, naming the entry at fault on a dangling reference.
    pub fn directory_from_file(&self, file: DirectoryFile) -> Result<Directory, String> {
        let index: HashMap<&str, AccountKey> = self
            .accounts
            .iter()
            .enumerate()
            .map(|(i, a)| (a.account_id.as_str(), i as AccountKey))
            .collect();
        let account = |what: &str, id: &str| {
            index
                .get(id)
                .copied()
                .ok_or_else(|| format!("directory {what}: unknown accountId {id}"))
        };
        let mut dir = Directory::default();
        dir.limits = file.limits;
        for u in file.users {
            let key = account(&format!("user {}", u.id), &u.account_id)?;
            if dir.user_index(&u.id).is_some() || dir.user_of_account(key).is_some() {
                return Err(format!(
                    "directory user {}: duplicate id or account {}",
                    u.id, u.account_id
                ));
            }
            dir.add_user(DirectoryUser {
                id: u.id,
                account: key,
                user_name: u.user_name,
                external_id: u.external_id,
                attributes: u.attributes,
                active: u.active,
                deleted: u.deleted,
                created: u.created,
                last_modified: u.last_modified,
            });
        }
        for g in file.groups {
            let group = self.find_group_by_id(&g.group_id).ok_or_else(|| {
                format!("directory group {}: unknown groupId {}", g.id, g.group_id)
            })?;
            if dir.group_index(&g.id).is_some() || dir.group_of(group).is_some() {
                return Err(format!("directory group {}: duplicate id or group", g.id));
            }
            let mut displays = BTreeMap::new();
            for (id, display) in g.displays {
                displays.insert(account(&format!("group {}", g.id), &id)?, display);
            }
            dir.add_group(DirectoryGroup {
                id: g.id,
                group,
                external_id: g.external_id,
                displays,
                created: g.created,
                last_modified: g.last_modified,
            });
        }
        for id in file.removed {
            dir.removed.insert(account("removed", &id)?);
        }
        let settled_given = file.activity_settled.is_some();
        for (id, products) in file.activity {
            let key = account("activity", &id)?;
            if !settled_given {
                dir.activity_settled.insert(key, products.clone());
            }
            dir.activity.insert(key, products);
        }
        for (id, products) in file.activity_settled.unwrap_or_default() {
            dir.activity_settled
                .insert(account("activitySettled", &id)?, products);
        }
        Ok(dir)
    }
}
