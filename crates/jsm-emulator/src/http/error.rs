use std::collections::BTreeMap;

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use jsm_proto::{ErrorCollection, I18nErrorMessage, JsmErrorResponse};
use serde_json::json;

/// The API family a request belongs to; each writes its errors in its own shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// Jira platform: `{"errorMessages":[],"errors":{}}`.
    Jira,
    /// JSM: `{"errorMessage","i18nErrorMessage"}`.
    Jsm,
    /// The emulator's own control plane: `{"error"}`.
    Control,
    /// SCIM provisioning (`/scim/directory/{id}`): RFC 7644 errors, 401/403 as `{"error","traceId"}`.
    Scim,
    /// Organizations admin API (`/admin/v1/orgs/{id}`): `{"errors":[{"code":"ADMIN-404-8",...}]}`.
    Admin,
    /// User management API (`/users/{accountId}/manage`): `{"key":"accountNotFound"}`.
    UserManagement,
}

impl Surface {
    /// The surface of a path after any prefix before `/rest` was removed.
    pub fn of(path: &str) -> Self {
        if path.starts_with("/rest/servicedeskapi") {
            Surface::Jsm
        } else if path.starts_with("/_emulator") {
            Surface::Control
        } else if path.starts_with("/scim/") {
            Surface::Scim
        } else if path.starts_with("/admin/") {
            Surface::Admin
        } else if path.starts_with("/users/") {
            Surface::UserManagement
        } else {
            Surface::Jira
        }
    }
}

/// An error a handler answers with; rendered in the shape of the surface the request was for.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub messages: Vec<String>,
    pub fields: BTreeMap<String, String>,
    pub i18n_key: &'static str,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Machine-readable code of the SCIM and admin surfaces: `scimType`, `ADMIN-404-8`, `accountNotFound`.
    pub code: Option<&'static str>,
}

impl ApiError {
    /// An error with one message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            messages: vec![message.into()],
            fields: BTreeMap::new(),
            i18n_key: "sd.error.generic",
            headers: Vec::new(),
            code: None,
        }
    }

    /// 400 with a message.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 400 naming the field at fault, in Jira's `errors` map.
    pub fn field(name: &str, message: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::BAD_REQUEST, "");
        e.messages.clear();
        e.fields.insert(name.to_string(), message.into());
        e
    }

    /// 404 with a message.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 403 with a message.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    /// 401 with Atlassian's text.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "Client must be authenticated to access this resource.",
        )
        .key("sd.error.unauthorized")
    }

    /// 500 for the emulator's own failures.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// Sets the JSM i18n key.
    pub fn key(mut self, key: &'static str) -> Self {
        self.i18n_key = key;
        self
    }

    /// Sets the surface's machine-readable code (`uniqueness`, `ADMIN-404-8`, `accountNotFound`).
    pub fn code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }

    /// Adds a response header (`Retry-After`, rate-limit headers).
    pub fn header(mut self, name: &'static str, value: impl ToString) -> Self {
        if let Ok(v) = HeaderValue::from_str(&value.to_string()) {
            self.headers.push((HeaderName::from_static(name), v));
        }
        self
    }

    /// The error as a response for `surface`.
    pub fn render(&self, surface: Surface) -> Response {
        let mut resp = match surface {
            Surface::Jira => super::json(
                self.status,
                &ErrorCollection {
                    error_messages: self.messages.clone(),
                    errors: self.fields.clone(),
                    status: None,
                },
            ),
            Surface::Jsm => super::json(
                self.status,
                &JsmErrorResponse {
                    error_message: self.one_line(),
                    i18n_error_message: Some(I18nErrorMessage {
                        i18n_key: self.i18n_key.to_string(),
                        parameters: Vec::new(),
                    }),
                },
            ),
            Surface::Control => super::json(self.status, &json!({ "error": self.one_line() })),
            Surface::Scim | Surface::Admin | Surface::UserManagement => {
                super::json(self.status, &super::admin_errors::body(self, surface))
            }
        };
        for (name, value) in &self.headers {
            resp.headers_mut().insert(name.clone(), value.clone());
        }
        resp
    }

    /// Every message and field error on one line.
    pub fn one_line(&self) -> String {
        let fields = self.fields.iter().map(|(k, v)| format!("{k}: {v}"));
        self.messages
            .iter()
            .cloned()
            .chain(fields)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = self.render(Surface::Jira);
        resp.extensions_mut().insert(self);
        resp
    }
}
