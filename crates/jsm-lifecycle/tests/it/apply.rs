use jsm_lifecycle::plan::Action;
use jsm_lifecycle::policy::DeactivationRule;
use jsm_lifecycle::{CustomerRequest, Error, Outcome, Policy, Quiet};
use jsm_store::{JournalEntry, JournalState};
use jsm_testkit::Surfaces;

use crate::support::{Backend, World, backends, hidden_scim_agent, in_desk};

/// An active customer with a visible email that is not on the HR desk.
fn outsider(w: &World) -> (String, String) {
    let site = w.site();
    let hr = site.desks.iter().find(|d| d.project_key == "HR").unwrap();
    site.accounts
        .iter()
        .enumerate()
        .find(|(k, a)| {
            a.active
                && !a.email_hidden
                && a.account_type == jsm_proto::jira::AccountType::Customer
                && !hr.customers.contains(&(*k as u32))
        })
        .map(|(_, a)| (a.email.clone(), a.account_id.clone()))
        .unwrap()
}

#[tokio::test]
async fn a_precondition_broken_between_plan_and_apply_stops_the_run_naming_the_item() {
    for backend in backends() {
        let w = World::new(Surfaces::ALL, Policy::default(), backend).await;
        let (email, account_id) = outsider(&w);
        let req = CustomerRequest {
            email: email.clone(),
            name: "x".into(),
            desks: vec!["HR".into()],
            organizations: vec![],
        };
        let plan = w.engine.plan_provision_customer(&req).await.unwrap();
        w.engine.submit(&plan).await.unwrap();
        {
            let now = w.emu.emu.now();
            let mut site = w.emu.emu.site_mut();
            let key = site.find_account(&account_id).unwrap();
            site.set_managed_active(key, false, now);
        }
        let report = w.engine.apply(&plan, &Quiet).await.unwrap();
        let stopped = report.stopped.clone().unwrap();
        assert!(
            stopped.contains("the site changed since the plan: plan again"),
            "{stopped}"
        );
        assert!(
            stopped.contains(&plan.items[0].key),
            "names the item: {stopped}"
        );
        assert!(!in_desk(&w.site(), "HR", &email), "nothing was sent");
        assert!(report.failed());
        w.cleanup().await;
    }
}

#[tokio::test]
async fn the_requester_cannot_approve_their_own_plan_under_distinct_approver() {
    let mut policy = Policy::default();
    policy.approval.distinct_approver = true;
    policy.approval.deactivations = DeactivationRule::Always;
    let w = World::new(Surfaces::ALL, policy, Backend::Sqlite).await;
    let (email, _, _) = hidden_scim_agent(&w.site());
    let plan = w.engine.plan_offboard(&email).await.unwrap();
    w.engine.submit(&plan).await.unwrap();
    let err = w.engine.approve(&plan.id, "alice").await.unwrap_err();
    assert!(matches!(err, Error::SelfApproval { .. }), "{err}");
    assert!(w.engine.store.approvals(&plan.id).await.unwrap().is_empty());
    let err = w.engine.apply(&plan, &Quiet).await.unwrap_err();
    assert!(matches!(err, Error::AwaitingApproval { .. }));
    w.engine.approve(&plan.id, "bob").await.unwrap();
    assert!(w.engine.apply(&plan, &Quiet).await.unwrap().complete());
}

#[tokio::test]
async fn an_approval_is_bound_to_the_hash_and_expires() {
    let mut policy = Policy::default();
    policy.approval.deactivations = DeactivationRule::Always;
    policy.approval.ttl_hours = 0;
    let w = World::new(Surfaces::ALL, policy, Backend::Sqlite).await;
    let (email, _, _) = hidden_scim_agent(&w.site());
    let plan = w.engine.plan_offboard(&email).await.unwrap();
    w.engine.submit(&plan).await.unwrap();
    w.engine.approve(&plan.id, "bob").await.unwrap();
    let err = w.engine.apply(&plan, &Quiet).await.unwrap_err();
    assert!(
        matches!(err, Error::AwaitingApproval { .. }),
        "an expired approval does not count: {err}"
    );

    let mut edited = plan.clone();
    edited.items.truncate(1);
    let edited = edited.seal().unwrap();
    let err = w.engine.submit(&edited).await.unwrap_err();
    assert!(matches!(err, Error::HashMismatch { .. }), "{err}");
    let err = w.engine.apply(&edited, &Quiet).await.unwrap_err();
    assert!(matches!(err, Error::HashMismatch { .. }), "{err}");
}

#[tokio::test]
async fn a_create_left_sent_by_a_crash_is_read_back_and_not_sent_again() {
    let w = World::demo().await;
    let email = "crash.victim@acme.example";
    let req = CustomerRequest {
        email: email.into(),
        name: "Crash Victim".into(),
        desks: vec!["HR".into()],
        organizations: vec![],
    };
    let plan = w.engine.plan_provision_customer(&req).await.unwrap();
    w.engine.submit(&plan).await.unwrap();
    // The process died after the request reached the site and before the answer was journaled.
    let create = &plan.items[0];
    assert!(matches!(create.action, Action::CreateCustomer { .. }));
    w.engine
        .store
        .journal_put(&JournalEntry {
            plan_id: plan.id.clone(),
            item_key: create.key.clone(),
            state: JournalState::Sent,
            attempts: 1,
            outcome: None,
            output: None,
            error: None,
            updated_at: plan.created_at,
        })
        .await
        .unwrap();
    w.emu
        .admin(reqwest::Method::POST, "/rest/servicedeskapi/customer")
        .json(&serde_json::json!({"email": email, "displayName": "Crash Victim"}))
        .send()
        .await
        .unwrap();
    let seq = w
        .emu
        .emu
        .log()
        .since(0, 100_000)
        .last()
        .map_or(0, |e| e.seq);
    let report = w.engine.apply(&plan, &Quiet).await.unwrap();
    assert_eq!(
        report.items[0].outcome,
        Outcome::AlreadyApplied,
        "{report:?}"
    );
    assert!(report.complete());
    let posts = w
        .emu
        .emu
        .log()
        .since(seq, 100_000)
        .into_iter()
        .filter(|e| e.method == "POST" && e.path == "/rest/servicedeskapi/customer")
        .count();
    assert_eq!(posts, 0, "the create was not repeated");
    let site = w.site();
    assert_eq!(crate::support::accounts_with_email(&site, email), 1);
    assert!(in_desk(&site, "HR", email));
}

#[tokio::test]
async fn an_item_that_keeps_failing_is_quarantined_without_blocking_the_rest() {
    let mut w = World::demo().await;
    w.impatient(Surfaces::ALL);
    let (email, _) = outsider(&w);
    let org = {
        let site = w.site();
        let key = site.find_by_email(&email).unwrap();
        site.organizations
            .values()
            .find(|o| !o.members.contains(&key))
            .unwrap()
            .name
            .clone()
    };
    let req = CustomerRequest {
        email: email.clone(),
        name: "x".into(),
        desks: vec!["HR".into()],
        organizations: vec![org],
    };
    let plan = w.engine.plan_provision_customer(&req).await.unwrap();
    assert_eq!(plan.items.len(), 2, "{:?}", plan.items);
    w.engine.submit(&plan).await.unwrap();
    let broken: jsm_emulator::faults::FaultRule = serde_json::from_value(serde_json::json!({
        "method": "POST", "path": "/rest/servicedeskapi/organization/*/user", "status": 500
    }))
    .unwrap();
    w.emu.emu.faults().set_rules(vec![broken]);
    let report = w.engine.apply(&plan, &Quiet).await.unwrap();
    let outcome = |action: &str| {
        report
            .items
            .iter()
            .find(|i| i.action == action)
            .unwrap()
            .outcome
    };
    assert_eq!(outcome("add_to_organization"), Outcome::Quarantined);
    assert_eq!(
        outcome("add_to_desk"),
        Outcome::Applied,
        "the other item went through"
    );
    assert!(in_desk(&w.site(), "HR", &email));
    let quarantined = w.engine.store.quarantined().await.unwrap();
    assert_eq!(quarantined.len(), 1);
    assert_eq!(quarantined[0].attempts, 3, "policy.apply.max_attempts");

    w.emu.emu.faults().set_rules(Vec::new());
    let report = w.engine.apply(&plan, &Quiet).await.unwrap();
    assert!(
        report.complete(),
        "a later apply retries the quarantined item: {report:?}"
    );
    assert!(w.engine.store.quarantined().await.unwrap().is_empty());
}
