//! Seats and API tokens as the emulator serves them: every granting path in `userCount`, role assignments
//! (`group_direct`, `direct`, `inferred`), suspension in a directory (no seat, Guard still billable), the
//! admin API-access token listing with `expiresAt`/`lastActiveAt`, and the user management token listing.

use jsm_testkit::TestEmulator;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{account_id, demo_people, get_ok, status_json};

async fn jsm_count(emu: &TestEmulator) -> i64 {
    get_ok(emu, "/rest/api/3/applicationrole/jira-servicedesk").await["userCount"]
        .as_i64()
        .unwrap_or(-1)
}

fn v2(emu: &TestEmulator, path: &str) -> String {
    format!("/admin/v2/orgs/{}{path}", emu.emu.config().identity.org_id)
}

async fn call(emu: &TestEmulator, method: Method, path: &str) -> (StatusCode, Value) {
    let resp = emu
        .http
        .request(method, emu.url(path))
        .bearer_auth(emu.org_key())
        .send()
        .await
        .expect("send");
    status_json(resp).await
}

async fn role_assignments(emu: &TestEmulator, id: &str) -> Vec<Value> {
    let dir = emu.emu.config().identity.directory_id.clone();
    let (status, body) = call(
        emu,
        Method::GET,
        &v2(
            emu,
            &format!("/directories/{dir}/users/{id}/role-assignments"),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].as_array().cloned().unwrap_or_default()
}

fn jsm_methods(assignments: &[Value]) -> Vec<String> {
    assignments
        .iter()
        .filter(|a| a["resourceOwner"] == "jira-servicedesk")
        .flat_map(|a| a["roleAssignments"].as_array().cloned().unwrap_or_default())
        .filter(|r| r["role"] == "atlassian/user")
        .flat_map(|r| {
            r["roleAssignmentMethods"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|m| m.as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn direct_grants_trusted_and_admin_groups_count_and_role_assignments_say_how() {
    let emu = TestEmulator::start().await;
    let (agents, _) = demo_people(&emu);
    let base = jsm_count(&emu).await;
    let role = get_ok(&emu, "/rest/api/3/applicationrole/jira-servicedesk").await;
    assert_eq!(
        role["defaultGroups"],
        json!(["jira-servicemanagement-users"])
    );
    assert_eq!(
        role["groups"],
        json!(["jira-servicemanagement-users", "site-admins"]),
        "admin groups that exist grant JSM"
    );

    // An account without any JSM group, granted JSM directly.
    let direct = {
        let mut site = emu.emu.site_mut();
        let key = site.add_account(
            jsm_emulator::site::NewAccount {
                account_type: jsm_proto::jira::AccountType::Atlassian,
                email: "direct@example.com".into(),
                display_name: "Direct Grant".into(),
                email_hidden: false,
            },
            0,
        );
        site.account(key).account_id.clone()
    };
    emu.control(
        Method::PUT,
        &format!("/access/{direct}"),
        Some(json!({ "directRoles": ["jira-servicedesk"] })),
    )
    .await;
    assert_eq!(jsm_count(&emu).await, base + 1);
    assert_eq!(
        jsm_methods(&role_assignments(&emu, &direct).await),
        ["direct"]
    );

    // Trusted grants only on original user management, and shows as `inferred`.
    emu.control(
        Method::PUT,
        &format!("/access/{direct}"),
        Some(json!({ "directRoles": [], "trusted": true })),
    )
    .await;
    assert_eq!(jsm_count(&emu).await, base);
    emu.control(
        Method::PUT,
        "/user-management",
        Some(json!({ "mode": "original" })),
    )
    .await;
    assert_eq!(jsm_count(&emu).await, base + 1);
    assert_eq!(
        jsm_methods(&role_assignments(&emu, &direct).await),
        ["inferred"]
    );

    // An agent in the default group: group_direct, and userDirectoryStatus active.
    let agent = account_id(&emu, &agents[0]);
    let ra = role_assignments(&emu, &agent).await;
    assert_eq!(jsm_methods(&ra), ["group_direct"]);
    assert!(ra.iter().any(|a| a["userDirectoryStatus"] == "active"));
    let (status, _) = call(
        &emu,
        Method::GET,
        &v2(&emu, "/directories/nope/users/x/role-assignments"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn suspension_in_a_directory_frees_the_seat_keeps_groups_and_guard_billing() {
    let emu = TestEmulator::start().await;
    let (agents, _) = demo_people(&emu);
    let email = agents[1].clone();
    let id = account_id(&emu, &email);
    let token = emu.token_for(&email).await;
    let before = jsm_count(&emu).await;
    let dir = emu.emu.config().identity.directory_id.clone();
    let (status, body) = call(
        &emu,
        Method::POST,
        &v2(&emu, &format!("/directories/{dir}/users/{id}/suspend")),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(jsm_count(&emu).await, before - 1);
    let myself = emu
        .as_user(Method::GET, "/rest/api/3/myself", &email, &token)
        .send()
        .await
        .expect("send");
    assert_eq!(myself.status(), StatusCode::UNAUTHORIZED);
    let user = get_ok(
        &emu,
        &format!("/rest/api/3/user?accountId={id}&expand=groups"),
    )
    .await;
    assert_eq!(user["active"], false);
    assert!(
        user["groups"]["size"].as_u64().unwrap_or(0) > 0,
        "groups are kept"
    );
    let ra = role_assignments(&emu, &id).await;
    assert!(ra.iter().any(|a| a["userDirectoryStatus"] == "suspended"));

    let org = emu.emu.config().identity.org_id.clone();
    let (_, users) = call(&emu, Method::GET, &format!("/admin/v1/orgs/{org}/users")).await;
    let listed = users["data"]
        .as_array()
        .and_then(|d| d.iter().find(|u| u["account_id"] == json!(id)).cloned())
        .unwrap_or_default();
    assert_eq!(
        listed["account_status"], "active",
        "suspension is not deactivation"
    );
    assert_eq!(
        listed["access_billable"], true,
        "Guard still bills a suspended account"
    );
    assert_eq!(listed["product_access"], json!([]));

    let (status, _) = call(
        &emu,
        Method::POST,
        &v2(&emu, &format!("/directories/-/users/{id}/restore")),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(jsm_count(&emu).await, before);
}

#[tokio::test]
async fn apps_customers_and_customer_role_groups_hold_no_seat() {
    let emu = TestEmulator::start().await;
    let before = jsm_count(&emu).await;
    let employee = {
        let mut site = emu.emu.site_mut();
        let app = site
            .accounts
            .iter()
            .position(|a| a.account_type == jsm_proto::jira::AccountType::App)
            .expect("the demo has an app account") as u32;
        let employee = site.add_account(
            jsm_emulator::site::NewAccount {
                account_type: jsm_proto::jira::AccountType::Atlassian,
                email: "requester@example.com".into(),
                display_name: "Requester".into(),
                email_hidden: false,
            },
            0,
        );
        let jsm = site.find_group_by_name("jira-servicemanagement-users");
        if let Some(g) = jsm.and_then(|k| site.group_mut(k)) {
            g.members.insert(app);
        }
        let requesters = site.create_group("jsm-requesters");
        if let Some(g) = requesters.and_then(|k| site.group_mut(k)) {
            g.members.insert(employee);
        }
        site.account(employee).account_id.clone()
    };
    emu.control(
        Method::PUT,
        "/products/jira-servicedesk/groups",
        Some(json!({ "customerGroups": ["jsm-requesters"] })),
    )
    .await;
    assert_eq!(
        jsm_count(&emu).await,
        before,
        "an app in the group and a customer-role member"
    );
    let ra = role_assignments(&emu, &employee).await;
    assert!(
        ra.iter()
            .flat_map(|a| a["roleAssignments"].as_array().cloned().unwrap_or_default())
            .any(|r| r["role"] == "atlassian/customer")
    );
    assert!(jsm_methods(&ra).is_empty());
}

#[tokio::test]
async fn api_tokens_are_listed_with_expiry_and_last_use() {
    let emu = TestEmulator::start().await;
    let (agents, _) = demo_people(&emu);
    let email = agents[2].clone();
    let id = account_id(&emu, &email);
    let made = emu
        .control(
            Method::POST,
            "/tokens",
            Some(json!({ "email": email, "label": "ci-bot", "expiresInDays": 20 })),
        )
        .await;
    let secret = made["token"].as_str().unwrap_or_default().to_string();
    let org = emu.emu.config().identity.org_id.clone();
    let list = |q: String| {
        let emu = &emu;
        let org = org.clone();
        async move {
            let (status, body) = call(
                emu,
                Method::GET,
                &format!("/admin/api-access/v1/orgs/{org}/api-tokens?q={q}&pageSize=10"),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body
        }
    };
    let page = list("ci-bot".into()).await;
    let token = page["data"][0].clone();
    assert_eq!(token["label"], "ci-bot");
    assert_eq!(token["status"], "active");
    assert_eq!(token["user"]["id"], json!(id));
    assert!(token["expiresAt"].is_string() && token["lastActiveAt"].is_null());

    let resp = emu
        .as_user(Method::GET, "/rest/api/3/myself", &email, &secret)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), StatusCode::OK);
    let page = list("ci-bot".into()).await;
    assert!(page["data"][0]["lastActiveAt"].is_string(), "{page}");

    emu.control(Method::POST, "/clock/advance", Some(json!({ "days": 21 })))
        .await;
    let page = list("ci-bot".into()).await;
    assert_eq!(page["data"][0]["status"], "expired");

    // Paging: one token per page.
    let (_, first) = call(
        &emu,
        Method::GET,
        &format!("/admin/api-access/v1/orgs/{org}/api-tokens?pageSize=1"),
    )
    .await;
    let next = first["links"]["next"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!next.is_empty(), "{first}");
    let (_, second) = call(
        &emu,
        Method::GET,
        &format!("/admin/api-access/v1/orgs/{org}/api-tokens?pageSize=1&cursor={next}"),
    )
    .await;
    assert_ne!(first["data"][0]["id"], second["data"][0]["id"]);

    // The user management API lists one account's live tokens (no expiry in its model).
    let admin_id = account_id(&emu, jsm_testkit::ADMIN_EMAIL);
    let (status, tokens) = call(
        &emu,
        Method::GET,
        &format!("/users/{admin_id}/manage/api-tokens"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert!(tokens.as_array().is_some_and(|t| !t.is_empty()));
    assert!(tokens[0]["createdAt"].is_string() && tokens[0].get("expiresAt").is_none());
    let (status, _) = call(&emu, Method::GET, &format!("/users/{id}/manage/api-tokens")).await;
    assert_eq!(status, StatusCode::OK);
}
