//! JSM service desks, their customers and their organizations.

use jsm_proto::jsm::{Organization, OrganizationRef, ServiceDesk};
use reqwest::Method;

use super::Change;
use super::customers::DeskCustomersBuilder;
use crate::error::{Error, Result};
use crate::pager::{Pager, Shape};
use crate::{Client, Request, Surface};

/// Service desks handler; see [`Client::service_desks`].
#[derive(Debug)]
pub struct ServiceDesksHandler<'c> {
    client: &'c Client,
}

fn org_ref(organization_id: &str) -> Result<OrganizationRef> {
    let organization_id = organization_id.parse::<i64>().map_err(|_| {
        Error::config(format!(
            "organization id `{organization_id}` is not a number"
        ))
    })?;
    Ok(OrganizationRef { organization_id })
}

impl<'c> ServiceDesksHandler<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Self { client }
    }

    /// Every service desk (`GET /servicedesk`).
    pub fn list(&self) -> Pager<ServiceDesk> {
        let req = Request::new(
            Method::GET,
            Surface::Product,
            "/rest/servicedeskapi/servicedesk",
            &[],
        );
        Pager::new(
            self.client.clone(),
            req,
            Shape::Jsm,
            50,
            |d: &ServiceDesk| d.id.clone(),
        )
    }

    /// `GET /servicedesk/{id}` (the id may also be a project key).
    pub async fn get(&self, desk_id: &str) -> Result<ServiceDesk> {
        let req = Request::new(
            Method::GET,
            Surface::Product,
            "/rest/servicedeskapi/servicedesk/{}",
            &[desk_id],
        );
        self.client.execute_json(&req).await
    }

    /// Customers of the desk: the same builder as [`CustomersHandler::list`](super::customers::CustomersHandler::list).
    pub fn customers(&self, desk_id: &str) -> DeskCustomersBuilder<'c> {
        DeskCustomersBuilder::new(self.client, desk_id)
    }

    /// Organizations linked to the desk.
    pub fn organizations(&self, desk_id: &str) -> Pager<Organization> {
        let req = Request::new(
            Method::GET,
            Surface::Product,
            "/rest/servicedeskapi/servicedesk/{}/organization",
            &[desk_id],
        );
        Pager::new(
            self.client.clone(),
            req,
            Shape::Jsm,
            50,
            |o: &Organization| o.id.clone(),
        )
    }

    /// Links an organization to the desk. Always [`Change::Applied`]: JSM answers 204 whether or not it was
    /// already linked, so the server does not say whether it already held.
    pub async fn add_organization(&self, desk_id: &str, organization_id: &str) -> Result<Change> {
        let req = Request::new(
            Method::POST,
            Surface::Product,
            "/rest/servicedeskapi/servicedesk/{}/organization",
            &[desk_id],
        )
        .json(&org_ref(organization_id)?)?
        .idempotent(true);
        self.client.execute(&req).await.map(|_| Change::Applied)
    }

    /// Unlinks an organization from the desk. Always [`Change::Applied`]: JSM answers 204 whether or not it was
    /// linked, so the server does not say whether it already held.
    pub async fn remove_organization(
        &self,
        desk_id: &str,
        organization_id: &str,
    ) -> Result<Change> {
        let req = Request::new(
            Method::DELETE,
            Surface::Product,
            "/rest/servicedeskapi/servicedesk/{}/organization",
            &[desk_id],
        )
        .json(&org_ref(organization_id)?)?;
        self.client.execute(&req).await.map(|_| Change::Applied)
    }
}
