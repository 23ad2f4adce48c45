use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::AccountKey;

/// Who may raise requests on a desk; only closed desks let customers be removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DeskAccess {
    Open,
    Closed,
    PublicSignup,
}

/// A service desk, its project and the customers and organizations that have access.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceDesk {
    pub id: u32,
    pub project_id: u32,
    pub project_key: String,
    pub project_name: String,
    pub access: DeskAccess,
    pub customers: BTreeSet<AccountKey>,
    pub organizations: BTreeSet<u32>,
}

/// A JSM organization of customers.
#[derive(Debug, Clone, PartialEq)]
pub struct Organization {
    pub id: u32,
    pub uuid: String,
    pub name: String,
    pub created: i64,
    pub members: BTreeSet<AccountKey>,
}
