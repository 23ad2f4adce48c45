//! JSM customers: create (a duplicate email resolves to the existing account), list per desk, and add/remove
//! desk membership (both idempotent on the server).

use jsm_proto::jira::User;
use jsm_proto::jsm::{Customer, CustomerLinks, NewCustomer};
use reqwest::Method;

use super::{Change, Created, account_ids as account_id_body};
use crate::error::{Error, Result};
use crate::pager::{Pager, Shape};
use crate::{Client, Request, Surface};

/// Customers handler; see [`Client::customers`].
#[derive(Debug)]
pub struct CustomersHandler<'c> {
    client: &'c Client,
}

/// The customers of a desk (`GET /servicedesk/{id}/customer`, experimental); see [`CustomersHandler::list`].
#[derive(Debug, Clone)]
#[must_use = "a builder sends nothing until `.pager()` or `.all()`"]
pub struct DeskCustomersBuilder<'c> {
    client: &'c Client,
    desk_id: String,
    query: Option<String>,
}

impl<'c> DeskCustomersBuilder<'c> {
    pub(crate) fn new(client: &'c Client, desk_id: &str) -> Self {
        Self {
            client,
            desk_id: desk_id.to_string(),
            query: None,
        }
    }

    /// Only customers whose display name, name or email matches `query` (JSM's own matching).
    pub fn query(mut self, query: impl Into<String>) -> Self {
        self.query = Some(query.into());
        self
    }

    /// The customers as a [`Pager`].
    pub fn pager(self) -> Pager<Customer> {
        let req = Request::new(
            Method::GET,
            Surface::Product,
            "/rest/servicedeskapi/servicedesk/{}/customer",
            &[&self.desk_id],
        )
        .query_opt("query", self.query.as_deref())
        .experimental();
        Pager::new(self.client.clone(), req, Shape::Jsm, 50, |c: &Customer| {
            c.account_id.clone()
        })
    }

    /// Every customer, or an error.
    pub async fn all(self) -> Result<Vec<Customer>> {
        self.pager().all().await
    }
}

fn customer_from_user(u: User) -> Customer {
    Customer {
        account_id: u.account_id,
        email_address: u.email_address,
        display_name: u.display_name,
        active: u.active,
        time_zone: u.time_zone,
        links: CustomerLinks {
            jira_rest: u.self_url,
            ..CustomerLinks::default()
        },
    }
}

impl<'c> CustomersHandler<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Self { client }
    }

    /// `POST /customer?strictConflictStatusCode=true`. A 409 (or a 400 saying the email exists, which is also
    /// what a retry after a lost answer sees) resolves to the existing account through user search, so the call
    /// is safe to retry.
    pub async fn create(&self, email: &str, display_name: &str) -> Result<Created<Customer>> {
        let body = NewCustomer {
            email: email.to_string(),
            display_name: Some(display_name.to_string()),
            full_name: None,
        };
        let req = Request::new(
            Method::POST,
            Surface::Product,
            "/rest/servicedeskapi/customer",
            &[],
        )
        .query("strictConflictStatusCode", true)
        .json(&body)?
        .idempotent(true);
        match self.client.execute_json::<Customer>(&req).await {
            Ok(c) => Ok(Created::New(c)),
            Err(Error::Api {
                status,
                body,
                request_id,
                endpoint,
            }) if status == 409
                || (status == 400 && (body.mentions("exist") || body.mentions("already"))) =>
            {
                match self.find_existing(email).await? {
                    Some(c) => Ok(Created::Existing(c)),
                    None => Err(Error::Api {
                        status,
                        body,
                        request_id,
                        endpoint,
                    }),
                }
            }
            Err(e) => Err(e),
        }
    }

    async fn find_existing(&self, email: &str) -> Result<Option<Customer>> {
        let req = Request::new(
            Method::GET,
            Surface::Product,
            "/rest/api/3/user/search",
            &[],
        )
        .query("query", email)
        .query("maxResults", 50);
        let users: Vec<User> = self.client.execute_json(&req).await?;
        Ok(users
            .into_iter()
            .find(|u| {
                u.email_address
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(email))
            })
            .map(customer_from_user))
    }

    /// Customers of a desk (`GET /servicedesk/{id}/customer`, experimental): a builder, optionally filtered with
    /// [`DeskCustomersBuilder::query`].
    pub fn list(&self, desk_id: &str) -> DeskCustomersBuilder<'c> {
        DeskCustomersBuilder::new(self.client, desk_id)
    }

    /// `POST /servicedesk/{id}/customer`. Always [`Change::Applied`]: JSM answers 204 whether or not the accounts
    /// were already on the desk, so the server does not say whether it already held. An empty list sends nothing
    /// and is [`Change::AlreadyApplied`]. A 400 means some ids are unknown (JSM still adds the known ones).
    pub async fn add_to_desk(
        &self,
        desk_id: &str,
        account_ids: &[impl AsRef<str>],
    ) -> Result<Change> {
        if account_ids.is_empty() {
            return Ok(Change::AlreadyApplied);
        }
        let req = Request::new(
            Method::POST,
            Surface::Product,
            "/rest/servicedeskapi/servicedesk/{}/customer",
            &[desk_id],
        )
        .json(&account_id_body(account_ids))?
        .idempotent(true);
        self.client.execute(&req).await.map(|_| Change::Applied)
    }

    /// `DELETE /servicedesk/{id}/customer` (experimental). Always [`Change::Applied`]: JSM answers 204 also for
    /// accounts not on the desk, so the server does not say whether it already held. An empty list sends nothing
    /// and is [`Change::AlreadyApplied`].
    pub async fn remove_from_desk(
        &self,
        desk_id: &str,
        account_ids: &[impl AsRef<str>],
    ) -> Result<Change> {
        if account_ids.is_empty() {
            return Ok(Change::AlreadyApplied);
        }
        let req = Request::new(
            Method::DELETE,
            Surface::Product,
            "/rest/servicedeskapi/servicedesk/{}/customer",
            &[desk_id],
        )
        .json(&account_id_body(account_ids))?
        .experimental();
        self.client.execute(&req).await.map(|_| Change::Applied)
    }
}
