//! The one error type of the service and its stable JSON shape, `{"error": {"code", "message"}}`, plus the
//! extractors that turn axum's own rejections (bad JSON, bad query, bad path) into that shape.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// Result of the service.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything the service can fail with; each maps to one HTTP status and one stable `code`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No valid credential (bearer token, session cookie, webhook signature).
    #[error("{0}")]
    Unauthorized(String),
    /// Authenticated, but not allowed (a self-approval, a missing CSRF token).
    #[error("{0}")]
    Forbidden(String),
    /// The thing named does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The request is malformed (a field, a parameter, a body).
    #[error("{0}")]
    BadRequest(String),
    /// The request is well formed but conflicts with the state (plan rejected, already applied).
    #[error("{0}")]
    Conflict(String),
    /// A capability that this build or configuration does not have.
    #[error("{0}")]
    Unavailable(String),
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] jsm_store::Error),
    /// The engine failed.
    #[error("{0}")]
    Engine(jsm_lifecycle::Error),
    /// Something else failed inside the service.
    #[error("{0}")]
    Internal(String),
}

impl From<jsm_lifecycle::Error> for Error {
    fn from(e: jsm_lifecycle::Error) -> Self {
        use jsm_lifecycle::Error as E;
        match e {
            E::NotFound { .. } => Error::NotFound(e.to_string()),
            E::SelfApproval { .. } => Error::Forbidden(e.to_string()),
            E::PlanState { .. } | E::HashMismatch { .. } | E::AwaitingApproval { .. } => {
                Error::Conflict(e.to_string())
            }
            E::InvalidInput { .. }
            | E::BadPlanFile { .. }
            | E::BadConfig { .. }
            | E::EmailHidden { .. } => Error::BadRequest(e.to_string()),
            E::Store(s) => Error::Store(s),
            other => Error::Engine(other),
        }
    }
}

/// The JSON body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code: `unauthorized`, `forbidden`, `not_found`, `bad_request`, `conflict`,
    /// `unavailable`, `upstream`, `internal`.
    pub code: String,
    /// For people.
    pub message: String,
}

impl Error {
    /// The HTTP status and stable code.
    pub fn status_code(&self) -> (StatusCode, &'static str) {
        match self {
            Error::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Error::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Error::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Error::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            Error::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            Error::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Error::Engine(_) => (StatusCode::BAD_GATEWAY, "upstream"),
            Error::Store(_) | Error::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    /// The body as it is sent.
    pub fn body(&self) -> ErrorBody {
        let (_, code) = self.status_code();
        ErrorBody {
            error: ErrorDetail {
                code: code.into(),
                message: self.to_string(),
            },
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, _) = self.status_code();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let mut resp = (status, axum::Json(self.body())).into_response();
        if status == StatusCode::UNAUTHORIZED
            && let Ok(v) = "Bearer realm=\"jsmctl\"".parse()
        {
            resp.headers_mut()
                .insert(axum::http::header::WWW_AUTHENTICATE, v);
        }
        resp
    }
}

impl From<JsonRejection> for Error {
    fn from(r: JsonRejection) -> Self {
        Error::BadRequest(r.body_text())
    }
}

impl From<QueryRejection> for Error {
    fn from(r: QueryRejection) -> Self {
        Error::BadRequest(r.body_text())
    }
}

impl From<PathRejection> for Error {
    fn from(r: PathRejection) -> Self {
        Error::BadRequest(r.body_text())
    }
}

/// `Json<T>` whose rejection is an [`Error`] in the service's JSON shape.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(Error))]
pub struct ApiJson<T>(pub T);

/// `Query<T>` whose rejection is an [`Error`].
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(Error))]
pub struct ApiQuery<T>(pub T);

/// `Path<T>` whose rejection is an [`Error`].
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(Error))]
pub struct ApiPath<T>(pub T);
