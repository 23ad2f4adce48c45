use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::{ApiError, Params};
use crate::Emulator;
use crate::site::{AccountKey, Perms};

/// Where a request was routed: the path with any prefix before `/rest` removed, and that prefix.
#[derive(Debug, Clone, Default)]
pub struct Routed {
    pub path: String,
    pub prefix: String,
}

/// Who is calling: an authenticated account with its permissions, or anonymous.
#[derive(Debug, Clone, Copy, Default)]
pub struct Caller {
    pub account: Option<AccountKey>,
    pub perms: Perms,
}

/// Everything a handler needs about its request besides the body.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub emu: Emulator,
    pub params: Params,
    pub caller: Caller,
    /// Base URL for links: the emulator's own host plus the request's prefix.
    pub base: String,
    pub path: String,
    /// The request carried `X-ExperimentalApi: opt-in`.
    pub opt_in: bool,
}

impl Ctx {
    /// 412 unless the request opted into an experimental JSM API.
    pub fn require_opt_in(&self) -> Result<(), ApiError> {
        if self.opt_in {
            return Ok(());
        }
        Err(ApiError::new(
            axum::http::StatusCode::PRECONDITION_FAILED,
            "API is experimental. Experimental APIs are not guaranteed to be stable within the preview period. You must set the header 'X-ExperimentalApi: opt-in' to opt into using this API.",
        )
        .key("sd.api.experimental.optin.required"))
    }

    /// The caller's account, or 401 for anonymous requests.
    pub fn account(&self) -> Result<AccountKey, ApiError> {
        self.caller.account.ok_or_else(ApiError::unauthorized)
    }

    /// 401 when anonymous, 403 with `message` when `allowed` does not hold.
    pub fn require(
        &self,
        allowed: impl Fn(&Perms) -> bool,
        message: &str,
    ) -> Result<AccountKey, ApiError> {
        let account = self.account()?;
        if allowed(&self.caller.perms) {
            Ok(account)
        } else {
            Err(ApiError::forbidden(message).key("sd.error.forbidden"))
        }
    }

    /// The Jira API version in the path: `3`, `2` or `latest`.
    pub fn api_version(&self) -> &str {
        self.path
            .strip_prefix("/rest/api/")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or("3")
    }

    /// An absolute Jira platform URL for `path_and_query` under this request's API version.
    pub fn jira_url(&self, path_and_query: &str) -> String {
        format!(
            "{}/rest/api/{}{}",
            self.base,
            self.api_version(),
            path_and_query
        )
    }

    /// An absolute JSM URL.
    pub fn jsm_url(&self, path_and_query: &str) -> String {
        format!("{}/rest/servicedeskapi{}", self.base, path_and_query)
    }

    /// This request's URL with some query parameters replaced.
    pub fn url_with(&self, overrides: &[(&str, String)]) -> String {
        let query = self.params.with(overrides);
        if query.is_empty() {
            format!("{}{}", self.base, self.path)
        } else {
            format!("{}{}?{query}", self.base, self.path)
        }
    }

    /// This request's URL as it was sent.
    pub fn self_url(&self) -> String {
        self.url_with(&[])
    }
}

impl FromRequestParts<Emulator> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        emu: &Emulator,
    ) -> Result<Self, Self::Rejection> {
        let routed = parts
            .extensions
            .get::<Routed>()
            .cloned()
            .unwrap_or_else(|| Routed {
                path: parts.uri.path().to_string(),
                prefix: String::new(),
            });
        let caller = parts
            .extensions
            .get::<Caller>()
            .copied()
            .unwrap_or_default();
        Ok(Ctx {
            emu: emu.clone(),
            params: Params::parse(parts.uri.query().unwrap_or("")),
            caller,
            base: format!("{}{}", emu.base_url(), routed.prefix),
            path: routed.path,
            opt_in: parts
                .headers
                .get("x-experimentalapi")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("opt-in")),
        })
    }
}
