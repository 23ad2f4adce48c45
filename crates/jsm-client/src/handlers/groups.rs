//! Jira platform groups: create (a name in use resolves to the existing group), list, delete, members, and
//! membership changes that are safe to repeat.

use jsm_proto::PageBean;
use jsm_proto::jira::{AddToGroup, Group, GroupDetails, NewGroup, UserDetails};
use reqwest::Method;

use super::{Change, Created, GroupRef};
use crate::error::{Error, Result};
use crate::pager::{Pager, Shape};
use crate::{Client, Request, Surface};

/// Groups handler; see [`Client::groups`].
#[derive(Debug)]
pub struct GroupsHandler<'c> {
    client: &'c Client,
}

impl<'c> GroupsHandler<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Self { client }
    }

    /// `POST /group`. A 400 "name is in use" (also what a retry of a create that succeeded sees) resolves to
    /// the existing group.
    pub async fn create(&self, name: &str) -> Result<Created<Group>> {
        let req = Request::new(Method::POST, Surface::Product, "/rest/api/3/group", &[])
            .json(&NewGroup {
                name: name.to_string(),
            })?
            .idempotent(true);
        match self.client.execute_json::<Group>(&req).await {
            Ok(g) => Ok(Created::New(g)),
            Err(Error::Api {
                status: 400 | 409,
                body,
                request_id,
                endpoint,
            }) if body.mentions("in use") || body.mentions("already exists") => {
                match self.get(&GroupRef::name(name)).await? {
                    Some(d) => Ok(Created::Existing(Group {
                        name: d.name,
                        group_id: Some(d.group_id),
                        self_url: None,
                        users: None,
                        expand: None,
                    })),
                    None => Err(Error::Api {
                        status: 400,
                        body,
                        request_id,
                        endpoint,
                    }),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// One group by id or name (`GET /group/bulk`), or `None`.
    pub async fn get(&self, group: &GroupRef) -> Result<Option<GroupDetails>> {
        let req = Request::new(Method::GET, Surface::Product, "/rest/api/3/group/bulk", &[]);
        let req = match group {
            GroupRef::Id(id) => req.query("groupId", id),
            GroupRef::Name(name) => req.query("groupName", name),
        };
        let page: PageBean<GroupDetails> = self.client.execute_json(&req).await?;
        Ok(page.values.into_iter().find(|g| match group {
            GroupRef::Id(id) => &g.group_id == id,
            GroupRef::Name(name) => &g.name == name,
        }))
    }

    /// Every group (`GET /group/bulk`).
    pub fn list(&self) -> Pager<GroupDetails> {
        let req = Request::new(Method::GET, Surface::Product, "/rest/api/3/group/bulk", &[]);
        Pager::new(
            self.client.clone(),
            req,
            Shape::PageBean,
            50,
            |g: &GroupDetails| g.group_id.clone(),
        )
    }

    /// `DELETE /group`; 404 counts as done.
    pub async fn delete(&self, group: &GroupRef) -> Result<Change> {
        let req = group.apply(Request::new(
            Method::DELETE,
            Surface::Product,
            "/rest/api/3/group",
            &[],
        ));
        match self.client.execute(&req).await {
            Ok(_) => Ok(Change::Applied),
            Err(e) if e.is_not_found() => Ok(Change::AlreadyApplied),
            Err(e) => Err(e),
        }
    }

    /// Members (`GET /group/member`): a builder; active users only unless
    /// [`MembersBuilder::include_inactive`].
    pub fn members(&self, group: &GroupRef) -> MembersBuilder<'c> {
        MembersBuilder {
            client: self.client,
            group: group.clone(),
            include_inactive: false,
        }
    }

    /// `POST /group/user`. "User is already a member" (400) is success, so the call is safe to retry.
    pub async fn add_member(&self, group: &GroupRef, account_id: &str) -> Result<Change> {
        let req = group
            .apply(Request::new(
                Method::POST,
                Surface::Product,
                "/rest/api/3/group/user",
                &[],
            ))
            .json(&AddToGroup {
                account_id: account_id.to_string(),
            })?
            .idempotent(true);
        match self.client.execute(&req).await {
            Ok(_) => Ok(Change::Applied),
            Err(Error::Api {
                status: 400, body, ..
            }) if body.mentions("already a member") => Ok(Change::AlreadyApplied),
            Err(e) => Err(e),
        }
    }

    /// `DELETE /group/user`. "Not a member" counts as done.
    pub async fn remove_member(&self, group: &GroupRef, account_id: &str) -> Result<Change> {
        let req = group
            .apply(Request::new(
                Method::DELETE,
                Surface::Product,
                "/rest/api/3/group/user",
                &[],
            ))
            .query("accountId", account_id);
        match self.client.execute(&req).await {
            Ok(_) => Ok(Change::Applied),
            Err(Error::Api {
                status: 400 | 404,
                body,
                ..
            }) if body.mentions("not a member") => Ok(Change::AlreadyApplied),
            Err(e) => Err(e),
        }
    }
}

/// The members of a group (`GET /group/member`); see [`GroupsHandler::members`].
#[derive(Debug, Clone)]
#[must_use = "a builder sends nothing until `.pager()` or `.all()`"]
pub struct MembersBuilder<'c> {
    client: &'c Client,
    group: GroupRef,
    include_inactive: bool,
}

impl MembersBuilder<'_> {
    /// Also list inactive users (`includeInactiveUsers`; default false, as in Jira).
    pub fn include_inactive(mut self, yes: bool) -> Self {
        self.include_inactive = yes;
        self
    }

    /// The members as a [`Pager`].
    pub fn pager(self) -> Pager<UserDetails> {
        let req = self
            .group
            .apply(Request::new(
                Method::GET,
                Surface::Product,
                "/rest/api/3/group/member",
                &[],
            ))
            .query("includeInactiveUsers", self.include_inactive);
        Pager::new(
            self.client.clone(),
            req,
            Shape::PageBean,
            50,
            |u: &UserDetails| u.account_id.clone(),
        )
    }

    /// Every member, or an error.
    pub async fn all(self) -> Result<Vec<UserDetails>> {
        self.pager().all().await
    }
}
