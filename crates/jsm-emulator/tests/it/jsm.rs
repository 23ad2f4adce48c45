//! JSM: customers, service desks, organizations.

use jsm_testkit::TestEmulator;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{account_id, demo_people, get_ok, send, status_json};

async fn all_pages(emu: &TestEmulator, path: &str, limit: u64) -> (Vec<Value>, Value) {
    let mut start = 0;
    let mut values = Vec::new();
    let mut first = Value::Null;
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let page = get_ok(emu, &format!("{path}{sep}start={start}&limit={limit}")).await;
        if first.is_null() {
            first = page.clone();
        }
        let got = page["values"].as_array().unwrap().clone();
        assert_eq!(page["size"].as_u64().unwrap() as usize, got.len());
        assert!(page.get("total").is_none(), "JSM pages carry no total");
        start += got.len() as u64;
        values.extend(got);
        if page["isLastPage"] == true {
            break;
        }
    }
    (values, first)
}

#[tokio::test]
async fn create_customer_and_its_conflicts() {
    let emu = TestEmulator::start().await;
    let (status, c) = status_json(
        send(
            &emu,
            Method::POST,
            "/rest/servicedeskapi/customer",
            Some(json!({"displayName": "Fred F. User", "email": "fred@example.org"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(c["accountId"].as_str().unwrap().starts_with("qm:"));
    assert_eq!(c["emailAddress"], "fred@example.org");
    assert_eq!(c["displayName"], "Fred F. User");
    assert!(
        c["_links"]["jiraRest"]
            .as_str()
            .unwrap()
            .contains("/rest/api/2/user?accountId=")
    );

    let dup = json!({"fullName": "Fred Again", "email": "FRED@example.org"});
    let (status, body) = status_json(
        send(
            &emu,
            Method::POST,
            "/rest/servicedeskapi/customer",
            Some(dup.clone()),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("already exists")
    );
    assert!(body["i18nErrorMessage"]["i18nKey"].is_string());
    let (status, _) = status_json(
        send(
            &emu,
            Method::POST,
            "/rest/servicedeskapi/customer?strictConflictStatusCode=true",
            Some(dup),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);

    // The email of an Atlassian account links to it instead of creating a second account.
    let (agents, _) = demo_people(&emu);
    let (status, linked) = status_json(
        send(
            &emu,
            Method::POST,
            "/rest/servicedeskapi/customer",
            Some(json!({"displayName": "Agent", "email": agents[0]})),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(linked["accountId"], account_id(&emu, &agents[0]).as_str());

    for bad in [
        json!({"displayName": "x", "email": "not-an-email"}),
        json!({"email": "nameless@example.org"}),
    ] {
        let (status, body) = status_json(
            send(
                &emu,
                Method::POST,
                "/rest/servicedeskapi/customer",
                Some(bad),
            )
            .await,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(body["errorMessage"].is_string());
    }
}

#[tokio::test]
async fn service_desks_by_every_identifier() {
    let emu = TestEmulator::start().await;
    let (desks, _) = all_pages(&emu, "/rest/servicedeskapi/servicedesk", 50).await;
    assert_eq!(desks.len(), 3);
    for ident in [
        "2",
        "HR",
        "projectKey:HR",
        "projectId:10002",
        "serviceDeskId:2",
    ] {
        let desk = get_ok(&emu, &format!("/rest/servicedeskapi/servicedesk/{ident}")).await;
        assert_eq!(desk["projectKey"], "HR", "{ident}");
    }
    let (status, body) = status_json(
        send(
            &emu,
            Method::GET,
            "/rest/servicedeskapi/servicedesk/99",
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["errorMessage"].is_string());
    let info = get_ok(&emu, "/rest/servicedeskapi/info").await;
    assert_eq!(info["isLicensedForUse"], true);
}

#[tokio::test]
async fn desk_customers_need_the_experimental_header_and_have_a_hidden_cap() {
    let emu = TestEmulator::start().await;
    let resp = emu
        .admin(Method::GET, "/rest/servicedeskapi/servicedesk/1/customer")
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(resp).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("X-ExperimentalApi: opt-in")
    );

    let (all, first) = all_pages(&emu, "/rest/servicedeskapi/servicedesk/1/customer", 100).await;
    assert_eq!(first["limit"], 100);
    assert_eq!(
        first["size"], 50,
        "hidden cap: size < limit and not the last page"
    );
    assert_eq!(first["isLastPage"], false);
    assert!(
        first["_links"]["next"]
            .as_str()
            .unwrap()
            .contains("start=50")
    );
    assert_eq!(all.len(), 300);

    let (found, _) = all_pages(
        &emu,
        "/rest/servicedeskapi/servicedesk/1/customer?query=alice",
        50,
    )
    .await;
    assert!(!found.is_empty());
    assert!(found.iter().all(|c| {
        c["displayName"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("alice")
            || c["emailAddress"]
                .as_str()
                .unwrap_or("")
                .starts_with("alice")
    }));
}

#[tokio::test]
async fn adding_customers_is_partial_and_idempotent_removal_only_on_closed_desks() {
    let emu = TestEmulator::start().await;
    let (_, customers) = demo_people(&emu);
    let outside = account_id(&emu, &customers[499]);
    let body = json!({"accountIds": [outside, "qm:unknown"], "usernames": []});
    let (status, err) = status_json(
        send(
            &emu,
            Method::POST,
            "/rest/servicedeskapi/servicedesk/HR/customer",
            Some(body),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err["errorMessage"].as_str().unwrap().contains("qm:unknown"));
    let (members, _) = all_pages(&emu, "/rest/servicedeskapi/servicedesk/HR/customer", 50).await;
    assert!(
        members.iter().any(|c| c["accountId"] == outside.as_str()),
        "the valid one was added"
    );

    let again = json!({"accountIds": [outside]});
    let resp = send(
        &emu,
        Method::POST,
        "/rest/servicedeskapi/servicedesk/HR/customer",
        Some(again.clone()),
    )
    .await;
    assert_eq!(
        resp.status(),
        StatusCode::NO_CONTENT,
        "already there is still 204"
    );

    let resp = send(
        &emu,
        Method::DELETE,
        "/rest/servicedeskapi/servicedesk/HR/customer",
        Some(again.clone()),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = send(
        &emu,
        Method::DELETE,
        "/rest/servicedeskapi/servicedesk/HR/customer",
        Some(again.clone()),
    )
    .await;
    assert_eq!(
        resp.status(),
        StatusCode::NO_CONTENT,
        "not associated is still 204"
    );
    let (status, err) = status_json(
        send(
            &emu,
            Method::DELETE,
            "/rest/servicedeskapi/servicedesk/ITSD/customer",
            Some(again),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err["errorMessage"].as_str().unwrap().contains("closed"));
}

#[tokio::test]
async fn organizations_end_to_end() {
    let emu = TestEmulator::start().await;
    let (status, org) = status_json(
        send(
            &emu,
            Method::POST,
            "/rest/servicedeskapi/organization",
            Some(json!({"name": "Charlie Cakes"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = org["id"].as_str().unwrap().to_string();
    assert!(org["created"]["epochMillis"].is_i64());
    let (status, same) = status_json(
        send(
            &emu,
            Method::POST,
            "/rest/servicedeskapi/organization",
            Some(json!({"name": "charlie cakes"})),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, same["id"].clone()),
        (StatusCode::CREATED, Value::from(id.clone())),
        "idempotent by name"
    );
    let (status, _) = status_json(
        send(
            &emu,
            Method::POST,
            "/rest/servicedeskapi/organization",
            Some(json!({"name": "x".repeat(201)})),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (_, customers) = demo_people(&emu);
    let ids: Vec<String> = customers[..3].iter().map(|e| account_id(&emu, e)).collect();
    let path = format!("/rest/servicedeskapi/organization/{id}/user");
    let resp = send(&emu, Method::POST, &path, Some(json!({"accountIds": ids}))).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let (members, _) = all_pages(&emu, &path, 2).await;
    let mut got: Vec<&str> = members
        .iter()
        .map(|m| m["accountId"].as_str().unwrap())
        .collect();
    let sorted = {
        let mut s = got.clone();
        s.sort_unstable();
        s
    };
    assert_eq!(got, sorted, "ordered by accountId");
    got.sort_unstable();
    let mut want: Vec<&str> = ids.iter().map(String::as_str).collect();
    want.sort_unstable();
    assert_eq!(got, want);
    let resp = send(
        &emu,
        Method::DELETE,
        &path,
        Some(json!({"accountIds": [ids[0]]})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let (members, _) = all_pages(&emu, &path, 50).await;
    assert_eq!(members.len(), 2);

    let desk_path = "/rest/servicedeskapi/servicedesk/FAC/organization";
    let resp = send(
        &emu,
        Method::POST,
        desk_path,
        Some(json!({"organizationId": id.parse::<u64>().unwrap()})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = send(
        &emu,
        Method::POST,
        desk_path,
        Some(json!({"organizationId": id})),
    )
    .await;
    assert_eq!(
        resp.status(),
        StatusCode::NO_CONTENT,
        "a string id is accepted too"
    );
    let (linked, _) = all_pages(&emu, desk_path, 50).await;
    assert!(linked.iter().any(|o| o["id"] == id.as_str()));
    let (status, _) = status_json(
        send(
            &emu,
            Method::POST,
            desk_path,
            Some(json!({"organizationId": "abc"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let resp = send(
        &emu,
        Method::DELETE,
        &format!("/rest/servicedeskapi/organization/{id}"),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let (linked, _) = all_pages(&emu, desk_path, 50).await;
    assert!(
        linked.iter().all(|o| o["id"] != id.as_str()),
        "deleted orgs leave their desks"
    );
    let (status, _) = status_json(
        send(
            &emu,
            Method::GET,
            &format!("/rest/servicedeskapi/organization/{id}"),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn customers_see_only_their_own_desks_and_organizations() {
    let emu = TestEmulator::start().await;
    let site_acme = {
        let site = emu.emu.site();
        let org = site
            .organizations
            .values()
            .find(|o| o.name == "Acme Corporation")
            .unwrap();
        let key = *org.members.iter().next().unwrap();
        site.account(key).email.clone()
    };
    let token = emu.token_for(&site_acme).await;
    let get = |path: &str| emu.as_user(Method::GET, path, &site_acme, &token).send();
    let (status, orgs) = status_json(get("/rest/servicedeskapi/organization").await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = orgs["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Acme Corporation"]);
    let (status, _) = status_json(
        get("/rest/servicedeskapi/servicedesk/1/customer")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    let resp = emu
        .as_user(
            Method::GET,
            "/rest/servicedeskapi/servicedesk/1/customer",
            &site_acme,
            &token,
        )
        .header("X-ExperimentalApi", "opt-in")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let (status, _) = status_json(
        emu.as_user(
            Method::POST,
            "/rest/servicedeskapi/customer",
            &site_acme,
            &token,
        )
        .json(&json!({"displayName": "x", "email": "x@example.org"}))
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
