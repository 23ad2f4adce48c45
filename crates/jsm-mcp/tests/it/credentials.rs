//! `credential_status` over streamable HTTP against the emulator: registered credentials judged on Atlassian's
//! clock and token listing (one expiring, one fine, one dead since its owner was deactivated), every result fits
//! the output schema, and no secret, nor where one is kept, appears in the result or in the call's audit record.

use std::path::PathBuf;

use jsm_lifecycle::credentials::{self, Kind, Registration, SecretRef};
use serde_json::{Value, json};

use crate::http::Http;
use crate::support::*;

/// A secret in a file only its owner can read.
fn secret_file(w: &World, name: &str, secret: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = w.dir().join(name);
    std::fs::write(&path, format!("{secret}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

async fn register(w: &World, name: &str, kind: Kind, owner: Option<&str>, secret: PathBuf) {
    let now = w.engine.client.clock().now();
    let registration = Registration {
        name: name.into(),
        kind,
        owner: owner.map(str::to_string),
        expires: None,
        secret: Some(SecretRef::File(secret)),
    };
    credentials::add(&w.engine.store, &registration, now)
        .await
        .unwrap();
}

fn entry<'a>(status: &'a Value, name: &str) -> &'a Value {
    status["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("{name} not reported: {status:#}"))
}

#[tokio::test]
async fn credential_status_reports_each_state_and_never_a_secret() {
    let w = World::new().await;
    let people = w.agent_people();
    let (owner, leaver) = (people[0].0.clone(), people[1].clone());
    let soon = w.emu.token_expiring(&owner, "helpdesk-token", 20).await;
    let gone = w.emu.token_expiring(&leaver.0, "leaver-token", 300).await;
    let scim = w.emu.running().scim_token().expose().to_string();
    let files = [
        secret_file(&w, "helpdesk.secret", &soon),
        secret_file(&w, "leaver.secret", &gone),
        secret_file(&w, "scim.secret", &scim),
    ];
    register(
        &w,
        "helpdesk-token",
        Kind::ApiToken,
        Some(&owner),
        files[0].clone(),
    )
    .await;
    register(
        &w,
        "leaver-token",
        Kind::ApiToken,
        Some(&leaver.0),
        files[1].clone(),
    )
    .await;
    register(
        &w,
        "scim-key",
        Kind::ScimKey,
        Some("identity-team"),
        files[2].clone(),
    )
    .await;
    w.engine
        .client
        .admin()
        .disable(&leaver.1)
        .send()
        .await
        .unwrap();

    let s = Http::start(&w).await;
    let client = s.client(READER_TOKEN).await;
    let listed = tools(&client).await;
    let result = call(&client, "credential_status", json!({"warn_days": 30})).await;
    let status = validated(&result, &listed, "credential_status");
    assert_eq!(status["clock"], "atlassian", "{status:#}");
    assert_eq!(status["warn_days"], 30);
    let helpdesk = entry(&status, "helpdesk-token");
    assert_eq!(helpdesk["state"], "expiring", "{helpdesk}");
    assert_eq!(helpdesk["severity"], "warn");
    assert_eq!(
        helpdesk["expiry_source"], "atlassian",
        "Atlassian's expiresAt"
    );
    let days = helpdesk["days_left"].as_i64().unwrap();
    assert!((19..=20).contains(&days), "{helpdesk}");
    assert_eq!(entry(&status, "leaver-token")["state"], "owner_inactive");
    assert_eq!(entry(&status, "scim-key")["state"], "ok");
    assert_eq!(status["worst"], "dead");

    // With a window shorter than its 20 days, the token is fine.
    let narrow = validated(
        &call(&client, "credential_status", json!({"warn_days": 10})).await,
        &listed,
        "credential_status",
    );
    assert_eq!(entry(&narrow, "helpdesk-token")["state"], "ok");

    let records: Vec<String> = w
        .mcp_calls()
        .await
        .iter()
        .filter(|r| r.draft.action == "credential_status")
        .map(|r| serde_json::to_string(&r.draft).unwrap())
        .collect();
    assert_eq!(records.len(), 2, "each call is audited");
    let mut texts = records;
    texts.push(serde_json::to_string(&result).unwrap());
    let hidden: Vec<String> = [soon, gone, scim]
        .into_iter()
        .chain(files.iter().map(|f| f.display().to_string()))
        .chain([
            jsm_testkit::ADMIN_TOKEN.to_string(),
            w.emu.running().org_api_key().expose().to_string(),
        ])
        .collect();
    for text in &texts {
        for secret in &hidden {
            assert!(
                !text.contains(secret.as_str()),
                "a secret or its location leaked: {secret} in {text}"
            );
        }
    }
}
