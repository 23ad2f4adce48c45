//! Webhook delivery: user events recorded in the site's outbox become signed POSTs to every admin webhook that
//! listens, sent by a background task with bounded retries, so the request that caused them is never slowed.
//!
//! **For code that changes accounts (REST, JSM, SCIM, admin API, control plane):** after the change, while
//! holding the site lock, call
//! `site.record_user_event(UserEventKind::{Created|Updated|Deleted}, account_key)`. That is all: the outbox is
//! drained by `entry` in `app.rs` after every request (and by [`flush`] for direct callers). What fires:
//! - `user_created`: a new account gets the site (REST `POST /user`, JSM `POST /customer`, SCIM `POST /Users`);
//!   a call that returns an existing account fires nothing.
//! - `user_updated`: profile or active-state changes (display name, email, email privacy, activation or
//!   deactivation: SCIM `PUT`/`PATCH`/`DELETE`, admin suspend/restore, lifecycle disable/enable). Group
//!   membership and product access changes fire nothing, as at Atlassian.
//! - `user_deleted`: the account loses the site (REST `DELETE /user`, admin API `DELETE directory/users/{id}`).
//!
//! Delivery follows Atlassian's documented behaviour: body `{timestamp, webhookEvent, user}` (user in the
//! `UserDetails` shape, `emailAddress` absent when hidden); `X-Hub-Signature: sha256=<hex HMAC-SHA256(secret,
//! raw body)>` when the webhook has a secret; `X-Atlassian-Webhook-Identifier` stable across retries;
//! `X-Atlassian-Webhook-Retry` from the first retry on; retries on 408, 409, 425, 429, 5xx and connection
//! failures, with exponential backoff, at most [`WebhookConfig::max_attempts`] attempts. Targets must be
//! loopback unless [`WebhookConfig::allow_any_host`] is set.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use serde::Serialize;
use serde_json::json;
use sha2::Sha256;
use tokio::sync::{Semaphore, mpsc};
use url::{Host, Url};

use crate::Emulator;
use crate::site::{PendingEvent, Redacted};

/// Deliveries the log keeps for `GET /_emulator/webhooks/deliveries`.
const LOG_CAPACITY: usize = 1000;
/// Deliveries in flight at once.
const CONCURRENCY: usize = 32;

/// How webhooks are delivered.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookConfig {
    /// Accept targets on any host; by default only loopback (`127.0.0.0/8`, `::1`, `localhost`).
    pub allow_any_host: bool,
    /// Attempts per delivery, the first included (Atlassian does not publish its count).
    pub max_attempts: u32,
    /// Wait before the first retry; doubled for each further retry.
    pub backoff: Duration,
    /// Longest wait between two attempts.
    pub max_backoff: Duration,
    /// Time allowed for one attempt.
    pub timeout: Duration,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            allow_any_host: false,
            max_attempts: 5,
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            timeout: Duration::from_secs(10),
        }
    }
}

impl WebhookConfig {
    /// The wait before attempt `attempt` (2 for the first retry).
    pub fn delay_before(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(2).min(20);
        self.backoff
            .saturating_mul(1u32 << doublings)
            .min(self.max_backoff)
    }
}

/// Checks a webhook target: an absolute http(s) URL, on a loopback host unless any host is allowed.
pub fn check_target(url: &str, allow_any_host: bool) -> Result<Url, String> {
    let parsed = Url::parse(url.trim())
        .map_err(|e| format!("The webhook URL '{url}' is not a valid absolute URL: {e}."))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("The webhook URL '{url}' must use http or https."));
    }
    let loopback = match parsed.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => {
            return Err(format!("The webhook URL '{url}' has no host."));
        }
    };
    if !loopback && !allow_any_host {
        return Err(format!(
            "The webhook URL '{url}' is not on a loopback address: the emulator only delivers to 127.0.0.1, \
             ::1 or localhost unless it runs with --webhook-allow-any-host."
        ));
    }
    Ok(parsed)
}

/// `sha256=<hex>` of the HMAC-SHA256 of `body` under `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let hex = match <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(body);
            mac.finalize()
                .into_bytes()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        }
        // HMAC takes keys of any length, so this cannot happen; an empty signature would fail verification.
        Err(_) => String::new(),
    };
    format!("sha256={hex}")
}

/// One event for one webhook.
#[derive(Clone)]
struct Delivery {
    identifier: String,
    hook_id: u64,
    event: &'static str,
    url: String,
    body: Vec<u8>,
    secret: Option<Redacted>,
}

/// What happened to one attempt, for the control plane.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptRecord {
    pub identifier: String,
    pub webhook_id: u64,
    pub event: String,
    pub url: String,
    pub attempt: u32,
    /// The receiver's status, when it answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Why the attempt failed without an answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Whether another attempt follows.
    pub will_retry: bool,
}

/// The delivery queue and its background task (started on first use, inside the server's runtime).
#[derive(Debug)]
pub struct Dispatcher {
    config: WebhookConfig,
    sender: OnceLock<mpsc::UnboundedSender<Delivery>>,
    log: Arc<Mutex<VecDeque<AttemptRecord>>>,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("identifier", &self.identifier)
            .field("hook_id", &self.hook_id)
            .field("event", &self.event)
            .field("url", &self.url)
            .field("secret", &self.secret)
            .finish_non_exhaustive()
    }
}

impl Dispatcher {
    /// A dispatcher with these settings; nothing runs until the first delivery.
    pub fn new(config: WebhookConfig) -> Self {
        Self {
            config,
            sender: OnceLock::new(),
            log: Arc::new(Mutex::new(VecDeque::new())),
        }
    }

    /// The delivery settings.
    pub fn config(&self) -> &WebhookConfig {
        &self.config
    }

    /// Every recorded attempt, oldest first.
    pub fn attempts(&self) -> Vec<AttemptRecord> {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect()
    }

    fn enqueue(&self, delivery: Delivery) {
        let sender = self.sender.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            match tokio::runtime::Handle::try_current() {
                Ok(handle) => {
                    handle.spawn(run(self.config.clone(), rx, Arc::clone(&self.log)));
                }
                Err(_) => {
                    tracing::warn!("webhook deliveries need a tokio runtime; none is running")
                }
            }
            tx
        });
        if sender.send(delivery).is_err() {
            tracing::warn!("webhook delivery task has stopped; delivery dropped");
        }
    }
}

/// Turns the site's pending user events into deliveries and queues them. Called after every request.
pub fn flush(emu: &Emulator) {
    // The common case, nothing to send, costs a shared read lock only.
    if emu.site().webhooks.outbox.is_empty() {
        return;
    }
    let now = emu.now();
    let base = emu.base_url().to_string();
    let deliveries: Vec<Delivery> = {
        let mut site = emu.site_mut();
        let events = site.take_user_events();
        if events.is_empty() {
            return;
        }
        let mut out = Vec::new();
        for event in events {
            let body = payload(&event, now, &base);
            let hooks: Vec<(u64, String, Option<Redacted>, bool)> = site
                .webhooks
                .admin
                .iter()
                .filter(|h| h.enabled && h.events.iter().any(|e| e == event.kind.name()))
                .map(|h| (h.id, h.url.clone(), h.secret.clone(), h.exclude_body))
                .collect();
            for (hook_id, url, secret, exclude_body) in hooks {
                out.push(Delivery {
                    identifier: site.ids.uuid(),
                    hook_id,
                    event: event.kind.name(),
                    url,
                    body: if exclude_body {
                        Vec::new()
                    } else {
                        body.clone()
                    },
                    secret,
                });
            }
        }
        out
    };
    for delivery in deliveries {
        emu.webhooks().enqueue(delivery);
    }
}

fn payload(event: &PendingEvent, now: i64, base: &str) -> Vec<u8> {
    let user = &event.user;
    let account_id: String = form_urlencoded::byte_serialize(user.account_id.as_bytes()).collect();
    let mut details = json!({
        "self": format!("{base}/rest/api/2/user?accountId={account_id}"),
        "accountId": user.account_id,
        "accountType": user.account_type,
        "avatarUrls": user.avatar_urls,
        "displayName": user.display_name,
        "active": user.active,
        "timeZone": user.time_zone,
    });
    if let (Some(email), Some(map)) = (&user.email_address, details.as_object_mut()) {
        map.insert("emailAddress".into(), json!(email));
    }
    let body = json!({
        "timestamp": now,
        "webhookEvent": event.kind.name(),
        "user": details,
    });
    serde_json::to_vec(&body).unwrap_or_default()
}

async fn run(
    config: WebhookConfig,
    mut rx: mpsc::UnboundedReceiver<Delivery>,
    log: Arc<Mutex<VecDeque<AttemptRecord>>>,
) {
    let client = match reqwest::Client::builder()
        .timeout(config.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent("Atlassian Webhook HTTP Client")
        .build()
    {
        Ok(client) => client,
        Err(e) => {
            tracing::error!("cannot build the webhook HTTP client: {e}; webhooks are off");
            return;
        }
    };
    let permits = Arc::new(Semaphore::new(CONCURRENCY));
    while let Some(delivery) = rx.recv().await {
        let (client, config, log, permits) = (
            client.clone(),
            config.clone(),
            Arc::clone(&log),
            Arc::clone(&permits),
        );
        tokio::spawn(async move {
            let Ok(_permit) = permits.acquire_owned().await else {
                return;
            };
            deliver(&client, &config, &delivery, &log).await;
        });
    }
}

/// Whether Atlassian retries after this status.
pub fn retryable(status: u16) -> bool {
    matches!(status, 408 | 409 | 425 | 429) || (500..600).contains(&status)
}

async fn deliver(
    client: &reqwest::Client,
    config: &WebhookConfig,
    delivery: &Delivery,
    log: &Mutex<VecDeque<AttemptRecord>>,
) {
    let attempts = config.max_attempts.max(1);
    for attempt in 1..=attempts {
        if attempt > 1 {
            tokio::time::sleep(config.delay_before(attempt)).await;
        }
        let mut req = client
            .post(&delivery.url)
            .header("content-type", "application/json; charset=utf-8")
            .header("x-atlassian-webhook-identifier", &delivery.identifier)
            .header("x-atlassian-webhook-flow", "Primary")
            .body(delivery.body.clone());
        if attempt > 1 {
            req = req.header("x-atlassian-webhook-retry", (attempt - 1).to_string());
        }
        if let Some(secret) = &delivery.secret {
            req = req.header(
                "x-hub-signature",
                signature(secret.expose(), &delivery.body),
            );
        }
        let (status, error) = match req.send().await {
            Ok(resp) => (Some(resp.status().as_u16()), None),
            Err(e) => (None, Some(e.without_url().to_string())),
        };
        let failed = status.is_none_or(retryable);
        let will_retry = failed && attempt < attempts;
        record(
            log,
            AttemptRecord {
                identifier: delivery.identifier.clone(),
                webhook_id: delivery.hook_id,
                event: delivery.event.to_string(),
                url: delivery.url.clone(),
                attempt,
                status,
                error,
                will_retry,
            },
        );
        if !will_retry {
            return;
        }
    }
}

fn record(log: &Mutex<VecDeque<AttemptRecord>>, entry: AttemptRecord) {
    let mut log = log.lock().unwrap_or_else(PoisonError::into_inner);
    if log.len() >= LOG_CAPACITY {
        log.pop_front();
    }
    log.push_back(entry);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_target_is_checked_without_panicking(url in "\\PC{0,80}", any_host in any::<bool>()) {
            let _ = check_target(&url, any_host);
        }

        #[test]
        fn any_secret_signs(secret in "\\PC{0,80}", body in proptest::collection::vec(any::<u8>(), 0..128)) {
            let sig = signature(&secret, &body);
            prop_assert!(sig.starts_with("sha256=") && sig.len() == 7 + 64);
        }
    }

    #[test]
    fn loopback_only_by_default() {
        assert!(check_target("http://127.0.0.1:9/hook", false).is_ok());
        assert!(check_target("http://127.8.0.1/hook", false).is_ok());
        assert!(check_target("http://[::1]:80/hook", false).is_ok());
        assert!(check_target("https://LOCALHOST/hook", false).is_ok());
        let far = check_target("https://example.com/hook", false);
        assert!(far.is_err_and(|e| e.contains("loopback")));
        assert!(check_target("https://example.com/hook", true).is_ok());
        assert!(check_target("http://10.0.0.1/hook", false).is_err());
        assert!(check_target("ftp://127.0.0.1/hook", true).is_err());
        assert!(check_target("/relative", true).is_err());
        assert!(check_target("", true).is_err());
    }

    #[test]
    fn hmac_matches_a_known_vector() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn retry_rules_and_backoff() {
        for s in [408, 409, 425, 429, 500, 503, 599] {
            assert!(retryable(s), "{s}");
        }
        for s in [200, 204, 301, 400, 401, 404, 410] {
            assert!(!retryable(s), "{s}");
        }
        let c = WebhookConfig::default();
        assert_eq!(c.delay_before(2), Duration::from_secs(1));
        assert_eq!(c.delay_before(3), Duration::from_secs(2));
        assert_eq!(c.delay_before(5), Duration::from_secs(8));
        assert_eq!(c.delay_before(50), Duration::from_secs(30));
    }
}
