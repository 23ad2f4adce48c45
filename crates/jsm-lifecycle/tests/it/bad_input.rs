use jsm_lifecycle::{AgentRequest, CustomerRequest, Error, Plan, Policy};

use crate::support::World;

async fn nothing_stored(w: &World) {
    assert!(
        w.engine.store.plans(None).await.unwrap().is_empty(),
        "nothing was stored"
    );
    assert_eq!(
        w.engine.store.audit_count().await.unwrap(),
        0,
        "nothing was audited"
    );
}

#[tokio::test]
async fn unknown_accounts_desks_organizations_and_groups_are_refused_by_name() {
    let w = World::demo().await;
    let customer = |desk: &str, org: &str| CustomerRequest {
        email: "x@acme.example".into(),
        name: "X".into(),
        desks: vec![desk.into()],
        organizations: if org.is_empty() {
            vec![]
        } else {
            vec![org.into()]
        },
    };
    let cases: Vec<(Error, &str)> = vec![
        (
            w.engine
                .plan_provision_customer(&customer("NOPE", ""))
                .await
                .unwrap_err(),
            "service desk NOPE",
        ),
        (
            w.engine
                .plan_provision_customer(&customer("HR", "No Such Org"))
                .await
                .unwrap_err(),
            "organization No Such Org",
        ),
        (
            w.engine
                .plan_group_add("no-such-group", &["x".into()])
                .await
                .unwrap_err(),
            "group no-such-group",
        ),
        (
            w.engine
                .plan_group_add("jira-software-users", &["712020:nobody".into()])
                .await
                .unwrap_err(),
            "account 712020:nobody",
        ),
        (
            w.engine
                .plan_offboard("nobody@nowhere.example")
                .await
                .unwrap_err(),
            "nobody@nowhere.example",
        ),
        (
            w.engine
                .plan_customers_remove("HR", &["qm:nobody".into()])
                .await
                .unwrap_err(),
            "qm:nobody",
        ),
        (
            w.engine
                .plan_provision_agent(&AgentRequest {
                    email: "not-an-email".into(),
                    name: "n".into(),
                })
                .await
                .unwrap_err(),
            "--email",
        ),
    ];
    for (err, needle) in cases {
        assert_eq!(err.kind(), jsm_lifecycle::ErrorKind::Refused, "{err}");
        assert!(
            err.to_string().contains(needle),
            "{err} should name {needle}"
        );
    }
    nothing_stored(&w).await;
}

#[tokio::test]
async fn malformed_and_edited_plan_files_are_refused_and_nothing_is_written() {
    let w = World::demo().await;
    let dir = tempfile::tempdir().unwrap();
    let plan = w
        .engine
        .plan_provision_customer(&CustomerRequest {
            email: "file.user@acme.example".into(),
            name: "File User".into(),
            desks: vec!["HR".into()],
            organizations: vec![],
        })
        .await
        .unwrap();
    let good = plan.to_json().unwrap();

    let path = dir.path().join("bad.json");
    std::fs::write(&path, "{ not json").unwrap();
    let err = w
        .engine
        .load_plan(path.to_str().unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::BadPlanFile { .. }), "{err}");

    std::fs::write(
        &path,
        good.replace("\"version\": 1", "\"version\": \"one\""),
    )
    .unwrap();
    let err = w
        .engine
        .load_plan(path.to_str().unwrap())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("version"),
        "names the field: {err}"
    );

    std::fs::write(&path, good.replace("File User", "Someone Else")).unwrap();
    let err = w
        .engine
        .load_plan(path.to_str().unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::HashMismatch { .. }), "{err}");
    nothing_stored(&w).await;

    std::fs::write(&path, &good).unwrap();
    let loaded = w.engine.load_plan(path.to_str().unwrap()).await.unwrap();
    assert_eq!(loaded, plan);
    let _: Plan = loaded;
}

#[test]
fn a_bad_policy_names_the_key_and_the_line() {
    let err = Policy::from_toml(
        "version = 1\n[approval]\nagent_seat_grant = true\n",
        "policy.toml",
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("policy.toml")
            && text.contains("agent_seat_grant")
            && text.contains("line 3"),
        "{text}"
    );
    let err = Policy::from_toml("version = 2\n", "p.toml").unwrap_err();
    assert!(err.to_string().contains("version = 2"), "{err}");
    let err = Policy::from_toml(
        "version = 1\n[deletion_guard]\nmax_count = \"many\"\n",
        "p.toml",
    )
    .unwrap_err();
    assert!(err.to_string().contains("max_count"), "{err}");
}
