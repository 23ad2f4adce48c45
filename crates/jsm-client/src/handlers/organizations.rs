//! JSM organizations and their users.

use futures::TryStreamExt;
use jsm_proto::jsm::{Customer, NewOrganization, Organization};
use reqwest::Method;

use super::{Change, Created, account_ids as account_id_body};
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
        self.listing(None)
    }

    /// The organizations this account belongs to (`GET /organization?accountId=…`): one person's memberships
    /// without listing any organization's users.
    pub fn of_account(&self, account_id: &str) -> Pager<Organization> {
        self.listing(Some(account_id))
    }

    fn listing(&self, account_id: Option<&str>) -> Pager<Organization> {
        let req = Request::new(
            Method::GET,
            Surface::Product,
            "/rest/servicedeskapi/organization",
            &[],
        )
        .query_opt("accountId", account_id);
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

    /// Creates an organization, or finds the one with this name, so it is safe to retry. JSM answers
    /// `POST /organization` with 201 and the existing organization when the name is taken, exactly as for a new
    /// one, so the server does not say which happened: this looks the name up first ([`Self::find_by_name`]) and
    /// answers [`Created::Existing`] when found, else POSTs and answers [`Created::New`]. An organization of that
    /// name created by someone else between the lookup and the POST is reported as `New`, never duplicated.
    pub async fn create(&self, name: &str) -> Result<Created<Organization>> {
        if let Some(existing) = self.find_by_name(name).await? {
            return Ok(Created::Existing(existing));
        }
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
        self.client.execute_json(&req).await.map(Created::New)
    }

    /// The organization with this name, scanning [`Self::list`] (JSM has no name filter). An exact match wins;
    /// otherwise a match ignoring surrounding space and ASCII case, the rule the emulator applies to a duplicate
    /// name (real JSM does not document its rule).
    pub async fn find_by_name(&self, name: &str) -> Result<Option<Organization>> {
        let wanted = name.trim();
        let mut loose = None;
        let mut stream = self.list().into_stream();
        while let Some(org) = stream.try_next().await? {
            if org.name == name {
                return Ok(Some(org));
            }
            if loose.is_none() && org.name.trim().eq_ignore_ascii_case(wanted) {
                loose = Some(org);
            }
        }
        Ok(loose)
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

    /// `POST /organization/{id}/user`. Always [`Change::Applied`]: JSM answers 204 whether or not the accounts
    /// were already members, so the server does not say whether it already held. An empty list sends nothing and
    /// is [`Change::AlreadyApplied`].
    pub async fn add_users(&self, id: &str, account_ids: &[impl AsRef<str>]) -> Result<Change> {
        if account_ids.is_empty() {
            return Ok(Change::AlreadyApplied);
        }
        let req = Request::new(
            Method::POST,
            Surface::Product,
            "/rest/servicedeskapi/organization/{}/user",
            &[id],
        )
        .json(&account_id_body(account_ids))?
        .idempotent(true);
        self.client.execute(&req).await.map(|_| Change::Applied)
    }

    /// `DELETE /organization/{id}/user` with a JSON body. Always [`Change::Applied`]: JSM answers 204 also for
    /// accounts that were not members, so the server does not say whether it already held. An empty list sends
    /// nothing and is [`Change::AlreadyApplied`].
    pub async fn remove_users(&self, id: &str, account_ids: &[impl AsRef<str>]) -> Result<Change> {
        if account_ids.is_empty() {
            return Ok(Change::AlreadyApplied);
        }
        let req = Request::new(
            Method::DELETE,
            Surface::Product,
            "/rest/servicedeskapi/organization/{}/user",
            &[id],
        )
        .json(&account_id_body(account_ids))?;
        self.client.execute(&req).await.map(|_| Change::Applied)
    }
}
