//! Handlers of the Atlassian surfaces, one folder per API family.

pub mod admin;
pub mod jira;
pub mod jsm;
pub mod scim;
pub mod user_manage;
pub(crate) mod views;
pub mod webhooks;
