//! The router and the request pipeline: prefix stripping, faults, rate limits, authentication, surface-shaped
//! errors and the request log.

use std::future::Future;

use axum::Router;
use axum::body::Body as AxumBody;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;

use crate::http::{ApiError, Routed, Surface};
use crate::log::LogEntry;
use crate::{Emulator, auth, control, gate, oauth, routes, webhooks};

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
        .merge(identity_surfaces(emu.clone()))
        .merge(oauth::router())
        .with_state(emu.clone());
    let outer = from_fn_with_state(emu, entry);
    Router::new().fallback_service(tower::Layer::layer(&outer, api))
}

/// SCIM, the organizations admin API and the user management API, behind their own Bearer keys.
fn identity_surfaces(emu: Emulator) -> Router<Emulator> {
    Router::new()
        .nest("/scim/directory/{directoryId}", routes::scim::router())
        .nest("/admin/v1", routes::admin::router())
        .nest("/admin/v2", routes::admin::v2_router())
        .nest("/admin/api-access/v1", routes::admin::api_access_router())
        .nest("/users/{accountId}/manage", routes::user_manage::router())
        .layer(from_fn_with_state(emu, crate::identity::guard))
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
    let method = req.method().clone();
    let method = method.as_str();
    let path = req
        .extensions()
        .get::<Routed>()
        .map(|r| r.path.clone())
        .unwrap_or_else(|| req.uri().path().to_string());
    let route = matched.as_ref().map_or(path.as_str(), MatchedPath::as_str);

    let now = emu.now();
    let verdict = match gate::admit(&emu, method, &path, route, now).await {
        Ok(verdict) => verdict,
        Err(answer) => return answer,
    };

    let caller = match auth::authenticate(&emu, &mut req, method, route) {
        Ok(caller) => caller,
        Err(refusal) => return refusal.into_response(),
    };
    let caller_id = caller
        .account
        .map(|k| emu.site().account(k).account_id.clone());
    if let Some(account) = caller.account {
        emu.touch_last_active(account, &path, now);
    }
    req.extensions_mut().insert(caller);

    let mut resp = next.run(req).await;
    gate::finish(&emu, &verdict, resp.headers_mut());
    let headers = resp.headers_mut();
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
