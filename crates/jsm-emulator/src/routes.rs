//! Handlers of the Atlassian surfaces, one folder per API family.

pub mod jira;
pub mod jsm;
pub(crate) mod views;
pub mod webhooks;
