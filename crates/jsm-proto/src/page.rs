//! Page envelopes: Jira's `PageBean` (offset with total) and JSM's paged DTO (offset, no total).

use serde::{Deserialize, Serialize};

/// Jira platform page: `startAt`/`maxResults`/`total`/`isLast`, and `nextPage` only when one exists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageBean<T> {
    #[serde(default, rename = "self", skip_serializing_if = "Option::is_none")]
    pub self_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page: Option<String>,
    #[serde(default)]
    pub max_results: u32,
    #[serde(default)]
    pub start_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_last: Option<bool>,
    #[serde(default = "Vec::new")]
    pub values: Vec<T>,
}

/// JSM page: `start`/`limit`/`size`/`isLastPage`; there is never a total.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsmPage<T> {
    #[serde(default, rename = "_expands")]
    pub expands: Vec<String>,
    pub size: u32,
    pub start: u64,
    pub limit: u32,
    pub is_last_page: bool,
    #[serde(default, rename = "_links")]
    pub links: JsmPageLinks,
    #[serde(default = "Vec::new")]
    pub values: Vec<T>,
}

/// Navigation links of a JSM page; `next`/`prev` only where such a page exists.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JsmPageLinks {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev: Option<String>,
}
