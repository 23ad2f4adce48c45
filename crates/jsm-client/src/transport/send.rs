//! The send loop every request goes through:
//! limiter (tenant pause + per-key pacing) → concurrency permit → send → classify → maybe wait and retry.
//!
//! Retry rules:
//! - 429: wait `max(server wait, backoff) × jitter` (never below the server's wait); quota reasons pause the whole
//!   tenant, other reasons only the endpoint class. Only idempotent requests are retried.
//! - 5xx, a 409 on a read (`users/search` timing out), and transport errors: exponential backoff with jitter,
//!   idempotent requests only. A connect error is retried for any method: the request never left.
//! - 401 with OAuth: refresh the access token once and resend; otherwise `Error::Auth` naming the credential.
//! - Everything is bounded by `max_retries` and `max_total_wait`.

use std::time::Duration;

use reqwest::Method;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use secrecy::ExposeSecret;
use url::Url;

use super::limiter::LimitKey;
use super::retry;
use super::{Request, Response, Surface};
use crate::Client;
use crate::auth::bearer;
use crate::error::{ApiErrorBody, AuthReason, Credential, Error, Result};
use crate::observer::{Event, RetryCause};

/// What to do after an attempt failed in a retryable way.
struct Retry {
    cause: RetryCause,
    server_wait: Option<Duration>,
    error: Error,
}

/// The credential a surface sends, and its header (OAuth access tokens are fetched or refreshed as needed).
struct AuthUsed {
    header: Option<HeaderValue>,
    credential: Option<Credential>,
    oauth_token: Option<secrecy::SecretString>,
}

fn request_id(headers: &HeaderMap, body: &ApiErrorBody) -> Option<String> {
    for name in ["x-arequestid", "atl-traceid", "x-trace-id", "x-request-id"] {
        if let Some(v) = headers.get(name).and_then(|v| v.to_str().ok()) {
            return Some(v.to_string());
        }
    }
    match body {
        ApiErrorBody::Admin(a) => a.errors.iter().find_map(|e| e.id.clone()),
        _ => None,
    }
}

impl Client {
    pub(crate) fn base_for(&self, surface: Surface) -> Result<Url> {
        let inner = &self.inner;
        match surface {
            Surface::Product => inner.product_base.clone().ok_or_else(|| {
                Error::config("no site URL or gateway + cloudId configured for Jira/JSM calls")
            }),
            Surface::Scim => inner
                .scim
                .as_ref()
                .map(|s| s.base.clone())
                .ok_or(Error::Auth {
                    credential: Credential::ScimKey,
                    reason: AuthReason::Missing,
                }),
            Surface::Admin | Surface::Api => Ok(inner.api_base.clone()),
            Surface::OAuthToken => Ok(inner.auth_base.clone()),
        }
    }

    async fn auth_for(&self, surface: Surface) -> Result<AuthUsed> {
        let inner = &self.inner;
        let none = AuthUsed {
            header: None,
            credential: None,
            oauth_token: None,
        };
        match surface {
            Surface::OAuthToken => Ok(none),
            Surface::Product | Surface::Api if inner.oauth.is_some() => {
                let token = self.oauth_access_token().await?;
                Ok(AuthUsed {
                    header: Some(bearer(&token, Credential::OAuthAccessToken)?),
                    credential: Some(Credential::OAuthAccessToken),
                    oauth_token: Some(token),
                })
            }
            Surface::Product => match &inner.basic {
                Some(b) => Ok(AuthUsed {
                    header: Some(b.header()?),
                    credential: Some(Credential::ApiToken),
                    oauth_token: None,
                }),
                None => Err(Error::Auth {
                    credential: Credential::ApiToken,
                    reason: AuthReason::Missing,
                }),
            },
            Surface::Api => Err(Error::Auth {
                credential: Credential::OAuthAccessToken,
                reason: AuthReason::Missing,
            }),
            Surface::Scim => match &inner.scim {
                Some(s) => Ok(AuthUsed {
                    header: Some(bearer(&s.key, Credential::ScimKey)?),
                    credential: Some(Credential::ScimKey),
                    oauth_token: None,
                }),
                None => Err(Error::Auth {
                    credential: Credential::ScimKey,
                    reason: AuthReason::Missing,
                }),
            },
            Surface::Admin => match &inner.admin {
                Some(a) => Ok(AuthUsed {
                    header: Some(bearer(&a.key, Credential::AdminKey)?),
                    credential: Some(Credential::AdminKey),
                    oauth_token: None,
                }),
                None => Err(Error::Auth {
                    credential: Credential::AdminKey,
                    reason: AuthReason::Missing,
                }),
            },
        }
    }

    fn url_for(&self, base: &Url, req: &Request) -> Url {
        let mut url = base.clone();
        let prefix = base.path().trim_end_matches('/');
        url.set_path(&format!("{prefix}{}", req.path));
        url.set_query(None);
        if !req.query.is_empty() {
            url.query_pairs_mut().extend_pairs(req.query.iter());
        }
        url
    }

    fn emit(&self, event: Event) {
        self.inner.observer.on_event(&event);
    }

    /// Sends `req` through the limiter and retry rules; returns a 2xx/3xx answer or a typed error.
    pub(crate) async fn execute(&self, req: &Request) -> Result<Response> {
        let inner = &self.inner;
        let base = self.base_for(req.surface)?;
        let url = self.url_for(&base, req);
        let endpoint = req.endpoint();
        let key = LimitKey {
            tenant: base.as_str().to_string(),
            class: req.class.to_string(),
            method: req.method.clone(),
        };
        let class = key.class.clone();
        let max_total = inner.retry.max_total_wait;
        let mut attempt: u32 = 0;
        let mut waited = Duration::ZERO;
        let mut reauthenticated = false;
        loop {
            let limiter_wait = inner
                .limiter
                .acquire(&key, inner.clock.as_ref(), max_total.saturating_sub(waited))
                .await
                .map_err(|too_long| Error::RateLimited {
                    retry_after: Some(too_long.wait),
                    reason: None,
                })?;
            if !limiter_wait.is_zero() {
                waited += limiter_wait;
                tracing::debug!(class = %class, wait_ms = limiter_wait.as_millis() as u64, "limiter held request");
                self.emit(Event::LimiterWait {
                    class: class.clone(),
                    wait: limiter_wait,
                });
            }
            let auth = self.auth_for(req.surface).await?;
            let permit = inner
                .permits
                .acquire()
                .await
                .map_err(|_| Error::config("client is shut down"))?;
            self.emit(Event::Sent {
                method: req.method.to_string(),
                class: class.clone(),
                attempt,
            });
            let started = inner.clock.instant();
            let outcome = self.send_once(req, &url, &auth).await;
            drop(permit);
            let retry = match outcome {
                Err(source) => {
                    let never_sent = source.is_connect();
                    let error = Error::Transport {
                        endpoint: endpoint.clone(),
                        source,
                    };
                    if !(req.idempotent || never_sent) {
                        tracing::warn!(endpoint = %endpoint, "not retrying a non-idempotent request after a transport error");
                        return Err(error);
                    }
                    Retry {
                        cause: RetryCause::Transport,
                        server_wait: None,
                        error,
                    }
                }
                Ok((status, headers, body)) => {
                    let elapsed = inner.clock.instant().saturating_duration_since(started);
                    self.emit(Event::Answered {
                        method: req.method.to_string(),
                        class: class.clone(),
                        status,
                        elapsed,
                        request_id: request_id(&headers, &ApiErrorBody::Empty),
                    });
                    inner
                        .limiter
                        .observe(&key, &headers, status, inner.clock.instant());
                    match status {
                        100..=399 => {
                            return Ok(Response {
                                status,
                                headers,
                                body,
                                endpoint,
                            });
                        }
                        429 => {
                            let now = inner.clock.now();
                            let server_wait =
                                retry::server_wait(&headers, now, inner.retry.min_retry_after);
                            let reason = retry::reason(&headers);
                            let scope = retry::scope_for(reason.as_deref());
                            tracing::warn!(class = %class, reason = ?reason, retry_after_ms = server_wait.map(|d| d.as_millis() as u64), scope = ?scope, "throttled (429)");
                            self.emit(Event::Throttled {
                                class: class.clone(),
                                reason: reason.clone(),
                                scope,
                                retry_after: server_wait,
                            });
                            let pause = server_wait.unwrap_or_else(|| inner.retry.backoff(attempt));
                            inner
                                .limiter
                                .throttled(&key, scope, pause, inner.clock.instant());
                            let error = Error::RateLimited {
                                retry_after: server_wait,
                                reason,
                            };
                            if !req.idempotent {
                                return Err(error);
                            }
                            Retry {
                                cause: RetryCause::RateLimited,
                                server_wait,
                                error,
                            }
                        }
                        401 if auth.oauth_token.is_some() && !reauthenticated => {
                            reauthenticated = true;
                            if let Some(used) = &auth.oauth_token {
                                self.oauth_refresh_after_rejection(used).await?;
                            }
                            self.emit(Event::Retrying {
                                class: class.clone(),
                                attempt,
                                wait: Duration::ZERO,
                                cause: RetryCause::Reauthenticated,
                            });
                            continue;
                        }
                        401 => {
                            let credential = auth.credential.unwrap_or(Credential::ApiToken);
                            return Err(Error::Auth {
                                credential,
                                reason: AuthReason::Rejected,
                            });
                        }
                        _ => {
                            let body_parsed = ApiErrorBody::parse(&body);
                            let request_id = request_id(&headers, &body_parsed);
                            let error = Error::Api {
                                status,
                                body: Box::new(body_parsed),
                                request_id,
                                endpoint: endpoint.clone(),
                            };
                            let transient =
                                status >= 500 || (status == 409 && req.method == Method::GET);
                            if !(transient && req.idempotent) {
                                return Err(error);
                            }
                            let server_wait = retry::retry_after(&headers, inner.clock.now());
                            Retry {
                                cause: RetryCause::Status(status),
                                server_wait,
                                error,
                            }
                        }
                    }
                }
            };
            if attempt >= inner.retry.max_retries {
                tracing::warn!(endpoint = %endpoint, attempts = attempt + 1, "giving up: retries exhausted");
                return Err(retry.error);
            }
            let wait = inner
                .retry
                .wait(attempt, retry.server_wait, inner.jitter.sample());
            if waited + wait > max_total {
                tracing::warn!(endpoint = %endpoint, wait_ms = wait.as_millis() as u64, "giving up: total wait bound reached");
                return Err(retry.error);
            }
            attempt += 1;
            waited += wait;
            tracing::info!(class = %class, attempt, wait_ms = wait.as_millis() as u64, cause = ?retry.cause, "retrying");
            self.emit(Event::Retrying {
                class: class.clone(),
                attempt,
                wait,
                cause: retry.cause,
            });
            inner.clock.sleep(wait).await;
        }
    }

    async fn send_once(
        &self,
        req: &Request,
        url: &Url,
        auth: &AuthUsed,
    ) -> std::result::Result<(u16, HeaderMap, Vec<u8>), reqwest::Error> {
        let mut builder = self
            .inner
            .http
            .request(req.method.clone(), url.clone())
            .header(ACCEPT, HeaderValue::from_static("application/json"));
        if let Some(h) = &auth.header {
            builder = builder.header(AUTHORIZATION, h.clone());
        }
        if req.experimental {
            builder = builder.header("X-ExperimentalApi", HeaderValue::from_static("opt-in"));
        }
        if let Some(body) = &req.body {
            builder = builder
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .body(body.clone());
        }
        let resp = builder.send().await?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.bytes().await?.to_vec();
        Ok((status, headers, body))
    }

    /// Sends and decodes a JSON answer.
    pub(crate) async fn execute_json<T: serde::de::DeserializeOwned>(
        &self,
        req: &Request,
    ) -> Result<T> {
        self.execute(req).await?.json()
    }
}

/// Compares two secrets without exposing them beyond this function.
pub(crate) fn same_secret(a: &secrecy::SecretString, b: &secrecy::SecretString) -> bool {
    a.expose_secret() == b.expose_secret()
}
