use serde::{Deserialize, Serialize};

/// A product licence and the group whose members hold its seats.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    /// The key clients send in `products` and read in `applicationRoles` (`jira-servicedesk`).
    pub key: String,
    pub name: String,
    /// The default product-access group (`jira-servicemanagement-users`): where new users are added.
    pub group: String,
    /// Other groups that grant the product's user role; the admin groups grant JSM by default. Absent in older
    /// state files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Groups granted only the product's customer role (JSM): portal access, never billed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub customer_groups: Vec<String>,
    /// Licensed seats; `None` is unlimited.
    pub seats: Option<u32>,
}

impl Product {
    /// The products of a fresh site.
    pub fn defaults() -> Vec<Self> {
        vec![
            Product {
                key: "jira-servicedesk".into(),
                name: "Jira Service Management".into(),
                group: super::groups::JSM_USERS.into(),
                groups: vec![
                    super::groups::SITE_ADMINS.into(),
                    super::groups::ADMINISTRATORS.into(),
                    super::groups::ORG_ADMINS.into(),
                ],
                customer_groups: Vec::new(),
                seats: Some(25),
            },
            Product {
                key: "jira-software".into(),
                name: "Jira Software".into(),
                group: super::groups::SOFTWARE_USERS.into(),
                groups: Vec::new(),
                customer_groups: Vec::new(),
                seats: Some(50),
            },
        ]
    }
}

/// What an account may do, derived from its groups.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Perms {
    pub site_admin: bool,
    pub jira_admin: bool,
    /// *Browse users and groups*: held by every licensed user.
    pub browse_users: bool,
    /// Holds a JSM agent seat.
    pub agent: bool,
}
