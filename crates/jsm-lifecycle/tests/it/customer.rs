use jsm_lifecycle::plan::Action;
use jsm_lifecycle::{CustomerRequest, Outcome, Quiet};

use crate::support::{Backend, World, accounts_with_email, backends, in_desk};

fn request(email: &str, org: &str) -> CustomerRequest {
    CustomerRequest {
        email: email.into(),
        name: "Pat Newcomer".into(),
        desks: vec!["HR".into(), "ITSD".into()],
        organizations: vec![org.into()],
    }
}

fn first_org(w: &World) -> String {
    w.site().organizations.values().next().unwrap().name.clone()
}

#[tokio::test]
async fn a_new_customer_is_created_once_and_planning_again_changes_nothing() {
    for backend in backends() {
        let w = World::new(jsm_testkit::Surfaces::ALL, Default::default(), backend).await;
        let email = "pat.newcomer@acme.example";
        let req = request(email, &first_org(&w));
        let plan = w.engine.plan_provision_customer(&req).await.unwrap();
        let actions: Vec<&str> = plan.items.iter().map(|i| i.action.name()).collect();
        assert_eq!(
            actions,
            [
                "create_customer",
                "add_to_desk",
                "add_to_desk",
                "add_to_organization"
            ],
            "{backend:?}"
        );
        assert!(!plan.needs_approval());
        w.engine.submit(&plan).await.unwrap();
        let report = w.engine.apply(&plan, &Quiet).await.unwrap();
        assert!(report.complete(), "{report:?}");
        {
            let site = w.site();
            assert_eq!(accounts_with_email(&site, email), 1);
            assert!(in_desk(&site, "HR", email) && in_desk(&site, "ITSD", email));
            let key = site.find_by_email(email).unwrap();
            assert!(
                site.organizations
                    .values()
                    .next()
                    .unwrap()
                    .members
                    .contains(&key)
            );
        }
        let records = w.engine.store.audit_list(0, 1000).await.unwrap();
        let writes: Vec<_> = records.iter().filter(|r| r.draft.kind == "write").collect();
        assert_eq!(writes.len(), 4);
        for w in &writes {
            let id = w
                .draft
                .request_id
                .as_deref()
                .expect("each write names Atlassian's request id");
            let calls = w.draft.detail["extra"]["calls"].as_array().unwrap();
            assert!(
                calls.iter().any(|c| c.as_str().unwrap().ends_with(id)),
                "{calls:?}"
            );
        }
        let again = w.engine.plan_provision_customer(&req).await.unwrap();
        assert!(again.is_empty(), "second plan: {:?}", again.items);
        assert!(again.notes.iter().any(|n| n.contains("nothing to do")));
        w.cleanup().await;
    }
}

#[tokio::test]
async fn an_email_that_already_has_an_account_is_linked_not_duplicated() {
    let w = World::demo().await;
    let email = {
        let site = w.site();
        let hr = site.desks.iter().find(|d| d.project_key == "HR").unwrap();
        site.accounts
            .iter()
            .enumerate()
            .find(|(k, a)| {
                a.active
                    && !a.email_hidden
                    && !hr.customers.contains(&(*k as u32))
                    && a.email.contains('@')
                    && a.account_type == jsm_proto::jira::AccountType::Customer
            })
            .map(|(_, a)| a.email.clone())
            .unwrap()
    };
    let req = CustomerRequest {
        email: email.clone(),
        name: "Someone".into(),
        desks: vec!["HR".into()],
        organizations: vec![],
    };
    let plan = w.engine.plan_provision_customer(&req).await.unwrap();
    assert_eq!(plan.items.len(), 1);
    assert!(matches!(plan.items[0].action, Action::AddToDesk { .. }));
    w.engine.submit(&plan).await.unwrap();
    let report = w.engine.apply(&plan, &Quiet).await.unwrap();
    assert_eq!(report.items[0].outcome, Outcome::Applied);
    let site = w.site();
    assert_eq!(accounts_with_email(&site, &email), 1);
    assert!(in_desk(&site, "HR", &email));
    let _ = Backend::Sqlite;
}
