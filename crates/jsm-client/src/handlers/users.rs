//! Jira platform users: get, create, delete, search (with `user/search`'s 1000 ceiling made explicit), list all,
//! and lookup by email when the email may be hidden.

use futures::TryStreamExt;
use jsm_proto::jira::{GroupName, NewUser, User};
use reqwest::Method;

use super::Change;
use crate::error::{Error, Result};
use crate::pager::{Pager, Shape};
use crate::{Client, Request, Surface};

/// `user/search` returns nothing past this offset.
pub const USER_SEARCH_CEILING: u64 = 1000;

/// Users handler; see [`Client::users`].
#[derive(Debug)]
pub struct UsersHandler<'c> {
    client: &'c Client,
}

impl<'c> UsersHandler<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Self { client }
    }

    /// `GET /user?accountId=`.
    pub async fn get(&self, account_id: &str) -> Result<User> {
        let req = Request::new(Method::GET, Surface::Product, "/rest/api/3/user", &[])
            .query("accountId", account_id);
        self.client.execute_json(&req).await
    }

    /// `GET /user?accountId=&expand=groups,applicationRoles`.
    pub async fn get_expanded(&self, account_id: &str) -> Result<User> {
        let req = Request::new(Method::GET, Surface::Product, "/rest/api/3/user", &[])
            .query("accountId", account_id)
            .query("expand", "groups,applicationRoles");
        self.client.execute_json(&req).await
    }

    /// `GET /myself`: also the cheapest probe that the credential still works.
    pub async fn myself(&self) -> Result<User> {
        let req = Request::new(Method::GET, Surface::Product, "/rest/api/3/myself", &[]);
        self.client.execute_json(&req).await
    }

    /// `POST /user`: a builder, sent with [`CreateUserBuilder::send`]. Atlassian answers 201 with the existing
    /// user when the email already has Jira access, so the call is safe to retry.
    pub fn create(&self, email: &str) -> CreateUserBuilder<'c> {
        CreateUserBuilder {
            client: self.client,
            email: email.to_string(),
            products: Vec::new(),
        }
    }

    /// `DELETE /user?accountId=` (removes Jira access; the Atlassian account stays). 404 counts as done.
    pub async fn delete(&self, account_id: &str) -> Result<Change> {
        let req = Request::new(Method::DELETE, Surface::Product, "/rest/api/3/user", &[])
            .query("accountId", account_id);
        match self.client.execute(&req).await {
            Ok(_) => Ok(Change::Applied),
            Err(e) if e.is_not_found() => Ok(Change::AlreadyApplied),
            Err(e) => Err(e),
        }
    }

    /// `GET /user/search?query=`: active users whose name or email starts with `query`. Ends with
    /// `Error::Truncated { Ceiling }` if the results reach the 1000 ceiling; use [`Self::search_exhaustive`] then.
    pub fn search(&self, query: &str) -> Pager<User> {
        let req = Request::new(
            Method::GET,
            Surface::Product,
            "/rest/api/3/user/search",
            &[],
        )
        .query("query", query);
        Pager::new(
            self.client.clone(),
            req,
            Shape::Array {
                ceiling: Some(USER_SEARCH_CEILING),
            },
            100,
            |u: &User| u.account_id.clone(),
        )
    }

    /// The same matches as [`Self::search`] without the ceiling: lists every user (`users/search`) and matches
    /// locally (active users whose display name, a word of it, or email starts with `query`, ignoring case).
    pub fn search_exhaustive(&self, query: &str) -> Pager<User> {
        let q = query.to_lowercase();
        self.list()
            .filter(move |u: &User| u.active && matches_query(u, &q))
    }

    /// `GET /users/search`: every user, including inactive and app accounts.
    pub fn list(&self) -> Pager<User> {
        let req = Request::new(
            Method::GET,
            Surface::Product,
            "/rest/api/3/users/search",
            &[],
        );
        Pager::new(
            self.client.clone(),
            req,
            Shape::Array { ceiling: None },
            1000,
            |u: &User| u.account_id.clone(),
        )
    }

    /// `GET /user/groups?accountId=`.
    pub async fn groups(&self, account_id: &str) -> Result<Vec<GroupName>> {
        let req = Request::new(
            Method::GET,
            Surface::Product,
            "/rest/api/3/user/groups",
            &[],
        )
        .query("accountId", account_id);
        self.client.execute_json(&req).await
    }

    /// Finds the account with this email. Jira's search is tried first; when candidates hide their email the
    /// SCIM directory (`userName eq`) and then the org admin API are asked, if configured; otherwise
    /// `Error::EmailHidden`. `Ok(None)` only when no account can match.
    pub async fn find_by_email(&self, email: &str) -> Result<Option<User>> {
        // Candidates: a prefix search on the full email. A truncated listing still yielded real candidates.
        let mut candidates = Vec::new();
        let mut stream = self.search(email).page_size(100).max_pages(3).into_stream();
        loop {
            match stream.try_next().await {
                Ok(Some(u)) => candidates.push(u),
                Ok(None) | Err(Error::Truncated { .. }) => break,
                Err(e) => return Err(e),
            }
        }
        if let Some(u) = candidates.iter().find(|u| {
            u.email_address
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case(email))
        }) {
            return Ok(Some(u.clone()));
        }
        let hidden = candidates
            .iter()
            .filter(|u| u.email_address.is_none())
            .count();
        if self.client.has_scim()
            && let Some(su) = self.client.scim().find_user_by_user_name(email).await?
            && let Some(id) = su.atlassian_account_id()
        {
            return self.get(id).await.map(Some);
        }
        if self.client.has_admin()
            && let Some(au) = self.client.admin().find_user_by_email(email).await?
        {
            return self.get(&au.account_id).await.map(Some);
        }
        if hidden > 0 {
            return Err(Error::EmailHidden {
                email: email.to_string(),
                candidates: hidden,
            });
        }
        Ok(None)
    }
}

fn matches_query(u: &User, q: &str) -> bool {
    let name = u.display_name.to_lowercase();
    name.starts_with(q)
        || name.split_whitespace().any(|w| w.starts_with(q))
        || u.email_address
            .as_deref()
            .is_some_and(|e| e.to_lowercase().starts_with(q))
}

/// `POST /user`; see [`UsersHandler::create`].
#[derive(Debug, Clone)]
#[must_use = "a builder sends nothing until `.send()`"]
pub struct CreateUserBuilder<'c> {
    client: &'c Client,
    email: String,
    products: Vec<String>,
}

impl CreateUserBuilder<'_> {
    /// Products to grant (`jira-servicedesk`, `jira-software`, ...); Jira requires the field, so none set sends
    /// `[]`: an account without product access.
    pub fn products(mut self, products: &[impl AsRef<str>]) -> Self {
        self.products = products.iter().map(|p| p.as_ref().to_string()).collect();
        self
    }

    /// Creates the user, or answers with the existing one (Jira does not say which).
    pub async fn send(self) -> Result<User> {
        let body = NewUser {
            email_address: self.email,
            products: self.products,
            display_name: None,
        };
        let req = Request::new(Method::POST, Surface::Product, "/rest/api/3/user", &[])
            .json(&body)?
            .idempotent(true);
        self.client.execute_json(&req).await
    }
}
