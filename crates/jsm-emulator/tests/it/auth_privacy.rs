//! Authentication, permissions and profile privacy.

use jsm_emulator::clock::Clock;
use jsm_emulator::limits::LimitConfig;
use jsm_emulator::{Emulator, Seed};
use jsm_testkit::{ADMIN_EMAIL, ADMIN_TOKEN, TestEmulator};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::jira_users::urlencode;
use crate::support::{account_id, demo_people, get_ok, send, status_json};

#[tokio::test]
async fn bad_credentials_get_atlassians_401() {
    let emu = TestEmulator::start().await;
    for (user, pass) in [(ADMIN_EMAIL, "wrong"), ("someone@example.com", ADMIN_TOKEN)] {
        let resp = emu
            .as_user(Method::GET, "/rest/api/3/myself", user, pass)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            resp.headers()["content-type"],
            "application/json;charset=UTF-8"
        );
        let (_, body) = status_json(resp).await;
        assert_eq!(
            body,
            json!({"errorMessages": ["Client must be authenticated to access this resource."], "errors": {}})
        );
    }
    let resp = emu
        .http
        .get(emu.url("/rest/servicedeskapi/servicedesk"))
        .header("Authorization", "Basic !!!")
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(resp).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body["errorMessage"],
        "Client must be authenticated to access this resource."
    );
    let resp = emu
        .http
        .get(emu.url("/rest/api/3/myself"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "anonymous myself");
}

#[tokio::test]
async fn tokens_expire_on_the_emulator_clock_and_can_be_revoked() {
    let emu = TestEmulator::start_with(
        Emulator::builder()
            .seed(Seed::Demo)
            .limits(LimitConfig::off())
            .clock(Clock::frozen(1_767_225_600_000)),
    )
    .await;
    let (agents, _) = demo_people(&emu);
    let issued = emu
        .control(
            Method::POST,
            "/tokens",
            Some(json!({"email": agents[0], "expiresInDays": 30})),
        )
        .await;
    let token = issued["token"].as_str().unwrap();
    let me = |emu: &TestEmulator| {
        emu.as_user(Method::GET, "/rest/api/3/myself", &agents[0], token)
            .send()
    };
    assert_eq!(me(&emu).await.unwrap().status(), StatusCode::OK);
    emu.control(Method::POST, "/clock/advance", Some(json!({"days": 29})))
        .await;
    assert_eq!(me(&emu).await.unwrap().status(), StatusCode::OK);
    emu.control(Method::POST, "/clock/advance", Some(json!({"days": 1})))
        .await;
    assert_eq!(
        me(&emu).await.unwrap().status(),
        StatusCode::UNAUTHORIZED,
        "expired after 30 days"
    );

    // The admin's own token lives a year.
    let admin = |emu: &TestEmulator| emu.admin(Method::GET, "/rest/api/3/myself").send();
    assert_eq!(admin(&emu).await.unwrap().status(), StatusCode::OK);
    emu.control(Method::POST, "/clock/advance", Some(json!({"days": 336})))
        .await;
    assert_eq!(
        admin(&emu).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );

    let fresh = emu
        .control(Method::POST, "/tokens", Some(json!({"email": agents[1]})))
        .await;
    let (id, secret) = (
        fresh["id"].as_str().unwrap(),
        fresh["token"].as_str().unwrap(),
    );
    let ok = emu
        .as_user(Method::GET, "/rest/api/3/myself", &agents[1], secret)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    emu.control(Method::DELETE, &format!("/tokens/{id}"), None)
        .await;
    let revoked = emu
        .as_user(Method::GET, "/rest/api/3/myself", &agents[1], secret)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn deactivated_accounts_cannot_authenticate() {
    let emu = TestEmulator::start().await;
    let (agents, _) = demo_people(&emu);
    let token = emu.token_for(&agents[4]).await;
    {
        let mut site = emu.emu.site_mut();
        let key = site.find_by_email(&agents[4]).unwrap();
        site.account_mut(key).active = false;
    }
    let resp = emu
        .as_user(Method::GET, "/rest/api/3/myself", &agents[4], &token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn customers_and_plain_agents_are_refused_admin_operations() {
    let emu = TestEmulator::start().await;
    let (agents, customers) = demo_people(&emu);
    let customer_token = emu.token_for(&customers[0]).await;
    let resp = emu
        .as_user(
            Method::POST,
            "/rest/api/3/group",
            &customers[0],
            &customer_token,
        )
        .json(&json!({"name": "sneaky"}))
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(resp).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body["errorMessages"][0].is_string());
    let resp = emu
        .as_user(
            Method::GET,
            "/rest/api/3/user?accountId=x",
            &customers[0],
            &customer_token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    let agent_token = emu.token_for(&agents[5]).await;
    let resp = emu
        .as_user(
            Method::GET,
            "/rest/api/3/applicationrole",
            &agents[5],
            &agent_token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::FORBIDDEN,
        "application roles need Jira admin"
    );
    let resp = emu
        .as_user(
            Method::GET,
            "/rest/api/3/group/member?groupname=hr-team",
            &agents[5],
            &agent_token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::OK,
        "licensed users browse users and groups"
    );
}

fn has_email(v: &Value) -> bool {
    v.get("emailAddress").is_some()
}

#[tokio::test]
async fn a_hidden_email_is_absent_everywhere() {
    let emu = TestEmulator::start().await;
    let (agents, customers) = demo_people(&emu);
    let agent = account_id(&emu, &agents[0]);
    let customer = account_id(&emu, &customers[0]);
    for id in [&agent, &customer] {
        emu.control(
            Method::PUT,
            "/privacy",
            Some(json!({"accountId": id, "emailHidden": true})),
        )
        .await;
    }
    let user = get_ok(
        &emu,
        &format!("/rest/api/3/user?accountId={}", urlencode(&agent)),
    )
    .await;
    assert!(!has_email(&user), "{user}");
    assert!(
        !user.to_string().contains(&agents[0]),
        "not even elsewhere in the body"
    );
    let members = get_ok(
        &emu,
        "/rest/api/3/group/member?groupname=jira-servicemanagement-users",
    )
    .await;
    let me = members["values"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["accountId"] == agent.as_str())
        .unwrap();
    assert!(!has_email(me));
    let local = agents[0].split('@').next().unwrap();
    let search = get_ok(&emu, &format!("/rest/api/3/user/search?query={local}")).await;
    let hit = search
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["accountId"] == agent.as_str());
    assert!(
        hit.is_some_and(|u| !has_email(u)),
        "a hidden email still matches, and stays hidden: {search}"
    );
    let desk = get_ok(&emu, "/rest/servicedeskapi/servicedesk/1/customer?limit=50").await;
    let c = desk["values"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["accountId"] == customer.as_str())
        .unwrap();
    assert!(!has_email(c), "{c}");
    assert!(
        c.get("emailAddress").is_none() && c.as_object().unwrap().values().all(|v| !v.is_null())
    );

    emu.control(
        Method::PUT,
        "/privacy",
        Some(json!({"accountId": agent, "emailHidden": false})),
    )
    .await;
    let user = get_ok(
        &emu,
        &format!("/rest/api/3/user?accountId={}", urlencode(&agent)),
    )
    .await;
    assert_eq!(user["emailAddress"], agents[0].as_str());
}

#[tokio::test]
async fn responses_carry_request_ids_and_the_caller() {
    let emu = TestEmulator::start().await;
    let resp = send(&emu, Method::GET, "/rest/api/3/myself", None).await;
    assert!(resp.headers().contains_key("x-arequestid"));
    let me = account_id(&emu, ADMIN_EMAIL);
    assert_eq!(resp.headers()["x-aaccountid"], urlencode(&me).as_str());
    let log = emu.control(Method::GET, "/requests", None).await;
    let last = log.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["path"], "/rest/api/3/myself");
    assert_eq!(last["status"], 200);
    assert_eq!(last["accountId"], me.as_str());
}
