use serde::{Deserialize, Serialize};

use super::GroupName;

/// A product licence (`jira-servicedesk`, `jira-software`, ...) with the seat counts derived from its groups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationRole {
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub group_details: Vec<GroupName>,
    #[serde(default)]
    pub default_groups: Vec<String>,
    #[serde(default)]
    pub default_groups_details: Vec<GroupName>,
    #[serde(default)]
    pub selected_by_default: bool,
    #[serde(default)]
    pub defined: bool,
    #[serde(default)]
    pub number_of_seats: i64,
    #[serde(default)]
    pub remaining_seats: i64,
    #[serde(default)]
    pub user_count: i64,
    #[serde(default)]
    pub user_count_description: String,
    #[serde(default)]
    pub has_unlimited_seats: bool,
    #[serde(default)]
    pub platform: bool,
}

/// `GET /serverInfo`: clients read `deploymentType` and `versionNumbers` to pick Cloud behaviour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerInfo {
    pub base_url: String,
    pub version: String,
    pub version_numbers: Vec<u32>,
    pub deployment_type: String,
    pub build_number: u64,
    pub build_date: String,
    pub server_time: String,
    pub scm_info: String,
    pub server_title: String,
}
