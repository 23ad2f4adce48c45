//! Operators and page sessions of `jsmctl serve`: only hashes are stored, names are unique, a disabled operator
//! and an expired session no longer authenticate.

use jsm_store::{Error, Operator, Session, sha256_hex};

use crate::support::{Db, at};

crate::both_backends!(
    operators_are_found_by_token_hash_only,
    sessions_expire_and_end_with_their_operator
);

fn operator(name: &str, token: &str) -> Operator {
    Operator {
        name: name.into(),
        token_sha256: sha256_hex(token.as_bytes()),
        created_at: at(0),
        created_by: "root".into(),
        disabled_at: None,
    }
}

async fn operators_are_found_by_token_hash_only(db: Db) -> anyhow::Result<()> {
    let s = &db.store;
    s.operator_add(&operator("alice", "jsmo_secret_a")).await?;
    s.operator_add(&operator("bob", "jsmo_secret_b")).await?;
    assert!(matches!(
        s.operator_add(&operator("alice", "other")).await,
        Err(Error::Conflict { .. })
    ));
    let found = s
        .operator_by_token(&sha256_hex(b"jsmo_secret_a"))
        .await?
        .expect("alice");
    assert_eq!(found.name, "alice");
    assert!(
        s.operator_by_token("jsmo_secret_a").await?.is_none(),
        "the token itself is no key"
    );
    let names: Vec<String> = s.operators().await?.into_iter().map(|o| o.name).collect();
    assert_eq!(names, ["alice", "bob"]);
    assert!(s.operator_disable("bob", at(5)).await?);
    assert!(!s.operator_disable("bob", at(6)).await?);
    assert!(
        s.operator_by_token(&sha256_hex(b"jsmo_secret_b"))
            .await?
            .is_none()
    );
    let dump = format!("{:?}", s.tables_dump().await?);
    assert!(!dump.contains("jsmo_secret"), "no token in any table");
    Ok(())
}

async fn sessions_expire_and_end_with_their_operator(db: Db) -> anyhow::Result<()> {
    let s = &db.store;
    s.operator_add(&operator("alice", "t")).await?;
    let session = Session {
        id_sha256: sha256_hex(b"cookie-1"),
        operator: "alice".into(),
        created_at: at(0),
        expires_at: at(3600),
    };
    s.session_put(&session).await?;
    assert_eq!(
        s.session(&session.id_sha256, at(10)).await?,
        Some(session.clone())
    );
    assert!(
        s.session(&session.id_sha256, at(3600)).await?.is_none(),
        "expired"
    );
    assert!(matches!(
        s.session_put(&Session {
            operator: "ghost".into(),
            id_sha256: "x".into(),
            ..session.clone()
        })
        .await,
        Err(Error::NotFound { .. })
    ));
    let second = Session {
        id_sha256: sha256_hex(b"cookie-2"),
        ..session.clone()
    };
    s.session_put(&second).await?;
    assert!(s.session_remove(&second.id_sha256).await?);
    assert!(
        s.session(&second.id_sha256, at(10)).await?.is_none(),
        "logged out"
    );
    assert!(s.operator_disable("alice", at(20)).await?);
    assert!(
        s.session(&session.id_sha256, at(21)).await?.is_none(),
        "ends with the operator"
    );
    Ok(())
}
