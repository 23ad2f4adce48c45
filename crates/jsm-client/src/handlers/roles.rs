//! Jira application roles: products, their groups and seat counts.

use jsm_proto::jira::ApplicationRole;
use reqwest::Method;

use crate::error::Result;
use crate::{Client, Request, Surface};

/// Application roles handler; see [`Client::application_roles`].
#[derive(Debug)]
pub struct RolesHandler<'c> {
    client: &'c Client,
}

impl<'c> RolesHandler<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Self { client }
    }

    /// `GET /applicationrole`.
    pub async fn list(&self) -> Result<Vec<ApplicationRole>> {
        let req = Request::new(
            Method::GET,
            Surface::Product,
            "/rest/api/3/applicationrole",
            &[],
        );
        self.client.execute_json(&req).await
    }

    /// `GET /applicationrole/{key}`.
    pub async fn get(&self, key: &str) -> Result<ApplicationRole> {
        let req = Request::new(
            Method::GET,
            Surface::Product,
            "/rest/api/3/applicationrole/{}",
            &[key],
        );
        self.client.execute_json(&req).await
    }
}
