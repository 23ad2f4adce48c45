//! JSM organizations and their users.

use jsm_proto::jsm::{AccountIds, Customer, NewOrganization, Organization};
use reqwest::Method;

use super::Change;
use crate::error::Result;
use crate::pager::{Pager, Shape};
use crate::{Client, Request, Surface};

/// Organizations handler; see [`Client::organizations`].
#[derive(Debug)]
pub struct OrganizationsHandler<'c> {
    client: &'c Client,
}

impl<'c> OrganizationsHandler<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Self { client }
    }

    /// Every organization (`GET /organization`).
    pub fn list(&self) -> Pager<Organization> {
        let req = Request::new(
            Method::GET,
            Surface::Product,
            "/rest/servicedeskapi/organization",
            &[],
        );
        Pager::new(
            self.client.clone(),
            req,
            Shape::Jsm,
            50,
            |o: &Organization| o.id.clone(),
        )
    }

    /// `GET /organization/{id}`.
    pub async fn get(&self, id: &str) -> Result<Organization> {
        let req = Request::new(
            Method::GET,
            Surface::Product,
            "/rest/servicedeskapi/organization/{}",
            &[id],
        );
        self.client.execute_json(&req).await
    }

    /// `POST /organization`: answers with the existing organization when the name is taken, so it is safe to
    /// retry.
    pub async fn create(&self, name: &str) -> Result<Organization> {
        let req = Request::new(
            Method::POST,
            Surface::Product,
            "/rest/servicedeskapi/organization",
            &[],
        )
        .json(&NewOrganization {
            name: name.to_string(),
        })?
        .idempotent(true);
        self.client.execute_json(&req).await
    }

    /// `DELETE /organization/{id}`; 404 counts as done.
    pub async fn delete(&self, id: &str) -> Result<Change> {
        let req = Request::new(
            Method::DELETE,
            Surface::Product,
            "/rest/servicedeskapi/organization/{}",
            &[id],
        );
        match self.client.execute(&req).await {
            Ok(_) => Ok(Change::Applied),
            Err(e) if e.is_not_found() => Ok(Change::AlreadyApplied),
            Err(e) => Err(e),
        }
    }

    /// Users of the organization (ordered by accountId).
    pub fn users(&self, id: &str) -> Pager<Customer> {
        let req = Request::new(
            Method::GET,
            Surface::Product,
            "/rest/servicedeskapi/organization/{}/user",
            &[id],
        );
        Pager::new(self.client.clone(), req, Shape::Jsm, 50, |c: &Customer| {
            c.account_id.clone()
        })
    }

    /// `POST /organization/{id}/user` (idempotent).
    pub async fn add_users(&self, id: &str, account_ids: &[String]) -> Result<()> {
        let body = AccountIds {
            account_ids: account_ids.to_vec(),
            usernames: Vec::new(),
        };
        let req = Request::new(
            Method::POST,
            Surface::Product,
            "/rest/servicedeskapi/organization/{}/user",
            &[id],
        )
        .json(&body)?
        .idempotent(true);
        self.client.execute(&req).await.map(|_| ())
    }

    /// `DELETE /organization/{id}/user` with a JSON body (idempotent).
    pub async fn remove_users(&self, id: &str, account_ids: &[String]) -> Result<()> {
        let body = AccountIds {
            account_ids: account_ids.to_vec(),
            usernames: Vec::new(),
        };
        let req = Request::new(
            Method::DELETE,
            Surface::Product,
            "/rest/servicedeskapi/organization/{}/user",
            &[id],
        )
        .json(&body)?;
        self.client.execute(&req).await.map(|_| ())
    }
}
