//! Bearer JWTs from the operator's identity provider: signature checked against the issuer's JWKS (asymmetric
//! keys only, so an `HS256` token signed with a public key is refused), then issuer, audience (this resource),
//! expiry and not-before. The token's agent claim must name a configured agent; its scopes are the token's
//! `scope`/`scp` narrowed by what the config grants that agent.

use std::collections::BTreeSet;
use std::time::Duration;

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::config::{Agent, JwtConfig, McpConfig};

/// How long a fetched key set is trusted before it is fetched again.
pub const JWKS_TTL: Duration = Duration::from_secs(600);

/// Least time between two fetches of the key set (an unknown `kid` cannot make the server hammer the issuer).
pub const JWKS_MIN_REFRESH: Duration = Duration::from_secs(30);

/// Clock skew allowed on `exp` and `nbf`, in seconds.
pub const LEEWAY_SECS: u64 = 60;

/// Largest key set accepted from the issuer.
const MAX_JWKS_BYTES: usize = 256 * 1024;

/// Why a JWT was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The token is not valid for this resource (401 `invalid_token`); the text never holds the token.
    #[error("{0}")]
    Invalid(String),
    /// The issuer's key set cannot be read, so no token can be checked (503).
    #[error("{0}")]
    Unavailable(String),
}

struct Fetched {
    at: Instant,
    keys: JwkSet,
}

/// The verifier of one configured issuer, with its cached key set.
pub struct JwtVerifier {
    config: JwtConfig,
    audience: String,
    http: reqwest::Client,
    cache: Mutex<Option<Fetched>>,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("issuer", &self.config.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

/// The algorithms a key of this type verifies, narrowed to the JWK's own `alg` when it names one.
fn algorithms_of(jwk: &Jwk) -> Vec<Algorithm> {
    let family = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => vec![
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::PS384,
            Algorithm::PS512,
        ],
        AlgorithmParameters::EllipticCurve(_) => vec![Algorithm::ES256, Algorithm::ES384],
        AlgorithmParameters::OctetKeyPair(_) => vec![Algorithm::EdDSA],
        AlgorithmParameters::OctetKey(_) => Vec::new(),
    };
    match jwk.common.key_algorithm {
        None => family,
        // An encryption algorithm (`RSA-OAEP`) parses to no signing algorithm: such a key verifies nothing.
        Some(named) => match named.to_string().parse::<Algorithm>() {
            Ok(alg) => family.into_iter().filter(|a| *a == alg).collect(),
            Err(_) => Vec::new(),
        },
    }
}

/// The scopes a token carries: `scope` (space separated, RFC 9068) and `scp` (a list or a string).
fn token_scopes(claims: &Map<String, Value>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for key in ["scope", "scp"] {
        match claims.get(key) {
            Some(Value::String(s)) => out.extend(s.split_whitespace().map(str::to_string)),
            Some(Value::Array(list)) => {
                out.extend(list.iter().filter_map(Value::as_str).map(str::to_string));
            }
            _ => {}
        }
    }
    out
}

impl JwtVerifier {
    /// A verifier for `config`'s issuer; tokens must name `audience` (the resource, unless the config says).
    pub fn new(config: JwtConfig, resource: &str) -> Self {
        let audience = config
            .audience
            .clone()
            .unwrap_or_else(|| resource.to_string());
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        Self {
            config,
            audience,
            http,
            cache: Mutex::new(None),
        }
    }

    /// Whether a bearer value has the shape of a JWT (three dot-separated parts), as opposed to a static token.
    pub fn looks_like_jwt(token: &str) -> bool {
        token.split('.').count() == 3
    }

    /// Checks the token and answers the configured agent it names, with its scopes narrowed by the token's.
    pub async fn verify(&self, token: &str, config: &McpConfig) -> Result<Agent, Refusal> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| Refusal::Invalid(format!("not a JWT: {e}")))?;
        let kid = header.kid.clone().unwrap_or_default();
        let jwk = self.key(&kid).await?;
        let allowed = algorithms_of(&jwk);
        if !allowed.contains(&header.alg) {
            return Err(Refusal::Invalid(format!(
                "algorithm {:?} is not one the issuer's key {kid:?} signs with",
                header.alg
            )));
        }
        let key = DecodingKey::from_jwk(&jwk)
            .map_err(|e| Refusal::Invalid(format!("the issuer's key {kid:?} is unusable: {e}")))?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        let claims = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
            .map_err(|e| Refusal::Invalid(format!("the token is not valid here: {e}")))?
            .claims;
        self.agent(&claims, config)
    }

    /// The configured agent the token's agent claim names, with the token's scopes.
    fn agent(&self, claims: &Map<String, Value>, config: &McpConfig) -> Result<Agent, Refusal> {
        let claim = &self.config.agent_claim;
        let Some(subject) = claims.get(claim).and_then(Value::as_str) else {
            return Err(Refusal::Invalid(format!("the token has no {claim} claim")));
        };
        let Some(name) = config.agent_for_subject(subject) else {
            return Err(Refusal::Invalid(format!(
                "{claim} {subject:?} is no configured agent's jwt_subject"
            )));
        };
        let Some(mut agent) = config.agent(&name) else {
            return Err(Refusal::Invalid(format!("agent {name} is not configured")));
        };
        let granted = token_scopes(claims);
        agent.scopes.retain(|s| granted.contains(s));
        Ok(agent)
    }

    /// The key with this id: from the cached set, else from a fresh fetch (at most every
    /// [`JWKS_MIN_REFRESH`]). A set with a single key serves tokens without a `kid`.
    async fn key(&self, kid: &str) -> Result<Jwk, Refusal> {
        let mut cache = self.cache.lock().await;
        let stale = cache.as_ref().is_none_or(|c| c.at.elapsed() > JWKS_TTL);
        let missing = cache.as_ref().is_some_and(|c| find(&c.keys, kid).is_none());
        let may_refresh = cache
            .as_ref()
            .is_none_or(|c| c.at.elapsed() > JWKS_MIN_REFRESH);
        if stale || (missing && may_refresh) {
            match self.fetch().await {
                Ok(keys) => {
                    *cache = Some(Fetched {
                        at: Instant::now(),
                        keys,
                    })
                }
                Err(e) if cache.is_none() => return Err(e),
                Err(e) => tracing::warn!(error = %e, "kept the cached key set"),
            }
        }
        cache
            .as_ref()
            .and_then(|c| find(&c.keys, kid))
            .cloned()
            .ok_or_else(|| Refusal::Invalid(format!("the issuer has no key {kid:?}")))
    }

    async fn fetch(&self) -> Result<JwkSet, Refusal> {
        let url = &self.config.jwks_url;
        let unavailable = |why: String| {
            tracing::warn!(jwks_url = %url, "cannot read the issuer's key set: {why}");
            Refusal::Unavailable(format!(
                "the issuer's key set at {url} cannot be read: {why}"
            ))
        };
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| unavailable(e.without_url().to_string()))?;
        if !response.status().is_success() {
            return Err(unavailable(format!("HTTP {}", response.status())));
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| unavailable(e.without_url().to_string()))?;
        if body.len() > MAX_JWKS_BYTES {
            return Err(unavailable(format!("over {MAX_JWKS_BYTES} bytes")));
        }
        serde_json::from_slice(&body).map_err(|e| unavailable(format!("not a JWK set: {e}")))
    }
}

/// The asymmetric signing key with this id, or the only one when the token names none.
fn find<'a>(keys: &'a JwkSet, kid: &str) -> Option<&'a Jwk> {
    let usable = |k: &&Jwk| {
        !matches!(k.algorithm, AlgorithmParameters::OctetKey(_))
            && k.common.public_key_use != Some(PublicKeyUse::Encryption)
    };
    if kid.is_empty() {
        let mut all = keys.keys.iter().filter(usable);
        return match (all.next(), all.next()) {
            (Some(only), None) => Some(only),
            _ => None,
        };
    }
    keys.find(kid).filter(usable)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set(v: Value) -> JwkSet {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn symmetric_keys_are_never_used() {
        let keys = set(json!({"keys": [{"kty": "oct", "kid": "h", "k": "c2VjcmV0"}]}));
        assert!(find(&keys, "h").is_none());
        assert!(find(&keys, "").is_none());
    }

    #[test]
    fn a_jwk_alg_narrows_the_algorithms() {
        let keys = set(json!({"keys": [
            {"kty": "RSA", "kid": "r", "alg": "PS256", "n": "AQAB", "e": "AQAB"},
            {"kty": "OKP", "kid": "e", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
        ]}));
        assert_eq!(
            algorithms_of(find(&keys, "r").unwrap()),
            vec![Algorithm::PS256]
        );
        assert_eq!(
            algorithms_of(find(&keys, "e").unwrap()),
            vec![Algorithm::EdDSA]
        );
        assert!(find(&keys, "").is_none(), "two keys and no kid: ambiguous");
    }

    #[test]
    fn scopes_come_from_scope_and_scp() {
        let claims = json!({"scope": "jsm:read jsm:plan", "scp": ["jsm:apply"]});
        let got = token_scopes(claims.as_object().unwrap());
        assert_eq!(got.len(), 3);
        assert!(JwtVerifier::looks_like_jwt("a.b.c"));
        assert!(!JwtVerifier::looks_like_jwt("jsm_static_token"));
    }
}
