use jsm_store::{Approval, AuditDraft, CredentialMeta, JournalEntry, JournalState, Link};

use crate::support::{Db, at, plan};

crate::both_backends!(
    credentials_round_trip_and_upsert_by_name,
    no_table_holds_a_secret,
    credential_facts_round_trip_and_go_with_the_credential,
);

fn api_token(name: &str) -> CredentialMeta {
    CredentialMeta {
        name: name.into(),
        kind: "api_token".into(),
        owner: Some("it-ops".into()),
        created_at: at(0),
        expires_at: Some(at(365 * 86_400)),
        last_used_at: None,
        last_verified_at: Some(at(60)),
        secret_ref: Some("env:ATLASSIAN_API_TOKEN".into()),
    }
}

async fn credentials_round_trip_and_upsert_by_name(db: Db) -> anyhow::Result<()> {
    let a = api_token("site-admin");
    let b = CredentialMeta {
        name: "scim".into(),
        kind: "scim_key".into(),
        owner: None,
        expires_at: None,
        last_verified_at: None,
        secret_ref: Some("/etc/jsmctl/scim.key".into()),
        ..api_token("scim")
    };
    db.store.credential_put(&a).await?;
    db.store.credential_put(&b).await?;
    assert_eq!(db.store.credential("site-admin").await?, Some(a.clone()));
    assert_eq!(db.store.credentials().await?, vec![b.clone(), a.clone()]);

    let rotated = CredentialMeta {
        created_at: at(1000),
        expires_at: Some(at(1000 + 365 * 86_400)),
        last_used_at: Some(at(1001)),
        ..a
    };
    db.store.credential_put(&rotated).await?;
    assert_eq!(db.store.credential("site-admin").await?, Some(rotated));
    assert_eq!(db.store.credentials().await?.len(), 2);

    assert!(db.store.credential_remove("scim").await?);
    assert!(!db.store.credential_remove("scim").await?);
    assert_eq!(db.store.credential("scim").await?, None);
    Ok(())
}

async fn no_table_holds_a_secret(db: Db) -> anyhow::Result<()> {
    // The secret exists only where secret_ref points; nothing handed to the store contains it.
    let secret = "ATATT3xFfGF0-not-a-real-token-7f3a9c";
    db.store.credential_put(&api_token("site-admin")).await?;
    let p = plan("p-1", "h1", 0);
    db.store.put_plan(&p).await?;
    db.store
        .add_approval(&Approval {
            plan_id: "p-1".into(),
            plan_hash: "h1".into(),
            approver: "carol".into(),
            approved_at: at(1),
            expires_at: at(100),
            used_at: None,
        })
        .await?;
    db.store
        .journal_put(&JournalEntry {
            plan_id: "p-1".into(),
            item_key: "a".into(),
            state: JournalState::Done,
            attempts: 1,
            outcome: Some("created".into()),
            output: Some(serde_json::json!({"accountId": "qm:1"})),
            error: None,
            updated_at: at(2),
        })
        .await?;
    db.store
        .link_put(&Link {
            source: "okta".into(),
            source_id: "00u1".into(),
            account_id: "qm:1".into(),
            scim_id: None,
            created_at: at(3),
            updated_at: at(3),
        })
        .await?;
    db.store
        .audit_append(AuditDraft {
            at: at(4),
            actor: "site-admin".into(),
            kind: "write".into(),
            plan_id: Some("p-1".into()),
            item_key: Some("a".into()),
            action: "create_customer".into(),
            target: "bob@example.com".into(),
            outcome: "created".into(),
            request_id: None,
            detail: serde_json::json!({"credential": "site-admin"}),
        })
        .await?;

    let dump = db.store.tables_dump().await?;
    let names: Vec<&str> = dump.iter().map(|(t, _)| t.as_str()).collect();
    for table in [
        "_sqlx_migrations",
        "approvals",
        "audit_head",
        "audit_log",
        "credentials",
        "credential_facts",
        "journal",
        "links",
        "plans",
        "rejections",
    ] {
        assert!(names.contains(&table), "{table} missing from {names:?}");
    }
    let rows = |table: &str| {
        dump.iter()
            .find(|(t, _)| t == table)
            .map(|(_, rows)| rows.clone())
            .unwrap_or_default()
    };
    // Every column is rendered: the dump really shows what is stored.
    let creds = rows("credentials");
    assert_eq!(creds.len(), 1);
    assert!(
        creds[0].contains("secret_ref=env:ATLASSIAN_API_TOKEN"),
        "{creds:?}"
    );
    assert!(creds[0].contains("last_used_at=NULL"), "{creds:?}");
    assert!(rows("plans")[0].contains("bob@example.com"));
    assert_eq!(rows("audit_log").len(), 1);
    assert!(rows("rejections").is_empty());

    for (table, rows) in &dump {
        for row in rows {
            assert!(!row.contains(secret), "secret stored in {table}: {row}");
        }
    }
    Ok(())
}

async fn credential_facts_round_trip_and_go_with_the_credential(db: Db) -> anyhow::Result<()> {
    let facts = serde_json::json!({"client_id": "app-1", "consented_at": "2026-01-01T00:00:00Z"});
    let missing = db.store.credential_facts_put("nope", &facts, at(0)).await;
    assert!(
        matches!(missing, Err(jsm_store::Error::NotFound { .. })),
        "{missing:?}"
    );
    db.store.credential_put(&api_token("oauth-app")).await?;
    assert_eq!(db.store.credential_facts("oauth-app").await?, None);
    db.store
        .credential_facts_put("oauth-app", &facts, at(1))
        .await?;
    assert_eq!(db.store.credential_facts("oauth-app").await?, Some(facts));
    let rotated = serde_json::json!({"client_id": "app-1", "rotations": 2});
    db.store
        .credential_facts_put("oauth-app", &rotated, at(2))
        .await?;
    assert_eq!(db.store.credential_facts("oauth-app").await?, Some(rotated));
    assert!(db.store.credential_remove("oauth-app").await?);
    assert_eq!(db.store.credential_facts("oauth-app").await?, None);
    Ok(())
}
