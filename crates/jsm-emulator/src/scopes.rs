//! OAuth 2.0 scopes: which scope strings `/authorize` and scoped API tokens accept, and which classic scopes
//! each operation needs, from the `x-atlassian-oauth2-scopes` "Current" entries of Atlassian's OpenAPI files.

use crate::route;

/// The classic scopes the emulator knows by name.
pub const CLASSIC: [&str; 13] = [
    "read:jira-user",
    "read:jira-work",
    "write:jira-work",
    "manage:jira-project",
    "manage:jira-configuration",
    "manage:jira-webhook",
    "manage:jira-data-provider",
    "read:servicedesk-request",
    "write:servicedesk-request",
    "manage:servicedesk-customer",
    "read:me",
    "read:account",
    "offline_access",
];

const READ_USER: &[&str] = &["read:jira-user"];
const MANAGE_CONFIG: &[&str] = &["manage:jira-configuration"];
const MANAGE_CUSTOMER: &[&str] = &["manage:servicedesk-customer"];
const READ_REQUEST: &[&str] = &["read:servicedesk-request"];
const APP_WEBHOOKS: &[&str] = &["read:jira-work", "manage:jira-webhook"];
const ADMIN_WEBHOOKS: &[&str] = &["manage:jira-webhook"];
const NONE: &[&str] = &[];

/// (method, route pattern, every scope required). Jira routes are written for `/rest/api/3` and match every
/// version. Admin webhooks are not in Atlassian's spec; the emulator asks for `manage:jira-webhook`.
const TABLE: &[(&str, &str, &[&str])] = &[
    ("GET", "/rest/api/3/user", READ_USER),
    ("POST", "/rest/api/3/user", MANAGE_CONFIG),
    ("DELETE", "/rest/api/3/user", MANAGE_CONFIG),
    ("GET", "/rest/api/3/user/groups", READ_USER),
    ("GET", "/rest/api/3/user/search", READ_USER),
    ("GET", "/rest/api/3/user/bulk", READ_USER),
    ("GET", "/rest/api/3/users/search", READ_USER),
    ("GET", "/rest/api/3/users", READ_USER),
    ("GET", "/rest/api/3/myself", READ_USER),
    ("GET", "/rest/api/3/group", READ_USER),
    ("POST", "/rest/api/3/group", MANAGE_CONFIG),
    ("DELETE", "/rest/api/3/group", MANAGE_CONFIG),
    ("GET", "/rest/api/3/group/bulk", READ_USER),
    ("GET", "/rest/api/3/group/member", MANAGE_CONFIG),
    ("POST", "/rest/api/3/group/user", MANAGE_CONFIG),
    ("DELETE", "/rest/api/3/group/user", MANAGE_CONFIG),
    ("GET", "/rest/api/3/groups/picker", READ_USER),
    ("GET", "/rest/api/3/applicationrole", MANAGE_CONFIG),
    ("GET", "/rest/api/3/applicationrole/{key}", MANAGE_CONFIG),
    ("GET", "/rest/api/3/serverInfo", NONE),
    ("GET", "/rest/api/3/webhook", APP_WEBHOOKS),
    ("POST", "/rest/api/3/webhook", APP_WEBHOOKS),
    ("DELETE", "/rest/api/3/webhook", APP_WEBHOOKS),
    ("PUT", "/rest/api/3/webhook/refresh", APP_WEBHOOKS),
    ("GET", "/rest/webhooks/1.0/webhook", ADMIN_WEBHOOKS),
    ("POST", "/rest/webhooks/1.0/webhook", ADMIN_WEBHOOKS),
    ("GET", "/rest/webhooks/1.0/webhook/{id}", ADMIN_WEBHOOKS),
    ("PUT", "/rest/webhooks/1.0/webhook/{id}", ADMIN_WEBHOOKS),
    ("DELETE", "/rest/webhooks/1.0/webhook/{id}", ADMIN_WEBHOOKS),
    ("GET", "/rest/servicedeskapi/info", NONE),
    ("GET", "/rest/servicedeskapi/servicedesk", READ_REQUEST),
    ("GET", "/rest/servicedeskapi/servicedesk/{id}", READ_REQUEST),
    ("POST", "/rest/servicedeskapi/customer", MANAGE_CUSTOMER),
    (
        "GET",
        "/rest/servicedeskapi/servicedesk/{id}/customer",
        MANAGE_CUSTOMER,
    ),
    (
        "POST",
        "/rest/servicedeskapi/servicedesk/{id}/customer",
        MANAGE_CUSTOMER,
    ),
    (
        "DELETE",
        "/rest/servicedeskapi/servicedesk/{id}/customer",
        MANAGE_CUSTOMER,
    ),
    (
        "GET",
        "/rest/servicedeskapi/servicedesk/{id}/organization",
        MANAGE_CUSTOMER,
    ),
    (
        "POST",
        "/rest/servicedeskapi/servicedesk/{id}/organization",
        MANAGE_CUSTOMER,
    ),
    (
        "DELETE",
        "/rest/servicedeskapi/servicedesk/{id}/organization",
        MANAGE_CUSTOMER,
    ),
    ("GET", "/rest/servicedeskapi/organization", MANAGE_CUSTOMER),
    ("POST", "/rest/servicedeskapi/organization", MANAGE_CUSTOMER),
    (
        "GET",
        "/rest/servicedeskapi/organization/{id}",
        MANAGE_CUSTOMER,
    ),
    (
        "DELETE",
        "/rest/servicedeskapi/organization/{id}",
        MANAGE_CUSTOMER,
    ),
    (
        "GET",
        "/rest/servicedeskapi/organization/{id}/user",
        MANAGE_CUSTOMER,
    ),
    (
        "POST",
        "/rest/servicedeskapi/organization/{id}/user",
        MANAGE_CUSTOMER,
    ),
    (
        "DELETE",
        "/rest/servicedeskapi/organization/{id}/user",
        MANAGE_CUSTOMER,
    ),
];

/// The scopes an operation needs (all of them), or `None` when OAuth and scoped tokens cannot call it.
pub fn required(method: &str, route_template: &str) -> Option<&'static [&'static str]> {
    TABLE
        .iter()
        .find(|(m, pattern, _)| m.eq_ignore_ascii_case(method) && exact(pattern, route_template))
        .map(|(_, _, scopes)| *scopes)
}

/// Like [`route::matches`] but without the catch-all `*` pattern, which the table never uses.
fn exact(pattern: &str, path: &str) -> bool {
    pattern != "*" && route::matches(pattern, path)
}

/// Whether `granted` covers every scope `method route_template` needs.
pub fn allows(granted: &[String], method: &str, route_template: &str) -> bool {
    required(method, route_template)
        .is_some_and(|needed| needed.iter().all(|n| granted.iter().any(|g| g == n)))
}

/// Whether `/authorize` and scoped tokens accept this scope: a classic scope, or a granular one shaped
/// `action:entity:product` (granular scopes are accepted but grant nothing here: enforcement is classic).
pub fn is_known(scope: &str) -> bool {
    if CLASSIC.contains(&scope) {
        return true;
    }
    let parts: Vec<&str> = scope.split(':').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        })
}

/// Splits a space-separated scope parameter; the first unknown scope is the error.
pub fn parse(param: &str) -> Result<Vec<String>, String> {
    let mut scopes: Vec<String> = Vec::new();
    for scope in param.split_whitespace() {
        if !is_known(scope) {
            return Err(scope.to_string());
        }
        if !scopes.iter().any(|s| s == scope) {
            scopes.push(scope.to_string());
        }
    }
    Ok(scopes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_reads_like_the_spec() {
        assert_eq!(required("GET", "/rest/api/2/user"), Some(READ_USER));
        assert_eq!(
            required("GET", "/rest/api/latest/group/member"),
            Some(MANAGE_CONFIG)
        );
        assert_eq!(
            required("POST", "/rest/servicedeskapi/servicedesk/{id}/customer"),
            Some(MANAGE_CUSTOMER)
        );
        assert_eq!(required("GET", "/rest/api/3/serverInfo"), Some(NONE));
        assert_eq!(required("PATCH", "/rest/api/3/user"), None);
        assert_eq!(required("GET", "/rest/api/3/nothing"), None);
        let granted = vec!["read:jira-work".to_string()];
        assert!(!allows(&granted, "GET", "/rest/api/3/webhook"));
        let granted = vec![
            "read:jira-work".to_string(),
            "manage:jira-webhook".to_string(),
        ];
        assert!(allows(&granted, "GET", "/rest/api/3/webhook"));
        assert!(allows(&[], "GET", "/rest/api/3/serverInfo"));
    }

    #[test]
    fn scope_strings() {
        assert_eq!(
            parse("read:jira-user  offline_access read:jira-user"),
            Ok(vec![
                "read:jira-user".to_string(),
                "offline_access".to_string()
            ])
        );
        assert!(is_known("read:user:jira"));
        assert_eq!(parse("read:jira-user admin"), Err("admin".to_string()));
        assert_eq!(parse("READ:JIRA-USER"), Err("READ:JIRA-USER".to_string()));
        assert_eq!(parse(""), Ok(Vec::new()));
    }
}
