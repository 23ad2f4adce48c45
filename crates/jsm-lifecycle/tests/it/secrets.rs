use jsm_lifecycle::{CustomerRequest, Quiet};

use crate::support::{World, hidden_scim_agent};

#[tokio::test]
async fn no_secret_reaches_a_plan_the_journal_or_the_audit_log() {
    let w = World::demo().await;
    let (email, _, _) = hidden_scim_agent(&w.site());
    let plan = w.engine.plan_offboard(&email).await.unwrap();
    w.engine.submit(&plan).await.unwrap();
    w.engine.approve(&plan.id, "bob").await.unwrap();
    w.engine.apply(&plan, &Quiet).await.unwrap();
    let customer = w
        .engine
        .plan_provision_customer(&CustomerRequest {
            email: "secret.check@acme.example".into(),
            name: "S".into(),
            desks: vec!["HR".into()],
            organizations: vec![],
        })
        .await
        .unwrap();
    w.engine.submit(&customer).await.unwrap();
    w.engine.apply(&customer, &Quiet).await.unwrap();

    let secrets = [
        jsm_testkit::ADMIN_TOKEN.to_string(),
        w.emu.scim_token(),
        w.emu.org_key(),
    ];
    let dump = w.engine.store.tables_dump().await.unwrap();
    let rows: usize = dump.iter().map(|(_, r)| r.len()).sum();
    assert!(
        rows > 10,
        "the store holds the plans, journal and audit log ({rows} rows)"
    );
    for (table, rows) in &dump {
        for row in rows {
            for s in &secrets {
                assert!(
                    !row.contains(s.as_str()),
                    "a secret in table {table}: {row}"
                );
            }
        }
    }
    let plan_text = plan.to_json().unwrap() + &format!("{:?}", w.engine);
    for s in &secrets {
        assert!(
            !plan_text.contains(s.as_str()),
            "a secret in the plan or the engine's Debug"
        );
    }
}
