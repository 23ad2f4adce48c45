//! Path patterns shared by rate-limit overrides and fault rules.

use std::borrow::Cow;

/// The path with `/rest/api/2` and `/rest/api/latest` written as `/rest/api/3`, so every version of an
/// endpoint shares one bucket and one set of fault rules.
pub fn canonical(path: &str) -> Cow<'_, str> {
    for old in ["/rest/api/2/", "/rest/api/latest/"] {
        if let Some(rest) = path.strip_prefix(old) {
            return Cow::Owned(format!("/rest/api/3/{rest}"));
        }
    }
    Cow::Borrowed(path)
}

/// Whether `path` fits `pattern`: `*` alone matches everything; otherwise segment by segment, where a `*` or
/// `{name}` segment matches any one segment and a trailing `**` matches the rest.
pub fn matches(pattern: &str, path: &str) -> bool {
    if pattern == "*" || pattern == "**" {
        return true;
    }
    let path = canonical(path);
    let pattern = canonical(pattern);
    let mut want = pattern.trim_end_matches('/').split('/');
    let mut have = path.trim_end_matches('/').split('/');
    loop {
        match (want.next(), have.next()) {
            (None, None) => return true,
            (Some("**"), _) => return true,
            (Some(w), Some(h))
                if w == h || w == "*" || (w.starts_with('{') && w.ends_with('}')) => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_share_a_pattern() {
        assert!(matches("/rest/api/3/user", "/rest/api/2/user"));
        assert!(matches("/rest/api/3/user", "/rest/api/latest/user/"));
        assert!(!matches("/rest/api/3/user", "/rest/api/3/user/search"));
        assert!(matches("/rest/api/3/**", "/rest/api/3/user/search"));
        assert!(matches(
            "/rest/servicedeskapi/servicedesk/*/customer",
            "/rest/servicedeskapi/servicedesk/{serviceDeskId}/customer"
        ));
        assert!(matches("*", "/anything"));
    }
}
