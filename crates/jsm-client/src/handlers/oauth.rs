//! OAuth 2.0 (3LO): the authorize URL, code exchange, rotating refresh, and accessible resources.
//!
//! Refresh is single-flight (an async mutex around the current tokens) and saves the rotated tokens to the
//! [`TokenStore`](crate::TokenStore) before the new access token is used. A token request is retried like any
//! idempotent request: re-sending the same refresh token inside Atlassian's reuse leeway is allowed.

use chrono::{DateTime, Utc};
use jsm_proto::oauth::{AccessibleResource, TokenRequest, TokenResponse};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::auth::{OAuthState, TokenSet};
use crate::error::{ApiErrorBody, AuthReason, Credential, Error, Result};
use crate::observer::Event;
use crate::transport::send::same_secret;
use crate::{Client, Request, Surface};

/// OAuth handler; see [`Client::oauth`].
#[derive(Debug)]
pub struct OAuthHandler<'c> {
    client: &'c Client,
}

fn state(client: &Client) -> Result<&OAuthState> {
    client.inner.oauth.as_ref().ok_or(Error::Auth {
        credential: Credential::OAuthClient,
        reason: AuthReason::Missing,
    })
}

fn token_set(
    resp: TokenResponse,
    previous_refresh: Option<&SecretString>,
    now: DateTime<Utc>,
) -> TokenSet {
    let lifetime = chrono::Duration::seconds(i64::try_from(resp.expires_in).unwrap_or(3600));
    TokenSet {
        access_token: SecretString::from(resp.access_token),
        refresh_token: resp
            .refresh_token
            .map(SecretString::from)
            .or_else(|| previous_refresh.cloned()),
        expires_at: now + lifetime,
        scope: resp.scope,
    }
}

/// Maps a token-endpoint failure: `invalid_grant` means the refresh token (or code) is dead.
fn token_error(e: Error, credential: Credential) -> Error {
    let code = match &e {
        Error::Api {
            status: 400 | 401 | 403,
            body,
            ..
        } => match body.as_ref() {
            ApiErrorBody::OAuth(b) => Some(b.error.clone()),
            _ => None,
        },
        _ => None,
    };
    match code.as_deref() {
        Some("invalid_grant") => Error::Auth {
            credential,
            reason: AuthReason::Rejected,
        },
        Some("invalid_client" | "unauthorized_client") => Error::Auth {
            credential: Credential::OAuthClient,
            reason: AuthReason::Rejected,
        },
        _ => e,
    }
}

impl Client {
    async fn token_request(&self, body: &TokenRequest) -> Result<TokenResponse> {
        let req = Request::new(Method::POST, Surface::OAuthToken, "/oauth/token", &[])
            .json(body)?
            .idempotent(true);
        Box::pin(self.execute_json::<TokenResponse>(&req)).await
    }

    /// Refreshes with the stored refresh token, saves the rotated tokens, then installs them.
    async fn refresh_locked(&self, state: &OAuthState, slot: &mut Option<TokenSet>) -> Result<()> {
        let Some(refresh) = slot.as_ref().and_then(|t| t.refresh_token.clone()) else {
            return Err(Error::Auth {
                credential: Credential::OAuthAccessToken,
                reason: AuthReason::Expired,
            });
        };
        let body = TokenRequest {
            grant_type: "refresh_token".into(),
            client_id: state.config.client_id.clone(),
            client_secret: state.config.client_secret.expose_secret().to_string(),
            code: None,
            redirect_uri: None,
            refresh_token: Some(refresh.expose_secret().to_string()),
        };
        let resp = self
            .token_request(&body)
            .await
            .map_err(|e| token_error(e, Credential::OAuthRefreshToken))?;
        let tokens = token_set(resp, Some(&refresh), self.inner.clock.now());
        // Persist first: if this fails, the new tokens are never used and the old refresh token stays valid for
        // the reuse leeway.
        state
            .config
            .store
            .save(&tokens)
            .await
            .map_err(|source| Error::TokenStore { source })?;
        *slot = Some(tokens);
        tracing::info!("OAuth access token refreshed; rotated refresh token saved");
        self.inner.observer.on_event(&Event::TokenRefreshed);
        Ok(())
    }

    /// The current access token, loading it from the store and refreshing it near expiry.
    pub(crate) async fn oauth_access_token(&self) -> Result<SecretString> {
        let state = state(self)?;
        let mut slot = state.current.lock().await;
        if slot.is_none() {
            *slot = state
                .config
                .store
                .load()
                .await
                .map_err(|source| Error::TokenStore { source })?;
        }
        let Some(current) = slot.as_ref() else {
            return Err(Error::Auth {
                credential: Credential::OAuthAccessToken,
                reason: AuthReason::Missing,
            });
        };
        let leeway = chrono::Duration::from_std(state.config.refresh_leeway)
            .unwrap_or_else(|_| chrono::Duration::seconds(60));
        if current.expires_at - leeway <= self.inner.clock.now() {
            self.refresh_locked(state, &mut slot).await?;
        }
        slot.as_ref()
            .map(|t| t.access_token.clone())
            .ok_or(Error::Auth {
                credential: Credential::OAuthAccessToken,
                reason: AuthReason::Missing,
            })
    }

    /// After a 401: refresh, unless another task already replaced the token that was rejected.
    pub(crate) async fn oauth_refresh_after_rejection(&self, used: &SecretString) -> Result<()> {
        let state = state(self)?;
        let mut slot = state.current.lock().await;
        let still_current = slot
            .as_ref()
            .is_some_and(|t| same_secret(&t.access_token, used));
        if still_current {
            self.refresh_locked(state, &mut slot).await?;
        }
        Ok(())
    }
}

impl<'c> OAuthHandler<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Self { client }
    }

    /// The URL to send a user to for consent. Add `offline_access` to `scopes` to get a refresh token.
    pub fn authorize_url(
        &self,
        scopes: &[&str],
        redirect_uri: &str,
        state_param: &str,
    ) -> Result<Url> {
        let oauth = state(self.client)?;
        let mut url = self.client.inner.auth_base.clone();
        url.set_path("/authorize");
        url.query_pairs_mut()
            .append_pair("audience", "api.atlassian.com")
            .append_pair("client_id", &oauth.config.client_id)
            .append_pair("scope", &scopes.join(" "))
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("state", state_param)
            .append_pair("response_type", "code")
            .append_pair("prompt", "consent");
        Ok(url)
    }

    /// Exchanges an authorization code for tokens and saves them to the store.
    pub async fn exchange_code(&self, code: &str, redirect_uri: &str) -> Result<TokenSet> {
        let oauth = state(self.client)?;
        let body = TokenRequest {
            grant_type: "authorization_code".into(),
            client_id: oauth.config.client_id.clone(),
            client_secret: oauth.config.client_secret.expose_secret().to_string(),
            code: Some(code.to_string()),
            redirect_uri: Some(redirect_uri.to_string()),
            refresh_token: None,
        };
        let resp = self
            .client
            .token_request(&body)
            .await
            .map_err(|e| token_error(e, Credential::OAuthClient))?;
        let tokens = token_set(resp, None, self.client.inner.clock.now());
        oauth
            .config
            .store
            .save(&tokens)
            .await
            .map_err(|source| Error::TokenStore { source })?;
        *oauth.current.lock().await = Some(tokens.clone());
        Ok(tokens)
    }

    /// Refreshes now, whatever the expiry.
    pub async fn refresh(&self) -> Result<()> {
        let oauth = state(self.client)?;
        let mut slot = oauth.current.lock().await;
        if slot.is_none() {
            *slot = oauth
                .config
                .store
                .load()
                .await
                .map_err(|source| Error::TokenStore { source })?;
        }
        self.client.refresh_locked(oauth, &mut slot).await
    }

    /// `GET /oauth/token/accessible-resources`: the sites (cloudIds) this token may call.
    pub async fn accessible_resources(&self) -> Result<Vec<AccessibleResource>> {
        let req = Request::new(
            Method::GET,
            Surface::Api,
            "/oauth/token/accessible-resources",
            &[],
        );
        self.client.execute_json(&req).await
    }
}
