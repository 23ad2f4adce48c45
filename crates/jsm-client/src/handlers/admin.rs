//! The organizations admin API (managed accounts, directory suspend/restore/remove, directory groups) and the
//! user-management lifecycle API (disable/enable an account). Directories, role assignments, last-active dates
//! and API-token listings are in [`access`].

pub mod access;

use jsm_proto::admin::{AdminMembership, AdminMessage, AdminUser, LifecycleMessage, NewAdminGroup};
use reqwest::Method;

use super::Change;
use crate::error::{AuthReason, Credential, Error, Result};
use crate::pager::{Pager, Shape};
use crate::{Client, Request, Surface};

/// True when `text` has the word "already" ("already suspended", "User … is already a member …"). Whole words
/// only, so an id or group name in the message cannot trigger it.
fn says_already(text: &str) -> bool {
    text.split_whitespace().any(|w| {
        w.trim_matches(|c: char| !c.is_ascii_alphanumeric())
            .eq_ignore_ascii_case("already")
    })
}

/// Admin handler; see [`Client::admin`].
#[derive(Debug)]
pub struct AdminHandler<'c> {
    client: &'c Client,
}

impl<'c> AdminHandler<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Self { client }
    }

    fn org(&self) -> Result<&str> {
        self.client
            .inner
            .admin
            .as_ref()
            .map(|a| a.org_id.as_str())
            .ok_or(Error::Auth {
                credential: Credential::AdminKey,
                reason: AuthReason::Missing,
            })
    }

    /// Sends a repeatable admin write whose answer is a `{"message"}` or no body: [`Change::AlreadyApplied`] when
    /// the message, or a 400/409 error, says "already"; otherwise [`Change::Applied`].
    async fn write(&self, req: &Request) -> Result<Change> {
        match self.client.execute(req).await {
            Ok(resp) => {
                // The message only informs: a 2xx without the documented `{"message"}` still succeeded.
                let message = serde_json::from_slice::<AdminMessage>(&resp.body)
                    .map(|m| m.message)
                    .unwrap_or_default();
                Ok(if says_already(&message) {
                    Change::AlreadyApplied
                } else {
                    Change::Applied
                })
            }
            Err(Error::Api {
                status: 400 | 409,
                body,
                ..
            }) if body.messages().iter().any(|m| says_already(m)) => Ok(Change::AlreadyApplied),
            Err(e) => Err(e),
        }
    }

    /// Managed accounts of the organization (cursor-paged). Needs an org admin key.
    pub fn users(&self) -> Result<Pager<AdminUser>> {
        let req = Request::new(
            Method::GET,
            Surface::Admin,
            "/admin/v1/orgs/{}/users",
            &[self.org()?],
        );
        Ok(Pager::new(
            self.client.clone(),
            req,
            Shape::Cursor,
            100,
            |u: &AdminUser| u.account_id.clone(),
        ))
    }

    /// The managed account with this email (the admin API shows emails the product APIs hide), scanning the list.
    pub async fn find_user_by_email(&self, email: &str) -> Result<Option<AdminUser>> {
        use futures::TryStreamExt;
        let mut stream = self.users()?.into_stream();
        while let Some(u) = stream.try_next().await? {
            if u.email
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case(email))
            {
                return Ok(Some(u));
            }
        }
        Ok(None)
    }

    /// Suspends the account's access to the organization (`suspend-access`; repeatable). Atlassian documents the
    /// same 200 message whether or not access was already suspended, so this is [`Change::Applied`] (the server
    /// does not say whether it already held) unless the message or a 400/409 error says "already".
    pub async fn suspend(&self, account_id: &str) -> Result<Change> {
        let req = Request::new(
            Method::POST,
            Surface::Admin,
            "/admin/v1/orgs/{}/directory/users/{}/suspend-access",
            &[self.org()?, account_id],
        )
        .idempotent(true);
        self.write(&req).await
    }

    /// Restores a suspended account's access (`restore-access`; repeatable). [`Change::Applied`] unless the
    /// message or a 400/409 error says "already": Atlassian documents one answer either way.
    pub async fn restore(&self, account_id: &str) -> Result<Change> {
        let req = Request::new(
            Method::POST,
            Surface::Admin,
            "/admin/v1/orgs/{}/directory/users/{}/restore-access",
            &[self.org()?, account_id],
        )
        .idempotent(true);
        self.write(&req).await
    }

    /// Removes the account from the directory (product access and membership); 404 or "not in the directory"
    /// counts as done.
    pub async fn remove_from_directory(&self, account_id: &str) -> Result<Change> {
        let req = Request::new(
            Method::DELETE,
            Surface::Admin,
            "/admin/v1/orgs/{}/directory/users/{}",
            &[self.org()?, account_id],
        );
        match self.client.execute(&req).await {
            Ok(_) => Ok(Change::Applied),
            Err(e) if e.is_not_found() => Ok(Change::AlreadyApplied),
            Err(Error::Api {
                status: 400, body, ..
            }) if body.mentions("not in the directory") => Ok(Change::AlreadyApplied),
            Err(e) => Err(e),
        }
    }

    /// Creates a directory group: a builder, sent with [`CreateGroupBuilder::send`]. Names are unique, so
    /// "already exists" (also what a retry after a lost answer sees) is [`Change::AlreadyApplied`] and the call
    /// is safe to retry.
    pub fn create_group(&self, name: &str) -> CreateGroupBuilder<'c> {
        CreateGroupBuilder {
            client: self.client,
            name: name.to_string(),
            description: None,
        }
    }

    /// Adds an account to a directory group (repeatable; SCIM-synced groups refuse with 403).
    /// [`Change::AlreadyApplied`] when the message or a 400/409 error says "already" (e.g. already a member);
    /// otherwise [`Change::Applied`], since Atlassian documents the same 200 message either way.
    pub async fn add_to_group(&self, group_id: &str, account_id: &str) -> Result<Change> {
        let req = Request::new(
            Method::POST,
            Surface::Admin,
            "/admin/v1/orgs/{}/directory/groups/{}/memberships",
            &[self.org()?, group_id],
        )
        .json(&AdminMembership {
            account_id: account_id.to_string(),
        })?
        .idempotent(true);
        self.write(&req).await
    }

    /// Removes an account from a directory group; 404 counts as done.
    pub async fn remove_from_group(&self, group_id: &str, account_id: &str) -> Result<Change> {
        let req = Request::new(
            Method::DELETE,
            Surface::Admin,
            "/admin/v1/orgs/{}/directory/groups/{}/memberships/{}",
            &[self.org()?, group_id, account_id],
        );
        match self.client.execute(&req).await {
            Ok(_) => Ok(Change::Applied),
            Err(e) if e.is_not_found() => Ok(Change::AlreadyApplied),
            Err(e) => Err(e),
        }
    }

    /// Disables a managed account (`/users/{id}/manage/lifecycle/disable`; repeatable): a builder, sent with
    /// [`DisableBuilder::send`]. Atlassian answers 204 whether or not it was already disabled, so the outcome is
    /// [`Change::Applied`] (the server does not say whether it already held) unless a 400/409 error says
    /// "already".
    pub fn disable(&self, account_id: &str) -> DisableBuilder<'c> {
        DisableBuilder {
            client: self.client,
            account_id: account_id.to_string(),
            message: None,
        }
    }

    /// Re-enables a managed account (`lifecycle/enable`; repeatable). [`Change::Applied`] unless a 400/409 error
    /// says "already": Atlassian answers 204 either way.
    pub async fn enable(&self, account_id: &str) -> Result<Change> {
        let req = Request::new(
            Method::POST,
            Surface::Admin,
            "/users/{}/manage/lifecycle/enable",
            &[account_id],
        )
        .idempotent(true);
        self.write(&req).await
    }
}

/// `POST /directory/groups`; see [`AdminHandler::create_group`].
#[derive(Debug, Clone)]
#[must_use = "a builder sends nothing until `.send()`"]
pub struct CreateGroupBuilder<'c> {
    client: &'c Client,
    name: String,
    description: Option<String>,
}

impl CreateGroupBuilder<'_> {
    /// The group's description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Creates the group: [`Change::Applied`], or [`Change::AlreadyApplied`] when the name exists.
    pub async fn send(self) -> Result<Change> {
        let admin = AdminHandler::new(self.client);
        let req = Request::new(
            Method::POST,
            Surface::Admin,
            "/admin/v1/orgs/{}/directory/groups",
            &[admin.org()?],
        )
        .json(&NewAdminGroup {
            name: self.name,
            description: self.description,
        })?
        .idempotent(true);
        match self.client.execute(&req).await {
            Ok(_) => Ok(Change::Applied),
            Err(Error::Api {
                status: 400 | 409,
                body,
                ..
            }) if body.mentions("already exists") => Ok(Change::AlreadyApplied),
            Err(e) => Err(e),
        }
    }
}

/// `POST /users/{id}/manage/lifecycle/disable`; see [`AdminHandler::disable`].
#[derive(Debug, Clone)]
#[must_use = "a builder sends nothing until `.send()`"]
pub struct DisableBuilder<'c> {
    client: &'c Client,
    account_id: String,
    message: Option<String>,
}

impl DisableBuilder<'_> {
    /// The message shown to the user (Atlassian uses a default one without it).
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// Disables the account.
    pub async fn send(self) -> Result<Change> {
        let req = Request::new(
            Method::POST,
            Surface::Admin,
            "/users/{}/manage/lifecycle/disable",
            &[&self.account_id],
        )
        .json(&LifecycleMessage {
            message: self.message,
        })?
        .idempotent(true);
        AdminHandler::new(self.client).write(&req).await
    }
}

#[cfg(test)]
mod tests {
    use super::says_already;

    #[test]
    fn already_is_a_whole_word() {
        assert!(says_already("User acc-1 is already a member of group g9."));
        assert!(says_already("Access was ALREADY suspended"));
        assert!(!says_already(
            "Access to organization o1 was suspended for user acc-1"
        ));
        assert!(!says_already("User acc-1 was added to group already-team"));
        assert!(!says_already(""));
    }
}
