//! The transport: request descriptions, the one send loop (limit → send → classify → retry), and responses.

pub mod limiter;
pub mod retry;
pub(crate) mod send;

use std::borrow::Cow;

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// Which base URL and credential a request uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Surface {
    /// Jira platform and JSM (`/rest/api/3`, `/rest/servicedeskapi`): the site URL, or the gateway with the
    /// cloudId; Basic or OAuth Bearer.
    Product,
    /// SCIM (`{api}/scim/directory/{directoryId}`) with the directory key.
    Scim,
    /// Admin API and user management (`{api}/admin/...`, `{api}/users/...`) with the org admin key.
    Admin,
    /// The API gateway itself with the OAuth access token (`/oauth/token/accessible-resources`).
    Api,
    /// The OAuth token endpoint's host (`{auth}/oauth/token`); no credential header.
    OAuthToken,
}

/// One request, described before it is sent; the send loop may send it several times.
#[derive(Debug, Clone)]
pub struct Request {
    pub(crate) method: Method,
    pub(crate) surface: Surface,
    pub(crate) class: Cow<'static, str>,
    pub(crate) path: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) body: Option<Vec<u8>>,
    pub(crate) idempotent: bool,
    pub(crate) experimental: bool,
}

/// Percent-encodes one path segment (RFC 3986 unreserved characters stay).
pub(crate) fn encode_segment(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for b in raw.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':' | b'@') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The endpoint class of a free-form path: segments that carry digits (ids) become `{}`; versions (`v1`, or the
/// number after `api`) stay.
pub(crate) fn class_of(path: &str) -> String {
    let mut prev = "";
    let mut out = Vec::new();
    for seg in path.split('/') {
        let has_digit = seg.bytes().any(|b| b.is_ascii_digit());
        let version =
            (seg.starts_with('v') && seg.len() > 1 && seg[1..].bytes().all(|b| b.is_ascii_digit()))
                || (prev == "api" && seg.bytes().all(|b| b.is_ascii_digit()));
        out.push(if has_digit && !version { "{}" } else { seg });
        prev = seg;
    }
    out.join("/")
}

impl Request {
    /// A request on `surface` for `template`, whose `{}` placeholders are filled with `params`, each encoded as
    /// one path segment. The template is the endpoint class the limiter keys on. GET, PUT, DELETE and HEAD are
    /// idempotent; POST and PATCH are not unless marked with [`Request::idempotent`].
    pub fn new(method: Method, surface: Surface, template: &'static str, params: &[&str]) -> Self {
        let mut path = String::with_capacity(template.len() + 16);
        let mut params = params.iter();
        let mut rest = template;
        while let Some(pos) = rest.find("{}") {
            path.push_str(&rest[..pos]);
            path.push_str(&params.next().map(|p| encode_segment(p)).unwrap_or_default());
            rest = &rest[pos + 2..];
        }
        path.push_str(rest);
        let idempotent = matches!(
            method,
            Method::GET | Method::PUT | Method::DELETE | Method::HEAD
        );
        Self {
            method,
            surface,
            class: Cow::Borrowed(template),
            path,
            query: Vec::new(),
            body: None,
            idempotent,
            experimental: false,
        }
    }

    /// A request for a free-form path (already encoded, starting with `/`), for the raw escape hatches.
    pub fn raw(method: Method, surface: Surface, path: impl Into<String>) -> Self {
        let path: String = path.into();
        let path = if path.starts_with('/') {
            path
        } else {
            format!("/{path}")
        };
        let mut r = Self::new(method, surface, "", &[]);
        r.class = Cow::Owned(class_of(&path));
        r.path = path;
        r
    }

    /// Adds a query parameter.
    pub fn query(mut self, key: impl Into<String>, value: impl ToString) -> Self {
        self.query.push((key.into(), value.to_string()));
        self
    }

    /// Adds a query parameter when `value` is `Some`.
    pub fn query_opt(self, key: impl Into<String>, value: Option<impl ToString>) -> Self {
        match value {
            Some(v) => self.query(key, v),
            None => self,
        }
    }

    /// Sets a JSON body.
    pub fn json<B: Serialize + ?Sized>(mut self, body: &B) -> Result<Self> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| Error::config(format!("cannot serialize request body: {e}")))?;
        self.body = Some(bytes);
        Ok(self)
    }

    /// Declares whether the request may be retried: only when sending it twice has the effect of sending it once.
    pub fn idempotent(mut self, yes: bool) -> Self {
        self.idempotent = yes;
        self
    }

    /// Sends `X-ExperimentalApi: opt-in` (JSM experimental operations answer 412 without it).
    pub fn experimental(mut self) -> Self {
        self.experimental = true;
        self
    }

    /// `METHOD /path`, without the query (which can carry emails).
    pub(crate) fn endpoint(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// A successful (2xx/3xx) answer.
#[derive(Debug, Clone)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
    /// Body bytes.
    pub body: Vec<u8>,
    pub(crate) endpoint: String,
}

impl Response {
    /// Decodes the body as JSON; a failure names the JSON path.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        decode(&self.endpoint, &self.body)
    }
}

/// Decodes JSON with `serde_path_to_error`, so a failure names the path.
pub(crate) fn decode<T: DeserializeOwned>(endpoint: &str, bytes: &[u8]) -> Result<T> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| Error::Decode {
        endpoint: endpoint.to_string(),
        path: e.path().to_string(),
        source: e.into_inner(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_encode_params_and_keep_the_class() {
        let r = Request::new(Method::GET, Surface::Scim, "/Users/{}", &["a b/c"]);
        assert_eq!(r.path, "/Users/a%20b%2Fc");
        assert_eq!(r.class, "/Users/{}");
        assert!(r.idempotent);
        assert!(!Request::new(Method::POST, Surface::Product, "/x", &[]).idempotent);
    }

    #[test]
    fn raw_paths_get_a_class_without_ids() {
        assert_eq!(
            class_of("/rest/servicedeskapi/servicedesk/15/customer"),
            "/rest/servicedeskapi/servicedesk/{}/customer"
        );
        assert_eq!(class_of("/rest/api/3/user"), "/rest/api/3/user");
        assert_eq!(
            class_of("/admin/v1/orgs/5b10a2844c20165700ede21g/users"),
            "/admin/v1/orgs/{}/users"
        );
    }

    #[test]
    fn decode_errors_name_the_path() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Page {
            values: Vec<Item>,
        }
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Item {
            active: bool,
        }
        let err = decode::<Page>(
            "GET /x",
            br#"{"values":[{"active":true},{"active":"yes"}]}"#,
        );
        match err {
            Err(Error::Decode { path, .. }) => assert_eq!(path, "values[1].active"),
            other => panic!("unexpected {other:?}"),
        }
    }
}
