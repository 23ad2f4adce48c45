//! Helpers shared by the test modules.

use jsm_testkit::TestEmulator;
use reqwest::{Method, Response, StatusCode};
use serde_json::Value;

/// Status and JSON body of a response (`Value::Null` when the body is empty or not JSON).
pub async fn status_json(resp: Response) -> (StatusCode, Value) {
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// GET as the admin; panics unless 2xx.
pub async fn get_ok(emu: &TestEmulator, path: &str) -> Value {
    let (status, body) = status_json(send(emu, Method::GET, path, None).await).await;
    assert!(status.is_success(), "GET {path} -> {status}: {body}");
    body
}

/// A request as the admin, with the experimental opt-in header and an optional JSON body.
pub async fn send(emu: &TestEmulator, method: Method, path: &str, body: Option<Value>) -> Response {
    let mut req = emu
        .admin(method, path)
        .header("X-ExperimentalApi", "opt-in");
    if let Some(body) = body {
        req = req.json(&body);
    }
    req.send().await.expect("request")
}

/// The account id of the account with `email`, read from the emulator's state.
pub fn account_id(emu: &TestEmulator, email: &str) -> String {
    let site = emu.emu.site();
    let key = site.find_by_email(email).expect("account exists");
    site.account(key).account_id.clone()
}

/// Emails of demo accounts by kind: (agents, customers).
pub fn demo_people(emu: &TestEmulator) -> (Vec<String>, Vec<String>) {
    use jsm_proto::jira::AccountType;
    let site = emu.emu.site();
    let agents = site
        .accounts
        .iter()
        .enumerate()
        .filter(|(i, a)| {
            a.account_type == AccountType::Atlassian
                && a.active
                && site.is_member_of(*i as u32, "jira-servicemanagement-users")
                && a.email != jsm_testkit::ADMIN_EMAIL
        })
        .map(|(_, a)| a.email.clone())
        .collect();
    let customers = site
        .accounts
        .iter()
        .filter(|a| a.account_type == AccountType::Customer)
        .map(|a| a.email.clone())
        .collect();
    (agents, customers)
}
