use jsm_store::Link;

use crate::support::{Db, at};

crate::both_backends!(links_round_trip_and_upsert_by_source_identity);

fn link(source: &str, id: &str, account: &str, secs: i64) -> Link {
    Link {
        source: source.into(),
        source_id: id.into(),
        account_id: account.into(),
        scim_id: None,
        created_at: at(secs),
        updated_at: at(secs),
    }
}

async fn links_round_trip_and_upsert_by_source_identity(db: Db) -> anyhow::Result<()> {
    let okta = link("okta", "00u1", "acc-1", 0);
    let csv = link("hr-csv", "E042", "acc-1", 1);
    let other = link("okta", "00u2", "acc-2", 2);
    for l in [&okta, &csv, &other] {
        db.store.link_put(l).await?;
    }
    assert_eq!(
        db.store.link_by_source("okta", "00u1").await?,
        Some(okta.clone())
    );
    assert_eq!(db.store.link_by_source("okta", "nope").await?, None);
    assert_eq!(
        db.store.link_by_account("acc-1").await?,
        vec![csv.clone(), okta.clone()]
    );
    assert_eq!(
        db.store.links(Some("okta")).await?,
        vec![okta.clone(), other.clone()]
    );
    assert_eq!(db.store.links(None).await?.len(), 3);

    // Relinked to another account with a SCIM id: the first created_at stays.
    let mut moved = link("okta", "00u1", "acc-3", 50);
    moved.scim_id = Some("scim-9".into());
    db.store.link_put(&moved).await?;
    let stored = db.store.link_by_source("okta", "00u1").await?;
    let want = Link {
        created_at: okta.created_at,
        ..moved
    };
    assert_eq!(stored, Some(want));
    assert_eq!(db.store.link_by_account("acc-1").await?, vec![csv]);

    assert!(db.store.link_remove("okta", "00u1").await?);
    assert!(!db.store.link_remove("okta", "00u1").await?);
    assert_eq!(db.store.links(None).await?.len(), 2);
    Ok(())
}
