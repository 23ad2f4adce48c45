use serde::{Deserialize, Serialize};

use super::UserDetails;

/// A group reference as it appears inside a user or application role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupName {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    #[serde(rename = "self", default, skip_serializing_if = "Option::is_none")]
    pub self_url: Option<String>,
}

/// A group with (optionally expanded) members, as `POST /group` and the deprecated `GET /group` return it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    #[serde(rename = "self", default, skip_serializing_if = "Option::is_none")]
    pub self_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<PagedUsers>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expand: Option<String>,
}

/// Legacy member list with hyphenated keys (`start-index`, `end-index`, `max-results`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PagedUsers {
    pub size: u64,
    #[serde(default = "Vec::new")]
    pub items: Vec<UserDetails>,
    #[serde(rename = "max-results")]
    pub max_results: u32,
    #[serde(rename = "start-index")]
    pub start_index: u64,
    #[serde(rename = "end-index")]
    pub end_index: u64,
}

/// A group in `GET /group/bulk`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupDetails {
    pub name: String,
    pub group_id: String,
}

/// Result of `GET /groups/picker`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoundGroups {
    pub header: String,
    pub total: u64,
    pub groups: Vec<FoundGroup>,
}

/// One match of the group picker, with the matched prefix in bold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FoundGroup {
    pub name: String,
    pub html: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    #[serde(default)]
    pub labels: Vec<serde_json::Value>,
}

/// Body of `POST /group`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewGroup {
    pub name: String,
}
