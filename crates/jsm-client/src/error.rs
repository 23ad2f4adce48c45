//! The client's one error type. No variant ever carries a credential: bodies come from the server, URLs carry
//! no secrets (credentials travel in headers), and token-store errors are the store's own.

use std::fmt;
use std::time::Duration;

use jsm_proto::admin::AdminErrors;
use jsm_proto::oauth::OAuthError;
use jsm_proto::scim::ScimError;
use jsm_proto::{ErrorCollection, JsmErrorResponse};

/// `Result` with the client's [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything a client call can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with an error status that is not retried (or retries ran out).
    #[error(
        "{endpoint} answered {status}: {body}{}",
        request_id_suffix(request_id)
    )]
    Api {
        /// HTTP status code.
        status: u16,
        /// The parsed error body.
        body: Box<ApiErrorBody>,
        /// `x-arequestid` / `atl-traceid` / admin error id, for support tickets and log correlation.
        request_id: Option<String>,
        /// `METHOD /path` of the failed request (no query string).
        endpoint: String,
    },
    /// The server kept answering 429, or the wait it asked for exceeds the configured bounds.
    #[error("rate limited{}{}", reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default(), retry_after.map(|d| format!(", retry after {d:?}")).unwrap_or_default())]
    RateLimited {
        /// How long the server asked to wait, when it said so.
        retry_after: Option<Duration>,
        /// `RateLimit-Reason`, e.g. `jira-burst-based` or `jira-quota-tenant-based`.
        reason: Option<String>,
    },
    /// A credential was missing, rejected (invalid or expired: Atlassian does not say which) or expired locally.
    #[error("{credential} {reason}")]
    Auth {
        /// Which credential failed.
        credential: Credential,
        /// Why.
        reason: AuthReason,
    },
    /// The request could not be sent or its answer not read (connect, timeout, body read).
    #[error("{endpoint}: transport error: {source}")]
    Transport {
        /// `METHOD /path` of the request.
        endpoint: String,
        /// The underlying reqwest error.
        #[source]
        source: reqwest::Error,
    },
    /// A response body did not match the expected type; `path` names the JSON path that failed.
    #[error("{endpoint}: cannot decode response at `{path}`: {source}")]
    Decode {
        /// `METHOD /path` of the request.
        endpoint: String,
        /// JSON path of the failure, e.g. `values[3].accountType`.
        path: String,
        /// The serde error.
        #[source]
        source: serde_json::Error,
    },
    /// A pager could not prove it saw every item; the items it yielded before this error are real.
    #[error("listing truncated after {yielded} items: {reason}")]
    Truncated {
        /// Why completeness could not be proven.
        reason: TruncationReason,
        /// How many items were yielded before the error.
        yielded: u64,
    },
    /// A lookup by email could not be answered because the matching accounts hide their email, and no SCIM or
    /// admin credential is configured to ask instead.
    #[error(
        "cannot look up {email}: {candidates} candidate account(s) hide their email; configure a SCIM or org admin key"
    )]
    EmailHidden {
        /// The email looked up (an identifier, not a secret).
        email: String,
        /// How many candidates had a hidden email.
        candidates: usize,
    },
    /// The builder or a request was given invalid settings.
    #[error("invalid client configuration: {reason}")]
    Config {
        /// What is wrong.
        reason: String,
    },
    /// The OAuth token store failed to load or save; the client refuses to use a token it could not persist.
    #[error("token store failed: {source}")]
    TokenStore {
        /// The store's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

fn request_id_suffix(id: &Option<String>) -> String {
    id.as_ref()
        .map(|id| format!(" (request id {id})"))
        .unwrap_or_default()
}

impl Error {
    /// HTTP status of an [`Error::Api`], if this is one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// True for an [`Error::Api`] with status 404.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    pub(crate) fn config(reason: impl Into<String>) -> Self {
        Error::Config {
            reason: reason.into(),
        }
    }
}

/// A credential the client can send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credential {
    /// Basic email + API token (classic or scoped).
    ApiToken,
    /// OAuth 2.0 access token.
    OAuthAccessToken,
    /// OAuth 2.0 refresh token.
    OAuthRefreshToken,
    /// OAuth client id + secret (code exchange).
    OAuthClient,
    /// SCIM directory API key.
    ScimKey,
    /// Organization admin API key.
    AdminKey,
}

impl fmt::Display for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Credential::ApiToken => "API token",
            Credential::OAuthAccessToken => "OAuth access token",
            Credential::OAuthRefreshToken => "OAuth refresh token",
            Credential::OAuthClient => "OAuth client credentials",
            Credential::ScimKey => "SCIM directory key",
            Credential::AdminKey => "org admin API key",
        })
    }
}

/// Why a credential failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthReason {
    /// Not configured on the client, but this surface needs it.
    Missing,
    /// Rejected by the server (401): invalid, revoked or expired; Atlassian does not say which.
    Rejected,
    /// Known to be expired locally (e.g. an OAuth access token without a refresh token).
    Expired,
}

impl fmt::Display for AuthReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AuthReason::Missing => "is not configured",
            AuthReason::Rejected => "was rejected (invalid, revoked or expired)",
            AuthReason::Expired => "has expired",
        })
    }
}

/// Why a pager gave up proving completeness.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TruncationReason {
    /// The endpoint stops at a fixed number of results (`user/search` stops at 1000).
    Ceiling {
        /// The ceiling.
        limit: u64,
    },
    /// The reported total changed between pages, so items may have shifted past the cursor.
    MovingTotal {
        /// Total on the first page of the pass.
        first: u64,
        /// Total on a later page.
        now: u64,
    },
    /// An item came back on two pages, so the list shifted and another item may have been skipped.
    Duplicate {
        /// The repeated item's key.
        key: String,
    },
    /// The server said there was more but returned nothing.
    Stalled {
        /// Offset of the empty page.
        offset: u64,
    },
    /// The server answered a different offset than the one asked for.
    OffsetMismatch {
        /// Requested offset.
        asked: u64,
        /// Offset the server reported.
        got: u64,
    },
    /// The page budget ran out.
    TooManyPages {
        /// The budget.
        pages: u32,
    },
}

impl fmt::Display for TruncationReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TruncationReason::Ceiling { limit } => {
                write!(f, "the endpoint stops at {limit} results")
            }
            TruncationReason::MovingTotal { first, now } => {
                write!(f, "total moved from {first} to {now}")
            }
            TruncationReason::Duplicate { key } => {
                write!(f, "item {key} was returned on two pages")
            }
            TruncationReason::Stalled { offset } => {
                write!(f, "empty page at offset {offset} but not the last")
            }
            TruncationReason::OffsetMismatch { asked, got } => {
                write!(f, "asked for offset {asked}, server answered offset {got}")
            }
            TruncationReason::TooManyPages { pages } => write!(f, "more than {pages} pages"),
        }
    }
}

/// An error body, in whichever of the four surfaces' shapes it came.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ApiErrorBody {
    /// Jira `{"errorMessages":[],"errors":{}}`.
    Jira(ErrorCollection),
    /// JSM `{"errorMessage","i18nErrorMessage"}`.
    Jsm(JsmErrorResponse),
    /// SCIM error (`status` as a string, `scimType`).
    Scim(ScimError),
    /// Admin API `{"errors":[{"code":"ADMIN-404-8",...}]}`.
    Admin(AdminErrors),
    /// OAuth token endpoint `{"error","error_description"}`.
    OAuth(OAuthError),
    /// Anything else (plain text, gateway `{"message"}`), cut to 2 KiB.
    Text(String),
    /// No body.
    Empty,
}

const MAX_TEXT: usize = 2048;

impl ApiErrorBody {
    /// Parses an error body by its keys; never fails.
    pub fn parse(bytes: &[u8]) -> Self {
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return ApiErrorBody::Empty;
        }
        if let Ok(serde_json::Value::Object(map)) =
            serde_json::from_slice::<serde_json::Value>(bytes)
        {
            let has = |k: &str| map.contains_key(k);
            if (has("errorMessages")
                || (has("errors") && map.get("errors").is_some_and(|v| v.is_object())))
                && let Ok(b) = serde_json::from_slice(bytes)
            {
                return ApiErrorBody::Jira(b);
            }
            if (has("errorMessage"))
                && let Ok(b) = serde_json::from_slice(bytes)
            {
                return ApiErrorBody::Jsm(b);
            }
            if (has("errors") && map.get("errors").is_some_and(|v| v.is_array()))
                && let Ok(b) = serde_json::from_slice(bytes)
            {
                return ApiErrorBody::Admin(b);
            }
            if (has("scimType") || has("detail") || has("schemas"))
                && let Ok(b) = serde_json::from_slice(bytes)
            {
                return ApiErrorBody::Scim(b);
            }
            if (has("error") && map.get("error").is_some_and(|v| v.is_string()) && !has("traceId"))
                && let Ok(b) = serde_json::from_slice(bytes)
            {
                return ApiErrorBody::OAuth(b);
            }
            for key in ["message", "error", "detail"] {
                if let Some(serde_json::Value::String(m)) = map.get(key) {
                    return ApiErrorBody::Text(truncate(m));
                }
            }
        }
        ApiErrorBody::Text(truncate(&String::from_utf8_lossy(bytes)))
    }

    /// Every human-readable message in the body.
    pub fn messages(&self) -> Vec<String> {
        match self {
            ApiErrorBody::Jira(b) => b
                .error_messages
                .iter()
                .cloned()
                .chain(b.errors.iter().map(|(k, v)| format!("{k}: {v}")))
                .collect(),
            ApiErrorBody::Jsm(b) => vec![b.error_message.clone()],
            ApiErrorBody::Scim(b) => {
                let mut out = Vec::new();
                if let Some(t) = &b.scim_type {
                    out.push(t.clone());
                }
                if let Some(d) = &b.detail {
                    out.push(d.clone());
                }
                out
            }
            ApiErrorBody::Admin(b) => b
                .errors
                .iter()
                .map(|e| {
                    let parts: Vec<&str> = [&e.code, &e.title, &e.detail]
                        .into_iter()
                        .flatten()
                        .map(String::as_str)
                        .collect();
                    parts.join(": ")
                })
                .collect(),
            ApiErrorBody::OAuth(b) => {
                let mut out = vec![b.error.clone()];
                if let Some(d) = &b.error_description {
                    out.push(d.clone());
                }
                out
            }
            ApiErrorBody::Text(t) => vec![t.clone()],
            ApiErrorBody::Empty => Vec::new(),
        }
    }

    /// True when any message contains `needle`, ignoring ASCII case.
    pub fn mentions(&self, needle: &str) -> bool {
        let needle = needle.to_ascii_lowercase();
        self.messages()
            .iter()
            .any(|m| m.to_ascii_lowercase().contains(&needle))
    }
}

fn truncate(s: &str) -> String {
    if s.len() <= MAX_TEXT {
        return s.to_string();
    }
    let mut end = MAX_TEXT;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

impl fmt::Display for ApiErrorBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let msgs = self.messages();
        if msgs.is_empty() {
            f.write_str("(no message)")
        } else {
            f.write_str(&msgs.join("; "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_surface_error_shape() {
        let jira = ApiErrorBody::parse(br#"{"errorMessages":["Cannot add user. User is already a member of 'x'"],"errors":{}}"#);
        assert!(matches!(jira, ApiErrorBody::Jira(_)));
        assert!(jira.mentions("already a member"));
        let jsm = ApiErrorBody::parse(
            br#"{"errorMessage":"nope","i18nErrorMessage":{"i18nKey":"k","parameters":[]}}"#,
        );
        assert!(matches!(jsm, ApiErrorBody::Jsm(_)));
        let scim = ApiErrorBody::parse(
            br#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"409","scimType":"uniqueness","detail":"exists"}"#,
        );
        assert!(matches!(scim, ApiErrorBody::Scim(_)));
        let admin = ApiErrorBody::parse(
            br#"{"errors":[{"status":"404","code":"ADMIN-404-8","title":"Not found"}]}"#,
        );
        assert_eq!(admin.messages(), vec!["ADMIN-404-8: Not found".to_string()]);
        let oauth = ApiErrorBody::parse(
            br#"{"error":"invalid_grant","error_description":"Unknown or invalid refresh token."}"#,
        );
        assert!(matches!(oauth, ApiErrorBody::OAuth(_)));
        let gw = ApiErrorBody::parse(br#"{"message":"Client must be authenticated to access this resource.","status-code":401}"#);
        assert!(gw.mentions("must be authenticated"));
        assert_eq!(ApiErrorBody::parse(b"  "), ApiErrorBody::Empty);
        assert!(matches!(
            ApiErrorBody::parse(b"plain text"),
            ApiErrorBody::Text(_)
        ));
        let long = vec![b'a'; 5000];
        match ApiErrorBody::parse(&long) {
            ApiErrorBody::Text(t) => assert!(t.len() < 2100),
            other => panic!("unexpected {other:?}"),
        }
    }
}
