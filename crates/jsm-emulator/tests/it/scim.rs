//! SCIM 2.0 at `/scim/directory/{id}`: auth, content types, filters, paging, projections, create/replace/patch/
//! delete, and one site behind every surface (Jira users and groups, seats, API tokens). Property tests feed
//! random filters and PATCH bodies and require a 4xx with the right `scimType`, never a 5xx.

use jsm_testkit::TestEmulator;
use proptest::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::status_json;

async fn scim(
    emu: &TestEmulator,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = emu.scim(method, path);
    if let Some(body) = body {
        req = req.json(&body);
    }
    status_json(req.send().await.expect("request")).await
}

fn new_user(name: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": format!("{name}@idp.example"),
        "externalId": format!("ext-{name}"),
        "name": { "givenName": "Test", "familyName": name },
        "displayName": format!("Test {name}"),
        "emails": [{ "value": format!("{name}@idp.example"), "type": "work", "primary": true }],
        "title": "Engineer",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": { "department": "R&D" },
    })
}

async fn create(emu: &TestEmulator, name: &str) -> Value {
    let (status, body) = scim(emu, Method::POST, "/Users", Some(new_user(name))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

async fn jira_user(emu: &TestEmulator, account_id: &str) -> Value {
    let resp = emu
        .admin(
            Method::GET,
            &format!("/rest/api/3/user?accountId={account_id}"),
        )
        .send()
        .await
        .expect("request");
    let (status, body) = status_json(resp).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn auth_failures_use_the_failure_shape_and_other_directories_are_404() {
    let emu = TestEmulator::start().await;
    let url = emu.url(&format!(
        "/scim/directory/{}/Users",
        emu.emu.config().identity.directory_id
    ));
    let (status, body) = status_json(emu.http.get(&url).send().await.expect("send")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body["error"].is_string() && body["traceId"].is_string(),
        "{body}"
    );
    let (status, _) = status_json(
        emu.http
            .get(&url)
            .bearer_auth("wrong")
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = status_json(
        emu.http
            .get(&url)
            .bearer_auth(emu.org_key())
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let other = emu.url("/scim/directory/not-this-one/Users");
    let (status, body) = status_json(
        emu.http
            .get(&other)
            .bearer_auth(emu.scim_token())
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["status"], "404");
}

#[tokio::test]
async fn both_content_types_are_accepted_and_answered() {
    let emu = TestEmulator::start().await;
    let resp = emu
        .scim(Method::POST, "/Users")
        .header("content-type", "application/scim+json; charset=utf-8")
        .header("accept", "application/scim+json")
        .body(new_user("ctype").to_string())
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), StatusCode::CREATED);
    let ct = resp.headers()["content-type"]
        .to_str()
        .unwrap_or("")
        .to_string();
    assert!(ct.starts_with("application/scim+json"), "{ct}");
    let resp = emu
        .scim(Method::GET, "/Users?count=1")
        .header("accept", "application/json")
        .send()
        .await
        .expect("send");
    let ct = resp.headers()["content-type"]
        .to_str()
        .unwrap_or("")
        .to_string();
    assert!(ct.starts_with("application/json"), "{ct}");
}

#[tokio::test]
async fn create_links_to_jira_and_duplicates_are_409_uniqueness() {
    let emu = TestEmulator::start().await;
    let user = create(&emu, "ada").await;
    let account_id =
        user["urn:scim:schemas:extension:atlassian-external:1.0"]["atlassianAccountId"]
            .as_str()
            .expect("account id")
            .to_string();
    assert_ne!(
        user["id"],
        json!(account_id),
        "SCIM id is not the account id"
    );
    assert_eq!(user["meta"]["resourceType"], "User");
    assert!(
        user["meta"]["location"]
            .as_str()
            .is_some_and(|l| l.ends_with(user["id"].as_str().unwrap_or("-")))
    );
    let jira = jira_user(&emu, &account_id).await;
    assert_eq!(jira["displayName"], "Test ada");
    assert_eq!(jira["active"], true);

    let (status, body) = scim(&emu, Method::POST, "/Users", Some(new_user("ada"))).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["status"], "409");
    assert_eq!(body["scimType"], "uniqueness");
    let mut same_email = new_user("other");
    same_email["emails"] = json!([{ "value": "ada@idp.example", "primary": true }]);
    let (status, body) = scim(&emu, Method::POST, "/Users", Some(same_email)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    // An existing Atlassian account with that email is linked, not duplicated.
    let (agents, customers) = crate::support::demo_people(&emu);
    let admin_email = jsm_testkit::ADMIN_EMAIL;
    let mut link = new_user("admin-link");
    link["userName"] = json!(admin_email);
    link["emails"] = json!([{ "value": admin_email, "primary": true }]);
    let (status, body) = scim(&emu, Method::POST, "/Users", Some(link)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        body["urn:scim:schemas:extension:atlassian-external:1.0"]["atlassianAccountId"],
        json!(crate::support::account_id(&emu, admin_email))
    );
    // A demo agent is already managed; a customer's email cannot be provisioned.
    let mut managed = new_user("dup-agent");
    managed["emails"] = json!([{ "value": agents[0], "primary": true }]);
    assert_eq!(
        scim(&emu, Method::POST, "/Users", Some(managed)).await.0,
        StatusCode::CONFLICT
    );
    let mut customer = new_user("dup-customer");
    customer["emails"] = json!([{ "value": customers[0], "primary": true }]);
    assert_eq!(
        scim(&emu, Method::POST, "/Users", Some(customer)).await.0,
        StatusCode::CONFLICT
    );
}

#[tokio::test]
async fn filters_paging_and_projection() {
    let emu = TestEmulator::start().await;
    let ada = create(&emu, "ada").await;
    let (status, page) = scim(
        &emu,
        Method::GET,
        "/Users?filter=userName%20eq%20%22ADA@idp.example%22",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["totalResults"], 1);
    assert_eq!(page["Resources"][0]["id"], ada["id"]);
    let (_, page) = scim(
        &emu,
        Method::GET,
        "/Users?filter=externalId%20eq%20%22ext-ada%22",
        None,
    )
    .await;
    assert_eq!(page["totalResults"], 1);
    let (_, page) = scim(
        &emu,
        Method::GET,
        "/Users?filter=externalId%20eq%20%22EXT-ADA%22",
        None,
    )
    .await;
    assert_eq!(page["totalResults"], 0, "externalId is case-exact");
    for bad in [
        "title%20eq%20%22x%22",
        "userName%20co%20%22a%22",
        "userName%20eq",
        "(",
        "userName%20eq%20%22a%22%20or%20userName%20eq%20%22b%22",
    ] {
        let (status, body) = scim(&emu, Method::GET, &format!("/Users?filter={bad}"), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(body["scimType"], "invalidFilter", "{bad}");
    }

    let (_, all) = scim(&emu, Method::GET, "/Users", None).await;
    let total = all["totalResults"].as_u64().unwrap_or(0);
    assert!(total >= 22, "demo users are SCIM-managed: {total}");
    let (_, page) = scim(&emu, Method::GET, "/Users?startIndex=21&count=5", None).await;
    assert_eq!(page["startIndex"], 21);
    assert_eq!(page["itemsPerPage"], (total - 20).min(5));
    assert_eq!(
        page["Resources"].as_array().map(Vec::len),
        Some((total - 20).min(5) as usize)
    );
    let (_, page) = scim(&emu, Method::GET, "/Users?count=100000", None).await;
    assert_eq!(
        page["itemsPerPage"],
        total.min(1000),
        "count is clamped, itemsPerPage is true"
    );
    let (_, page) = scim(&emu, Method::GET, "/Users?count=0", None).await;
    assert_eq!(page["itemsPerPage"], 0);
    assert_eq!(page["totalResults"], total);

    let id = ada["id"].as_str().unwrap_or("");
    let (_, only) = scim(
        &emu,
        Method::GET,
        &format!("/Users/{id}?attributes=userName,emails.value"),
        None,
    )
    .await;
    assert_eq!(only["userName"], "ada@idp.example");
    assert_eq!(only["emails"], json!([{ "value": "ada@idp.example" }]));
    assert!(only.get("title").is_none() && only["id"] == ada["id"]);
    let (_, less) = scim(
        &emu,
        Method::GET,
        &format!("/Users/{id}?excludedAttributes=title,groups"),
        None,
    )
    .await;
    assert!(
        less.get("title").is_none() && less.get("groups").is_none() && less["userName"].is_string()
    );
    let (status, _) = scim(
        &emu,
        Method::GET,
        &format!("/Users/{id}?attributes=a&excludedAttributes=b"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn patch_without_schemas_deactivates_everywhere_and_delete_answers_404() {
    let emu = TestEmulator::start().await;
    let user = create(&emu, "grace").await;
    let id = user["id"].as_str().unwrap_or("").to_string();
    let account_id =
        user["urn:scim:schemas:extension:atlassian-external:1.0"]["atlassianAccountId"]
            .as_str()
            .unwrap_or("")
            .to_string();
    let token = emu.token_for("grace@idp.example").await;
    let myself = |emu: &TestEmulator, token: String| {
        emu.as_user(
            Method::GET,
            "/rest/api/3/myself",
            "grace@idp.example",
            &token,
        )
        .send()
    };
    assert_eq!(
        myself(&emu, token.clone()).await.expect("send").status(),
        StatusCode::OK
    );

    let body = json!({ "operations": [{ "op": "Replace", "path": "active", "value": "False" }] });
    let (status, patched) = scim(&emu, Method::PATCH, &format!("/Users/{id}"), Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["active"], false);
    let (status, visible) = scim(&emu, Method::GET, &format!("/Users/{id}"), None).await;
    assert_eq!(
        (status, visible["active"].clone()),
        (StatusCode::OK, json!(false))
    );
    assert_eq!(jira_user(&emu, &account_id).await["active"], false);
    assert_eq!(
        myself(&emu, token.clone()).await.expect("send").status(),
        StatusCode::UNAUTHORIZED
    );

    let body = json!({ "Operations": [{ "op": "replace", "value": { "active": true, "title": "Lead" } }] });
    let (_, patched) = scim(&emu, Method::PATCH, &format!("/Users/{id}"), Some(body)).await;
    assert_eq!(
        (patched["active"].clone(), patched["title"].clone()),
        (json!(true), json!("Lead"))
    );
    assert_eq!(
        myself(&emu, token.clone()).await.expect("send").status(),
        StatusCode::OK
    );

    let (status, _) = scim(&emu, Method::DELETE, &format!("/Users/{id}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for method in [Method::GET, Method::DELETE] {
        assert_eq!(
            scim(&emu, method, &format!("/Users/{id}"), None).await.0,
            StatusCode::NOT_FOUND
        );
    }
    let body = json!({ "Operations": [{ "op": "replace", "path": "active", "value": true }] });
    assert_eq!(
        scim(&emu, Method::PATCH, &format!("/Users/{id}"), Some(body))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        scim(
            &emu,
            Method::PUT,
            &format!("/Users/{id}"),
            Some(new_user("grace"))
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(jira_user(&emu, &account_id).await["active"], false);
    let (_, page) = scim(
        &emu,
        Method::GET,
        "/Users?filter=userName%20eq%20%22grace@idp.example%22",
        None,
    )
    .await;
    assert_eq!(page["totalResults"], 0);

    // Provisioning the same email again brings the same record back.
    let again = create(&emu, "grace").await;
    assert_eq!(again["id"], json!(id));
    assert_eq!(jira_user(&emu, &account_id).await["active"], true);
}

#[tokio::test]
async fn put_replaces_the_whole_user() {
    let emu = TestEmulator::start().await;
    let user = create(&emu, "lin").await;
    let id = user["id"].as_str().unwrap_or("");
    let body = json!({
        "userName": "lin@idp.example",
        "emails": [{ "value": "lin.new@idp.example", "primary": true }],
        "displayName": "Lin New",
    });
    let (status, put) = scim(&emu, Method::PUT, &format!("/Users/{id}"), Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{put}");
    assert!(
        put.get("title").is_none() && put.get("externalId").is_none() && put.get("name").is_none()
    );
    assert!(
        put.get("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
            .is_none()
    );
    let account_id = put["urn:scim:schemas:extension:atlassian-external:1.0"]["atlassianAccountId"]
        .as_str()
        .unwrap_or("");
    let jira = jira_user(&emu, account_id).await;
    assert_eq!(
        (jira["displayName"].clone(), jira["emailAddress"].clone()),
        (json!("Lin New"), json!("lin.new@idp.example"))
    );
}

#[tokio::test]
async fn groups_are_jira_groups_and_product_groups_give_seats() {
    let emu = TestEmulator::start().await;
    let user = create(&emu, "seat").await;
    let uid = user["id"].as_str().unwrap_or("").to_string();
    let account_id =
        user["urn:scim:schemas:extension:atlassian-external:1.0"]["atlassianAccountId"]
            .as_str()
            .unwrap_or("")
            .to_string();
    let seats = |v: &Value| v["userCount"].as_u64().unwrap_or(0);
    let role = crate::support::get_ok(&emu, "/rest/api/3/applicationrole/jira-servicedesk").await;
    let before = seats(&role);

    let body =
        json!({ "displayName": "jira-servicemanagement-users", "members": [{ "value": uid }] });
    let (status, group) = scim(&emu, Method::POST, "/Groups", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{group}");
    let gid = group["id"].as_str().unwrap_or("").to_string();
    let members = group["members"].as_array().cloned().unwrap_or_default();
    assert!(members.iter().any(|m| m["value"] == json!(uid)), "{group}");
    assert!(
        members.len() > 1,
        "taking over a Jira group keeps its members"
    );
    let role = crate::support::get_ok(&emu, "/rest/api/3/applicationrole/jira-servicedesk").await;
    assert_eq!(seats(&role), before + 1);
    let members = crate::support::get_ok(
        &emu,
        "/rest/api/3/group/member?groupname=jira-servicemanagement-users&maxResults=100",
    )
    .await;
    assert!(
        members["values"]
            .as_array()
            .is_some_and(|v| v.iter().any(|m| m["accountId"] == json!(account_id)))
    );
    let (status, body) = scim(
        &emu,
        Method::POST,
        "/Groups",
        Some(json!({ "displayName": "JIRA-servicemanagement-users" })),
    )
    .await;
    assert_eq!(
        (status, body["scimType"].clone()),
        (StatusCode::CONFLICT, json!("uniqueness"))
    );

    let (_, page) = scim(
        &emu,
        Method::GET,
        "/Groups?filter=displayName%20eq%20%22jira-servicemanagement-users%22",
        None,
    )
    .await;
    assert_eq!(page["totalResults"], 1);
    let (status, body) = scim(&emu, Method::GET, "/Groups?filter=id%20eq%20%22x%22", None).await;
    assert_eq!(
        (status, body["scimType"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalidFilter"))
    );

    let remove = json!({ "Operations": [{ "op": "remove", "path": format!("members[value eq \"{uid}\"]") }] });
    let (status, group) = scim(&emu, Method::PATCH, &format!("/Groups/{gid}"), Some(remove)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        group["members"]
            .as_array()
            .is_some_and(|m| m.iter().all(|x| x["value"] != json!(uid)))
    );
    let role = crate::support::get_ok(&emu, "/rest/api/3/applicationrole/jira-servicedesk").await;
    assert_eq!(seats(&role), before);
    let rename =
        json!({ "Operations": [{ "op": "replace", "path": "displayName", "value": "x" }] });
    let (status, body) = scim(&emu, Method::PATCH, &format!("/Groups/{gid}"), Some(rename)).await;
    assert_eq!(
        (status, body["scimType"].clone()),
        (StatusCode::BAD_REQUEST, json!("mutability"))
    );
    let unknown = json!({ "Operations": [{ "op": "add", "path": "members", "value": [{ "value": "nope" }] }] });
    assert_eq!(
        scim(
            &emu,
            Method::PATCH,
            &format!("/Groups/{gid}"),
            Some(unknown)
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );

    // Deleting the SCIM group keeps the product group itself.
    assert_eq!(
        scim(&emu, Method::DELETE, &format!("/Groups/{gid}"), None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        scim(&emu, Method::GET, &format!("/Groups/{gid}"), None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    crate::support::get_ok(
        &emu,
        "/rest/api/3/group?groupname=jira-servicemanagement-users",
    )
    .await;
}

/// PATCHes that add different members to one group at the same time: none is lost. Each PATCH must read, change
/// and write the group under one lock (a PATCH that wrote back a stale member list dropped the members another
/// had just added, which the crash test of jsmctl caught as a SCIM group missing a user its journal said done).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_member_adds_to_one_group_lose_none() {
    let emu = TestEmulator::start().await;
    let (status, group) = scim(
        &emu,
        Method::POST,
        "/Groups",
        Some(json!({ "displayName": "concurrent-adds" })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{group}");
    let gid = group["id"].as_str().unwrap_or("").to_string();
    let mut ids = Vec::new();
    for i in 0..96 {
        let user = create(&emu, &format!("concurrent{i}")).await;
        ids.push(user["id"].as_str().unwrap_or("").to_string());
    }
    for batch in ids.chunks(16) {
        let sends: Vec<_> = batch
            .iter()
            .map(|id| {
                let body = json!({ "Operations": [{ "op": "add", "path": "members", "value": [{ "value": id }] }] });
                let req = emu.scim(Method::PATCH, &format!("/Groups/{gid}")).json(&body);
                tokio::spawn(async move { req.send().await.map(|r| r.status()) })
            })
            .collect();
        for send in sends {
            assert_eq!(send.await.expect("task").expect("request"), StatusCode::OK);
        }
    }
    let (_, group) = scim(&emu, Method::GET, &format!("/Groups/{gid}"), None).await;
    let members: Vec<&str> = group["members"]
        .as_array()
        .map(|m| m.iter().filter_map(|m| m["value"].as_str()).collect())
        .unwrap_or_default();
    let lost: Vec<&String> = ids
        .iter()
        .filter(|id| !members.contains(&id.as_str()))
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {} members lost: {lost:?}",
        lost.len(),
        ids.len()
    );
}

#[tokio::test]
async fn member_limit_is_enforced() {
    let emu = TestEmulator::start().await;
    emu.control(
        Method::PUT,
        "/directory/limits",
        Some(json!({ "users": 150_000, "groupMembers": 1 })),
    )
    .await;
    let a = create(&emu, "lim-a").await;
    let b = create(&emu, "lim-b").await;
    let body = json!({ "displayName": "limited", "members": [{ "value": a["id"] }, { "value": b["id"] }] });
    let (status, body) = scim(&emu, Method::POST, "/Groups", Some(body)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    emu.control(
        Method::PUT,
        "/directory/limits",
        Some(json!({ "users": 1, "groupMembers": 10 })),
    )
    .await;
    assert_eq!(
        scim(&emu, Method::POST, "/Users", Some(new_user("over")))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn discovery_endpoints() {
    let emu = TestEmulator::start().await;
    let (status, spc) = scim(&emu, Method::GET, "/ServiceProviderConfig", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(spc["patch"]["supported"], true);
    assert_eq!(spc["bulk"]["supported"], false);
    let (_, types) = scim(&emu, Method::GET, "/ResourceTypes", None).await;
    assert_eq!(types["totalResults"], 2);
    let (_, schemas) = scim(&emu, Method::GET, "/Schemas", None).await;
    assert_eq!(schemas["totalResults"], 4);
    let (status, _) = scim(
        &emu,
        Method::GET,
        "/Schemas/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        scim(&emu, Method::POST, "/ServiceProviderConfig", None)
            .await
            .0,
        StatusCode::METHOD_NOT_ALLOWED
    );
    let (status, body) = scim(&emu, Method::GET, "/Nope", None).await;
    assert_eq!(
        (status, body["status"].clone()),
        (StatusCode::NOT_FOUND, json!("404"))
    );
}

#[tokio::test]
async fn state_export_round_trips_the_directory() {
    let emu = TestEmulator::start().await;
    create(&emu, "saved").await;
    let state = emu.control(Method::GET, "/state", None).await;
    assert!(
        state["directory"]["users"]
            .as_array()
            .is_some_and(|u| u.len() >= 22)
    );
    emu.control(Method::POST, "/reset", Some(json!({ "seed": "empty" })))
        .await;
    emu.control(Method::PUT, "/state", Some(state)).await;
    let (_, page) = scim(
        &emu,
        Method::GET,
        "/Users?filter=userName%20eq%20%22saved@idp.example%22",
        None,
    )
    .await;
    assert_eq!(page["totalResults"], 1);
}

/// Random filters: always a 200 or a 400 `invalidFilter`, never a 5xx or a hang.
fn filter_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,60}",
        proptest::collection::vec(
            prop_oneof![
                Just("userName"),
                Just("externalId"),
                Just("title"),
                Just(" eq "),
                Just(" EQ "),
                Just(" co "),
                Just("\"ada\""),
                Just("\"a\\\"b\""),
                Just("("),
                Just(")"),
                Just(" and "),
                Just(" pr"),
                Just("["),
                Just("]"),
                Just("true"),
                Just("urn:ietf:params:scim:schemas:core:2.0:User:")
            ],
            0..8
        )
        .prop_map(|p| p.concat()),
    ]
}

/// Random PATCH bodies built from real and bogus pieces.
fn patch_body() -> impl Strategy<Value = Value> {
    let op = prop_oneof![
        Just("add"),
        Just("Replace"),
        Just("remove"),
        Just("copy"),
        Just("")
    ];
    let path = prop_oneof![
        Just(Value::Null),
        Just(json!("active")),
        Just(json!("title")),
        Just(json!("name.givenName")),
        Just(json!("emails[type eq \"work\"].value")),
        Just(json!("emails[")),
        Just(json!("groups")),
        Just(json!(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"
        )),
        "\\PC{0,20}".prop_map(Value::String),
        Just(json!(5)),
    ];
    let value = prop_oneof![
        Just(Value::Null),
        Just(json!("False")),
        Just(json!(true)),
        Just(json!("x")),
        Just(json!([{ "value": "v@x.example", "primary": true }])),
        Just(json!({ "title": "t", "active": "maybe" })),
        any::<i64>().prop_map(|n| json!(n)),
    ];
    let one = (op, path, value)
        .prop_map(|(op, path, value)| json!({ "op": op, "path": path, "value": value }));
    (
        proptest::collection::vec(one, 0..4),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(ops, lower, schemas)| {
            let key = if lower { "operations" } else { "Operations" };
            let mut body = json!({});
            body[key] = Value::Array(ops);
            if schemas {
                body["schemas"] = json!(["urn:ietf:params:scim:api:messages:2.0:PatchOp"]);
            }
            body
        })
}

const SCIM_TYPES: [&str; 7] = [
    "invalidFilter",
    "invalidSyntax",
    "invalidPath",
    "invalidValue",
    "noTarget",
    "mutability",
    "uniqueness",
];

#[test]
fn random_filters_and_patch_bodies_never_break_the_server() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let emu = runtime.block_on(TestEmulator::start());
    let user = runtime.block_on(create(&emu, "prop"));
    let id = user["id"].as_str().unwrap_or("").to_string();
    let config = ProptestConfig {
        cases: 96,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config.clone(), |(filter in filter_text())| {
        let (status, body) = runtime.block_on(async {
            status_json(emu.scim(Method::GET, "/Users").query(&[("filter", &filter)]).send().await.expect("send")).await
        });
        prop_assert!(status == StatusCode::OK || (status == StatusCode::BAD_REQUEST && body["scimType"] == "invalidFilter"),
            "{filter:?} -> {status} {body}");
    });
    proptest!(config, |(body in patch_body())| {
        let (status, answer) = runtime.block_on(scim(&emu, Method::PATCH, &format!("/Users/{id}"), Some(body.clone())));
        let typed = answer["scimType"].as_str().is_some_and(|t| SCIM_TYPES.contains(&t));
        prop_assert!(status == StatusCode::OK || (status.is_client_error() && typed && answer["status"] == json!(status.as_str())),
            "{body} -> {status} {answer}");
    });
}
