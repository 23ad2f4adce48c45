//! Credentials end to end: registered API tokens checked against the emulator's token listing while its clock
//! moves forward (warned 30 days before expiry, expired after, exit codes 0/1/2), an owner deactivated, a
//! secret file readable by others refused, OAuth rotation persisted through the store's token store, and no
//! secret in any table of the store.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use jsm_client::{Client, OAuthConfig, SystemClock};
use jsm_lifecycle::credentials::{
    self, CheckOptions, Kind, Registration, SecretRef, State, StoreTokenStore, Targets,
};
use jsm_lifecycle::{Error, Policy};
use jsm_testkit::Surfaces;
use reqwest::Method;
use serde_json::json;

use crate::support::{Backend, World, backends};

fn secret_file(dir: &Path, name: &str, secret: &str, mode: u32) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("{secret}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
}

fn agents(w: &World) -> Vec<String> {
    let site = w.site();
    site.accounts
        .iter()
        .enumerate()
        .filter(|(i, a)| {
            a.active
                && !a.email_hidden
                && a.email != jsm_testkit::ADMIN_EMAIL
                && site.is_member_of(*i as u32, "jira-servicemanagement-users")
        })
        .map(|(_, a)| a.email.clone())
        .collect()
}

/// A token issued by the emulator, labelled like the credential, expiring in `days`.
async fn issue(w: &World, email: &str, label: &str, days: i64) -> String {
    let made = w
        .emu
        .control(
            Method::POST,
            "/tokens",
            Some(json!({ "email": email, "label": label, "expiresInDays": days })),
        )
        .await;
    made["token"].as_str().unwrap().to_string()
}

fn targets(w: &World) -> Targets {
    Targets {
        site: Some(w.emu.base_url.clone()),
        api_url: Some(w.emu.base_url.clone()),
        auth_url: Some(w.emu.base_url.clone()),
        scim_url: Some(format!(
            "{}/scim/directory/{}",
            w.emu.base_url,
            w.emu.emu.config().identity.directory_id
        )),
        org_id: Some(w.emu.emu.config().identity.org_id.clone()),
    }
}

async fn advance(w: &World, days: i64) {
    w.emu
        .control(
            Method::POST,
            "/clock/advance",
            Some(json!({ "days": days })),
        )
        .await;
}

async fn check(w: &World, verify: bool) -> credentials::CheckReport {
    w.engine
        .check_credentials(&CheckOptions {
            warn_days: None,
            verify: verify.then(|| targets(w)),
        })
        .await
        .unwrap()
}

fn state_of(report: &credentials::CheckReport, name: &str) -> State {
    report
        .credentials
        .iter()
        .find(|c| c.name == name)
        .map(|c| c.state)
        .unwrap_or_else(|| panic!("{name} not checked: {report:#?}"))
}

async fn assert_no_secret(w: &World, secrets: &[&str]) {
    let dump = w.engine.store.tables_dump().await.unwrap();
    for (table, rows) in &dump {
        for row in rows {
            for s in secrets {
                assert!(!row.contains(s), "a secret is stored in {table}: {row}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_warns_30_days_ahead_then_reports_expiry_with_exit_codes() {
    for backend in backends() {
        let w = World::new(Surfaces::ALL, Policy::default(), backend).await;
        let dir = tempfile::tempdir().unwrap();
        let owner = agents(&w)[0].clone();
        let secret = issue(&w, &owner, "ci-token", 100).await;
        let file = secret_file(dir.path(), "ci-token", &secret, 0o600);
        let now = w.engine.client.clock().now();
        credentials::add(
            &w.engine.store,
            &Registration {
                name: "ci-token".into(),
                kind: Kind::ApiToken,
                owner: Some(owner.clone()),
                expires: None,
                secret: Some(SecretRef::File(file)),
            },
            now,
        )
        .await
        .unwrap();

        let report = check(&w, true).await;
        assert_eq!(state_of(&report, "ci-token"), State::Ok, "{report:#?}");
        assert_eq!(report.exit_code(), 0);
        assert_eq!(report.clock, "atlassian");
        let c = &report.credentials[0];
        assert_eq!(
            c.expiry_source.as_deref(),
            Some("atlassian"),
            "Atlassian's expiresAt"
        );
        assert_eq!(c.verified, Some(true));
        assert!(c.last_used_at.is_none(), "never used before this check");
        let meta = w
            .engine
            .store
            .credential("ci-token")
            .await
            .unwrap()
            .unwrap();
        assert!(meta.last_verified_at.is_some());

        // 70 days on the emulator's clock: 30 days left, so check warns.
        advance(&w, 70).await;
        let report = check(&w, false).await;
        assert_eq!(
            state_of(&report, "ci-token"),
            State::Expiring,
            "{report:#?}"
        );
        assert_eq!(
            report.credentials[0].days_left,
            Some(29),
            "30 days less the seconds the test took"
        );
        assert!(report.credentials[0].detail.contains("expiring in"));
        assert!(
            report.credentials[0].last_used_at.is_some(),
            "the earlier verify call shows as Atlassian's lastActiveAt"
        );
        assert_eq!(report.exit_code(), 1);

        // Past the expiry.
        advance(&w, 31).await;
        let report = check(&w, true).await;
        assert_eq!(state_of(&report, "ci-token"), State::Expired, "{report:#?}");
        assert_eq!(report.exit_code(), 2);
        assert_no_secret(&w, &[&secret]).await;
        w.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_whose_owner_is_deactivated_is_dead_before_anything_fails() {
    let w = World::new(Surfaces::ALL, Policy::default(), Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let owner = agents(&w)[1].clone();
    let secret = issue(&w, &owner, "leaver-token", 365).await;
    let file = secret_file(dir.path(), "leaver", &secret, 0o600);
    let now = w.engine.client.clock().now();
    credentials::add(
        &w.engine.store,
        &Registration {
            name: "leaver-token".into(),
            kind: Kind::ApiToken,
            owner: Some(owner.clone()),
            expires: None,
            secret: Some(SecretRef::File(file)),
        },
        now,
    )
    .await
    .unwrap();
    assert_eq!(check(&w, false).await.exit_code(), 0);
    let id = {
        let site = w.site();
        site.account(site.find_by_email(&owner).unwrap())
            .account_id
            .clone()
    };
    w.engine.client.admin().disable(&id).send().await.unwrap();
    let report = check(&w, true).await;
    assert_eq!(
        state_of(&report, "leaver-token"),
        State::OwnerInactive,
        "{report:#?}"
    );
    assert!(report.credentials[0].detail.contains("deactivated"));
    assert_eq!(report.exit_code(), 2);
    w.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_file_readable_by_others_is_refused_and_nothing_is_written() {
    let w = World::new(Surfaces::ALL, Policy::default(), Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let file = secret_file(dir.path(), "scim.key", "scim-emulator-directory-key", 0o644);
    let err = credentials::add(
        &w.engine.store,
        &Registration {
            name: "scim".into(),
            kind: Kind::ScimKey,
            owner: None,
            expires: None,
            secret: Some(SecretRef::File(file.clone())),
        },
        w.engine.client.clock().now(),
    )
    .await
    .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    assert!(
        text.contains("0644") && text.contains("chmod 600"),
        "{text}"
    );
    assert!(w.engine.store.credentials().await.unwrap().is_empty());

    // The same key at 0600 registers and verifies against the SCIM directory.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    credentials::add(
        &w.engine.store,
        &Registration {
            name: "scim".into(),
            kind: Kind::ScimKey,
            owner: Some("identity-team".into()),
            expires: None,
            secret: Some(SecretRef::File(file)),
        },
        w.engine.client.clock().now(),
    )
    .await
    .unwrap();
    let report = check(&w, true).await;
    assert_eq!(report.credentials[0].verified, Some(true), "{report:#?}");
    assert_eq!(state_of(&report, "scim"), State::Ok);
    assert!(report.credentials[0].detail.contains("no expiry known"));
    w.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_rotation_is_saved_to_the_token_file_and_the_store_before_use() {
    let w = World::new(Surfaces::ALL, Policy::default(), Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let tokens = w
        .emu
        .oauth_tokens("read:jira-user manage:jira-configuration offline_access")
        .await;
    let oauth = w.emu.emu.config().oauth.clone();
    let first_refresh = tokens["refresh_token"].as_str().unwrap().to_string();
    let access = tokens["access_token"].as_str().unwrap().to_string();
    let path = dir.path().join("oauth.json");
    std::fs::write(
        &path,
        json!({
            "client_id": oauth.client_id,
            "client_secret": oauth.client_secret.expose(),
            "access_token": access,
            "refresh_token": first_refresh,
            "expires_at": (w.engine.client.clock().now() + chrono::Duration::hours(1)),
            "scope": tokens["scope"],
        })
        .to_string(),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let now = w.engine.client.clock().now();
    credentials::add(
        &w.engine.store,
        &Registration {
            name: "oauth-app".into(),
            kind: Kind::OAuth,
            owner: Some(jsm_testkit::ADMIN_EMAIL.into()),
            expires: None,
            secret: Some(SecretRef::File(path.clone())),
        },
        now,
    )
    .await
    .unwrap();
    let store = StoreTokenStore::open(
        w.engine.store.clone(),
        "oauth-app",
        Arc::new(SystemClock),
        Default::default(),
    )
    .await
    .unwrap();
    let client = Client::builder()
        .gateway(w.emu.cloud_id())
        .api_url(w.emu.base_url.clone())
        .auth_url(w.emu.base_url.clone())
        .oauth(OAuthConfig::new(
            oauth.client_id.clone(),
            oauth.client_secret.expose().to_string(),
            Arc::new(store),
        ))
        .build()
        .unwrap();
    assert!(client.users().myself().await.is_ok());
    client.oauth().refresh().await.unwrap();
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let second_refresh = saved["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(
        second_refresh, first_refresh,
        "the rotated refresh token is in the file"
    );
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "rewritten 0600");
    }
    assert!(
        client.users().myself().await.is_ok(),
        "the new access token works"
    );
    let facts = w
        .engine
        .store
        .credential_facts("oauth-app")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(facts["rotations"], 1);
    assert!(facts["rotated_at"].is_string() && facts["consented_at"].is_string());
    let meta = w
        .engine
        .store
        .credential("oauth-app")
        .await
        .unwrap()
        .unwrap();
    assert!(meta.last_used_at.is_some() && meta.expires_at.is_some());

    let report = check(&w, true).await;
    assert_eq!(state_of(&report, "oauth-app"), State::Ok, "{report:#?}");
    assert_eq!(report.credentials[0].verified, Some(true));
    assert!(
        report.credentials[0]
            .expiry_source
            .as_deref()
            .is_some_and(|s| s.contains("90 idle days"))
    );
    assert_no_secret(
        &w,
        &[
            &first_refresh,
            &second_refresh,
            &access,
            oauth.client_secret.expose(),
        ],
    )
    .await;
    w.cleanup().await;
}
