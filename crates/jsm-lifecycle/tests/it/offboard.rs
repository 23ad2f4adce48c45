use jsm_lifecycle::plan::{Action, Deactivation};
use jsm_lifecycle::{Error, Outcome, Quiet};
use jsm_testkit::Surfaces;

use crate::support::{Backend, World, hidden_scim_agent};

#[tokio::test]
async fn offboarding_a_hidden_email_deactivates_through_scim_and_restore_brings_everything_back() {
    let w = World::demo().await;
    let (email, account_id, scim_id) = hidden_scim_agent(&w.site());
    let groups_before: Vec<String> = {
        let site = w.site();
        let key = site.find_account(&account_id).unwrap();
        site.groups_of(key)
            .iter()
            .map(|g| site.group(*g).unwrap().name.clone())
            .collect()
    };
    let plan = w.engine.plan_offboard(&email).await.unwrap();
    let deactivate = plan
        .items
        .iter()
        .find(|i| matches!(i.action, Action::Deactivate { .. }))
        .unwrap();
    assert!(matches!(
        &deactivate.action,
        Action::Deactivate { via: Deactivation::Scim, scim_id: Some(s), .. } if *s == scim_id
    ));
    assert!(
        !plan.needs_approval(),
        "one person's offboard is no mass deletion: {:?}",
        plan.approval_reasons
    );
    assert!(
        plan.reads.len() >= 3,
        "the reads that decided the plan: {:?}",
        plan.reads
    );
    let first = deactivate.key.clone();
    assert!(
        plan.items
            .iter()
            .filter(|i| i.key != first)
            .all(|i| i.depends_on == [first.clone()]),
        "memberships go once access is cut"
    );
    w.engine.submit(&plan).await.unwrap();
    let report = w.engine.apply(&plan, &Quiet).await.unwrap();
    assert!(report.complete(), "{report:?}");
    {
        let site = w.site();
        let key = site.find_account(&account_id).unwrap();
        assert!(!site.account(key).active);
        let idx = site.directory.user_of_account(key).unwrap();
        assert_eq!(site.directory.users[idx].active, Some(false));
        assert!(site.groups_of(key).is_empty(), "removed from every group");
    }
    assert!(w.engine.store.audit_verify().await.unwrap().is_ok());

    let restore = w.engine.plan_restore(&account_id).await.unwrap();
    assert_eq!(restore.items[0].action.name(), "reactivate");
    w.engine.submit(&restore).await.unwrap();
    if restore.needs_approval() {
        w.engine.approve(&restore.id, "bob").await.unwrap();
    }
    let report = w.engine.apply(&restore, &Quiet).await.unwrap();
    assert!(report.complete(), "{report:?}");
    let site = w.site();
    let key = site.find_account(&account_id).unwrap();
    assert!(site.account(key).active);
    let mut after: Vec<String> = site
        .groups_of(key)
        .iter()
        .map(|g| site.group(*g).unwrap().name.clone())
        .collect();
    let mut before = groups_before;
    after.sort();
    before.sort();
    assert_eq!(after, before);
}

#[tokio::test]
async fn a_hidden_email_without_scim_or_admin_names_the_credentials_that_would_resolve_it() {
    let w = World::new(Surfaces::SITE_ONLY, Default::default(), Backend::Sqlite).await;
    let (email, _, _) = hidden_scim_agent(&w.site());
    let err = w.engine.plan_offboard(&email).await.unwrap_err();
    assert!(matches!(err, Error::EmailHidden { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("ATLASSIAN_SCIM_URL") && text.contains("ATLASSIAN_ADMIN_API_KEY"),
        "{text}"
    );
    assert!(
        w.engine.store.plans(None).await.unwrap().is_empty(),
        "nothing stored"
    );
}

#[tokio::test]
async fn an_account_already_inactive_plans_no_deactivation_and_apply_does_not_fail() {
    let w = World::demo().await;
    let (_, account_id, _) = hidden_scim_agent(&w.site());
    {
        let now = w.emu.emu.now();
        let mut site = w.emu.emu.site_mut();
        let key = site.find_account(&account_id).unwrap();
        site.set_managed_active(key, false, now);
    }
    let plan = w.engine.plan_offboard(&account_id).await.unwrap();
    assert!(
        !plan
            .items
            .iter()
            .any(|i| matches!(i.action, Action::Deactivate { .. }))
    );
    assert!(
        plan.notes.iter().any(|n| n.contains("already inactive")),
        "{:?}",
        plan.notes
    );
    w.engine.submit(&plan).await.unwrap();
    if plan.needs_approval() {
        w.engine.approve(&plan.id, "bob").await.unwrap();
    }
    let report = w.engine.apply(&plan, &Quiet).await.unwrap();
    assert!(report.complete(), "{report:?}");
    assert!(report.items.iter().all(|i| i.outcome != Outcome::Failed));
}

#[tokio::test]
async fn without_scim_the_offboard_suspends_through_the_admin_api() {
    let w = World::new(
        Surfaces {
            scim: false,
            admin: true,
        },
        Default::default(),
        Backend::Sqlite,
    )
    .await;
    let (email, account_id, _) = hidden_scim_agent(&w.site());
    let err = w.engine.plan_offboard(&email).await.unwrap_err();
    assert!(
        matches!(err, Error::EmailHidden { .. }),
        "the admin API hides a restricted email too, so only SCIM could resolve it: {err}"
    );
    let plan = w.engine.plan_offboard(&account_id).await.unwrap();
    assert!(plan.items.iter().any(|i| matches!(
        i.action,
        Action::Deactivate {
            via: Deactivation::AdminSuspend,
            ..
        }
    )));
    w.engine.submit(&plan).await.unwrap();
    w.engine.approve(&plan.id, "bob").await.unwrap();
    assert!(w.engine.apply(&plan, &Quiet).await.unwrap().complete());
    let site = w.site();
    assert!(!site.account(site.find_account(&account_id).unwrap()).active);
}

#[tokio::test]
async fn removing_most_of_a_group_trips_the_deletion_guard_until_approved() {
    let w = World::demo().await;
    let (group, members): (String, Vec<String>) = {
        let site = w.site();
        site.live_groups()
            .map(|(_, g)| {
                (
                    g.name.clone(),
                    g.members
                        .iter()
                        .map(|k| site.account(*k).account_id.clone())
                        .collect::<Vec<_>>(),
                )
            })
            .find(|(_, m): &(String, Vec<String>)| (3..10).contains(&m.len()))
            .unwrap()
    };
    let remove: Vec<String> = members.iter().take(2).cloned().collect();
    let plan = w.engine.plan_group_remove(&group, &remove).await.unwrap();
    assert_eq!(plan.scope as usize, members.len());
    assert!(plan.needs_approval());
    assert!(
        plan.approval_reasons[0].contains("deletion guard: removes or deactivates 2 of"),
        "{:?}",
        plan.approval_reasons
    );
    assert!(
        plan.items
            .iter()
            .all(|i| i.approval_rule.as_deref() == Some("deletion_guard"))
    );
    w.engine.submit(&plan).await.unwrap();
    let err = w.engine.apply(&plan, &Quiet).await.unwrap_err();
    assert!(matches!(err, Error::AwaitingApproval { .. }));
    {
        let site = w.site();
        let g = site.find_group_by_name(&group).unwrap();
        assert_eq!(
            site.group(g).unwrap().members.len(),
            members.len(),
            "nothing removed before the approval"
        );
    }
    w.engine.approve(&plan.id, "bob").await.unwrap();
    assert!(w.engine.apply(&plan, &Quiet).await.unwrap().complete());
    let site = w.site();
    let g = site.find_group_by_name(&group).unwrap();
    assert_eq!(site.group(g).unwrap().members.len(), members.len() - 2);
}
