//! JSM `servicedeskapi` types: customers, service desks, organizations.

use serde::{Deserialize, Serialize};

use crate::jira::AvatarUrls;

/// A user as the JSM API shows it (no `accountType`; links instead).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    pub account_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_address: Option<String>,
    #[serde(default)]
    pub display_name: String,
    pub active: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    #[serde(rename = "_links", default)]
    pub links: CustomerLinks,
}

/// Links of a JSM user: the Jira REST URL, avatars and self.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerLinks {
    #[serde(default)]
    pub jira_rest: String,
    #[serde(default)]
    pub avatar_urls: AvatarUrls,
    #[serde(rename = "self", default)]
    pub self_url: String,
}

/// `{"self": url}`, the only link most JSM objects carry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SelfLink {
    #[serde(rename = "self")]
    pub self_url: String,
}

/// A service desk and the project behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceDesk {
    pub id: String,
    pub project_id: String,
    pub project_name: String,
    pub project_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_type_key: Option<String>,
    #[serde(rename = "_links", default)]
    pub links: SelfLink,
}

/// A JSM organization; its `id` is a string here but an integer in paths.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Organization {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    #[serde(default)]
    pub scim_managed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<DateDto>,
    #[serde(rename = "_links", default)]
    pub links: SelfLink,
}

/// JSM's four-way date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DateDto {
    pub iso8601: String,
    pub jira: String,
    pub friendly: String,
    pub epoch_millis: i64,
}

/// Body of `POST /customer`; `fullName` is the deprecated spelling of `displayName`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewCustomer {
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
}

/// Body naming accounts to add to or remove from a desk or organization.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountIds {
    #[serde(default)]
    pub account_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub usernames: Vec<String>,
}

/// Body of `POST /organization`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewOrganization {
    pub name: String,
}

/// Body linking an organization to a service desk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationRef {
    pub organization_id: i64,
}

/// `GET /info`: the JSM version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SoftwareInfo {
    pub version: String,
    pub platform_version: String,
    pub build_date: DateDto,
    pub build_change_set: String,
    pub is_licensed_for_use: bool,
    #[serde(rename = "_links", default)]
    pub links: SelfLink,
}
