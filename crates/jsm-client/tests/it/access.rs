//! Directories, role assignments, suspension in a directory, last-active dates and API-token listings: typed
//! calls against the real emulator, and the cursor-following of last-active dates against wiremock.

use std::sync::Arc;

use jsm_client::{Change, Metrics};
use jsm_testkit::{ADMIN_EMAIL, TestEmulator};
use reqwest::Method;
use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directories_roles_suspension_and_tokens_against_the_emulator() {
    let emu = TestEmulator::start().await;
    let client = emu.client();
    let admin = client.admin();
    let dirs = admin.directories().unwrap().all().await.unwrap();
    assert_eq!(dirs.len(), 1);
    let dir = dirs[0].directory_id.clone();

    let users = admin.users().unwrap().all().await.unwrap();
    let agent = users
        .iter()
        .find(|u| {
            u.email.as_deref() != Some(ADMIN_EMAIL)
                && u.product_access
                    .iter()
                    .any(|p| p.key == "jira-service-desk")
        })
        .unwrap()
        .account_id
        .clone();
    let roles = admin.role_assignments(&dir, &agent).await.unwrap();
    let jsm = roles
        .iter()
        .find(|r| r.resource_owner.as_deref() == Some("jira-servicedesk"))
        .unwrap();
    assert_eq!(jsm.user_directory_status.as_deref(), Some("active"));
    assert_eq!(
        jsm.role_assignments[0].role_assignment_methods,
        vec!["group_direct".to_string()]
    );

    assert_eq!(
        admin.suspend_in_directory(&dir, &agent).await.unwrap(),
        Change::Applied
    );
    let roles = admin.role_assignments("-", &agent).await.unwrap();
    assert!(
        roles
            .iter()
            .any(|r| r.user_directory_status.as_deref() == Some("suspended"))
    );
    admin.restore_in_directory(&dir, &agent).await.unwrap();

    let dates = admin.last_active_dates(&agent).await.unwrap();
    assert!(dates.added_to_org.is_some());
    assert!(dates.product_access.iter().all(|p| p.last_active.is_some()));

    let email = users
        .iter()
        .find(|u| u.account_id == agent)
        .and_then(|u| u.email.clone())
        .unwrap();
    for label in ["deploy-bot", "report-bot"] {
        emu.control(
            Method::POST,
            "/tokens",
            Some(json!({ "email": email, "label": label, "expiresInDays": 30 })),
        )
        .await;
    }
    let all = admin.api_tokens().pager().unwrap().all().await.unwrap();
    assert!(all.len() >= 3, "the admin's token and two more");
    let bots = admin
        .api_tokens()
        .query("-bot")
        .pager()
        .unwrap()
        .all()
        .await
        .unwrap();
    assert_eq!(bots.len(), 2);
    assert!(bots.iter().all(|t| t.expires_at.is_some()
        && t.user.as_ref().map(|u| u.id.as_str()) == Some(agent.as_str())));
    let own = admin.user_api_tokens(&agent).await.unwrap();
    assert_eq!(own.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_tokens_page_past_the_first_hundred() {
    let emu = TestEmulator::start().await;
    {
        let mut site = emu.emu.site_mut();
        let owner = site.find_by_email(ADMIN_EMAIL).unwrap();
        for i in 0..230 {
            let id = site.ids.uuid();
            let secret = site.ids.api_token();
            site.add_token(jsm_emulator::site::ApiToken {
                id,
                account: owner,
                secret,
                label: format!("bulk-{i}"),
                created: 0,
                expires_at: i64::MAX,
                revoked: false,
                last_used: None,
                scoped: false,
                scopes: Vec::new(),
            });
        }
    }
    let metrics = Arc::new(Metrics::default());
    let client = emu
        .client_builder()
        .observer(metrics.clone())
        .build()
        .unwrap();
    let tokens = client
        .admin()
        .api_tokens()
        .pager()
        .unwrap()
        .all()
        .await
        .unwrap();
    assert_eq!(tokens.len(), 231);
    assert_eq!(metrics.snapshot().sent, 3, "pages of 100");
}

#[tokio::test]
async fn last_active_dates_follow_the_next_cursor() {
    let server = MockServer::start().await;
    let base = "/admin/v1/orgs/o1/directory/users/acc-1/last-active-dates";
    Mock::given(method("GET"))
        .and(path(base))
        .and(query_param("cursor", "c2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": { "product_access": [{ "id": "s", "key": "confluence", "last_active": "2026-01-02" }] },
            "links": {}
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(base))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {
                "product_access": [{ "id": "s", "key": "jira-service-desk", "last_active": "2026-01-01" }],
                "added_to_org": "2025-06-01"
            },
            "links": { "next": format!("{}{base}?cursor=c2", server.uri()) }
        })))
        .mount(&server)
        .await;
    let recorder = Arc::new(common::Recorder::default());
    let client = common::builder(&server, &recorder)
        .org_admin("o1", "org-key")
        .build()
        .unwrap();
    let dates = client.admin().last_active_dates("acc-1").await.unwrap();
    let keys: Vec<&str> = dates
        .product_access
        .iter()
        .map(|p| p.key.as_str())
        .collect();
    assert_eq!(keys, ["jira-service-desk", "confluence"]);
    assert_eq!(dates.added_to_org.as_deref(), Some("2025-06-01"));
}
