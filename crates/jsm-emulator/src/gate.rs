//! What every Atlassian surface does around its handlers: injected faults and the rate limiter before, and the
//! rate-limit, request-id and cache headers after. The Jira/JSM pipeline and the identity surfaces (SCIM, admin
//! API, user management) share it, each with its own authentication in between.

use std::time::Duration;

use axum::body::Body as AxumBody;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::Emulator;
use crate::clock::iso_utc;
use crate::http::ApiError;
use crate::limits::Verdict;

/// Draws faults, then takes a rate-limit token for `method` on `route`: `Err` is the answer to send instead of
/// running the handler (an injected error, a dropped connection, or a 429).
pub async fn admit(
    emu: &Emulator,
    method: &str,
    path: &str,
    route: &str,
    now: i64,
) -> Result<Verdict, Response> {
    if let Some(fault) = emu.faults().draw(method, path) {
        if fault.delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(fault.delay_ms)).await;
        }
        if fault.drop {
            return Err(dropped_connection());
        }
        if let Some(status) = fault.status.and_then(|s| StatusCode::from_u16(s).ok()) {
            let mut err = ApiError::new(status, injected_message(status));
            if let Some(secs) = fault.retry_after {
                err = err.header("retry-after", secs);
            }
            if status == StatusCode::TOO_MANY_REQUESTS {
                err = err.header("ratelimit-reason", "jira-burst-based");
            }
            return Err(err.into_response());
        }
    }
    let verdict = emu.limits().check(method, route, now);
    if let Verdict::Limited {
        retry_after,
        reset,
        limit,
        reason,
    } = verdict
    {
        return Err(
            ApiError::new(StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded.")
                .key("sd.error.rate.limit")
                .code("ADMIN-429-1")
                .header("retry-after", retry_after)
                .header("x-ratelimit-limit", limit)
                .header("x-ratelimit-remaining", 0)
                .header("x-ratelimit-reset", iso_utc(reset))
                .header("ratelimit-reason", reason)
                .into_response(),
        );
    }
    Ok(verdict)
}

/// Headers every answer carries: `X-RateLimit-*` (with `NearLimit` under 20%), `X-ARequestId`, `Cache-Control`.
pub fn finish(emu: &Emulator, verdict: &Verdict, headers: &mut HeaderMap) {
    if let Verdict::Allowed { limit, remaining } = *verdict {
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
