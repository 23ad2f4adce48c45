use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::ApiError;

/// The query string as ordered pairs: repeated keys (`accountId=a&accountId=b`) and any spelling of booleans
/// (`True`, `false`) are handled here rather than by serde.
#[derive(Debug, Clone, Default)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    /// Parses a raw query string.
    pub fn parse(query: &str) -> Self {
        Params(
            form_urlencoded::parse(query.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The first non-empty value of `key`.
    pub fn text(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|v| !v.trim().is_empty())
    }

    /// Every value of `key`, in order.
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// A boolean, parsed case-insensitively, or `default` when absent.
    pub fn flag(&self, key: &str, default: bool) -> Result<bool, ApiError> {
        match self.get(key) {
            None => Ok(default),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(ApiError::bad_request(format!(
                "Invalid value '{v}' for query parameter '{key}': expected true or false."
            ))),
        }
    }

    /// A non-negative integer, or `default` when absent.
    pub fn number(&self, key: &str, default: u64) -> Result<u64, ApiError> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v.trim().parse::<u64>().map_err(|_| {
                ApiError::bad_request(format!(
                    "Invalid value '{v}' for query parameter '{key}': expected a non-negative integer."
                ))
            }),
        }
    }

    /// The pairs with some keys replaced, for `nextPage` and `_links.next`.
    pub fn with(&self, overrides: &[(&str, String)]) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.0 {
            if !overrides.iter().any(|(o, _)| o == k) {
                out.append_pair(k, v);
            }
        }
        for (k, v) in overrides {
            out.append_pair(k, v);
        }
        out.finish()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Params::parse(parts.uri.query().unwrap_or("")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_ignore_case_and_bad_ones_name_the_parameter() {
        let p = Params::parse("a=True&b=FALSE&c=yes");
        assert_eq!(p.flag("a", false), Ok(true));
        assert_eq!(p.flag("b", true), Ok(false));
        assert_eq!(p.flag("z", true), Ok(true));
        let err = p.flag("c", false).err().map(|e| e.messages.join(""));
        assert!(err.is_some_and(|m| m.contains("'c'")));
    }

    #[test]
    fn repeated_keys_and_overrides() {
        let p = Params::parse("accountId=a&accountId=b&startAt=0");
        assert_eq!(p.all("accountId"), vec!["a", "b"]);
        assert_eq!(
            p.with(&[("startAt", "10".into())]),
            "accountId=a&accountId=b&startAt=10"
        );
    }
}
