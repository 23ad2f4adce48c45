//! Jira platform groups: create, delete, membership, member paging, legacy expansion, bulk, picker, roles.

use jsm_testkit::{ADMIN_EMAIL, ADMIN_TOKEN, TestEmulator};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::jira_users::urlencode;
use crate::support::{account_id, demo_people, get_ok, send, status_json};

async fn follow_all(emu: &TestEmulator, first: &str) -> (Vec<Value>, usize) {
    let mut page = get_ok(emu, first).await;
    let mut values = Vec::new();
    let mut pages = 1;
    loop {
        values.extend(page["values"].as_array().unwrap().iter().cloned());
        let Some(next) = page.get("nextPage").and_then(Value::as_str) else {
            assert_eq!(page["isLast"], true);
            break;
        };
        assert!(
            next.starts_with(&emu.base_url),
            "nextPage is absolute on the emulator: {next}"
        );
        let resp = emu
            .http
            .get(next)
            .basic_auth(ADMIN_EMAIL, Some(ADMIN_TOKEN))
            .send()
            .await
            .unwrap();
        page = status_json(resp).await.1;
        pages += 1;
    }
    (values, pages)
}

#[tokio::test]
async fn group_lifecycle_with_membership() {
    let emu = TestEmulator::start().await;
    let (status, group) = status_json(
        send(
            &emu,
            Method::POST,
            "/rest/api/3/group",
            Some(json!({"name": "power-users"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(group["name"], "power-users");
    assert_eq!(group["users"]["size"], 0);
    let group_id = group["groupId"].as_str().unwrap().to_string();

    let (status, body) = status_json(
        send(
            &emu,
            Method::POST,
            "/rest/api/3/group",
            Some(json!({"name": "Power-Users"})),
        )
        .await,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "names are case-insensitive: {body}"
    );

    let (agents, _) = demo_people(&emu);
    let id = account_id(&emu, &agents[2]);
    let add_path = "/rest/api/3/group/user?groupname=power-users";
    let (status, after) =
        status_json(send(&emu, Method::POST, add_path, Some(json!({"accountId": id}))).await).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(after["users"]["size"], 1);
    let (status, body) =
        status_json(send(&emu, Method::POST, add_path, Some(json!({"accountId": id}))).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["errorMessages"][0],
        "Cannot add user. User is already a member of 'power-users'"
    );

    let members = get_ok(
        &emu,
        &format!("/rest/api/3/group/member?groupId={group_id}"),
    )
    .await;
    assert_eq!(members["total"], 1);
    assert_eq!(members["values"][0]["accountId"], id.as_str());

    let path = format!(
        "/rest/api/3/group/user?groupId={group_id}&accountId={}",
        urlencode(&id)
    );
    assert_eq!(
        send(&emu, Method::DELETE, &path, None).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        send(&emu, Method::DELETE, &path, None).await.status(),
        StatusCode::BAD_REQUEST
    );

    let (status, _) = status_json(
        send(
            &emu,
            Method::DELETE,
            "/rest/api/3/group?groupname=power-users&swapGroup=power-users",
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let resp = send(
        &emu,
        Method::DELETE,
        "/rest/api/3/group?groupname=power-users&swapGroup=hr-team",
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = send(
        &emu,
        Method::GET,
        &format!("/rest/api/3/group/member?groupId={group_id}"),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn member_pages_are_capped_at_fifty_and_never_lose_anyone() {
    let emu = TestEmulator::start_with(
        jsm_emulator::Emulator::builder()
            .seed(jsm_emulator::Seed::Generated { users: 12_000 })
            .limits(jsm_emulator::limits::LimitConfig::off()),
    )
    .await;
    let expected = {
        let site = emu.emu.site();
        let key = site
            .find_group_by_name("jira-servicemanagement-users")
            .unwrap();
        site.group(key).unwrap().members.len()
    };
    let first = get_ok(
        &emu,
        "/rest/api/3/group/member?groupname=jira-servicemanagement-users&maxResults=500",
    )
    .await;
    assert_eq!(first["maxResults"], 50, "silently lowered");
    assert_eq!(first["values"].as_array().unwrap().len(), 50);
    let (values, pages) = follow_all(
        &emu,
        "/rest/api/3/group/member?groupname=jira-servicemanagement-users&maxResults=500",
    )
    .await;
    assert_eq!(values.len(), expected);
    assert_eq!(pages, expected.div_ceil(50));
    let mut ids: Vec<&str> = values
        .iter()
        .map(|v| v["accountId"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), expected, "no duplicates across pages");
}

#[tokio::test]
async fn inactive_members_only_on_request() {
    let emu = TestEmulator::start().await;
    let (agents, _) = demo_people(&emu);
    {
        let mut site = emu.emu.site_mut();
        let key = site.find_by_email(&agents[3]).unwrap();
        site.account_mut(key).active = false;
    }
    let active = get_ok(
        &emu,
        "/rest/api/3/group/member?groupname=jira-servicemanagement-users",
    )
    .await;
    let all = get_ok(
        &emu,
        "/rest/api/3/group/member?groupname=jira-servicemanagement-users&includeInactiveUsers=True",
    )
    .await;
    assert_eq!(
        all["total"].as_u64().unwrap(),
        active["total"].as_u64().unwrap() + 1
    );
    let (status, body) = status_json(
        send(
            &emu,
            Method::GET,
            "/rest/api/3/group/member?groupname=hr-team&includeInactiveUsers=maybe",
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["errorMessages"][0]
            .as_str()
            .unwrap()
            .contains("includeInactiveUsers")
    );
}

#[tokio::test]
async fn legacy_group_expansion_uses_hyphenated_indexes() {
    let emu = TestEmulator::start().await;
    let group = get_ok(
        &emu,
        "/rest/api/2/group?groupname=jira-servicemanagement-users&expand=users[2:5]",
    )
    .await;
    let users = &group["users"];
    assert_eq!(users["size"], 21);
    assert_eq!(users["start-index"], 2);
    assert_eq!(users["end-index"], 5, "ranges include both ends");
    assert_eq!(users["items"].as_array().unwrap().len(), 4);
    let (status, _) = status_json(
        send(
            &emu,
            Method::GET,
            "/rest/api/3/group?groupname=hr-team&expand=users[x:1]",
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn customers_cannot_join_groups_and_seats_are_enforced() {
    let emu = TestEmulator::start().await;
    let (agents, customers) = demo_people(&emu);
    let customer = account_id(&emu, &customers[0]);
    let (status, body) = status_json(
        send(
            &emu,
            Method::POST,
            "/rest/api/3/group/user?groupname=hr-team",
            Some(json!({"accountId": customer})),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // Jira Software has 11 users in the demo: cap it there.
    emu.control(
        Method::PUT,
        "/products/jira-software",
        Some(json!({"seats": 11})),
    )
    .await;
    let agent = account_id(&emu, &agents[15]);
    let (status, body) = status_json(
        send(
            &emu,
            Method::POST,
            "/rest/api/3/group/user?groupname=jira-software-users",
            Some(json!({"accountId": agent})),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["errorMessages"][0]
            .as_str()
            .unwrap()
            .contains("licence limit"),
        "{body}"
    );
}

#[tokio::test]
async fn bulk_and_picker() {
    let emu = TestEmulator::start().await;
    let bulk = get_ok(&emu, "/rest/api/3/group/bulk?maxResults=3").await;
    assert_eq!(bulk["maxResults"], 3);
    assert_eq!(bulk["isLast"], false);
    let total = bulk["total"].as_u64().unwrap();
    let (values, _) = follow_all(&emu, "/rest/api/3/group/bulk?maxResults=3").await;
    assert_eq!(values.len() as u64, total);
    let by_name = get_ok(
        &emu,
        "/rest/api/3/group/bulk?groupName=HR-TEAM&groupName=it-support",
    )
    .await;
    assert_eq!(by_name["total"], 2);
    let by_app = get_ok(
        &emu,
        "/rest/api/3/group/bulk?applicationKey=jira-servicedesk",
    )
    .await;
    assert_eq!(by_app["values"][0]["name"], "jira-servicemanagement-users");

    let picked = get_ok(
        &emu,
        "/rest/api/3/groups/picker?query=JIRA&exclude=jira-administrators",
    )
    .await;
    let names: Vec<&str> = picked["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"jira-servicemanagement-users") && !names.contains(&"jira-administrators")
    );
    assert_eq!(
        picked["groups"][0]["html"]
            .as_str()
            .unwrap()
            .matches("<b>")
            .count(),
        1
    );
    assert_eq!(
        picked["header"],
        format!(
            "Showing {} of {} matching groups",
            names.len(),
            picked["total"]
        )
    );
}

#[tokio::test]
async fn application_roles_count_seats_from_groups() {
    let emu = TestEmulator::start().await;
    let roles = get_ok(&emu, "/rest/api/3/applicationrole").await;
    let jsm = roles
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "jira-servicedesk")
        .unwrap()
        .clone();
    assert_eq!(jsm["userCount"], 21);
    assert_eq!(jsm["numberOfSeats"], 25);
    assert_eq!(jsm["remainingSeats"], 4);
    assert_eq!(jsm["defaultGroups"][0], "jira-servicemanagement-users");
    let (status, _) =
        status_json(send(&emu, Method::GET, "/rest/api/3/applicationrole/nope", None).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
