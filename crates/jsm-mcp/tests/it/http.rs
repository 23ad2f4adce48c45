//! Streamable HTTP as a resource server: 401 without a token, 401 with a wrong one, 403 without the scope (also
//! per tool, as a step-up answer), `WWW-Authenticate` with `resource_metadata`, RFC 9728 metadata, a foreign
//! `Origin` and a bad `Host` refused; a real rmcp HTTP client with a good token works.

use jsm_mcp::server::AUDIT_KIND;
use reqwest::StatusCode;
use rmcp::ServiceExt;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::support::*;

/// The server on a loopback port.
pub struct Http {
    pub base: String,
    stop: Option<oneshot::Sender<()>>,
    http: reqwest::Client,
}

impl Drop for Http {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub fn initialize() -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}})
}

impl Http {
    pub async fn start(w: &World) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = oneshot::channel();
        let server = w.server.clone();
        tokio::spawn(async move {
            let _ = jsm_mcp::http::serve(listener, server, async {
                let _ = rx.await;
            })
            .await;
        });
        Self {
            base,
            stop: Some(tx),
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(20))
                .build()
                .unwrap(),
        }
    }

    pub fn mcp(&self) -> String {
        format!("{}/mcp", self.base)
    }

    /// A real rmcp streamable-HTTP client with this bearer token.
    pub async fn client(&self, token: &str) -> Client {
        let config = StreamableHttpClientTransportConfig::with_uri(self.mcp()).auth_header(token);
        ().serve(StreamableHttpClientTransport::from_config(config))
            .await
            .unwrap()
    }

    pub async fn post(&self, token: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(self.mcp())
            .bearer_auth(token)
            .header("accept", "application/json, text/event-stream")
            .json(body)
            .send()
            .await
            .unwrap()
    }
}

fn www_authenticate(r: &reqwest::Response) -> String {
    r.headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn tokens_scopes_and_metadata() {
    let w = World::new().await;
    let s = Http::start(&w).await;
    let metadata = format!("{}/.well-known/oauth-protected-resource/mcp", s.base);

    let none = s
        .http
        .post(s.mcp())
        .header("accept", "application/json, text/event-stream")
        .json(&initialize())
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    let h = www_authenticate(&none);
    assert!(h.starts_with("Bearer "), "{h}");
    assert!(
        h.contains(&format!("resource_metadata=\"{metadata}\"")),
        "{h}"
    );

    let wrong = s.post("not-a-token", &initialize()).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(www_authenticate(&wrong).contains("error=\"invalid_token\""));

    let stranger = s.post(STRANGER_TOKEN, &initialize()).await;
    assert_eq!(stranger.status(), StatusCode::FORBIDDEN);
    let h = www_authenticate(&stranger);
    assert!(
        h.contains("error=\"insufficient_scope\"") && h.contains("scope=\"jsm:read\""),
        "{h}"
    );
    assert!(h.contains("resource_metadata="), "{h}");

    // A reader may connect, but a call of apply_plan asks it to step up to jsm:apply.
    let ok = s.post(READER_TOKEN, &initialize()).await;
    assert_eq!(ok.status(), StatusCode::OK);
    let apply = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "apply_plan", "arguments": {"plan_id": "abcdef"}}});
    let step_up = s.post(READER_TOKEN, &apply).await;
    assert_eq!(step_up.status(), StatusCode::FORBIDDEN);
    let h = www_authenticate(&step_up);
    assert!(h.contains("scope=\"jsm:apply\""), "{h}");
    let audited = w.engine.store.audit_list(0, 100).await.unwrap();
    assert!(
        audited.iter().any(|r| r.draft.kind == AUDIT_KIND
            && r.draft.actor == "mcp:reader"
            && r.draft.action == "apply_plan"
            && r.draft.outcome == "error:insufficient_scope"),
        "the refused call is audited"
    );

    for path in [
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/mcp",
    ] {
        let prm: Value = s
            .http
            .get(format!("{}{path}", s.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(prm["resource"], s.mcp(), "{path}");
        assert_eq!(
            prm["scopes_supported"],
            json!(["jsm:read", "jsm:plan", "jsm:apply"])
        );
        assert_eq!(prm["bearer_methods_supported"], json!(["header"]));
    }
}

#[tokio::test]
async fn a_foreign_origin_and_a_bad_host_are_refused() {
    let w = World::new().await;
    let s = Http::start(&w).await;
    let evil = s
        .http
        .post(s.mcp())
        .bearer_auth(BOT_TOKEN)
        .header("origin", "http://evil.example")
        .header("accept", "application/json, text/event-stream")
        .json(&initialize())
        .send()
        .await
        .unwrap();
    assert_eq!(evil.status(), StatusCode::FORBIDDEN);
    let metadata = s
        .http
        .get(format!("{}/.well-known/oauth-protected-resource", s.base))
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(metadata.status(), StatusCode::FORBIDDEN, "every route");
    let rebound = s
        .http
        .post(s.mcp())
        .bearer_auth(BOT_TOKEN)
        .header("host", "attacker.example:80")
        .header("accept", "application/json, text/event-stream")
        .json(&initialize())
        .send()
        .await
        .unwrap();
    assert_eq!(rebound.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_real_http_client_with_a_token_lists_and_calls_tools() {
    let w = World::new().await;
    let s = Http::start(&w).await;
    let client = s.client(BOT_TOKEN).await;
    let listed = tools(&client).await;
    assert_eq!(listed.len(), ALL_TOOLS.len());
    let (email, _) = w.customer();
    let mark = w
        .emu
        .emu
        .log()
        .since(0, usize::MAX)
        .last()
        .map_or(0, |e| e.seq);
    let found = validated(
        &call(&client, "find_user", json!({"query": email})).await,
        &listed,
        "find_user",
    );
    assert_eq!(found["users"][0]["email"], email.as_str());
    ok(&call(&client, "explain_access", json!({"who": email})).await);
    let _ = client.cancel().await;
    // Atlassian saw only the server's own credentials (the admin's API token, the SCIM and admin keys).
    let admin = {
        let site = w.emu.emu.site();
        let key = site.find_by_email(jsm_testkit::ADMIN_EMAIL).unwrap();
        site.account(key).account_id.clone()
    };
    let upstream = w.emu.emu.log().since(mark, usize::MAX);
    assert!(!upstream.is_empty());
    for e in &upstream {
        assert!(
            e.account_id.is_none() || e.account_id.as_deref() == Some(admin.as_str()),
            "{} {} as {:?}",
            e.method,
            e.path,
            e.account_id
        );
        assert!(
            e.status < 400 || e.status == 404,
            "{} {} -> {}",
            e.method,
            e.path,
            e.status
        );
    }

    // Without a token the client cannot even start.
    let transport = StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(s.mcp()),
    );
    assert!(().serve(transport).await.is_err());
}
