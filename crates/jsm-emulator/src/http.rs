//! Request plumbing shared by every surface: error bodies, JSON bodies, query parameters, the caller,
//! absolute links and page envelopes.

mod admin_errors;
mod body;
mod ctx;
mod error;
mod page;
mod params;

pub use body::Body;
pub use ctx::{Caller, Ctx, Routed};
pub use error::{ApiError, Surface};
pub use page::{PageArgs, jira_page, jsm_page};
pub use params::Params;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// The content type Atlassian answers with; some clients compare it byte for byte.
pub const JSON_UTF8: &str = "application/json;charset=UTF-8";

/// A JSON response with Atlassian's content type.
pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Response {
    // Most answers fit in 2 KiB; starting there saves the buffer's regrowth on the hot path.
    let mut bytes = Vec::with_capacity(2048);
    match serde_json::to_writer(&mut bytes, value) {
        Ok(()) => {
            let mut resp = (status, bytes).into_response();
            resp.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
            resp
        }
        Err(e) => ApiError::internal(format!("could not encode the response: {e}")).into_response(),
    }
}

/// 200 with a JSON body.
pub fn ok<T: Serialize>(value: &T) -> Response {
    json(StatusCode::OK, value)
}

/// A status with no body.
pub fn empty(status: StatusCode) -> Response {
    status.into_response()
}
