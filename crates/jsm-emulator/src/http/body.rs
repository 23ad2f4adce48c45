use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use super::ApiError;
use crate::Emulator;

/// A JSON request body: oversized bodies get 413, other media types 415, malformed or mistyped JSON a 400 that
/// names the JSON path at fault.
#[derive(Debug, Clone)]
pub struct Body<T>(pub T);

impl<T: DeserializeOwned> Body<T> {
    /// Decodes bytes, naming the path of the first field that does not fit.
    pub fn decode(bytes: &[u8]) -> Result<T, ApiError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::bad_request(
                "No content to map due to end-of-input",
            ));
        }
        let mut de = serde_json::Deserializer::from_slice(bytes);
        serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if path == "." || path.is_empty() {
                ApiError::bad_request(format!("Invalid request payload: {inner}"))
            } else {
                ApiError::bad_request(format!("Invalid request payload at '{path}': {inner}"))
            }
        })
    }
}

impl<T: DeserializeOwned> FromRequest<Emulator> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, emu: &Emulator) -> Result<Self, Self::Rejection> {
        if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
            let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
            if !ct.starts_with("application/json") && !ct.starts_with("application/scim+json") {
                return Err(ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    format!("Unsupported media type '{ct}': send application/json."),
                ));
            }
        }
        let limit = emu.config().max_body_bytes;
        let bytes = axum::body::to_bytes(req.into_body(), limit)
            .await
            .map_err(|_| {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("Request body is larger than the limit of {limit} bytes."),
                )
            })?;
        Self::decode(&bytes).map(Body)
    }
}
