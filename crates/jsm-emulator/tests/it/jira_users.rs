//! Jira platform users: lookup, search, listing, bulk, create and delete.

use jsm_testkit::TestEmulator;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{account_id, demo_people, get_ok, send, status_json};

#[tokio::test]
async fn get_user_by_account_id_with_expansions_on_every_api_version_and_prefix() {
    let emu = TestEmulator::start().await;
    let (agents, _) = demo_people(&emu);
    let id = account_id(&emu, &agents[0]);
    let encoded = urlencode(&id);
    for prefix in ["", "/ex/jira/abc", "/jira", "/example.atlassian.net"] {
        for version in ["3", "2", "latest"] {
            let path = format!(
                "{prefix}/rest/api/{version}/user?accountId={encoded}&expand=groups,applicationRoles"
            );
            let user = get_ok(&emu, &path).await;
            assert_eq!(user["accountId"], id.as_str(), "{path}");
            assert_eq!(user["accountType"], "atlassian");
            assert_eq!(user["active"], true);
            let self_url = user["self"].as_str().unwrap_or_default();
            assert!(
                self_url.starts_with(&format!(
                    "{}{prefix}/rest/api/{version}/user?accountId=",
                    emu.base_url
                )),
                "{self_url}"
            );
            let groups: Vec<&str> = user["groups"]["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| g["name"].as_str().unwrap())
                .collect();
            assert!(
                groups.contains(&"jira-servicemanagement-users"),
                "{groups:?}"
            );
            assert_eq!(user["groups"]["size"], groups.len());
            let roles = user["applicationRoles"]["items"].as_array().unwrap();
            assert!(roles.iter().any(|r| r["key"] == "jira-servicedesk"));
        }
    }
}

#[tokio::test]
async fn get_user_errors() {
    let emu = TestEmulator::start().await;
    let (status, body) = status_json(send(&emu, Method::GET, "/rest/api/3/user", None).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["errorMessages"][0],
        "The 'accountId' query parameter needs to be provided."
    );
    let (status, body) =
        status_json(send(&emu, Method::GET, "/rest/api/3/user?accountId=nope", None).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!({"errorMessages": ["Specified user does not exist or you do not have required permissions"], "errors": {}})
    );
    let (status, body) =
        status_json(send(&emu, Method::GET, "/rest/api/3/user?username=fred", None).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["errorMessages"][0].as_str().unwrap().contains("GDPR"));
}

#[tokio::test]
async fn user_search_is_a_filtered_then_paged_bare_array_of_active_users() {
    let emu = TestEmulator::start().await;
    let all = get_ok(&emu, "/rest/api/3/user/search?query=alice&maxResults=1000").await;
    let all = all.as_array().unwrap().clone();
    assert!(all.len() >= 2, "demo has several Alices");
    for u in &all {
        assert_eq!(u["active"], true);
        let name = u["displayName"].as_str().unwrap().to_lowercase();
        let email = u["emailAddress"].as_str().unwrap_or("").to_lowercase();
        assert!(name.split(' ').any(|w| w.starts_with("alice")) || email.starts_with("alice"));
    }
    let page = get_ok(
        &emu,
        "/rest/api/3/user/search?query=alice&startAt=1&maxResults=1",
    )
    .await;
    assert_eq!(page.as_array().unwrap(), &all[1..2]);
    // Inactive accounts never appear.
    let (inactive_id, inactive_name) = {
        let site = emu.emu.site();
        let a = site.accounts.iter().find(|a| !a.active).unwrap();
        (a.account_id.clone(), a.display_name.clone())
    };
    let first = inactive_name.split(' ').next().unwrap();
    let found = get_ok(
        &emu,
        &format!("/rest/api/3/user/search?query={first}&maxResults=1000"),
    )
    .await;
    assert!(!found.as_array().unwrap().is_empty());
    assert!(
        found
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["accountId"] != inactive_id.as_str())
    );
}

#[tokio::test]
async fn user_search_stops_at_the_thousandth_result() {
    let emu = TestEmulator::start_with(
        jsm_emulator::Emulator::builder()
            .seed(jsm_emulator::Seed::Generated { users: 1_500 })
            .limits(jsm_emulator::limits::LimitConfig::off()),
    )
    .await;
    // A blank query matches everyone; the window ends at the 1000th result whatever startAt says.
    let first = get_ok(
        &emu,
        "/rest/api/3/user/search?query=%20&startAt=0&maxResults=1000",
    )
    .await;
    assert_eq!(first.as_array().unwrap().len(), 1000);
    let tail = get_ok(
        &emu,
        "/rest/api/3/user/search?query=%20&startAt=990&maxResults=1000",
    )
    .await;
    assert_eq!(tail.as_array().unwrap().len(), 10);
    let past = get_ok(
        &emu,
        "/rest/api/3/user/search?query=%20&startAt=1000&maxResults=1000",
    )
    .await;
    assert_eq!(
        past.as_array().unwrap().len(),
        0,
        "nothing past the 1000th result"
    );
}

#[tokio::test]
async fn anonymous_and_customer_searches_answer_empty() {
    let emu = TestEmulator::start().await;
    let resp = emu
        .http
        .get(emu.url("/rest/api/3/user/search?query=a"))
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(resp).await;
    assert_eq!((status, body), (StatusCode::OK, json!([])));
    let (_, customers) = demo_people(&emu);
    let token = emu.token_for(&customers[0]).await;
    let resp = emu
        .as_user(
            Method::GET,
            "/rest/api/3/user/search?query=a",
            &customers[0],
            &token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(status_json(resp).await, (StatusCode::OK, json!([])));
}

#[tokio::test]
async fn users_search_lists_everyone_including_inactive_apps_and_customers() {
    let emu = TestEmulator::start().await;
    let total = emu.emu.site().accounts.len();
    let mut seen = Vec::new();
    let mut start = 0;
    loop {
        let page = get_ok(
            &emu,
            &format!("/rest/api/3/users/search?startAt={start}&maxResults=200"),
        )
        .await;
        let page = page.as_array().unwrap().clone();
        if page.is_empty() {
            break;
        }
        start += page.len();
        seen.extend(page);
    }
    assert_eq!(seen.len(), total);
    for kind in ["atlassian", "app", "customer"] {
        assert!(seen.iter().any(|u| u["accountType"] == kind), "{kind}");
    }
    assert!(seen.iter().any(|u| u["active"] == false));
    let capped = get_ok(&emu, "/rest/api/3/users?maxResults=5000").await;
    assert_eq!(capped.as_array().unwrap().len(), total.min(1000));
}

#[tokio::test]
async fn bulk_pages_with_a_default_of_ten() {
    let emu = TestEmulator::start().await;
    let ids: Vec<String> = emu
        .emu
        .site()
        .accounts
        .iter()
        .take(12)
        .map(|a| a.account_id.clone())
        .collect();
    let query: Vec<String> = ids
        .iter()
        .map(|i| format!("accountId={}", urlencode(i)))
        .collect();
    let page = get_ok(&emu, &format!("/rest/api/3/user/bulk?{}", query.join("&"))).await;
    assert_eq!(page["maxResults"], 10);
    assert_eq!(page["total"], 12);
    assert_eq!(page["isLast"], false);
    assert_eq!(page["values"].as_array().unwrap().len(), 10);
    let next = page["nextPage"].as_str().unwrap();
    assert!(next.starts_with(&emu.base_url));
    let rest = emu
        .http
        .get(next)
        .basic_auth(jsm_testkit::ADMIN_EMAIL, Some(jsm_testkit::ADMIN_TOKEN))
        .send()
        .await
        .unwrap();
    let (_, rest) = status_json(rest).await;
    assert_eq!(rest["values"].as_array().unwrap().len(), 2);
    assert_eq!(rest["isLast"], true);
    assert!(rest.get("nextPage").is_none());
}

#[tokio::test]
async fn create_user_requires_products_and_counts_a_seat() {
    let emu = TestEmulator::start().await;
    let (status, body) = status_json(
        send(
            &emu,
            Method::POST,
            "/rest/api/3/user",
            Some(json!({"emailAddress": "new@example.com"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["errorMessages"][0],
        "You must specify the products that user can access."
    );

    let before = get_ok(&emu, "/rest/api/3/applicationrole/jira-servicedesk").await["userCount"]
        .as_i64()
        .unwrap();
    let (status, user) = status_json(
        send(
            &emu,
            Method::POST,
            "/rest/api/3/user",
            Some(
                json!({"emailAddress": "new.agent@example.com", "products": ["jira-servicedesk"]}),
            ),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    assert_eq!(user["emailAddress"], "new.agent@example.com");
    let after = get_ok(&emu, "/rest/api/3/applicationrole/jira-servicedesk").await["userCount"]
        .as_i64()
        .unwrap();
    assert_eq!(after, before + 1);
    // The same email again with Jira access answers 201 with the same account.
    let (status, again) = status_json(
        send(
            &emu,
            Method::POST,
            "/rest/api/3/user",
            Some(json!({"emailAddress": "NEW.AGENT@example.com", "products": []})),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(again["accountId"], user["accountId"]);
}

#[tokio::test]
async fn seat_limit_refuses_new_agents() {
    let emu = TestEmulator::start().await;
    emu.control(
        Method::PUT,
        "/products/jira-servicedesk",
        Some(json!({"seats": 21})),
    )
    .await;
    let (status, body) = status_json(
        send(
            &emu,
            Method::POST,
            "/rest/api/3/user",
            Some(json!({"emailAddress": "one.too.many@example.com", "products": ["jira-servicedesk"]})),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["errorMessages"][0]
            .as_str()
            .unwrap()
            .contains("licence limit")
    );
    assert!(
        emu.emu
            .site()
            .find_by_email("one.too.many@example.com")
            .is_none(),
        "nothing half-written"
    );
}

#[tokio::test]
async fn quirk_reproduces_the_user_not_found_failure() {
    let emu = TestEmulator::start().await;
    emu.control(
        Method::PUT,
        "/quirks",
        Some(json!({"createUserRequiresAccount": true})),
    )
    .await;
    let (status, body) = status_json(
        send(
            &emu,
            Method::POST,
            "/rest/api/3/user",
            Some(json!({"emailAddress": "ghost@example.com", "products": []})),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["errorMessages"][0],
        "User could not be created: Failed to add user HttpErrorCode 404 - User not found"
    );
}

#[tokio::test]
async fn delete_user_removes_site_access_and_groups_but_keeps_the_account() {
    let emu = TestEmulator::start().await;
    let (agents, _) = demo_people(&emu);
    let id = urlencode(&account_id(&emu, &agents[1]));
    let resp = send(
        &emu,
        Method::DELETE,
        &format!("/rest/api/3/user?accountId={id}"),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let user = get_ok(
        &emu,
        &format!("/rest/api/3/user?accountId={id}&expand=groups"),
    )
    .await;
    assert_eq!(user["active"], false);
    assert_eq!(user["groups"]["size"], 0);
    let again = send(
        &emu,
        Method::DELETE,
        &format!("/rest/api/3/user?accountId={id}"),
        None,
    )
    .await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    let me = urlencode(&account_id(&emu, jsm_testkit::ADMIN_EMAIL));
    let (status, _) = status_json(
        send(
            &emu,
            Method::DELETE,
            &format!("/rest/api/3/user?accountId={me}"),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn user_groups_and_myself() {
    let emu = TestEmulator::start().await;
    let me = get_ok(&emu, "/rest/api/3/myself").await;
    assert_eq!(me["emailAddress"], jsm_testkit::ADMIN_EMAIL);
    let id = urlencode(me["accountId"].as_str().unwrap());
    let groups = get_ok(&emu, &format!("/rest/api/3/user/groups?accountId={id}")).await;
    let names: Vec<&str> = groups
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"site-admins") && names.contains(&"jira-administrators"),
        "{names:?}"
    );
    let info = get_ok(&emu, "/rest/api/2/serverInfo").await;
    assert_eq!(info["deploymentType"], "Cloud");
    assert!(info["versionNumbers"][0].as_u64().unwrap() >= 6);
}

/// Percent-encodes a query value.
pub fn urlencode(v: &str) -> String {
    v.replace(':', "%3A")
}
