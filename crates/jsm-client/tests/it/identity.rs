//! The SCIM, admin, OAuth and webhook handlers against the real emulator: each operation, repeated to prove it is
//! safe to repeat, with and without 20% injected faults; OAuth refresh-token rotation including a crash between
//! receiving and saving a rotated token; email lookup falling back to SCIM/admin when Jira hides the email.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use jsm_client::{
    AuthReason, Change, Client, Credential, Error, MemoryTokenStore, Metrics, OAuthConfig,
    RetryConfig, StoreError, TokenSet, TokenStore,
};
use jsm_emulator::faults::FaultRule;
use jsm_emulator::limits::LimitConfig;
use jsm_emulator::{Emulator, Seed};
use jsm_proto::scim::{ScimEmail, ScimName, ScimUser, USER_SCHEMA};
use jsm_testkit::{ADMIN_EMAIL, ADMIN_TOKEN, TestEmulator};
use reqwest::Method;
use secrecy::ExposeSecret;
use serde_json::json;

const SCOPES: &[&str] = &[
    "read:jira-user",
    "manage:jira-configuration",
    "manage:servicedesk-customer",
    "read:servicedesk-request",
    "manage:jira-webhook",
    "read:jira-work",
    "offline_access",
];

fn retry() -> RetryConfig {
    RetryConfig {
        max_retries: 10,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(400),
        max_total_wait: Duration::from_secs(60),
        ..RetryConfig::default()
    }
}

fn full_client(emu: &TestEmulator, metrics: Arc<Metrics>) -> Client {
    let id = &emu.emu.config().identity;
    Client::builder()
        .site(emu.base_url.clone())
        .api_url(emu.base_url.clone())
        .auth_url(emu.base_url.clone())
        .basic_auth(ADMIN_EMAIL, ADMIN_TOKEN)
        .scim(id.directory_id.clone(), emu.scim_token())
        .org_admin(id.org_id.clone(), emu.org_key())
        .retry(retry())
        .jitter_seed(11)
        .observer(metrics)
        .build()
        .unwrap()
}

fn scim_user(email: &str) -> ScimUser {
    ScimUser {
        schemas: vec![USER_SCHEMA.to_string()],
        user_name: email.to_string(),
        display_name: Some(format!("SCIM {email}")),
        name: Some(ScimName {
            given_name: Some("Scim".into()),
            family_name: Some("User".into()),
            ..Default::default()
        }),
        emails: vec![ScimEmail {
            value: email.to_string(),
            kind: Some("work".into()),
            primary: Some(true),
        }],
        active: Some(true),
        ..Default::default()
    }
}

async fn scim_workload(client: &Client, tag: &str) {
    let scim = client.scim();
    let email = format!("scim-{tag}@acme.example");
    let first = scim.create_user(&scim_user(&email)).await.unwrap();
    let second = scim.create_user(&scim_user(&email)).await.unwrap();
    assert!(
        !second.is_new(),
        "a second create resolves to the same user"
    );
    let id = first.get().id.clone().unwrap();
    assert_eq!(second.get().id.as_deref(), Some(id.as_str()));
    let filter = jsm_client::handlers::scim::eq_filter("userName", &email);
    let found = scim.users().filter(filter.as_str()).all().await.unwrap();
    assert_eq!(found.len(), 1);
    // set_active reads before it writes, so a repeat says the state already held.
    assert_eq!(scim.set_active(&id, false).await.unwrap(), Change::Applied);
    assert_eq!(
        scim.set_active(&id, false).await.unwrap(),
        Change::AlreadyApplied
    );
    assert_eq!(scim.get_user(&id).await.unwrap().active, Some(false));
    assert_eq!(scim.set_active(&id, true).await.unwrap(), Change::Applied);
    assert_eq!(
        scim.set_active(&id, true).await.unwrap(),
        Change::AlreadyApplied
    );
    assert_eq!(
        scim.patch_active(&id, true).await.unwrap().active,
        Some(true),
        "patch_active answers with the user"
    );
    let everyone = scim.users().pager().page_size(7).all().await.unwrap();
    let unique: HashSet<_> = everyone.iter().map(|u| u.id.clone()).collect();
    assert_eq!(unique.len(), everyone.len(), "no SCIM user listed twice");
    assert!(unique.contains(&Some(id.clone())));

    let group = scim
        .create_group(&format!("scim-team-{tag}"))
        .await
        .unwrap();
    assert!(
        !scim
            .create_group(&format!("scim-team-{tag}"))
            .await
            .unwrap()
            .is_new()
    );
    let gid = group.get().id.clone().unwrap();
    scim.add_members(&gid, std::slice::from_ref(&id))
        .await
        .unwrap();
    scim.add_members(&gid, std::slice::from_ref(&id))
        .await
        .unwrap();
    let members = scim.group_members(&gid).await.unwrap();
    assert_eq!(members.iter().filter(|m| m.value == id).count(), 1);
    scim.remove_members(&gid, std::slice::from_ref(&id))
        .await
        .unwrap();
    assert!(scim.group_members(&gid).await.unwrap().is_empty());
    assert!(
        scim.groups()
            .all()
            .await
            .unwrap()
            .iter()
            .any(|g| g.id.as_deref() == Some(gid.as_str()))
    );
    assert_eq!(scim.delete_group(&gid).await.unwrap(), Change::Applied);
    assert_eq!(
        scim.delete_group(&gid).await.unwrap(),
        Change::AlreadyApplied
    );

    assert_eq!(scim.delete_user(&id).await.unwrap(), Change::Applied);
    assert!(
        scim.get_user(&id).await.unwrap_err().is_not_found(),
        "a deleted (deactivated) SCIM user answers 404"
    );
    assert_eq!(scim.delete_user(&id).await.unwrap(), Change::AlreadyApplied);
}

async fn admin_workload(client: &Client, tag: &str) {
    let admin = client.admin();
    let users = admin.users().unwrap().all().await.unwrap();
    let ids: HashSet<&str> = users.iter().map(|u| u.account_id.as_str()).collect();
    assert_eq!(ids.len(), users.len(), "no managed account listed twice");
    let target = users
        .iter()
        .find(|u| u.email.as_deref().is_some_and(|e| e != ADMIN_EMAIL))
        .unwrap();
    let by_email = admin
        .find_user_by_email(target.email.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(
        by_email.map(|u| u.account_id),
        Some(target.account_id.clone())
    );
    let id = target.account_id.as_str();
    // The emulator, like Atlassian's documented answers, says the same whether or not the state held.
    for _ in 0..2 {
        assert_eq!(admin.suspend(id).await.unwrap(), Change::Applied);
    }
    for _ in 0..2 {
        assert_eq!(admin.restore(id).await.unwrap(), Change::Applied);
    }
    assert_eq!(
        admin
            .disable(id)
            .message("left the company")
            .send()
            .await
            .unwrap(),
        Change::Applied
    );
    assert_eq!(admin.disable(id).send().await.unwrap(), Change::Applied);
    for _ in 0..2 {
        assert_eq!(admin.enable(id).await.unwrap(), Change::Applied);
    }
    assert_eq!(
        admin
            .create_group(&format!("dir-group-{tag}"))
            .description("team")
            .send()
            .await
            .unwrap(),
        Change::Applied
    );
    assert_eq!(
        admin
            .create_group(&format!("dir-group-{tag}"))
            .description("team")
            .send()
            .await
            .unwrap(),
        Change::AlreadyApplied
    );
    let removable = users
        .iter()
        .filter(|u| u.email.as_deref() != Some(ADMIN_EMAIL))
        .nth(1)
        .unwrap();
    assert_eq!(
        admin
            .remove_from_directory(&removable.account_id)
            .await
            .unwrap(),
        Change::Applied
    );
    assert_eq!(
        admin
            .remove_from_directory(&removable.account_id)
            .await
            .unwrap(),
        Change::AlreadyApplied
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scim_and_admin_handlers_against_the_emulator() {
    let emu = TestEmulator::start().await;
    let client = full_client(&emu, Arc::new(Metrics::default()));
    scim_workload(&client, "plain").await;
    admin_workload(&client, "plain").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scim_and_admin_handlers_survive_20_percent_faults_and_default_limits() {
    let emu = TestEmulator::start_with(
        Emulator::builder()
            .seed(Seed::Demo)
            .limits(LimitConfig::default())
            .faults(FaultRule::server_errors(0.2)),
    )
    .await;
    let metrics = Arc::new(Metrics::default());
    let client = full_client(&emu, metrics.clone());
    scim_workload(&client, "faulty").await;
    admin_workload(&client, "faulty").await;
    let m = metrics.snapshot();
    assert!(m.server_errors > 3 && m.retries >= m.server_errors, "{m:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_lookup_falls_back_when_the_emulator_hides_the_email() {
    let emu = TestEmulator::start().await;
    let plain = Client::builder()
        .site(emu.base_url.clone())
        .basic_auth(ADMIN_EMAIL, ADMIN_TOKEN)
        .build()
        .unwrap();
    let agents = plain
        .groups()
        .members(&jsm_client::GroupRef::name("jira-servicemanagement-users"))
        .all()
        .await
        .unwrap();
    let agent = agents
        .iter()
        .find(|u| u.email_address.as_deref().is_some_and(|e| e != ADMIN_EMAIL))
        .unwrap();
    let email = agent.email_address.clone().unwrap();
    emu.control(
        Method::PUT,
        "/privacy",
        Some(json!({"accountId": agent.account_id, "emailHidden": true})),
    )
    .await;
    match plain.users().find_by_email(&email).await {
        Err(Error::EmailHidden { candidates, .. }) => assert!(candidates >= 1),
        other => panic!("without a fallback the lookup must say the email is hidden: {other:?}"),
    }
    let full = full_client(&emu, Arc::new(Metrics::default()));
    let found = full.users().find_by_email(&email).await.unwrap();
    assert_eq!(found.map(|u| u.account_id), Some(agent.account_id.clone()));
}

/// A store whose process "dies" between receiving rotated tokens and saving them.
#[derive(Debug)]
struct CrashBeforeSave(Arc<MemoryTokenStore>);

impl TokenStore for CrashBeforeSave {
    fn load(&self) -> BoxFuture<'_, Result<Option<TokenSet>, StoreError>> {
        self.0.load()
    }
    fn save<'a>(&'a self, _: &'a TokenSet) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async { Err("process killed before the save".into()) })
    }
}

fn oauth_client(emu: &TestEmulator, store: Arc<dyn TokenStore>) -> Client {
    let oauth = &emu.emu.config().oauth;
    Client::builder()
        .gateway(emu.cloud_id())
        .api_url(emu.base_url.clone())
        .auth_url(emu.base_url.clone())
        .oauth(OAuthConfig::new(
            oauth.client_id.clone(),
            oauth.client_secret.expose().to_string(),
            store,
        ))
        .retry(retry())
        .build()
        .unwrap()
}

fn refresh_of(store: &MemoryTokenStore) -> String {
    store
        .current()
        .and_then(|t| t.refresh_token)
        .map(|r| r.expose_secret().to_string())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_rotation_and_crash_recovery_against_the_emulator() {
    let emu = TestEmulator::start().await;
    let durable = Arc::new(MemoryTokenStore::new(None));
    let client = oauth_client(&emu, durable.clone());
    let redirect = "http://127.0.0.1:9/callback";
    let url = client
        .oauth()
        .authorize_url(SCOPES, redirect, "st")
        .unwrap();
    assert!(url.as_str().contains("offline_access"));
    let code = emu.oauth_code(&SCOPES.join(" "), redirect).await;
    client.oauth().exchange_code(&code, redirect).await.unwrap();
    let sites = client.oauth().accessible_resources().await.unwrap();
    assert!(sites.iter().any(|s| s.id == emu.cloud_id()));
    assert_eq!(
        client
            .users()
            .myself()
            .await
            .unwrap()
            .email_address
            .as_deref(),
        Some(ADMIN_EMAIL)
    );
    assert!(
        !client
            .service_desks()
            .list()
            .all()
            .await
            .unwrap()
            .is_empty()
    );

    // Rotation: every refresh saves a new refresh token before the new access token is used.
    let r1 = refresh_of(&durable);
    client.oauth().refresh().await.unwrap();
    let r2 = refresh_of(&durable);
    assert_ne!(r1, r2);
    assert!(client.users().myself().await.is_ok());

    // A crash between receiving r3 and saving it: the durable store still holds r2.
    let crashed = oauth_client(&emu, Arc::new(CrashBeforeSave(durable.clone())));
    assert!(matches!(
        crashed.oauth().refresh().await,
        Err(Error::TokenStore { .. })
    ));
    drop(crashed);
    assert_eq!(refresh_of(&durable), r2, "nothing was saved");

    // The restarted process reuses r2 inside the 10-minute leeway and gets a fresh family member.
    emu.control(
        Method::POST,
        "/clock/advance",
        Some(json!({"seconds": 300})),
    )
    .await;
    let restarted = oauth_client(&emu, durable.clone());
    restarted.oauth().refresh().await.unwrap();
    let r4 = refresh_of(&durable);
    assert_ne!(r4, r2);
    assert_eq!(
        restarted
            .users()
            .myself()
            .await
            .unwrap()
            .email_address
            .as_deref(),
        Some(ADMIN_EMAIL)
    );

    // Outside the leeway a replayed token is refused (and Atlassian kills the family): the error names it.
    let stale = Arc::new(MemoryTokenStore::new(durable.current().map(|mut t| {
        t.refresh_token = Some(r2.clone().into());
        t
    })));
    emu.control(
        Method::POST,
        "/clock/advance",
        Some(json!({"seconds": 900})),
    )
    .await;
    let replay = oauth_client(&emu, stale);
    let err = replay.oauth().refresh().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Auth {
                credential: Credential::OAuthRefreshToken,
                reason: AuthReason::Rejected
            }
        ),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_handlers_against_the_emulator() {
    let emu = TestEmulator::start().await;
    let client = full_client(&emu, Arc::new(Metrics::default()));
    let hook = jsm_proto::webhook::NewAdminWebhook {
        name: "user events".into(),
        url: "http://127.0.0.1:9/hook".into(),
        events: vec!["user_created".into(), "user_deleted".into()],
        secret: Some("hmac-key".into()),
        ..Default::default()
    };
    let created = client.webhooks().create_admin(&hook).await.unwrap();
    let id = created.id().unwrap().to_string();
    assert_eq!(
        client.webhooks().get_admin(&id).await.unwrap().name,
        "user events"
    );
    let renamed = jsm_proto::webhook::NewAdminWebhook {
        name: "renamed".into(),
        secret: None,
        ..hook
    };
    assert_eq!(
        client
            .webhooks()
            .update_admin(&id, &renamed)
            .await
            .unwrap()
            .name,
        "renamed"
    );
    assert!(
        client
            .webhooks()
            .list_admin()
            .await
            .unwrap()
            .iter()
            .any(|h| h.id() == Some(id.as_str()))
    );
    assert_eq!(
        client.webhooks().delete_admin(&id).await.unwrap(),
        Change::Applied
    );
    assert_eq!(
        client.webhooks().delete_admin(&id).await.unwrap(),
        Change::AlreadyApplied
    );

    // App webhooks belong to OAuth apps.
    let store = Arc::new(MemoryTokenStore::new(None));
    let app = oauth_client(&emu, store);
    let code = emu
        .oauth_code(&SCOPES.join(" "), "http://127.0.0.1:9/cb")
        .await;
    app.oauth()
        .exchange_code(&code, "http://127.0.0.1:9/cb")
        .await
        .unwrap();
    let details = jsm_proto::webhook::WebhookDetails {
        events: vec!["jira:issue_created".into()],
        jql_filter: "project = HELP".into(),
        ..Default::default()
    };
    let results = app
        .webhooks()
        .register("http://127.0.0.1:9/app", vec![details])
        .await
        .unwrap();
    let wid = results[0].created_webhook_id.unwrap();
    assert!(
        app.webhooks()
            .list()
            .all()
            .await
            .unwrap()
            .iter()
            .any(|w| w.id == wid)
    );
    app.webhooks().refresh(&[wid]).await.unwrap();
    app.webhooks().delete(&[wid]).await.unwrap();
    assert!(
        !app.webhooks()
            .list()
            .all()
            .await
            .unwrap()
            .iter()
            .any(|w| w.id == wid)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_and_webhooks_survive_20_percent_faults_and_default_limits() {
    let emu = TestEmulator::start_with(
        Emulator::builder()
            .seed(Seed::Demo)
            .limits(LimitConfig::default()),
    )
    .await;
    let store = Arc::new(MemoryTokenStore::new(None));
    let metrics = Arc::new(Metrics::default());
    let oauth = &emu.emu.config().oauth;
    let client = Client::builder()
        .gateway(emu.cloud_id())
        .api_url(emu.base_url.clone())
        .auth_url(emu.base_url.clone())
        .oauth(OAuthConfig::new(
            oauth.client_id.clone(),
            oauth.client_secret.expose().to_string(),
            store.clone(),
        ))
        .retry(retry())
        .observer(metrics.clone())
        .build()
        .unwrap();
    let code = emu
        .oauth_code(&SCOPES.join(" "), "http://127.0.0.1:9/cb")
        .await;
    client
        .oauth()
        .exchange_code(&code, "http://127.0.0.1:9/cb")
        .await
        .unwrap();
    // Faults from here on: the token endpoint and the gateway fail 20% of the time.
    let rules = serde_json::to_value(FaultRule::server_errors(0.2)).unwrap();
    emu.control(Method::PUT, "/faults", Some(json!({ "rules": rules })))
        .await;

    let mut refresh_tokens = HashSet::new();
    for _ in 0..8 {
        client.oauth().refresh().await.unwrap();
        assert!(
            refresh_tokens.insert(refresh_of(&store)),
            "every refresh rotated to a new, saved token"
        );
        assert_eq!(
            client
                .users()
                .myself()
                .await
                .unwrap()
                .email_address
                .as_deref(),
            Some(ADMIN_EMAIL)
        );
    }
    let details = jsm_proto::webhook::WebhookDetails {
        events: vec!["jira:issue_created".into()],
        jql_filter: "project = HELP".into(),
        ..Default::default()
    };
    let results = client
        .webhooks()
        .register("http://127.0.0.1:9/app", vec![details])
        .await;
    // Registration is a plain POST: a fault on it is reported, never blindly retried.
    if let Ok(results) = results {
        let wid = results[0].created_webhook_id.unwrap();
        assert_eq!(
            client
                .webhooks()
                .list()
                .all()
                .await
                .unwrap()
                .iter()
                .filter(|w| w.id == wid)
                .count(),
            1
        );
        client.webhooks().refresh(&[wid]).await.unwrap();
        client.webhooks().delete(&[wid]).await.unwrap();
    }
    let m = metrics.snapshot();
    assert!(m.server_errors > 0 && m.retries >= m.server_errors, "{m:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scoped_tokens_work_through_the_gateway_and_expired_tokens_name_the_credential() {
    let emu = TestEmulator::start().await;
    let scoped = emu
        .control(
            Method::POST,
            "/tokens",
            Some(json!({"email": ADMIN_EMAIL, "scoped": true, "scopes": ["read:jira-user", "manage:jira-configuration"]})),
        )
        .await["token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let through_gateway = Client::builder()
        .gateway(emu.cloud_id())
        .api_url(emu.base_url.clone())
        .basic_auth(ADMIN_EMAIL, scoped.clone())
        .build()
        .unwrap();
    assert_eq!(
        through_gateway
            .users()
            .myself()
            .await
            .unwrap()
            .email_address
            .as_deref(),
        Some(ADMIN_EMAIL)
    );
    let at_site = Client::builder()
        .site(emu.base_url.clone())
        .basic_auth(ADMIN_EMAIL, scoped)
        .build()
        .unwrap();
    let err = at_site.users().myself().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Auth {
                credential: Credential::ApiToken,
                reason: AuthReason::Rejected
            }
        ),
        "{err:?}"
    );

    let short = emu
        .control(
            Method::POST,
            "/tokens",
            Some(json!({"email": ADMIN_EMAIL, "expiresInDays": 1})),
        )
        .await["token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let client = Client::builder()
        .site(emu.base_url.clone())
        .basic_auth(ADMIN_EMAIL, short)
        .build()
        .unwrap();
    assert!(client.users().myself().await.is_ok());
    emu.control(Method::POST, "/clock/advance", Some(json!({"days": 2})))
        .await;
    let err = client.users().myself().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Auth {
                credential: Credential::ApiToken,
                reason: AuthReason::Rejected
            }
        ),
        "{err:?}"
    );
}
