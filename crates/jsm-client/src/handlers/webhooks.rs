//! Webhook registration: admin webhooks (`/rest/webhooks/1.0/webhook`: user and group events, an optional HMAC
//! secret) and app webhooks (`/rest/api/3/webhook`: OAuth/Connect apps, issue events, 30-day expiry).

use jsm_proto::webhook::{
    AdminWebhook, AppWebhook, NewAdminWebhook, WebhookDetails, WebhookIds, WebhookRefresh,
    WebhookRegistration, WebhookRegistrationResult, WebhookRegistrationResults,
};
use reqwest::Method;

use super::Change;
use crate::error::Result;
use crate::pager::{Pager, Shape};
use crate::{Client, Request, Surface};

/// Webhooks handler; see [`Client::webhooks`].
#[derive(Debug)]
pub struct WebhooksHandler<'c> {
    client: &'c Client,
}

impl<'c> WebhooksHandler<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Self { client }
    }

    /// Every admin webhook (a bare, unpaged list).
    pub async fn list_admin(&self) -> Result<Vec<AdminWebhook>> {
        let req = Request::new(
            Method::GET,
            Surface::Product,
            "/rest/webhooks/1.0/webhook",
            &[],
        );
        self.client.execute_json(&req).await
    }

    /// One admin webhook.
    pub async fn get_admin(&self, id: &str) -> Result<AdminWebhook> {
        let req = Request::new(
            Method::GET,
            Surface::Product,
            "/rest/webhooks/1.0/webhook/{}",
            &[id],
        );
        self.client.execute_json(&req).await
    }

    /// Registers an admin webhook. Not retried once it may have been processed (a second POST would register a
    /// second webhook).
    pub async fn create_admin(&self, hook: &NewAdminWebhook) -> Result<AdminWebhook> {
        let req = Request::new(
            Method::POST,
            Surface::Product,
            "/rest/webhooks/1.0/webhook",
            &[],
        )
        .json(hook)?;
        self.client.execute_json(&req).await
    }

    /// Replaces an admin webhook (a `None` secret keeps the old one).
    pub async fn update_admin(&self, id: &str, hook: &NewAdminWebhook) -> Result<AdminWebhook> {
        let req = Request::new(
            Method::PUT,
            Surface::Product,
            "/rest/webhooks/1.0/webhook/{}",
            &[id],
        )
        .json(hook)?;
        self.client.execute_json(&req).await
    }

    /// Deletes an admin webhook; 404 counts as done.
    pub async fn delete_admin(&self, id: &str) -> Result<Change> {
        let req = Request::new(
            Method::DELETE,
            Surface::Product,
            "/rest/webhooks/1.0/webhook/{}",
            &[id],
        );
        match self.client.execute(&req).await {
            Ok(_) => Ok(Change::Applied),
            Err(e) if e.is_not_found() => Ok(Change::AlreadyApplied),
            Err(e) => Err(e),
        }
    }

    /// Registers app webhooks (OAuth/Connect apps only); each entry succeeds or fails on its own.
    pub async fn register(
        &self,
        url: &str,
        webhooks: Vec<WebhookDetails>,
    ) -> Result<Vec<WebhookRegistrationResult>> {
        let body = WebhookRegistration {
            url: url.to_string(),
            webhooks,
        };
        let req =
            Request::new(Method::POST, Surface::Product, "/rest/api/3/webhook", &[]).json(&body)?;
        let out: WebhookRegistrationResults = self.client.execute_json(&req).await?;
        Ok(out.webhook_registration_result)
    }

    /// The calling app's webhooks.
    pub fn list(&self) -> Pager<AppWebhook> {
        let req = Request::new(Method::GET, Surface::Product, "/rest/api/3/webhook", &[]);
        Pager::new(
            self.client.clone(),
            req,
            Shape::PageBean,
            100,
            |w: &AppWebhook| w.id.to_string(),
        )
    }

    /// Deletes app webhooks (ids of other apps are ignored by Atlassian).
    pub async fn delete(&self, ids: &[i64]) -> Result<()> {
        let req = Request::new(Method::DELETE, Surface::Product, "/rest/api/3/webhook", &[]).json(
            &WebhookIds {
                webhook_ids: ids.to_vec(),
            },
        )?;
        self.client.execute(&req).await.map(|_| ())
    }

    /// Extends app webhooks by another 30 days (repeatable).
    pub async fn refresh(&self, ids: &[i64]) -> Result<WebhookRefresh> {
        let req = Request::new(
            Method::PUT,
            Surface::Product,
            "/rest/api/3/webhook/refresh",
            &[],
        )
        .json(&WebhookIds {
            webhook_ids: ids.to_vec(),
        })?;
        self.client.execute_json(&req).await
    }
}
