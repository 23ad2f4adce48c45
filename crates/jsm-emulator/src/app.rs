//! The router and the request pipeline: prefix stripping, faults, rate limits, authentication, surface-shaped
//! errors and the request log.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::body::Body as AxumBody;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;

use crate::clock::iso_utc;
use crate::http::{ApiError, Routed, Surface};
use crate::limits::Verdict;
use crate::log::LogEntry;
use crate::{Emulator, auth, control, oauth, routes, webhooks};

/// The emulator as an axum router; `main` and tests share it.
pub fn app(emu: Emulator) -> Router {
    let jira = routes::jira::router();
    let api = Router::new()
        .nest("/rest/api/3", jira.clone())
        .nest("/rest/api/2", jira.clone())
        .nest("/rest/api/latest", jira)
        .nest("/rest/servicedeskapi", routes::jsm::router())
        .nest("/rest/webhooks/1.0", routes::webhooks::admin_router())
        .fallback(not_found)
        .layer(from_fn_with_state(emu.clone(), pipeline))
        .nest("/_emulator", control::guarded(emu.clone()))
        .merge(oauth::router())
        .with_state(emu.clone());
    let outer = from_fn_with_state(emu, entry);
    Router::new().fallback_service(tower::Layer::layer(&outer, api))
}

/// Serves the emulator on `listener` until `shutdown` completes; links point at the listener's address.
pub async fn serve(
    listener: TcpListener,
    emu: Emulator,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    emu.set_base_url(&format!("http://{}", listener.local_addr()?));
    axum::serve(listener, app(emu))
        .with_graceful_shutdown(shutdown)
        .await
}

async fn not_found() -> ApiError {
    ApiError::not_found("null for uri: the requested resource does not exist.")
}

/// Account id of the caller, for the request log and `X-AACCOUNTID`.
#[derive(Debug, Clone)]
struct CallerId(String);

/// Runs before routing: strips any prefix before `/rest` (`/ex/jira/{cloudId}`, `/jira`, ...), then writes errors
/// in the shape of the request's surface and logs the answer.
async fn entry(State(emu): State<Emulator>, mut req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let original = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let routed = match original.find("/rest/") {
        Some(at) if at > 0 => Routed {
            path: original[at..].to_string(),
            prefix: original[..at].trim_end_matches('/').to_string(),
        },
        _ => Routed {
            path: original.clone(),
            prefix: String::new(),
        },
    };
    if !routed.prefix.is_empty() {
        let pq = if query.is_empty() {
            routed.path.clone()
        } else {
            format!("{}?{query}", routed.path)
        };
        if let Ok(uri) = pq.parse::<Uri>() {
            *req.uri_mut() = uri;
        }
    }
    let surface = Surface::of(&routed.path);
    req.extensions_mut().insert(routed);
    let mut resp = next.run(req).await;
    webhooks::flush(&emu);
    if surface != Surface::Jira
        && let Some(err) = resp.extensions_mut().remove::<ApiError>()
    {
        let extensions = std::mem::take(resp.extensions_mut());
        resp = err.render(surface);
        *resp.extensions_mut() = extensions;
    }
    if surface != Surface::Control {
        emu.log().push(LogEntry {
            seq: 0,
            at: emu.now(),
            method,
            path: original,
            query,
            status: resp.status().as_u16(),
            account_id: resp.extensions().get::<CallerId>().map(|c| c.0.clone()),
        });
    }
    resp
}

/// Runs after routing, for the Atlassian surfaces: faults, rate limit, authentication, response headers.
async fn pipeline(
    State(emu): State<Emulator>,
    matched: Option<MatchedPath>,
    mut req: Request,
    next: Next,
) -> Response {
    let method = req.method().as_str().to_string();
    let path = req
        .extensions()
        .get::<Routed>()
        .map(|r| r.path.clone())
        .unwrap_or_else(|| req.uri().path().to_string());
    let route = matched
        .as_ref()
        .map_or(path.as_str(), MatchedPath::as_str)
        .to_string();

    if let Some(fault) = emu.faults().draw(&method, &path) {
        if fault.delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(fault.delay_ms)).await;
        }
        if fault.drop {
            return dropped_connection();
        }
        if let Some(status) = fault.status.and_then(|s| StatusCode::from_u16(s).ok()) {
            let mut err = ApiError::new(status, injected_message(status));
            if let Some(secs) = fault.retry_after {
                err = err.header("retry-after", secs);
            }
            if status == StatusCode::TOO_MANY_REQUESTS {
                err = err.header("ratelimit-reason", "jira-burst-based");
            }
            return err.into_response();
        }
    }

    let now = emu.now();
    let verdict = emu.limits().check(&method, &route, now);
    if let Verdict::Limited {
        retry_after,
        reset,
        limit,
        reason,
    } = verdict
    {
        return ApiError::new(StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded.")
            .key("sd.error.rate.limit")
            .header("retry-after", retry_after)
            .header("x-ratelimit-limit", limit)
            .header("x-ratelimit-remaining", 0)
            .header("x-ratelimit-reset", iso_utc(reset))
            .header("ratelimit-reason", reason)
            .into_response();
    }

    let caller = match auth::authenticate(&emu, &mut req, &method, &route) {
        Ok(caller) => caller,
        Err(refusal) => return refusal.into_response(),
    };
    let caller_id = caller
        .account
        .map(|k| emu.site().account(k).account_id.clone());
    req.extensions_mut().insert(caller);

    let mut resp = next.run(req).await;
    let headers = resp.headers_mut();
    if let Verdict::Allowed { limit, remaining } = verdict {
        headers.insert("x-ratelimit-limit", HeaderValue::from(limit));
        headers.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
        if remaining * 5 < limit {
            headers.insert("x-ratelimit-nearlimit", HeaderValue::from_static("true"));
        }
    }
    if let Ok(v) = HeaderValue::from_str(&emu.next_request_id()) {
        headers.insert("x-arequestid", v);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store, no-transform"),
    );
    if let Some(id) = caller_id {
        let encoded: String = form_urlencoded::byte_serialize(id.as_bytes()).collect();
        if let Ok(v) = HeaderValue::from_str(&encoded) {
            headers.insert("x-aaccountid", v);
        }
        resp.extensions_mut().insert(CallerId(id));
    }
    if emu.limits().quota_enabled() {
        resp = charge_quota(&emu, resp, now).await;
    }
    resp
}

fn injected_message(status: StatusCode) -> &'static str {
    match status.as_u16() {
        429 => "Rate limit exceeded.",
        503 => "Service temporarily unavailable. Please try again later.",
        _ => "Internal server error.",
    }
}

/// A response whose body fails at once, so the connection is cut mid-answer.
fn dropped_connection() -> Response {
    let stream = futures::stream::once(async {
        Err::<axum::body::Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "fault injection: connection dropped",
        ))
    });
    Response::new(AxumBody::from_stream(stream))
}

/// Charges the points quota: 1 per request plus 2 per user or group object in the answer.
async fn charge_quota(emu: &Emulator, resp: Response, now: i64) -> Response {
    let (parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "could not buffer the response",
        )
            .into_response();
    };
    let objects = serde_json::from_slice::<serde_json::Value>(&bytes)
        .map(|v| match &v {
            serde_json::Value::Array(items) => items.len(),
            serde_json::Value::Object(o) => o
                .get("values")
                .and_then(|x| x.as_array())
                .map_or(1, Vec::len),
            _ => 0,
        })
        .unwrap_or(0);
    emu.limits().charge(1 + 2 * objects as u64, now);
    Response::from_parts(parts, AxumBody::from(bytes))
}
