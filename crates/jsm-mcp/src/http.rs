//! Streamable HTTP: the server as an OAuth 2.0 resource server. Every request's `Host` and `Origin` are checked
//! (DNS rebinding); `/mcp` needs a bearer token of a configured agent (SHA-256 compared in constant time) and
//! answers 401 or 403 with `WWW-Authenticate` and `resource_metadata`; RFC 9728 protected-resource metadata is
//! served under `/.well-known/oauth-protected-resource`. The client's token stops here: the handler never sees
//! it, and Atlassian is called only with the server's own credentials.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;

use crate::config::{Agent, McpConfig, SCOPE_READ, SCOPES};
use crate::error::{Error, Result};
use crate::jwt::{JwtVerifier, Refusal};
use crate::server::{Authenticated, McpServer};
use crate::tools::{ToolError, code};

/// Largest request body accepted on `/mcp`.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The path of the MCP endpoint.
pub const MCP_PATH: &str = "/mcp";

/// The well-known path of RFC 9728 protected-resource metadata.
pub const PRM_PATH: &str = "/.well-known/oauth-protected-resource";

struct Guard {
    server: McpServer,
    resource: String,
    metadata_url: String,
    allowed_hosts: Vec<String>,
    allowed_origins: Vec<String>,
    agents: Vec<(String, [u8; 32])>,
    jwt: Option<JwtVerifier>,
}

/// The resource (audience) of a server listening at `base_url`: the config's, else `{base_url}/mcp`.
pub fn resource_of(config: &McpConfig, base_url: &str) -> String {
    config
        .http
        .resource
        .clone()
        .unwrap_or_else(|| format!("{}{MCP_PATH}", base_url.trim_end_matches('/')))
}

/// RFC 9728 §3.1: the metadata URL inserts the well-known path between the resource's origin and its path.
fn metadata_url(resource: &str) -> String {
    let (origin, path) = match resource.find("://") {
        Some(i) => match resource[i + 3..].find('/') {
            Some(j) => resource.split_at(i + 3 + j),
            None => (resource, ""),
        },
        None => (resource, ""),
    };
    format!("{origin}{PRM_PATH}{}", path.trim_end_matches('/'))
}

fn unhex(s: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if s.len() != 64 {
        return None;
    }
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(s.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Equal in time independent of where the bytes differ.
fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The router: the MCP endpoint behind auth, the metadata open; `Host` and `Origin` checked on both.
pub fn app(server: McpServer, base_url: &str) -> Router {
    let config = server.config().clone();
    let resource = resource_of(&config, base_url);
    let guard = Arc::new(Guard {
        metadata_url: metadata_url(&resource),
        resource: resource.clone(),
        allowed_hosts: config.allowed_hosts(),
        allowed_origins: config.http.allowed_origins.clone(),
        agents: config
            .agents
            .iter()
            .filter_map(|(name, a)| {
                a.token_sha256
                    .as_deref()
                    .and_then(unhex)
                    .map(|h| (name.clone(), h))
            })
            .collect(),
        jwt: config
            .http
            .jwt
            .clone()
            .map(|j| JwtVerifier::new(j, &resource)),
        server: server.clone(),
    });
    let transport = StreamableHttpServerConfig::default()
        .with_allowed_hosts(guard.allowed_hosts.clone())
        .with_allowed_origins(guard.allowed_origins.clone())
        .enforce_origin_validation()
        .with_max_request_body_bytes(MAX_BODY_BYTES);
    let factory_server = server.clone();
    let mcp = StreamableHttpService::new(
        move || Ok(factory_server.clone()),
        LocalSessionManager::default().into(),
        transport,
    );
    let metadata_path = metadata_url(&resource)
        .split_once(PRM_PATH)
        .map(|(_, p)| format!("{PRM_PATH}{p}"))
        .unwrap_or_else(|| PRM_PATH.to_string());
    let mut open = Router::new().route(PRM_PATH, get(metadata));
    if metadata_path != PRM_PATH {
        open = open.route(&metadata_path, get(metadata));
    }
    let protected = Router::new()
        .nest_service(MCP_PATH, mcp)
        .layer(middleware::from_fn_with_state(guard.clone(), authenticate));
    open.with_state(guard.clone())
        .merge(protected)
        .layer(middleware::from_fn_with_state(guard, host_and_origin))
}

/// Serves `app` on the listener until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    server: McpServer,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let addr = listener
        .local_addr()
        .map_err(|e| Error::Transport(e.to_string()))?;
    let router = app(server, &format!("http://{addr}"));
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| Error::Transport(e.to_string()))
}

async fn metadata(State(guard): State<Arc<Guard>>) -> Response {
    let config = guard.server.config();
    let mut servers = config.http.authorization_servers.clone();
    if let Some(jwt) = &config.http.jwt
        && servers.is_empty()
    {
        servers.push(jwt.issuer.clone());
    }
    axum::Json(json!({
        "resource": guard.resource,
        "authorization_servers": servers,
        "scopes_supported": SCOPES,
        "bearer_methods_supported": ["header"],
        "resource_name": "jsmctl MCP server",
    }))
    .into_response()
}

fn forbidden(message: &str) -> Response {
    (StatusCode::FORBIDDEN, message.to_string()).into_response()
}

/// The host part of a `Host` value (`h`, `h:port`, `[v6]:port`).
fn host_only(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match authority.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => authority,
    }
}

fn origin_allowed(origin: &str, allowed: &[String]) -> bool {
    let norm = |s: &str| s.trim_end_matches('/').to_ascii_lowercase();
    let origin = norm(origin);
    allowed.iter().any(|a| {
        let a = norm(a);
        a == origin
            || a.strip_suffix(":*").is_some_and(|base| {
                origin == base
                    || origin
                        .strip_prefix(base)
                        .is_some_and(|rest| rest.starts_with(':'))
            })
    })
}

async fn host_and_origin(
    State(guard): State<Arc<Guard>>,
    request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let host_ok = !host.is_empty()
        && guard
            .allowed_hosts
            .iter()
            .any(|a| a.eq_ignore_ascii_case(host) || a.eq_ignore_ascii_case(host_only(host)));
    if !host_ok {
        tracing::warn!(host = %host, "refused a request with a Host that is not allowed (DNS rebinding guard)");
        return forbidden("Forbidden: Host header is not allowed");
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let ok = origin
            .to_str()
            .is_ok_and(|o| origin_allowed(o, &guard.allowed_origins));
        if !ok {
            tracing::warn!(
                "refused a request with an Origin that is not allowed (DNS rebinding guard)"
            );
            return forbidden("Forbidden: Origin header is not allowed");
        }
    }
    next.run(request).await
}

fn challenge(status: StatusCode, guard: &Guard, params: &str, body: &str) -> Response {
    let value = if params.is_empty() {
        format!("Bearer resource_metadata=\"{}\"", guard.metadata_url)
    } else {
        format!(
            "Bearer {params}, resource_metadata=\"{}\"",
            guard.metadata_url
        )
    };
    let mut response = (status, body.to_string()).into_response();
    if let Ok(v) = HeaderValue::from_str(&value) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    response
}

/// Text fit for a quoted `error_description` (RFC 6750 §3: printable ASCII without `"` and `\\`), cut short.
fn header_text(text: &str) -> String {
    text.chars()
        .take(200)
        .map(|c| match c {
            '"' | '\\' => '\'',
            ' '..='~' => c,
            _ => '?',
        })
        .collect()
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The agent a bearer token names: a JWT from the configured issuer, else a static token.
async fn agent_of(guard: &Guard, token: &str) -> std::result::Result<Agent, Refusal> {
    if let Some(jwt) = &guard.jwt
        && JwtVerifier::looks_like_jwt(token)
    {
        return jwt.verify(token, guard.server.config()).await;
    }
    static_agent(guard, token)
        .ok_or_else(|| Refusal::Invalid("the token is not valid for this resource".into()))
}

/// The agent whose token hashes to this: every configured hash is compared, in constant time each.
fn static_agent(guard: &Guard, token: &str) -> Option<Agent> {
    let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    let mut found: Option<&str> = None;
    for (name, hash) in &guard.agents {
        if same(&digest, hash) {
            found = Some(name);
        }
    }
    found.and_then(|n| guard.server.config().agent(n))
}

/// Tool names a JSON-RPC body calls (one message or a batch).
fn called_tools(body: &[u8]) -> Vec<(String, Option<serde_json::Map<String, Value>>)> {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    let messages = match value {
        Value::Array(a) => a,
        v => vec![v],
    };
    messages
        .into_iter()
        .filter(|m| m.get("method").and_then(Value::as_str) == Some("tools/call"))
        .filter_map(|m| {
            let params = m.get("params")?;
            let name = params.get("name")?.as_str()?.to_string();
            let args = params.get("arguments").and_then(Value::as_object).cloned();
            Some((name, args))
        })
        .collect()
}

async fn authenticate(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    let Some(token) = bearer(request.headers()) else {
        return challenge(
            StatusCode::UNAUTHORIZED,
            &guard,
            &format!("scope=\"{SCOPE_READ}\""),
            "Unauthorized: a bearer token is required",
        );
    };
    let agent = match agent_of(&guard, token).await {
        Ok(agent) => agent,
        Err(Refusal::Invalid(why)) => {
            tracing::warn!(reason = %why, "refused a request with a bearer token that is not valid");
            let description = header_text(&why);
            return challenge(
                StatusCode::UNAUTHORIZED,
                &guard,
                &format!("error=\"invalid_token\", error_description=\"{description}\""),
                "Unauthorized: invalid token",
            );
        }
        Err(Refusal::Unavailable(why)) => {
            return (StatusCode::SERVICE_UNAVAILABLE, why).into_response();
        }
    };
    if !agent.has_scope(SCOPE_READ) {
        return challenge(
            StatusCode::FORBIDDEN,
            &guard,
            &format!("error=\"insufficient_scope\", scope=\"{SCOPE_READ}\""),
            "Forbidden: insufficient scope",
        );
    }
    let (mut parts, body) = request.into_parts();
    parts.headers.remove(header::AUTHORIZATION);
    let body = if parts.method == Method::POST {
        let bytes = match to_bytes(body, MAX_BODY_BYTES).await {
            Ok(b) => b,
            Err(_) => {
                return (StatusCode::PAYLOAD_TOO_LARGE, "Payload Too Large").into_response();
            }
        };
        for (name, arguments) in called_tools(&bytes) {
            if let Some(scope) = guard.server.scope_of(&name)
                && !agent.has_scope(scope)
            {
                let refusal = ToolError::new(
                    code::INSUFFICIENT_SCOPE,
                    format!(
                        "{name} needs scope {scope}, which agent {} does not hold",
                        agent.name
                    ),
                )
                .with("scope", scope);
                guard
                    .server
                    .record(&agent, &name, arguments.as_ref(), &Err(refusal))
                    .await;
                return challenge(
                    StatusCode::FORBIDDEN,
                    &guard,
                    &format!("error=\"insufficient_scope\", scope=\"{scope}\""),
                    "Forbidden: insufficient scope",
                );
            }
        }
        Body::from(bytes)
    } else {
        body
    };
    parts.extensions.insert(Authenticated(agent));
    next.run(Request::from_parts(parts, body)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_urls_follow_rfc_9728() {
        assert_eq!(
            metadata_url("https://mcp.example.com/mcp"),
            "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
        );
        assert_eq!(
            metadata_url("http://127.0.0.1:9/"),
            "http://127.0.0.1:9/.well-known/oauth-protected-resource"
        );
    }

    #[test]
    fn hosts_and_origins() {
        assert_eq!(host_only("127.0.0.1:8080"), "127.0.0.1");
        assert_eq!(host_only("[::1]:8080"), "::1");
        assert_eq!(host_only("localhost"), "localhost");
        let allowed = vec![
            "https://chat.example.com".to_string(),
            "http://localhost:*".to_string(),
        ];
        assert!(origin_allowed("https://chat.example.com", &allowed));
        assert!(origin_allowed("http://localhost:6274", &allowed));
        assert!(!origin_allowed("https://evil.example.com", &allowed));
        assert!(!origin_allowed("http://localhost.evil.com", &allowed));
    }

    #[test]
    fn hashes_compare_whole() {
        let a = unhex(&"ab".repeat(32)).unwrap();
        let mut b = a;
        assert!(same(&a, &b));
        b[31] ^= 1;
        assert!(!same(&a, &b));
        assert!(unhex("zz").is_none());
    }
}
