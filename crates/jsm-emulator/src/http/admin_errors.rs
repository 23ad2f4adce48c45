//! Error bodies of the identity surfaces: SCIM (RFC 7644 `Error`, and Atlassian's `Failure` for 401/403), the
//! organizations admin API (`errors[]` with `ADMIN-…` codes, `ProxyError` for 401/429) and the user management
//! API (`{"key": …}`).

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};

use super::{ApiError, Surface};

/// Schema URN of a SCIM error body.
const SCIM_ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

static TRACE: AtomicU64 = AtomicU64::new(0);

/// A deterministic trace id, unique within the process.
fn trace_id() -> String {
    let n = TRACE.fetch_add(1, Ordering::Relaxed) + 1;
    format!("{:016x}", n.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// The JSON body of `err` on `surface` (one of Scim, Admin, UserManagement).
pub fn body(err: &ApiError, surface: Surface) -> Value {
    let status = err.status.as_u16();
    let detail = err.one_line();
    match surface {
        Surface::Scim if status == 401 || status == 403 => {
            json!({ "error": detail, "traceId": trace_id() })
        }
        Surface::Scim => {
            let mut body = json!({
                "schemas": [SCIM_ERROR],
                "status": status.to_string(),
                "detail": detail,
            });
            if let Some(code) = err.code {
                body["scimType"] = json!(code);
            }
            body
        }
        Surface::Admin if status == 401 || status == 429 => {
            json!({ "code": status, "message": detail })
        }
        Surface::Admin => {
            let code = err.code.unwrap_or(match status {
                400 => "ADMIN-400-24",
                403 => "ADMIN-403-3",
                404 => "ADMIN-404-1",
                405 => "ADMIN-405-1",
                _ => "ADMIN-500-1",
            });
            json!({ "errors": [{
                "id": trace_id(),
                "status": status.to_string(),
                "code": code,
                "title": err.status.canonical_reason().unwrap_or("Error"),
                "detail": detail,
            }]})
        }
        _ => {
            let key = err.code.unwrap_or(match status {
                400 => "bodyParseFailure",
                401 => "unauthorized",
                403 => "forbidden",
                404 => "notFound",
                _ => "internalServerError",
            });
            json!({ "key": key, "message": detail })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    #[test]
    fn scim_status_is_a_string_and_auth_failures_use_the_failure_shape() {
        let conflict =
            ApiError::new(StatusCode::CONFLICT, "User already exists").code("uniqueness");
        let body = body(&conflict, Surface::Scim);
        assert_eq!(body["status"], "409");
        assert_eq!(body["scimType"], "uniqueness");
        assert_eq!(body["schemas"][0], SCIM_ERROR);
        let unauthorized = ApiError::new(StatusCode::UNAUTHORIZED, "Missing authorization header");
        let body = super::body(&unauthorized, Surface::Scim);
        assert!(body.get("schemas").is_none());
        assert!(body["traceId"].is_string());
    }

    #[test]
    fn admin_errors_carry_codes() {
        let missing = ApiError::not_found("no such user").code("ADMIN-404-8");
        let body = body(&missing, Surface::Admin);
        assert_eq!(body["errors"][0]["code"], "ADMIN-404-8");
        assert_eq!(body["errors"][0]["status"], "404");
        let proxy = super::body(&ApiError::unauthorized(), Surface::Admin);
        assert_eq!(proxy["code"], 401);
    }
}
