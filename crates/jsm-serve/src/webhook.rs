//! `POST /webhooks/atlassian`: Atlassian's admin user webhooks. The signature (`X-Hub-Signature: sha256=HEX`,
//! HMAC-SHA256 of the raw body) is checked in constant time before anything else is read; a bad one gets 401 and
//! changes nothing. A delivery is recorded by `X-Atlassian-Webhook-Identifier` together with the job it queues, so
//! a replay queues nothing. `user_created`, `user_updated` and `user_deleted` queue a reconcile of that one person.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, KeyInit, Mac};
use jsm_store::{DeliveryOutcome, WebhookDelivery};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use utoipa::ToSchema;

use crate::error::{Error, ErrorBody, Result};
use crate::jobs::Job;
use crate::state::AppState;

/// The user events that queue a reconcile of their person.
pub const USER_EVENTS: [&str; 3] = ["user_created", "user_updated", "user_deleted"];

/// The answer to an accepted delivery.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WebhookAck {
    /// `accepted` the first time, `duplicate` for a replay of an identifier already seen.
    pub status: String,
    /// The job this delivery (or, for a replay, its first delivery) queued, if any.
    pub job_id: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct Payload {
    #[serde(rename = "webhookEvent")]
    webhook_event: Option<String>,
    user: Option<PayloadUser>,
}

#[derive(Debug, Deserialize)]
struct PayloadUser {
    #[serde(rename = "accountId")]
    account_id: Option<String>,
}

/// Whether `header` (`sha256=HEX`) is the HMAC-SHA256 of `body` under `secret`, compared in constant time.
pub fn verify_signature(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(hex) = header.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Some(expected) = decode_hex(hex) else {
        return false;
    };
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// `sha256=HEX` for `body` under `secret`, as Atlassian sends it (for tests and the benchmark).
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let hex = match <Hmac<Sha256> as KeyInit>::new_from_slice(secret) {
        Ok(mut mac) => {
            mac.update(body);
            mac.finalize()
                .into_bytes()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        }
        Err(_) => String::new(),
    };
    format!("sha256={hex}")
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Receives one delivery.
#[utoipa::path(
    post,
    path = "/webhooks/atlassian",
    tag = "webhooks",
    request_body(content = serde_json::Value, description = "Atlassian's webhook body ({timestamp, webhookEvent, user})"),
    params(
        ("X-Hub-Signature" = String, Header, description = "sha256=HEX: HMAC-SHA256 of the raw body under the shared secret"),
        ("X-Atlassian-Webhook-Identifier" = String, Header, description = "Stable across retries; replays are deduplicated by it"),
    ),
    responses(
        (status = 202, description = "Accepted (or a replay, deduplicated)", body = WebhookAck),
        (status = 400, description = "Signed, but not a delivery we can read", body = ErrorBody),
        (status = 401, description = "Missing or bad signature; nothing was recorded", body = ErrorBody),
        (status = 413, description = "Body too large"),
    ),
    security(())
)]
pub async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    match accept(&state, &headers, &body).await {
        Ok(ack) => {
            state.metrics().webhook(&ack.status);
            (StatusCode::ACCEPTED, axum::Json(ack)).into_response()
        }
        Err(e) => {
            let outcome = match &e {
                Error::Unauthorized(_) => "bad_signature",
                Error::BadRequest(_) => "bad_request",
                _ => "error",
            };
            state.metrics().webhook(outcome);
            e.into_response()
        }
    }
}

async fn accept(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<WebhookAck> {
    let Some(secret) = &state.config().webhook_secret else {
        tracing::warn!(
            "a webhook arrived but no secret is configured (JSMCTL_WEBHOOK_SECRET); refused"
        );
        return Err(Error::Unauthorized(
            "webhooks are refused: no webhook secret is configured".into(),
        ));
    };
    let signature = headers
        .get("x-hub-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !verify_signature(secret.expose_secret().as_bytes(), body, signature) {
        return Err(Error::Unauthorized(
            "X-Hub-Signature does not match the body".into(),
        ));
    }
    let identifier = headers
        .get("x-atlassian-webhook-identifier")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.len() <= 200)
        .ok_or_else(|| Error::BadRequest("X-Atlassian-Webhook-Identifier is missing".into()))?;
    let payload: Payload = serde_json::from_slice(body)
        .map_err(|e| Error::BadRequest(format!("the body is not a webhook payload: {e}")))?;
    let event = payload
        .webhook_event
        .ok_or_else(|| Error::BadRequest("webhookEvent is missing".into()))?;
    let account_id = payload.user.and_then(|u| u.account_id);
    let config = state.config();
    let now = state.now();
    let job = match (&account_id, USER_EVENTS.contains(&event.as_str())) {
        (Some(person), true) => Some(Job::Reconcile {
            site: config.site.clone(),
            source: config.source.clone().unwrap_or_else(|| "default".into()),
            person: Some(person.clone()),
        }),
        (None, true) => {
            return Err(Error::BadRequest(format!("{event} without user.accountId")));
        }
        _ => None,
    };
    let new = job.as_ref().map(|j| j.to_new(config, "webhook", now));
    let outcome = state
        .store()
        .webhook_accept(
            &WebhookDelivery {
                identifier: identifier.to_string(),
                received_at: now,
                event,
                account_id,
            },
            new.as_ref(),
        )
        .await?;
    Ok(match outcome {
        DeliveryOutcome::Accepted(job_id) => {
            if job_id.is_some() {
                state.wake_worker();
            }
            WebhookAck {
                status: "accepted".into(),
                job_id,
            }
        }
        DeliveryOutcome::Duplicate(job_id) => WebhookAck {
            status: "duplicate".into(),
            job_id,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_only_for_the_exact_body_and_secret() {
        let sig = sign(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            sig,
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(verify_signature(
            b"Jefe",
            b"what do ya want for nothing?",
            &sig
        ));
        assert!(!verify_signature(
            b"Jefe",
            b"what do ya want for nothing!",
            &sig
        ));
        assert!(!verify_signature(
            b"jefe",
            b"what do ya want for nothing?",
            &sig
        ));
        assert!(!verify_signature(b"Jefe", b"x", "sha1=00"));
        assert!(!verify_signature(b"Jefe", b"x", "sha256=zz"));
        assert!(!verify_signature(b"Jefe", b"x", ""));
    }
}
