//! What an account may use and how it got it, and the credentials it owns: the v2 directories API (directories,
//! a user's role assignments, suspend and restore in a directory), last-active dates per product, and the API
//! tokens of the organization (admin API-access API, with `expiresAt` and `lastActiveAt`) or of one account
//! (user management API).

use jsm_proto::admin::{
    AdminDirectory, LastActiveDates, LastActivePage, OrgApiToken, UserApiToken, UserRoleAssignment,
};
use reqwest::Method;

use super::AdminHandler;
use crate::error::Result;
use crate::handlers::Change;
use crate::pager::{Pager, Shape};
use crate::{Client, Request, Surface};

impl<'c> AdminHandler<'c> {
    /// The organization's directories (`GET /admin/v2/orgs/{orgId}/directories`).
    pub fn directories(&self) -> Result<Pager<AdminDirectory>> {
        let req = Request::new(
            Method::GET,
            Surface::Admin,
            "/admin/v2/orgs/{}/directories",
            &[self.org()?],
        );
        Ok(Pager::new(
            self.client.clone(),
            req,
            Shape::Cursor,
            100,
            |d: &AdminDirectory| d.directory_id.clone(),
        ))
    }

    /// The account's role assignments per resource, with how each was assigned (`group_direct`, `direct`,
    /// `inferred`) and its status in the directory. `directory_id` may be `-` (every directory).
    pub async fn role_assignments(
        &self,
        directory_id: &str,
        account_id: &str,
    ) -> Result<Vec<UserRoleAssignment>> {
        let req = Request::new(
            Method::GET,
            Surface::Admin,
            "/admin/v2/orgs/{}/directories/{}/users/{}/role-assignments",
            &[self.org()?, directory_id, account_id],
        );
        Pager::new(
            self.client.clone(),
            req,
            Shape::Cursor,
            100,
            |a: &UserRoleAssignment| {
                format!(
                    "{}|{}",
                    a.resource_id.as_deref().unwrap_or_default(),
                    a.directory_id.as_deref().unwrap_or_default()
                )
            },
        )
        .all()
        .await
    }

    /// Suspends the account's access in a directory (v2; repeatable): no access to the directory's apps and no
    /// seat billed, roles and groups kept. Atlassian answers 204 either way, so this is [`Change::Applied`].
    pub async fn suspend_in_directory(
        &self,
        directory_id: &str,
        account_id: &str,
    ) -> Result<Change> {
        let req = Request::new(
            Method::POST,
            Surface::Admin,
            "/admin/v2/orgs/{}/directories/{}/users/{}/suspend",
            &[self.org()?, directory_id, account_id],
        )
        .idempotent(true);
        self.write(&req).await
    }

    /// Restores a suspended account's access in a directory (v2; repeatable).
    pub async fn restore_in_directory(
        &self,
        directory_id: &str,
        account_id: &str,
    ) -> Result<Change> {
        let req = Request::new(
            Method::POST,
            Surface::Admin,
            "/admin/v2/orgs/{}/directories/{}/users/{}/restore",
            &[self.org()?, directory_id, account_id],
        )
        .idempotent(true);
        self.write(&req).await
    }

    /// The products the account used, with the day of last use (Atlassian reports up to 24 hours late), and
    /// `added_to_org` (centralized user management only). Follows `links.next` until the end.
    pub async fn last_active_dates(&self, account_id: &str) -> Result<LastActiveDates> {
        let mut out = LastActiveDates::default();
        let mut cursor: Option<String> = None;
        for _ in 0..100 {
            let req = Request::new(
                Method::GET,
                Surface::Admin,
                "/admin/v1/orgs/{}/directory/users/{}/last-active-dates",
                &[self.org()?, account_id],
            )
            .query_opt("cursor", cursor.as_deref());
            let page: LastActivePage = self.client.execute_json(&req).await?;
            out.product_access.extend(page.data.product_access);
            out.added_to_org = out.added_to_org.or(page.data.added_to_org);
            match page.links.next.filter(|n| !n.is_empty()) {
                Some(next) => cursor = Some(cursor_param(&next)),
                None => break,
            }
        }
        Ok(out)
    }

    /// The organization's user API tokens (admin API-access API): a builder, listed with
    /// [`ApiTokensBuilder::pager`].
    pub fn api_tokens(&self) -> ApiTokensBuilder<'c> {
        ApiTokensBuilder {
            client: self.client,
            q: None,
            status: None,
        }
    }

    /// The live API tokens of one managed account (user management API; no expiry in its answer).
    pub async fn user_api_tokens(&self, account_id: &str) -> Result<Vec<UserApiToken>> {
        self.org()?;
        let req = Request::new(
            Method::GET,
            Surface::Admin,
            "/users/{}/manage/api-tokens",
            &[account_id],
        );
        self.client.execute_json(&req).await
    }
}

/// `links.next` is a cursor or a URL that carries one.
fn cursor_param(next: &str) -> String {
    url::Url::parse(next)
        .ok()
        .and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == "cursor")
                .map(|(_, v)| v.into_owned())
        })
        .unwrap_or_else(|| next.to_string())
}

/// `GET /admin/api-access/v1/orgs/{orgId}/api-tokens`; see [`AdminHandler::api_tokens`].
#[derive(Debug, Clone)]
#[must_use = "a builder sends nothing until `.pager()` is streamed"]
pub struct ApiTokensBuilder<'c> {
    client: &'c Client,
    q: Option<String>,
    status: Option<String>,
}

impl ApiTokensBuilder<'_> {
    /// Free text matched against the label and the owner's name and email.
    pub fn query(mut self, q: impl Into<String>) -> Self {
        self.q = Some(q.into());
        self
    }

    /// Only tokens in this status.
    pub fn status(mut self, status: impl Into<String>) -> Self {
        self.status = Some(status.into());
        self
    }

    /// The listing, 100 tokens a page.
    pub fn pager(self) -> Result<Pager<OrgApiToken>> {
        let admin = AdminHandler::new(self.client);
        let req = Request::new(
            Method::GET,
            Surface::Admin,
            "/admin/api-access/v1/orgs/{}/api-tokens",
            &[admin.org()?],
        )
        .query("pageSize", 100)
        .query_opt("q", self.q.as_deref())
        .query_opt("status", self.status.as_deref());
        Ok(Pager::new(
            self.client.clone(),
            req,
            Shape::Cursor,
            100,
            |t: &OrgApiToken| t.id.clone(),
        ))
    }
}
