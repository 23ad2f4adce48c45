//! The one-person reconcile a webhook runs (`Engine::plan_reconcile_person`): the site is read only about that
//! account and its source person (every request in the emulator's log either returns no one's record or names
//! that person), the person's change is applied, and nobody else is changed, deactivated or created.

use jsm_lifecycle::Quiet;
use jsm_lifecycle::policy::DeactivationRule;
use jsm_lifecycle::reconcile::{Reconciliation, Request};
use jsm_sources::Source;
use jsm_testkit::Surfaces;

use crate::reconcile::{account_id, actions, empty_site, file, mapping, policy, run};
use crate::support::{Backend, World, accounts_with_email, backends, in_desk};

async fn plan_person(w: &World, spec: &str, account_id: &str) -> Reconciliation {
    let m = mapping("");
    let env = |_: &str| None;
    let source = Source::parse_with(spec, &m, &env).unwrap();
    let req = Request::new(&source, &m, "mapping.toml");
    w.engine
        .plan_reconcile_person(&req, account_id)
        .await
        .unwrap()
}

/// Submits and applies; the apply must complete.
async fn apply(w: &World, r: &Reconciliation) {
    w.engine.submit(&r.plan).await.unwrap();
    let report = w.engine.apply(&r.plan, &Quiet).await.unwrap();
    assert!(report.complete(), "{report:#?}");
}

/// The number of the emulator's last logged request.
fn mark(w: &World) -> u64 {
    w.emu
        .emu
        .log()
        .since(0, usize::MAX)
        .last()
        .map_or(0, |e| e.seq)
}

/// Every request since `from` returns no one's record (the caller, desk and group details) or names the one
/// person by one of `names`; there was at least one.
fn assert_reads_only(w: &World, from: u64, names: &[&str]) {
    let log = w.emu.emu.log().since(from, usize::MAX);
    assert!(!log.is_empty(), "the site was read");
    for e in &log {
        assert!(
            e.reads_no_person() || names.iter().any(|n| e.names(n)),
            "a read about someone else: {} {}?{}",
            e.method,
            e.path,
            e.query
        );
    }
}

const ANN: &str = "ann@acme.example";
const BOB: &str = "bob@acme.example";

#[tokio::test]
async fn a_changed_person_gets_the_change_and_no_one_else_is_read_or_changed() {
    for backend in backends() {
        let w = empty_site(Surfaces::ALL, policy(100.0), backend).await;
        let dir = tempfile::tempdir().unwrap();
        let rows = |desks: &str| {
            [
                format!("{ANN},Ann Archer,E1,customer,true,{desks},Acme,"),
                format!("{BOB},Bob Baker,E2,customer,true,{desks},,"),
            ]
        };
        let first = rows("HR");
        let spec = file(dir.path(), "p.csv", &[&first[0], &first[1]]);
        run(&w, &spec, &mapping("")).await;
        let changed = rows("HR;ITSD");
        let spec = file(dir.path(), "p.csv", &[&changed[0], &changed[1]]);
        let ann = account_id(&w, ANN);
        // Ann hides her email: the desks are still searched for her by it, not listed.
        {
            let mut site = w.emu.emu.site_mut();
            let key = site.find_by_email(ANN).unwrap();
            site.account_mut(key).email_hidden = true;
        }

        let from = mark(&w);
        let r = plan_person(&w, &spec, &ann).await;
        assert_reads_only(&w, from, &[&ann, ANN]);
        assert_eq!(actions(&r), ["add_to_desk"], "{:#?}", r.plan.items);
        assert!(r.plan.items[0].target.contains("ITSD"));
        assert!(!r.complete && r.read.contains(&ann), "{}", r.read);
        assert_eq!(r.summary.people, 1);
        apply(&w, &r).await;
        {
            let site = w.site();
            assert!(in_desk(&site, "ITSD", ANN) && in_desk(&site, "HR", ANN));
            assert!(
                !in_desk(&site, "ITSD", BOB),
                "Bob's change waits for his own event or a full run"
            );
        }
        let again = plan_person(&w, &spec, &ann).await;
        assert!(again.plan.is_empty(), "{:#?}", again.plan.items);
        w.cleanup().await;
    }
}

#[tokio::test]
async fn a_person_gone_from_the_source_loses_the_account_and_no_one_else_does() {
    let mut w = empty_site(Surfaces::ALL, policy(100.0), Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let spec = file(
        dir.path(),
        "p.csv",
        &[
            &format!("{ANN},Ann Archer,E1,customer,true,HR,,"),
            &format!("{BOB},Bob Baker,E2,customer,true,HR,,"),
            "cy@acme.example,Cy Cole,E3,agent,true,,,it-support",
            "dee@acme.example,Dee Dunn,E4,customer,true,HR,,",
        ],
    );
    run(&w, &spec, &mapping("")).await;
    let spec = file(
        dir.path(),
        "p.csv",
        &[&format!("{BOB},Bob Baker,E2,customer,true,HR,,")],
    );
    let (ann, cy) = (account_id(&w, ANN), account_id(&w, "cy@acme.example"));

    let from = mark(&w);
    let r = plan_person(&w, &spec, &ann).await;
    assert_reads_only(&w, from, &[&ann, ANN, "Ann Archer"]);
    assert_eq!(actions(&r), ["remove_from_desk"], "{:#?}", r.plan.items);
    assert_eq!(r.plan.items[0].situation.as_deref(), Some("deleted"));
    apply(&w, &r).await;

    // An agent's deactivation goes through SCIM, and waits for a human when the policy says so.
    w.engine.policy.approval.deactivations = DeactivationRule::Always;
    let from = mark(&w);
    let r = plan_person(&w, &spec, &cy).await;
    let scim_id = {
        let site = w.site();
        let key = site.find_by_email("cy@acme.example").unwrap();
        let user = site.directory.user_of_account(key).unwrap();
        site.directory.users[user].id.clone()
    };
    assert_reads_only(&w, from, &[&cy, "cy@acme.example", "Cy Cole", &scim_id]);
    assert_eq!(actions(&r), ["deactivate"], "{:#?}", r.plan.items);
    assert!(r.plan.needs_approval(), "{:?}", r.plan.approval_reasons);
    w.engine.policy.approval.deactivations = DeactivationRule::Guard;
    let r = plan_person(&w, &spec, &cy).await;
    assert!(!r.plan.needs_approval());
    apply(&w, &r).await;

    let site = w.site();
    assert!(!in_desk(&site, "HR", ANN), "Ann lost the desk");
    assert!(
        !site
            .account(site.find_by_email("cy@acme.example").unwrap())
            .active
    );
    assert!(
        in_desk(&site, "HR", "dee@acme.example"),
        "Dee also left, but no event named her: the next full run handles her"
    );
    assert!(in_desk(&site, "HR", BOB));
}

#[tokio::test]
async fn an_unlinked_account_is_matched_and_linked_and_an_unknown_one_gets_an_empty_plan() {
    let w = empty_site(Surfaces::ALL, policy(100.0), Backend::Sqlite).await;
    let customers = w.engine.client.customers();
    for (email, name) in [
        ("xena@acme.example", "Xena Xu"),
        ("stranger@else.example", "Stranger"),
        ("quiet@acme.example", "Quinn Quiet"),
    ] {
        customers.create(email, name).await.unwrap();
    }
    {
        let mut site = w.emu.emu.site_mut();
        let key = site.find_by_email("quiet@acme.example").unwrap();
        site.account_mut(key).email_hidden = true;
    }
    let dir = tempfile::tempdir().unwrap();
    let spec = file(
        dir.path(),
        "p.csv",
        &[
            "xena@acme.example,Xena Xu,E7,customer,true,HR,,",
            "yuri@acme.example,Yuri Young,E8,customer,true,HR,,",
            "quiet@acme.example,Quinn Quiet,E9,customer,true,HR,,",
        ],
    );
    let xena = account_id(&w, "xena@acme.example");
    let from = mark(&w);
    let r = plan_person(&w, &spec, &xena).await;
    assert_reads_only(&w, from, &[&xena, "xena@acme.example", "Xena Xu", "E7"]);
    assert_eq!(actions(&r), ["link", "add_to_desk"], "{:#?}", r.plan.items);
    apply(&w, &r).await;
    assert!(in_desk(&w.site(), "HR", "xena@acme.example"));
    let links = w.engine.links(Some(&r.source)).await.unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!(
        (links[0].source_id.as_str(), links[0].account_id.as_str()),
        ("E7", xena.as_str())
    );
    assert_eq!(
        accounts_with_email(&w.site(), "yuri@acme.example"),
        0,
        "Yuri is new in the source, but no event was about him"
    );

    // An account the source does not know, one that does not exist, and one that hides its email and is not
    // linked yet (whose email it is, only a full run's search of every desired email finds).
    let quiet = account_id(&w, "quiet@acme.example");
    let cases = [
        (
            account_id(&w, "stranger@else.example"),
            "stranger@else.example",
        ),
        ("557058:no-such-account".to_string(), "no-such-account"),
        (quiet.clone(), "quiet@acme.example"),
    ];
    for (who, email) in &cases {
        let from = mark(&w);
        let r = plan_person(&w, &spec, who).await;
        assert_reads_only(&w, from, &[who, email]);
        assert!(r.plan.is_empty(), "{:#?}", r.plan.items);
        assert!(
            r.plan
                .notes
                .iter()
                .any(|n| n.contains(who.as_str()) && n.contains("nothing to do")),
            "{:?}",
            r.plan.notes
        );
    }
    let r = plan_person(&w, &spec, &quiet).await;
    assert!(
        r.plan.notes.iter().any(|n| n.contains("hides its email")),
        "{:?}",
        r.plan.notes
    );
}
