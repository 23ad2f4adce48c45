//! JWT bearer tokens from an identity provider: a JWKS served on a loopback port with an Ed25519 and a P-256 key
//! (made by ring for each run); tokens signed by them are accepted for the configured agent with the token's
//! scopes, and every other token (wrong audience, issuer or key, expired, unknown agent, `alg` confusion, `none`)
//! is a 401 naming why; an unknown `kid` does not make the server hammer the issuer, an unreachable one is a 503.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsm_mcp::config::{AgentConfig, JwtConfig};
use jsm_mcp::server::AUDIT_KIND;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use ring::rand::SystemRandom;
use ring::signature::{self, KeyPair};
use serde_json::{Value, json};

use crate::http::{Http, initialize};
use crate::support::*;

const ISSUER: &str = "https://idp.example.test/";

/// A signing key of the test identity provider: its private half for minting, its public half as a JWK.
struct Key {
    kid: &'static str,
    alg: Algorithm,
    private: EncodingKey,
    jwk: Value,
}

fn ed25519(kid: &'static str) -> Key {
    let rng = SystemRandom::new();
    let pkcs8 = signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let pair = signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    Key {
        kid,
        alg: Algorithm::EdDSA,
        private: EncodingKey::from_ed_der(pkcs8.as_ref()),
        jwk: json!({"kty": "OKP", "crv": "Ed25519", "kid": kid, "use": "sig",
            "x": URL_SAFE_NO_PAD.encode(pair.public_key().as_ref())}),
    }
}

fn p256(kid: &'static str) -> Key {
    let rng = SystemRandom::new();
    let alg = &signature::ECDSA_P256_SHA256_FIXED_SIGNING;
    let pkcs8 = signature::EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap();
    let pair = signature::EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).unwrap();
    let point = pair.public_key().as_ref();
    Key {
        kid,
        alg: Algorithm::ES256,
        private: EncodingKey::from_ec_der(pkcs8.as_ref()),
        jwk: json!({"kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..])}),
    }
}

/// The identity provider's JWKS endpoint, counting its fetches.
struct Jwks {
    url: String,
    fetches: Arc<AtomicUsize>,
}

async fn serve_jwks(keys: &[&Key]) -> Jwks {
    let set = json!({"keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>()});
    let fetches = Arc::new(AtomicUsize::new(0));
    let counter = fetches.clone();
    let app = axum::Router::new().route(
        "/jwks.json",
        axum::routing::get(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            let set = set.clone();
            async move { axum::Json(set) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Jwks { url, fetches }
}

/// The test config with `[http.jwt]` and an agent known to the identity provider as `client-helpdesk`.
fn config_with_jwt(dir: &std::path::Path, jwks_url: &str) -> jsm_mcp::McpConfig {
    let mut config = full_config(dir);
    config.http.jwt = Some(JwtConfig {
        issuer: ISSUER.into(),
        jwks_url: jwks_url.into(),
        audience: None,
        agent_claim: "azp".into(),
    });
    config.agents.insert(
        "idp-bot".into(),
        AgentConfig {
            token_sha256: None,
            jwt_subject: Some("client-helpdesk".into()),
            scopes: vec!["jsm:read".into(), "jsm:plan".into()],
            max_items_per_plan: 5,
            max_plans_per_hour: 5,
        },
    );
    config.check("test-mcp.toml").unwrap();
    config
}

/// Wall-clock seconds: the verifier checks `exp` and `nbf` against the system clock, as the IdP that mints
/// tokens does.
#[allow(clippy::disallowed_methods)]
fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn claims(audience: &str) -> Value {
    json!({"iss": ISSUER, "aud": audience, "azp": "client-helpdesk", "sub": "svc-1",
        "scope": "jsm:read", "iat": now(), "exp": now() + 600})
}

fn mint(key: &Key, claims: &Value) -> String {
    let mut header = Header::new(key.alg);
    header.kid = Some(key.kid.into());
    jsonwebtoken::encode(&header, claims, &key.private).unwrap()
}

fn challenge(r: &reqwest::Response) -> String {
    r.headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

fn tools_call(tool: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": tool, "arguments": arguments}})
}

#[tokio::test]
async fn tokens_of_the_issuer_are_accepted_with_their_own_scopes() {
    let (ed, ec) = (ed25519("ed-1"), p256("ec-1"));
    let jwks = serve_jwks(&[&ed, &ec]).await;
    let w = World::with(
        |dir| config_with_jwt(dir, &jwks.url),
        jsm_lifecycle::Policy::default(),
    )
    .await;
    let s = Http::start(&w).await;
    let audience = s.mcp();

    for key in [&ed, &ec] {
        let ok = s.post(&mint(key, &claims(&audience)), &initialize()).await;
        assert_eq!(ok.status(), StatusCode::OK, "{:?}", key.alg);
    }
    // The config grants jsm:plan, the token only jsm:read: the token's narrower grant wins.
    let read_only = mint(&ed, &claims(&audience));
    let plan = tools_call("plan_offboard", json!({"email": "someone@example.com"}));
    let step_up = s.post(&read_only, &plan).await;
    assert_eq!(step_up.status(), StatusCode::FORBIDDEN);
    assert!(challenge(&step_up).contains("scope=\"jsm:plan\""));
    let audited = w.engine.store.audit_list(0, 100).await.unwrap();
    assert!(
        audited.iter().any(|r| r.draft.kind == AUDIT_KIND
            && r.draft.actor == "mcp:idp-bot"
            && r.draft.outcome == "error:insufficient_scope"),
        "the call is audited under the configured agent's name"
    );
    assert_eq!(
        jwks.fetches.load(Ordering::SeqCst),
        1,
        "the key set is cached"
    );

    let prm: Value = reqwest::get(format!("{}/.well-known/oauth-protected-resource", s.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(prm["authorization_servers"], json!([ISSUER]));

    let logged = String::from_utf8_lossy(&logs().lock().unwrap()).to_string();
    assert!(
        !logged.contains(&read_only),
        "a token never reaches the log"
    );
}

#[tokio::test]
async fn every_other_token_is_a_401_naming_why() {
    let (ed, stranger_key) = (ed25519("ed-1"), ed25519("ed-1"));
    let jwks = serve_jwks(&[&ed]).await;
    let w = World::with(
        |dir| config_with_jwt(dir, &jwks.url),
        jsm_lifecycle::Policy::default(),
    )
    .await;
    let s = Http::start(&w).await;
    let good = claims(&s.mcp());
    let with = |key: &str, value: Value| {
        let mut c = good.clone();
        c[key] = value;
        c
    };
    let public_key = URL_SAFE_NO_PAD
        .decode(ed.jwk["x"].as_str().unwrap())
        .unwrap();
    let mut hs = Header::new(Algorithm::HS256);
    hs.kid = Some("ed-1".into());
    let confused =
        jsonwebtoken::encode(&hs, &good, &EncodingKey::from_secret(&public_key)).unwrap();
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","kid":"ed-1"}"#),
        URL_SAFE_NO_PAD.encode(good.to_string())
    );
    let cases = [
        (
            "another audience",
            mint(&ed, &with("aud", json!("https://other.example/mcp"))),
            "Audience",
        ),
        (
            "another issuer",
            mint(&ed, &with("iss", json!("https://evil.example/"))),
            "Issuer",
        ),
        (
            "expired",
            mint(&ed, &with("exp", json!(now() - 3600))),
            "Expired",
        ),
        (
            "not yet valid",
            mint(&ed, &with("nbf", json!(now() + 3600))),
            "Immature",
        ),
        (
            "unknown agent",
            mint(&ed, &with("azp", json!("client-else"))),
            "client-else",
        ),
        (
            "signed by another key",
            mint(&stranger_key, &good),
            "Signature",
        ),
        ("HS256 with the public key", confused, "HS256"),
        ("alg none", unsigned, "not a JWT"),
    ];
    for (what, token, why) in cases {
        let r = s.post(&token, &initialize()).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{what}");
        let h = challenge(&r);
        assert!(h.contains("error=\"invalid_token\""), "{what}: {h}");
        assert!(h.contains(why), "{what}: {h}");
        assert!(h.contains("resource_metadata="), "{what}: {h}");
        assert!(
            !h.contains(&token),
            "{what}: the challenge never echoes the token"
        );
    }

    let mut unknown_kid = Header::new(Algorithm::EdDSA);
    unknown_kid.kid = Some("rotated-away".into());
    let token = jsonwebtoken::encode(&unknown_kid, &good, &ed.private).unwrap();
    for _ in 0..5 {
        let r = s.post(&token, &initialize()).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        jwks.fetches.load(Ordering::SeqCst),
        1,
        "unknown kids refetch the key set at most every 30 s"
    );
}

#[tokio::test]
async fn an_unreachable_issuer_is_a_503_and_static_tokens_still_work() {
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let w = World::with(
        |dir| config_with_jwt(dir, &format!("http://127.0.0.1:{closed}/jwks.json")),
        jsm_lifecycle::Policy::default(),
    )
    .await;
    let s = Http::start(&w).await;
    let token = mint(&ed25519("ed-1"), &claims(&s.mcp()));
    let r = s.post(&token, &initialize()).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.text().await.unwrap().contains("jwks.json"));
    let r = s.post(BOT_TOKEN, &initialize()).await;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "static tokens do not need the issuer"
    );
}

#[test]
fn the_config_refuses_plain_http_keys_and_orphan_subjects() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config_with_jwt(dir.path(), "https://idp.example.test/jwks.json");
    config.http.jwt.as_mut().unwrap().jwks_url = "http://idp.example.test/jwks.json".into();
    let e = config.check("mcp.toml").unwrap_err().to_string();
    assert!(e.contains("http.jwt.jwks_url"), "{e}");
    config.http.jwt.as_mut().unwrap().jwks_url = "http://localhost.evil.example/jwks".into();
    assert!(config.check("mcp.toml").is_err(), "a loopback-looking name");
    config.http.jwt = None;
    let e = config.check("mcp.toml").unwrap_err().to_string();
    assert!(e.contains("jwt_subject"), "{e}");
}
