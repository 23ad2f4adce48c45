//! SCIM 2.0 user provisioning: users and groups of one directory. Creates resolve a 409 to the existing
//! resource, DELETE only deactivates (the user then answers 404), and lists page by `startIndex`/`totalResults`.

use jsm_proto::scim::{
    GROUP_SCHEMA, ScimGroup, ScimListResponse, ScimMemberRef, ScimPatch, ScimPatchOperation,
    ScimUser,
};
use reqwest::Method;

use super::{Change, Created};
use crate::error::{Error, Result};
use crate::pager::{Pager, Shape};
use crate::{Client, Request, Surface};

/// SCIM handler; see [`Client::scim`].
#[derive(Debug)]
pub struct ScimHandler<'c> {
    client: &'c Client,
}

/// `attr eq "value"` with the value escaped.
pub fn eq_filter(attribute: &str, value: &str) -> String {
    let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
    format!("{attribute} eq \"{escaped}\"")
}

/// A PATCH is safe to repeat when every operation sets or removes a value, or adds members (a set).
fn patch_is_idempotent(patch: &ScimPatch) -> bool {
    patch.operations.iter().all(|op| {
        let op_name = op.op.to_ascii_lowercase();
        op_name == "replace"
            || op_name == "remove"
            || (op_name == "add" && op.path.as_deref() == Some("members"))
    })
}

fn members_value(user_ids: &[impl AsRef<str>]) -> serde_json::Value {
    serde_json::Value::Array(
        user_ids
            .iter()
            .map(|id| serde_json::json!({ "value": id.as_ref() }))
            .collect(),
    )
}

impl<'c> ScimHandler<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Self { client }
    }

    /// Users (`GET /Users`): a builder, optionally filtered with [`ScimUsersBuilder::filter`].
    pub fn users(&self) -> ScimUsersBuilder<'c> {
        ScimUsersBuilder {
            client: self.client,
            filter: None,
        }
    }

    /// `GET /Users/{id}` (404 after the user was deleted, i.e. deactivated).
    pub async fn get_user(&self, id: &str) -> Result<ScimUser> {
        self.client
            .execute_json(&Request::new(
                Method::GET,
                Surface::Scim,
                "/Users/{}",
                &[id],
            ))
            .await
    }

    /// The user whose `userName` is exactly this (SCIM `userName` is usually the email).
    pub async fn find_user_by_user_name(&self, user_name: &str) -> Result<Option<ScimUser>> {
        let req = Request::new(Method::GET, Surface::Scim, "/Users", &[])
            .query("filter", eq_filter("userName", user_name))
            .query("startIndex", 1)
            .query("count", 10);
        let page: ScimListResponse<ScimUser> = self.client.execute_json(&req).await?;
        Ok(page
            .resources
            .into_iter()
            .find(|u| u.user_name.eq_ignore_ascii_case(user_name)))
    }

    /// `POST /Users`; a 409 (user exists, or an earlier attempt created it) resolves to the existing user.
    pub async fn create_user(&self, user: &ScimUser) -> Result<Created<ScimUser>> {
        let req = Request::new(Method::POST, Surface::Scim, "/Users", &[])
            .json(user)?
            .idempotent(true);
        match self.client.execute_json::<ScimUser>(&req).await {
            Ok(u) => Ok(Created::New(u)),
            Err(Error::Api {
                status: 409,
                body,
                request_id,
                endpoint,
            }) => match self.find_user_by_user_name(&user.user_name).await? {
                Some(u) => Ok(Created::Existing(u)),
                None => Err(Error::Api {
                    status: 409,
                    body,
                    request_id,
                    endpoint,
                }),
            },
            Err(e) => Err(e),
        }
    }

    /// `PUT /Users/{id}`: full replace (unspecified attributes are cleared).
    pub async fn replace_user(&self, id: &str, user: &ScimUser) -> Result<ScimUser> {
        let req = Request::new(Method::PUT, Surface::Scim, "/Users/{}", &[id]).json(user)?;
        self.client.execute_json(&req).await
    }

    /// `PATCH /Users/{id}`; retried only when every operation is a replace/remove.
    pub async fn patch_user(&self, id: &str, patch: &ScimPatch) -> Result<ScimUser> {
        let req = Request::new(Method::PATCH, Surface::Scim, "/Users/{}", &[id])
            .json(patch)?
            .idempotent(patch_is_idempotent(patch));
        self.client.execute_json(&req).await
    }

    /// Deactivates or reactivates the user (`active`), the way IdPs deprovision. SCIM PATCH answers the same
    /// whether or not the value changed, so this reads the user first: [`Change::AlreadyApplied`] when it already
    /// had this `active` value (nothing is sent), else it PATCHes and answers [`Change::Applied`]. A user deleted
    /// through SCIM answers 404. [`Self::patch_active`] sends the PATCH alone and returns the user.
    pub async fn set_active(&self, id: &str, active: bool) -> Result<Change> {
        let user = self.get_user(id).await?;
        if user.active == Some(active) {
            return Ok(Change::AlreadyApplied);
        }
        self.patch_active(id, active).await.map(|_| Change::Applied)
    }

    /// `PATCH /Users/{id}` replacing `active`, without reading first; answers with the updated user.
    pub async fn patch_active(&self, id: &str, active: bool) -> Result<ScimUser> {
        let patch = ScimPatch::new(vec![ScimPatchOperation {
            op: "replace".into(),
            path: Some("active".into()),
            value: Some(serde_json::Value::Bool(active)),
        }]);
        self.patch_user(id, &patch).await
    }

    /// `DELETE /Users/{id}`: deactivates (Atlassian does not delete); 404 counts as done.
    pub async fn delete_user(&self, id: &str) -> Result<Change> {
        match self
            .client
            .execute(&Request::new(
                Method::DELETE,
                Surface::Scim,
                "/Users/{}",
                &[id],
            ))
            .await
        {
            Ok(_) => Ok(Change::Applied),
            Err(e) if e.is_not_found() => Ok(Change::AlreadyApplied),
            Err(e) => Err(e),
        }
    }

    /// Groups (`GET /Groups`): a builder, optionally filtered with [`ScimGroupsBuilder::filter`].
    pub fn groups(&self) -> ScimGroupsBuilder<'c> {
        ScimGroupsBuilder {
            client: self.client,
            filter: None,
        }
    }

    /// `GET /Groups/{id}`.
    pub async fn get_group(&self, id: &str) -> Result<ScimGroup> {
        self.client
            .execute_json(&Request::new(
                Method::GET,
                Surface::Scim,
                "/Groups/{}",
                &[id],
            ))
            .await
    }

    /// The group with exactly this display name, without its members (a group's answer would otherwise carry
    /// every member; [`Self::group_members`] reads them when wanted).
    pub async fn find_group_by_name(&self, name: &str) -> Result<Option<ScimGroup>> {
        let req = Request::new(Method::GET, Surface::Scim, "/Groups", &[])
            .query("filter", eq_filter("displayName", name))
            .query("excludedAttributes", "members")
            .query("startIndex", 1)
            .query("count", 10);
        let page: ScimListResponse<ScimGroup> = self.client.execute_json(&req).await?;
        Ok(page.resources.into_iter().find(|g| g.display_name == name))
    }

    /// `POST /Groups`; a 409 (name taken) resolves to the existing group.
    pub async fn create_group(&self, name: &str) -> Result<Created<ScimGroup>> {
        let group = ScimGroup {
            schemas: vec![GROUP_SCHEMA.to_string()],
            display_name: name.to_string(),
            ..ScimGroup::default()
        };
        let req = Request::new(Method::POST, Surface::Scim, "/Groups", &[])
            .json(&group)?
            .idempotent(true);
        match self.client.execute_json::<ScimGroup>(&req).await {
            Ok(g) => Ok(Created::New(g)),
            Err(Error::Api {
                status: 409,
                body,
                request_id,
                endpoint,
            }) => match self.find_group_by_name(name).await? {
                Some(g) => Ok(Created::Existing(g)),
                None => Err(Error::Api {
                    status: 409,
                    body,
                    request_id,
                    endpoint,
                }),
            },
            Err(e) => Err(e),
        }
    }

    /// `PATCH /Groups/{id}`.
    pub async fn patch_group(&self, id: &str, patch: &ScimPatch) -> Result<ScimGroup> {
        let req = Request::new(Method::PATCH, Surface::Scim, "/Groups/{}", &[id])
            .json(patch)?
            .idempotent(patch_is_idempotent(patch));
        self.client.execute_json(&req).await
    }

    /// Adds users (by SCIM id) to a group; answers with the group (SCIM does not say who was already a member).
    pub async fn add_members(
        &self,
        group_id: &str,
        user_ids: &[impl AsRef<str>],
    ) -> Result<ScimGroup> {
        let op = ScimPatchOperation {
            op: "add".into(),
            path: Some("members".into()),
            value: Some(members_value(user_ids)),
        };
        self.patch_group(group_id, &ScimPatch::new(vec![op])).await
    }

    /// Removes users (by SCIM id) from a group; answers with the group.
    pub async fn remove_members(
        &self,
        group_id: &str,
        user_ids: &[impl AsRef<str>],
    ) -> Result<ScimGroup> {
        let op = ScimPatchOperation {
            op: "remove".into(),
            path: Some("members".into()),
            value: Some(members_value(user_ids)),
        };
        self.patch_group(group_id, &ScimPatch::new(vec![op])).await
    }

    /// `DELETE /Groups/{id}`; 404 counts as done.
    pub async fn delete_group(&self, id: &str) -> Result<Change> {
        match self
            .client
            .execute(&Request::new(
                Method::DELETE,
                Surface::Scim,
                "/Groups/{}",
                &[id],
            ))
            .await
        {
            Ok(_) => Ok(Change::Applied),
            Err(e) if e.is_not_found() => Ok(Change::AlreadyApplied),
            Err(e) => Err(e),
        }
    }

    /// Members of a group as references (SCIM id + display).
    pub async fn group_members(&self, group_id: &str) -> Result<Vec<ScimMemberRef>> {
        Ok(self.get_group(group_id).await?.members)
    }
}

/// The users of the directory (`GET /Users`); see [`ScimHandler::users`].
#[derive(Debug, Clone)]
#[must_use = "a builder sends nothing until `.pager()` or `.all()`"]
pub struct ScimUsersBuilder<'c> {
    client: &'c Client,
    filter: Option<String>,
}

impl ScimUsersBuilder<'_> {
    /// A SCIM filter: Atlassian supports one `eq` on `userName` or `externalId` (see [`eq_filter`]).
    pub fn filter(mut self, filter: impl Into<String>) -> Self {
        self.filter = Some(filter.into());
        self
    }

    /// The users as a [`Pager`] (`startIndex`/`totalResults`).
    pub fn pager(self) -> Pager<ScimUser> {
        let req = Request::new(Method::GET, Surface::Scim, "/Users", &[])
            .query_opt("filter", self.filter.as_deref());
        Pager::new(
            self.client.clone(),
            req,
            Shape::Scim,
            100,
            |u: &ScimUser| u.id.clone().unwrap_or_else(|| u.user_name.clone()),
        )
    }

    /// Every matching user, or an error.
    pub async fn all(self) -> Result<Vec<ScimUser>> {
        self.pager().all().await
    }
}

/// The groups of the directory (`GET /Groups`); see [`ScimHandler::groups`].
#[derive(Debug, Clone)]
#[must_use = "a builder sends nothing until `.pager()` or `.all()`"]
pub struct ScimGroupsBuilder<'c> {
    client: &'c Client,
    filter: Option<String>,
}

impl ScimGroupsBuilder<'_> {
    /// A SCIM filter: Atlassian supports one `eq` on `displayName` (see [`eq_filter`]).
    pub fn filter(mut self, filter: impl Into<String>) -> Self {
        self.filter = Some(filter.into());
        self
    }

    /// The groups as a [`Pager`] (`startIndex`/`totalResults`).
    pub fn pager(self) -> Pager<ScimGroup> {
        let req = Request::new(Method::GET, Surface::Scim, "/Groups", &[])
            .query_opt("filter", self.filter.as_deref());
        Pager::new(
            self.client.clone(),
            req,
            Shape::Scim,
            100,
            |g: &ScimGroup| g.id.clone().unwrap_or_else(|| g.display_name.clone()),
        )
    }

    /// Every matching group, or an error.
    pub async fn all(self) -> Result<Vec<ScimGroup>> {
        self.pager().all().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_escape_quotes() {
        assert_eq!(
            eq_filter("userName", r#"a"b\c"#),
            r#"userName eq "a\"b\\c""#
        );
    }

    #[test]
    fn only_set_like_patches_are_retried() {
        let op = |op: &str, path: &str| ScimPatchOperation {
            op: op.into(),
            path: Some(path.into()),
            value: None,
        };
        assert!(patch_is_idempotent(&ScimPatch::new(vec![op(
            "replace", "active"
        )])));
        assert!(patch_is_idempotent(&ScimPatch::new(vec![op(
            "add", "members"
        )])));
        assert!(!patch_is_idempotent(&ScimPatch::new(vec![op(
            "add", "emails"
        )])));
    }
}
