use jsm_emulator::site::NewAccount;
use jsm_lifecycle::plan::Action;
use jsm_lifecycle::{AgentRequest, Error, Outcome, Quiet};
use jsm_testkit::Surfaces;

use crate::support::World;

fn request(email: &str) -> AgentRequest {
    AgentRequest {
        email: email.into(),
        name: "Ada Agent".into(),
    }
}

#[tokio::test]
async fn an_agent_with_scim_is_a_directory_user_granted_through_the_default_group_after_approval() {
    let w = World::demo().await;
    let email = "ada.agent@acme.example";
    let plan = w
        .engine
        .plan_provision_agent(&request(email))
        .await
        .unwrap();
    let names: Vec<&str> = plan.items.iter().map(|i| i.action.name()).collect();
    assert_eq!(names, ["scim_create_user", "add_to_group"]);
    assert!(
        plan.items[1].cost.is_some(),
        "a seat grant says it costs money"
    );
    assert!(
        plan.needs_approval(),
        "every agent-seat grant needs an approval"
    );
    w.engine.submit(&plan).await.unwrap();
    let err = w.engine.apply(&plan, &Quiet).await.unwrap_err();
    assert!(matches!(err, Error::AwaitingApproval { .. }), "{err}");
    assert!(
        w.site().find_by_email(email).is_none(),
        "nothing was sent before the approval"
    );
    w.engine.approve(&plan.id, "bob").await.unwrap();
    let report = w.engine.apply(&plan, &Quiet).await.unwrap();
    assert!(report.complete(), "{report:?}");
    let site = w.site();
    let key = site.find_by_email(email).unwrap();
    assert!(
        site.directory.user_of_account(key).is_some(),
        "managed by the SCIM directory"
    );
    assert!(site.is_member_of(key, "jira-servicemanagement-users"));
}

#[tokio::test]
async fn without_scim_an_agent_is_a_manual_step_that_a_later_apply_verifies() {
    let w = World::new(
        Surfaces::SITE_ONLY,
        Default::default(),
        crate::support::Backend::Sqlite,
    )
    .await;
    let email = "manual.agent@acme.example";
    let plan = w
        .engine
        .plan_provision_agent(&request(email))
        .await
        .unwrap();
    assert_eq!(plan.items.len(), 1);
    let Action::Manual { instruction, .. } = &plan.items[0].action else {
        panic!("expected a manual step: {:?}", plan.items)
    };
    assert!(instruction.contains("invite manual.agent@acme.example to Jira Service Management"));
    w.engine.submit(&plan).await.unwrap();
    w.engine.approve(&plan.id, "bob").await.unwrap();
    let report = w.engine.apply(&plan, &Quiet).await.unwrap();
    assert_eq!(report.items[0].outcome, Outcome::PendingManual);
    assert!(!report.complete() && !report.failed());

    // A person invites them in Atlassian Administration.
    {
        let now = w.emu.emu.now();
        let mut site = w.emu.emu.site_mut();
        let key = site.add_account(
            NewAccount {
                account_type: jsm_proto::jira::AccountType::Atlassian,
                email: email.into(),
                display_name: "Manual Agent".into(),
                email_hidden: false,
            },
            now,
        );
        let group = site
            .find_group_by_name("jira-servicemanagement-users")
            .unwrap();
        site.group_mut(group).unwrap().members.insert(key);
    }
    let report = w.engine.apply(&plan, &Quiet).await.unwrap();
    assert_eq!(
        report.items[0].outcome,
        Outcome::AlreadyApplied,
        "{report:?}"
    );
    assert!(report.complete());
    let record = w.engine.store.plan(&plan.id).await.unwrap().unwrap();
    assert_eq!(record.status, jsm_store::PlanStatus::Applied);
}
