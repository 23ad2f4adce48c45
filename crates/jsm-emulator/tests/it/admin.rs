//! Organizations admin API and user management API: org key auth, managed users with cursor paging, product
//! access and last-active dates (moved by the clock and the control plane), suspension and restoration on every
//! surface, directory removal, directory groups, and lifecycle disable/enable.

use jsm_testkit::TestEmulator;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{account_id, demo_people, get_ok, status_json};

async fn org(
    emu: &TestEmulator,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = emu.org(method, path);
    if let Some(body) = body {
        req = req.json(&body);
    }
    status_json(req.send().await.expect("request")).await
}

async fn lifecycle(
    emu: &TestEmulator,
    account: &str,
    action: &str,
    key: &str,
) -> (StatusCode, Value) {
    let resp = emu
        .http
        .post(emu.url(&format!("/users/{account}/manage/lifecycle/{action}")))
        .bearer_auth(key)
        .json(&json!({ "message": "On leave" }))
        .send()
        .await
        .expect("request");
    status_json(resp).await
}

async fn all_users(emu: &TestEmulator) -> Vec<Value> {
    let mut out = Vec::new();
    let mut url = emu.url(&format!(
        "/admin/v1/orgs/{}/users",
        emu.emu.config().identity.org_id
    ));
    loop {
        let resp = emu
            .http
            .get(&url)
            .bearer_auth(emu.org_key())
            .send()
            .await
            .expect("send");
        let (status, page) = status_json(resp).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        out.extend(page["data"].as_array().cloned().unwrap_or_default());
        match page["links"]["next"].as_str() {
            Some(next) => url = next.to_string(),
            None => return out,
        }
    }
}

#[tokio::test]
async fn auth_and_error_shapes() {
    let emu = TestEmulator::start().await;
    let url = emu.url(&format!(
        "/admin/v1/orgs/{}/users",
        emu.emu.config().identity.org_id
    ));
    let (status, body) = status_json(emu.http.get(&url).send().await.expect("send")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], 401);
    let (status, _) = status_json(
        emu.http
            .get(&url)
            .bearer_auth(emu.scim_token())
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let resp = emu
        .http
        .get(emu.url("/admin/v1/orgs/other/users"))
        .bearer_auth(emu.org_key())
        .send()
        .await;
    let (status, body) = status_json(resp.expect("send")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["errors"][0]["code"], "ADMIN-404-2");
    let (status, body) = org(
        &emu,
        Method::POST,
        "/directory/users/nobody/suspend-access",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        (
            body["errors"][0]["code"].clone(),
            body["errors"][0]["status"].clone()
        ),
        (json!("ADMIN-404-8"), json!("404"))
    );
    let (status, body) = org(&emu, Method::GET, "/users?cursor=%%%", None).await;
    assert_eq!(
        (status, body["errors"][0]["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("ADMIN-400-1"))
    );
    let (status, body) = lifecycle(&emu, "nobody", "disable", &emu.org_key()).await;
    assert_eq!(
        (status, body["key"].clone()),
        (StatusCode::NOT_FOUND, json!("accountNotFound"))
    );
    let (status, body) = lifecycle(&emu, "nobody", "disable", "wrong").await;
    assert_eq!(
        (status, body["key"].clone()),
        (StatusCode::UNAUTHORIZED, json!("unauthorized"))
    );
}

#[tokio::test]
async fn users_list_pages_and_hides_restricted_emails() {
    let emu = TestEmulator::start().await;
    let users = all_users(&emu).await;
    let site_atlassian = {
        let site = emu.emu.site();
        site.accounts
            .iter()
            .filter(|a| a.account_type == jsm_proto::jira::AccountType::Atlassian)
            .count()
    };
    assert_eq!(users.len(), site_atlassian);
    let (_, first) = org(&emu, Method::GET, "/users", None).await;
    assert_eq!(first["meta"]["total"], json!(site_atlassian));
    let hidden = users.iter().find(|u| {
        let site = emu.emu.site();
        site.find_account(u["account_id"].as_str().unwrap_or(""))
            .is_some_and(|k| site.account(k).email_hidden)
    });
    assert!(
        hidden.is_some_and(|u| u.get("email").is_none()),
        "restricted emails are absent"
    );
    let agent = users.iter().find(|u| {
        u["product_access"]
            .as_array()
            .is_some_and(|p| !p.is_empty())
    });
    let agent = agent.expect("an agent with product access");
    assert_eq!(agent["access_billable"], true);
    assert!(agent["last_active"].is_string());
    assert!(agent["product_access"][0]["last_active"].is_string());
    let inactive = users
        .iter()
        .filter(|u| u["account_status"] == "inactive")
        .count();
    assert_eq!(inactive, 1, "the demo's former employee");
}

#[tokio::test]
async fn suspension_reaches_jira_scim_and_api_tokens_and_restore_brings_it_back() {
    let emu = TestEmulator::start().await;
    let (agents, _) = demo_people(&emu);
    let email = agents[0].clone();
    let id = account_id(&emu, &email);
    let token = emu.token_for(&email).await;
    let myself = || {
        emu.as_user(Method::GET, "/rest/api/3/myself", &email, &token)
            .send()
    };
    assert_eq!(myself().await.expect("send").status(), StatusCode::OK);

    let (status, body) = org(
        &emu,
        Method::POST,
        &format!("/directory/users/{id}/suspend-access"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("suspended") && m.contains(&id))
    );
    assert_eq!(
        myself().await.expect("send").status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get_ok(&emu, &format!("/rest/api/3/user?accountId={id}")).await["active"],
        false
    );
    let (_, scim) = status_json(
        emu.scim(
            Method::GET,
            &format!("/Users?filter=userName%20eq%20%22{email}%22"),
        )
        .send()
        .await
        .expect("send"),
    )
    .await;
    assert_eq!(scim["Resources"][0]["active"], false);

    let (status, body) = org(
        &emu,
        Method::POST,
        &format!("/directory/users/{id}/restore-access"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("restored"))
    );
    assert_eq!(myself().await.expect("send").status(), StatusCode::OK);
}

#[tokio::test]
async fn lifecycle_disable_and_enable() {
    let emu = TestEmulator::start().await;
    let (agents, customers) = demo_people(&emu);
    let id = account_id(&emu, &agents[1]);
    let (status, _) = lifecycle(&emu, &id, "disable", &emu.org_key()).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        get_ok(&emu, &format!("/rest/api/3/user?accountId={id}")).await["active"],
        false
    );
    let users = all_users(&emu).await;
    assert!(
        users
            .iter()
            .any(|u| u["account_id"] == json!(id) && u["account_status"] == "inactive")
    );
    let (status, _) = lifecycle(&emu, &id, "enable", &emu.org_key()).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        get_ok(&emu, &format!("/rest/api/3/user?accountId={id}")).await["active"],
        true
    );
    let customer = account_id(&emu, &customers[0]);
    let (status, body) = lifecycle(&emu, &customer, "disable", &emu.org_key()).await;
    assert_eq!(
        (status, body["key"].clone()),
        (StatusCode::FORBIDDEN, json!("forbidden"))
    );
}

#[tokio::test]
async fn directory_removal_takes_access_and_the_scim_record() {
    let emu = TestEmulator::start().await;
    let (agents, _) = demo_people(&emu);
    let id = account_id(&emu, &agents[2]);
    let (status, _) = org(
        &emu,
        Method::DELETE,
        &format!("/directory/users/{id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(
        !all_users(&emu)
            .await
            .iter()
            .any(|u| u["account_id"] == json!(id))
    );
    let groups = get_ok(&emu, &format!("/rest/api/3/user/groups?accountId={id}")).await;
    assert_eq!(groups, json!([]));
    let (_, scim) = status_json(
        emu.scim(
            Method::GET,
            &format!("/Users?filter=userName%20eq%20%22{}%22", agents[2]),
        )
        .send()
        .await
        .expect("send"),
    )
    .await;
    assert_eq!(scim["totalResults"], 0);
    let (status, body) = org(
        &emu,
        Method::DELETE,
        &format!("/directory/users/{id}"),
        None,
    )
    .await;
    assert_eq!(
        (status, body["errors"][0]["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("ADMIN-400-4"))
    );
}

#[tokio::test]
async fn last_active_dates_follow_the_clock_and_the_control_plane() {
    let emu = TestEmulator::start().await;
    let (agents, _) = demo_people(&emu);
    let email = agents[3].clone();
    let id = account_id(&emu, &email);
    emu.control(
        Method::PUT,
        "/last-active",
        Some(json!({ "accountId": id, "daysAgo": 120 })),
    )
    .await;
    let (status, dates) = org(
        &emu,
        Method::GET,
        &format!("/directory/users/{id}/last-active-dates"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{dates}");
    let day = dates["data"]["product_access"][0]["last_active"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let now = emu.emu.now();
    let expected = chrono::DateTime::from_timestamp_millis(now - 120 * 86_400_000)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default();
    assert_eq!(day, expected);
    assert_eq!(
        dates["data"]["product_access"][0]["key"],
        "jira-service-desk"
    );

    // Using the site moves the date to the day of use, which the admin API reports 24 hours late: until then
    // it still shows the previous date.
    emu.control(Method::POST, "/clock/advance", Some(json!({ "days": 10 })))
        .await;
    let used_on = chrono::DateTime::from_timestamp_millis(emu.emu.now())
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default();
    let token = emu.token_for(&email).await;
    let resp = emu
        .as_user(
            Method::GET,
            "/rest/servicedeskapi/servicedesk",
            &email,
            &token,
        )
        .send()
        .await;
    assert_eq!(resp.expect("send").status(), StatusCode::OK);
    let jsm_date = |dates: &Value| {
        dates["data"]["product_access"]
            .as_array()
            .and_then(|p| p.iter().find(|x| x["key"] == "jira-service-desk").cloned())
            .unwrap_or_default()["last_active"]
            .clone()
    };
    let path = format!("/directory/users/{id}/last-active-dates");
    let dates = || org(&emu, Method::GET, &path, None);
    let (_, within_lag) = dates().await;
    assert_eq!(
        jsm_date(&within_lag),
        json!(expected),
        "inside the 24 h lag"
    );
    emu.control(Method::POST, "/clock/advance", Some(json!({ "days": 1 })))
        .await;
    let (_, after_lag) = dates().await;
    assert_eq!(jsm_date(&after_lag), json!(used_on));
    assert!(
        after_lag["data"]["added_to_org"].is_string(),
        "centralized UM"
    );
}

#[tokio::test]
async fn directory_groups_and_scim_synced_memberships() {
    let emu = TestEmulator::start().await;
    let (agents, _) = demo_people(&emu);
    let id = account_id(&emu, &agents[4]);
    let (status, created) = org(
        &emu,
        Method::POST,
        "/directory/groups",
        Some(json!({ "name": "contractors", "description": "x" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let gid = created["groupId"].as_str().unwrap_or("").to_string();
    let (status, body) = org(
        &emu,
        Method::POST,
        &format!("/directory/groups/{gid}/memberships"),
        Some(json!({ "account_id": id })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let members = get_ok(&emu, "/rest/api/3/group/member?groupname=contractors").await;
    assert_eq!(members["values"][0]["accountId"], json!(id));
    let (status, _) = org(
        &emu,
        Method::DELETE,
        &format!("/directory/groups/{gid}/memberships/{id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = org(
        &emu,
        Method::POST,
        "/directory/groups/nope/memberships",
        Some(json!({ "account_id": id })),
    )
    .await;
    assert_eq!(
        (status, body["errors"][0]["code"].clone()),
        (StatusCode::NOT_FOUND, json!("ADMIN-404-10"))
    );

    // it-support is synced from the IdP (demo directory): its memberships are changed there only.
    let synced = get_ok(&emu, "/rest/api/3/group?groupname=it-support").await;
    let sid = synced["groupId"].as_str().unwrap_or("").to_string();
    let (status, body) = org(
        &emu,
        Method::POST,
        &format!("/directory/groups/{sid}/memberships"),
        Some(json!({ "account_id": id })),
    )
    .await;
    assert_eq!(
        (status, body["errors"][0]["code"].clone()),
        (StatusCode::FORBIDDEN, json!("ADMIN-403-5"))
    );
    let (status, body) = org(
        &emu,
        Method::DELETE,
        &format!("/directory/groups/{sid}"),
        None,
    )
    .await;
    assert_eq!(
        (status, body["errors"][0]["code"].clone()),
        (StatusCode::FORBIDDEN, json!("ADMIN-403-5"))
    );
    let (status, _) = org(
        &emu,
        Method::DELETE,
        &format!("/directory/groups/{gid}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}
