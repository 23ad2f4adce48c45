//! `POST /oauth/token`: the authorization-code and refresh-token grants. The body is JSON, as Atlassian
//! documents; form-encoded bodies are accepted too. Client credentials come from the body, or from HTTP Basic.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use base64::Engine;
use serde::Deserialize;
use serde_json::json;

use super::{app_credentials_match, oauth_error};
use crate::Emulator;
use crate::http as h;
use crate::site::{GrantFailure, Issued};

const INVALID_REFRESH: &str = "Unknown or invalid refresh token.";
const INVALID_CODE: &str = "Invalid authorization code";

/// The token request; every field optional so a missing one gets a message that names it.
#[derive(Deserialize, Default)]
struct TokenBody {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    refresh_token: Option<String>,
}

/// Answers the token endpoint.
pub async fn token(State(emu): State<Emulator>, headers: HeaderMap, body: Bytes) -> Response {
    let mut body = match parse(&headers, &body) {
        Ok(body) => body,
        Err(message) => return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", &message),
    };
    if let Some((id, secret)) = basic_client(&headers) {
        body.client_id.get_or_insert(id);
        body.client_secret.get_or_insert(secret);
    }
    let missing = |name: &str| {
        oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            &format!("Missing required parameter: {name}"),
        )
    };
    let Some(grant_type) = body.grant_type.as_deref().filter(|g| !g.is_empty()) else {
        return missing("grant_type");
    };
    if !matches!(grant_type, "authorization_code" | "refresh_token") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            &format!(
                "Unsupported grant type: {grant_type}. Use authorization_code or refresh_token."
            ),
        );
    }
    let Some(client_id) = body.client_id.as_deref().filter(|c| !c.is_empty()) else {
        return missing("client_id");
    };
    let Some(secret) = body.client_secret.as_deref().filter(|c| !c.is_empty()) else {
        return missing("client_secret");
    };
    if !app_credentials_match(&emu, client_id, secret) {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Unknown or invalid client credentials.",
        );
    }
    let now = emu.now();
    if grant_type == "authorization_code" {
        let Some(code) = body.code.as_deref().filter(|c| !c.is_empty()) else {
            return missing("code");
        };
        let Some(redirect_uri) = body.redirect_uri.as_deref() else {
            return missing("redirect_uri");
        };
        let mut site = emu.site_mut();
        let site = &mut *site;
        return match site
            .oauth
            .exchange_code(&mut site.ids, client_id, code, redirect_uri, now)
        {
            Ok(issued) => issued_response(&issued),
            Err(_) => invalid_grant(INVALID_CODE),
        };
    }
    let Some(refresh) = body.refresh_token.as_deref().filter(|c| !c.is_empty()) else {
        return missing("refresh_token");
    };
    let mut guard = emu.site_mut();
    let site = &mut *guard;
    let result = site
        .oauth
        .refresh(&mut site.ids, client_id, refresh, now)
        .map(|(issued, grant)| (issued, grant.account_id.clone()));
    match result {
        Ok((issued, account_id)) => {
            let active = site
                .find_account(&account_id)
                .is_some_and(|k| site.account(k).active);
            if active {
                issued_response(&issued)
            } else {
                invalid_grant(INVALID_REFRESH)
            }
        }
        Err(
            GrantFailure::BadCode
            | GrantFailure::UnknownRefresh
            | GrantFailure::Inactive
            | GrantFailure::Absolute
            | GrantFailure::FamilyRevoked
            | GrantFailure::Replayed,
        ) => invalid_grant(INVALID_REFRESH),
    }
}

fn invalid_grant(description: &str) -> Response {
    oauth_error(StatusCode::FORBIDDEN, "invalid_grant", description)
}

fn issued_response(issued: &Issued) -> Response {
    let mut body = json!({
        "access_token": issued.access_token.expose(),
        "expires_in": issued.expires_in,
        "token_type": "Bearer",
        "scope": issued.scope,
    });
    if let (Some(refresh), Some(map)) = (&issued.refresh_token, body.as_object_mut()) {
        map.insert("refresh_token".into(), json!(refresh.expose()));
    }
    let mut resp = h::ok(&body);
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp.headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}

/// Reads a JSON or form-encoded body.
fn parse(headers: &HeaderMap, bytes: &[u8]) -> Result<TokenBody, String> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let mut body = TokenBody::default();
        for (k, v) in form_urlencoded::parse(bytes) {
            let slot = match k.as_ref() {
                "grant_type" => &mut body.grant_type,
                "client_id" => &mut body.client_id,
                "client_secret" => &mut body.client_secret,
                "code" => &mut body.code,
                "redirect_uri" => &mut body.redirect_uri,
                "refresh_token" => &mut body.refresh_token,
                _ => continue,
            };
            slot.get_or_insert_with(|| v.into_owned());
        }
        return Ok(body);
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err("The request body is empty: send a JSON object with grant_type.".into());
    }
    serde_json::from_slice::<TokenBody>(bytes)
        .map_err(|e| format!("The request body is not a valid JSON token request: {e}"))
}

/// `Authorization: Basic client_id:client_secret`, if sent.
fn basic_client(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn headers(content_type: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(content_type) {
            h.insert(header::CONTENT_TYPE, v);
        }
        h
    }

    #[test]
    fn reads_json_and_form_bodies() {
        let json = parse(
            &headers("application/json"),
            br#"{"grant_type":"refresh_token","refresh_token":"r","extra":1}"#,
        );
        assert!(json.is_ok_and(|b| b.refresh_token.as_deref() == Some("r")));
        let form = parse(
            &headers("application/x-www-form-urlencoded; charset=utf-8"),
            b"grant_type=authorization_code&code=a%2Bb&code=ignored",
        );
        assert!(form.is_ok_and(|b| b.code.as_deref() == Some("a+b")));
        assert!(parse(&headers("application/json"), b"  ").is_err());
        assert!(parse(&headers("application/json"), b"[]").is_err());
        let secret = parse(&headers("application/json"), br#"{"client_secret":5}"#);
        assert!(secret.is_err_and(|e| e.contains("client_secret") || e.contains("invalid type")));
    }

    proptest! {
        #[test]
        fn any_body_is_answered_without_panicking(
            bytes in proptest::collection::vec(any::<u8>(), 0..256),
            form in any::<bool>(),
        ) {
            let ct = if form { "application/x-www-form-urlencoded" } else { "application/json" };
            let _ = parse(&headers(ct), &bytes);
        }

        #[test]
        fn any_authorization_header_is_answered_without_panicking(value in "\\PC{0,64}") {
            let mut h = HeaderMap::new();
            if let Ok(v) = HeaderValue::from_str(&value) {
                h.insert(header::AUTHORIZATION, v);
            }
            let _ = basic_client(&h);
        }
    }
}
