use serde::{Deserialize, Serialize};

use super::{ApplicationRole, GroupName};

/// Kind of Atlassian account; `customer` is a JSM portal-only account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountType {
    Atlassian,
    App,
    Customer,
    #[serde(other)]
    Unknown,
}

/// The four avatar sizes every user object carries.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AvatarUrls {
    #[serde(rename = "16x16", default)]
    pub x16: String,
    #[serde(rename = "24x24", default)]
    pub x24: String,
    #[serde(rename = "32x32", default)]
    pub x32: String,
    #[serde(rename = "48x48", default)]
    pub x48: String,
}

/// `SimpleListWrapper`: the `{size, items, max-results}` list used by a user's `groups` and `applicationRoles`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimpleList<T> {
    pub size: u32,
    #[serde(default = "Vec::new")]
    pub items: Vec<T>,
    #[serde(
        rename = "max-results",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub max_results: Option<u32>,
}

/// A Jira user. `emailAddress` is absent when the profile hides it, so it is optional everywhere.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    #[serde(rename = "self")]
    pub self_url: String,
    pub account_id: String,
    pub account_type: AccountType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_address: Option<String>,
    #[serde(default)]
    pub avatar_urls: AvatarUrls,
    #[serde(default)]
    pub display_name: String,
    pub active: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<SimpleList<GroupName>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_roles: Option<SimpleList<ApplicationRole>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expand: Option<String>,
}

/// The trimmed user that group member lists carry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserDetails {
    #[serde(rename = "self")]
    pub self_url: String,
    pub account_id: String,
    pub account_type: AccountType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_address: Option<String>,
    #[serde(default)]
    pub avatar_urls: AvatarUrls,
    #[serde(default)]
    pub display_name: String,
    pub active: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

/// Body of `POST /user`: `products` is required by Atlassian (an empty list means no product access).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewUser {
    pub email_address: String,
    pub products: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

/// Body of `POST /group/user`: Cloud identifies the user by `accountId`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddToGroup {
    pub account_id: String,
}
