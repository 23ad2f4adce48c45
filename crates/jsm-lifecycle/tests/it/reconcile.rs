//! Reconcile end to end from a file: a first run and a second that plans nothing, hidden emails on the demo
//! site (a directory agent among them), a person matching two accounts, the deletion guard on both stores,
//! incremental runs, the run lock, the trace and open desks. Real client, real emulator over loopback, real
//! store. The situations from every kind of source (file, scim2-server, slapd) are in reconcile_situations.

use std::path::{Path, PathBuf};

use jsm_emulator::limits::LimitConfig;
use jsm_emulator::site::{DeskAccess, ServiceDesk};
use jsm_emulator::{Emulator, Seed};
use jsm_lifecycle::plan::Action;
use jsm_lifecycle::reconcile::{Reconciliation, Request, Situation};
use jsm_lifecycle::{ApplyReport, Error, Policy, Quiet};
use jsm_sources::{Mapping, Source};
use jsm_testkit::{Surfaces, TestEmulator};

use crate::support::{Backend, World, accounts_with_email, backends, hidden_scim_agent, in_desk};

pub const HEADER: &str =
    "email,display_name,external_id,kind,active,service_desks,organizations,groups";

/// A policy without seat approvals (so agent tests apply at once) and with this deletion guard percentage.
pub fn policy(guard_percent: f64) -> Policy {
    let mut p = Policy::default();
    p.approval.agent_seat_grants = false;
    p.deletion_guard.max_percent = guard_percent;
    p
}

/// An empty site (the admin only) with two restricted desks, HR and ITSD, one open desk, OPEN, a group
/// `it-support`, an organization `Acme`, and no seat limits.
pub async fn empty_site(surfaces: Surfaces, policy: Policy, backend: Backend) -> World {
    let emu = TestEmulator::start_with(
        Emulator::builder()
            .seed(Seed::Empty)
            .limits(LimitConfig::off()),
    )
    .await;
    {
        let now = emu.emu.now();
        let mut site = emu.emu.site_mut();
        for p in site.products.iter_mut() {
            p.seats = None;
        }
        let desk = |id: u32, key: &str, access| ServiceDesk {
            id,
            project_id: 10_000 + id,
            project_key: key.into(),
            project_name: format!("{key} desk"),
            access,
            customers: Default::default(),
            organizations: Default::default(),
        };
        site.desks = vec![
            desk(1, "HR", DeskAccess::Closed),
            desk(2, "ITSD", DeskAccess::Closed),
            desk(3, "OPEN", DeskAccess::Open),
        ];
        site.create_group("it-support");
        let id = site.next_org_id();
        let uuid = site.ids.uuid();
        site.organizations.insert(
            id,
            jsm_emulator::site::Organization {
                id,
                uuid,
                name: "Acme".into(),
                created: now,
                members: Default::default(),
            },
        );
    }
    World::on(emu, surfaces, policy, backend).await
}

/// A desired-state file in `dir`; returns its `file:` spec.
pub fn file(dir: &Path, name: &str, rows: &[&str]) -> String {
    let path: PathBuf = dir.join(name);
    let mut text = String::from(HEADER);
    for r in rows {
        text.push('\n');
        text.push_str(r);
    }
    text.push('\n');
    std::fs::write(&path, text).unwrap();
    format!("file:{}", path.display())
}

pub fn mapping(toml: &str) -> Mapping {
    Mapping::from_toml(&format!("version = 1\n{toml}"), "mapping.toml").unwrap()
}

pub async fn plan(w: &World, spec: &str, mapping: &Mapping) -> Reconciliation {
    try_plan(w, spec, mapping, false).await.unwrap()
}

pub async fn try_plan(
    w: &World,
    spec: &str,
    mapping: &Mapping,
    incremental: bool,
) -> jsm_lifecycle::Result<Reconciliation> {
    let env = |_: &str| None;
    let source = Source::parse_with(spec, mapping, &env)?;
    let mut req = Request::new(&source, mapping, "mapping.toml");
    req.incremental = incremental;
    w.engine.plan_reconcile(&req).await
}

/// Plans, stores and applies; the apply must complete.
pub async fn run(w: &World, spec: &str, mapping: &Mapping) -> (Reconciliation, ApplyReport) {
    let r = plan(w, spec, mapping).await;
    w.engine.submit(&r.plan).await.unwrap();
    let report = w.engine.apply(&r.plan, &Quiet).await.unwrap();
    assert!(report.complete(), "{report:#?}");
    w.engine.save_watermark(&r.watermark).await.unwrap();
    (r, report)
}

pub fn actions(r: &Reconciliation) -> Vec<&'static str> {
    r.plan.items.iter().map(|i| i.action.name()).collect()
}

pub fn count(r: &Reconciliation, name: &str) -> usize {
    actions(r).iter().filter(|a| **a == name).count()
}

pub fn account_id(w: &World, email: &str) -> String {
    let site = w.site();
    site.account(site.find_by_email(email).unwrap())
        .account_id
        .clone()
}

#[tokio::test]
async fn a_file_reconcile_creates_and_links_everyone_and_a_second_run_plans_nothing() {
    for backend in backends() {
        let w = empty_site(Surfaces::ALL, policy(20.0), backend).await;
        let dir = tempfile::tempdir().unwrap();
        let spec = file(
            dir.path(),
            "people.csv",
            &[
                "ann@acme.example,Ann Archer,E1,customer,true,HR;ITSD,Acme,",
                "bob@acme.example,Bob Baker,E2,customer,true,HR,,",
                "cy@acme.example,Cy Cole,E3,agent,true,,,it-support",
                "dee@acme.example,Dee Dunn,E4,customer,false,HR,,",
            ],
        );
        let m = mapping("");
        let (r, _) = run(&w, &spec, &m).await;
        assert_eq!(count(&r, "create_customer"), 2, "{:?}", actions(&r));
        assert_eq!(count(&r, "scim_create_user"), 1);
        assert_eq!(count(&r, "link"), 3, "the disabled person gets nothing");
        assert_eq!(count(&r, "add_to_desk"), 3);
        assert_eq!(count(&r, "add_to_organization"), 1);
        assert_eq!(
            count(&r, "add_to_group"),
            2,
            "it-support and the JSM access group"
        );
        assert!(
            r.plan
                .items
                .iter()
                .all(|i| i.situation.as_deref() == Some("unmatched"))
        );
        assert!(r.plan.estimate.observe_calls > 0 && r.plan.estimate.apply_calls >= 9);
        assert_eq!(r.summary.situations.get(&Situation::Ignored), Some(&1));
        {
            let site = w.site();
            for e in ["ann@acme.example", "bob@acme.example", "cy@acme.example"] {
                assert_eq!(accounts_with_email(&site, e), 1, "{e} exactly once");
            }
            assert!(
                in_desk(&site, "HR", "ann@acme.example")
                    && in_desk(&site, "ITSD", "ann@acme.example")
            );
            let cy = site.find_by_email("cy@acme.example").unwrap();
            assert!(site.is_member_of(cy, "it-support"));
            assert!(site.is_member_of(cy, "jira-servicemanagement-users"));
            assert!(site.directory.user_of_account(cy).is_some());
            assert!(site.find_by_email("dee@acme.example").is_none());
        }
        let links = w.engine.links(Some(&r.source)).await.unwrap();
        assert_eq!(links.len(), 3);
        let cy_link = links.iter().find(|l| l.source_id == "E3").unwrap();
        assert_eq!(cy_link.account_id, account_id(&w, "cy@acme.example"));
        assert!(
            cy_link.scim_id.is_some(),
            "an agent's link keeps its SCIM id"
        );

        let again = plan(&w, &spec, &m).await;
        assert!(again.plan.is_empty(), "{:#?}", again.plan.items);
        assert_eq!(again.summary.situations.get(&Situation::Linked), Some(&3));
        w.cleanup().await;
    }
}

#[tokio::test]
async fn existing_accounts_are_linked_by_email_even_when_their_email_is_hidden() {
    for surfaces in [Surfaces::ALL, Surfaces::SITE_ONLY] {
        let w = World::new(surfaces, policy(20.0), Backend::Sqlite).await;
        let (agent_email, agent_id, _) = hidden_scim_agent(&w.site());
        let (visible, hidden) = {
            let site = w.site();
            let hr = site.desks.iter().find(|d| d.project_key == "HR").unwrap();
            let pick = |hidden: bool| {
                site.accounts
                    .iter()
                    .enumerate()
                    .find(|(k, a)| {
                        a.active
                            && a.email_hidden == hidden
                            && a.account_type == jsm_proto::jira::AccountType::Customer
                            && !hr.customers.contains(&(*k as u32))
                    })
                    .map(|(_, a)| a.email.clone())
                    .unwrap()
            };
            (pick(false), pick(true))
        };
        let dir = tempfile::tempdir().unwrap();
        let spec = file(
            dir.path(),
            "p.csv",
            &[
                &format!("{visible},Vis,,customer,true,HR,,"),
                &format!("{hidden},Hid,,customer,true,HR,,"),
                &format!("{agent_email},Agent,,agent,true,,,"),
            ],
        );
        let m = mapping("");
        let r = plan(&w, &spec, &m).await;
        assert_eq!(
            count(&r, "create_customer") + count(&r, "scim_create_user"),
            0,
            "{surfaces:?}: {:?}",
            actions(&r)
        );
        let links: Vec<_> = r
            .plan
            .items
            .iter()
            .filter(|i| i.action.name() == "link")
            .collect();
        assert_eq!(links.len(), 3, "{surfaces:?}");
        assert!(
            links.iter().all(|i| i.rule.as_deref() == Some("email")
                && i.situation.as_deref() == Some("unlinked"))
        );
        assert!(links.iter().any(|i| matches!(&i.action, Action::Link { account, .. } if account.known() == Some(agent_id.as_str()))));
        assert_eq!(count(&r, "add_to_desk"), 2);
        w.engine.submit(&r.plan).await.unwrap();
        assert!(w.engine.apply(&r.plan, &Quiet).await.unwrap().complete());
        {
            let site = w.site();
            for e in [&visible, &hidden, &agent_email] {
                assert_eq!(accounts_with_email(&site, e), 1);
            }
            assert!(in_desk(&site, "HR", &hidden));
        }
        assert!(plan(&w, &spec, &m).await.plan.is_empty(), "{surfaces:?}");
    }
}

#[tokio::test]
async fn a_person_matching_two_accounts_is_disputed_and_never_acted_on() {
    let w = World::new(Surfaces::ALL, policy(100.0), Backend::Sqlite).await;
    let (agent_ext, customer_email) = {
        let site = w.site();
        let agent = site
            .directory
            .users
            .iter()
            .find(|u| site.account(u.account).active)
            .unwrap();
        let customer = site
            .accounts
            .iter()
            .find(|a| {
                a.active
                    && !a.email_hidden
                    && a.account_type == jsm_proto::jira::AccountType::Customer
            })
            .unwrap();
        (agent.external_id.clone().unwrap(), customer.email.clone())
    };
    let dir = tempfile::tempdir().unwrap();
    let spec = file(
        dir.path(),
        "p.csv",
        &[&format!(
            "{customer_email},Someone,{agent_ext},customer,true,HR,,"
        )],
    );
    let r = plan(&w, &spec, &mapping("")).await;
    assert!(r.plan.is_empty(), "{:#?}", r.plan.items);
    assert_eq!(r.summary.situations.get(&Situation::Disputed), Some(&1));
    assert_eq!(r.summary.disputed, vec![customer_email.clone()]);
    let note = r
        .plan
        .notes
        .iter()
        .find(|n| n.contains("disputed"))
        .unwrap();
    assert!(
        note.contains("external_id") && note.contains("email"),
        "{note}"
    );
    let trace = trace(&w, &spec, &mapping(""), &customer_email).await;
    assert_eq!(trace.situation, Situation::Disputed);
    assert!(trace.actions.is_empty());
    assert_eq!(trace.site.len(), 2, "both candidates shown");
}

pub async fn trace(
    w: &World,
    spec: &str,
    m: &Mapping,
    who: &str,
) -> jsm_lifecycle::reconcile::PersonTrace {
    let env = |_: &str| None;
    let source = Source::parse_with(spec, m, &env).unwrap();
    w.engine
        .trace(&Request::new(&source, m, "mapping.toml"), who)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_deletion_guard_stops_a_reconcile_that_deactivates_30_percent_until_approved() {
    for backend in backends() {
        let mut p = Policy::default();
        p.approval.agent_seat_grants = false;
        p.approval.distinct_approver = true;
        let w = empty_site(Surfaces::ALL, p, backend).await;
        let dir = tempfile::tempdir().unwrap();
        let m = mapping("");
        let rows: Vec<String> = (0..10)
            .map(|n| format!("agent{n}@acme.example,Agent {n},E{n},agent,true,,,"))
            .collect();
        let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
        run(&w, &file(dir.path(), "p.csv", &refs), &m).await;
        // Three of the ten leave at once (an HR export that lost a department, say).
        let spec = file(dir.path(), "p.csv", &refs[3..]);
        let r = plan(&w, &spec, &m).await;
        assert_eq!(count(&r, "deactivate"), 3, "{:?}", actions(&r));
        assert!(r.plan.needs_approval(), "{backend:?}");
        let reason = &r.plan.approval_reasons[0];
        assert!(
            reason.contains("deletion guard") && reason.contains("3 of 10"),
            "{reason}"
        );
        w.engine.submit(&r.plan).await.unwrap();
        let err = w.engine.apply(&r.plan, &Quiet).await.unwrap_err();
        assert!(matches!(err, Error::AwaitingApproval { .. }), "{err}");
        let active = |w: &World| {
            let site = w.site();
            (0..10)
                .filter(|n| {
                    let k = site
                        .find_by_email(&format!("agent{n}@acme.example"))
                        .unwrap();
                    site.account(k).active
                })
                .count()
        };
        assert_eq!(active(&w), 10, "nothing deactivated before the approval");
        assert!(
            w.engine.approve(&r.plan.id, "alice").await.is_err(),
            "not by the requester"
        );
        w.engine.approve(&r.plan.id, "bob").await.unwrap();
        let report = w.engine.apply(&r.plan, &Quiet).await.unwrap();
        assert!(report.complete(), "{report:#?}");
        assert_eq!(active(&w), 7);
        assert!(plan(&w, &spec, &m).await.plan.is_empty());
        w.cleanup().await;
    }
}

#[tokio::test]
async fn incremental_runs_read_only_what_changed_and_runs_for_a_site_never_overlap() {
    let w = empty_site(Surfaces::ALL, policy(20.0), Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let m = mapping("");
    let spec = file(
        dir.path(),
        "p.csv",
        &["a@acme.example,A,E1,customer,true,HR,,"],
    );
    let first = try_plan(&w, &spec, &m, true).await.unwrap();
    assert!(
        first.complete && first.read.contains("no earlier run"),
        "{}",
        first.read
    );
    w.engine.submit(&first.plan).await.unwrap();
    w.engine.apply(&first.plan, &Quiet).await.unwrap();
    w.engine.save_watermark(&first.watermark).await.unwrap();

    let unchanged = try_plan(&w, &spec, &m, true).await.unwrap();
    assert!(!unchanged.complete && unchanged.plan.is_empty());
    assert_eq!(
        unchanged.summary.people, 0,
        "an unchanged file reads no one"
    );
    assert_eq!(
        unchanged.plan.estimate.observe_calls, 0,
        "and asks the site nothing"
    );

    let spec = file(
        dir.path(),
        "p.csv",
        &["a@acme.example,A,E1,customer,true,HR;ITSD,,"],
    );
    let changed = try_plan(&w, &spec, &m, true).await.unwrap();
    assert_eq!(actions(&changed), ["add_to_desk"]);

    let lock = w.engine.lock_site().await.unwrap();
    let second = w.engine.lock_site().await.unwrap_err().to_string();
    assert!(
        second.contains("already running") && second.contains("alice@"),
        "{second}"
    );
    w.engine.unlock_site(lock).await.unwrap();
    let again = w.engine.lock_site().await.unwrap();
    w.engine.unlock_site(again).await.unwrap();
}

#[tokio::test]
async fn trace_explains_one_person_rule_by_rule() {
    let w = empty_site(Surfaces::ALL, policy(20.0), Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let m = mapping(
        "[[scope]]\nname = \"staff\"\nclauses = [{ attribute = \"email\", op = \"contains\", value = \"@acme.example\" }]\n",
    );
    let spec = file(
        dir.path(),
        "p.csv",
        &[
            "a@acme.example,A,E1,customer,true,HR,,",
            "b@acme.example,B,E2,customer,true,HR,,",
            "z@other.example,Z,E9,customer,true,HR,,",
        ],
    );
    run(&w, &spec, &m).await;
    let spec = file(
        dir.path(),
        "p.csv",
        &[
            "a@acme.example,A,E1,customer,true,HR;ITSD,,",
            "n@acme.example,N,E5,customer,true,HR,,",
            "z@other.example,Z,E9,customer,true,HR,,",
        ],
    );
    let t = trace(&w, &spec, &m, "a@acme.example").await;
    assert_eq!(t.situation, Situation::Linked);
    assert_eq!(t.matching[0].rule, "link");
    assert_eq!(t.matching[0].candidates.len(), 1);
    assert_eq!(
        t.matching.iter().map(|r| r.rule).collect::<Vec<_>>(),
        ["link", "external_id", "email", "account_id"]
    );
    assert!(t.scope.as_ref().unwrap().in_scope);
    assert_eq!(t.actions.len(), 1);
    assert!(t.actions[0].target.contains("desk ITSD"));
    assert_eq!(t.site[0].memberships, ["desk HR"]);
    assert!(t.calls > 0);

    let t = trace(&w, &spec, &m, "E5").await;
    assert_eq!(t.situation, Situation::Unmatched);
    assert_eq!(
        t.actions
            .iter()
            .map(|a| a.action.as_str())
            .collect::<Vec<_>>(),
        ["create_customer", "link", "add_to_desk"]
    );

    let t = trace(&w, &spec, &m, "z@other.example").await;
    assert_eq!(t.situation, Situation::Ignored);
    assert!(!t.scope.unwrap().in_scope);

    let t = trace(&w, &spec, &m, "E2").await;
    assert_eq!(
        t.situation,
        Situation::Deleted,
        "b left the source; its link remembers it"
    );
    assert_eq!(t.actions[0].action, "remove_from_desk");
    let json = serde_json::to_value(&t).unwrap();
    assert_eq!(json["situation"], "deleted");
}

#[tokio::test]
async fn a_desk_open_to_every_customer_is_remembered_and_no_longer_planned() {
    let w = World::new(Surfaces::ALL, policy(100.0), Backend::Sqlite).await;
    let email = {
        let site = w.site();
        let itsd = site.desks.iter().find(|d| d.project_key == "ITSD").unwrap();
        let hr = site.desks.iter().find(|d| d.project_key == "HR").unwrap();
        let key = itsd
            .customers
            .iter()
            .find(|k| !hr.customers.contains(k) && !site.account(**k).email_hidden)
            .unwrap();
        site.account(*key).email.clone()
    };
    let dir = tempfile::tempdir().unwrap();
    let m = mapping("");
    run(
        &w,
        &file(
            dir.path(),
            "p.csv",
            &[&format!("{email},C,E1,customer,true,ITSD,,")],
        ),
        &m,
    )
    .await;
    // The customer leaves the source: JSM refuses to remove customers from an open desk.
    let spec = file(
        dir.path(),
        "p.csv",
        &["someone.else@acme.example,S,E2,customer,true,ITSD,,"],
    );
    let r = plan(&w, &spec, &m).await;
    assert!(
        actions(&r).contains(&"remove_from_desk"),
        "{:?}",
        actions(&r)
    );
    w.engine.submit(&r.plan).await.unwrap();
    let report = w.engine.apply(&r.plan, &Quiet).await.unwrap();
    assert_eq!(
        report.count(jsm_lifecycle::Outcome::NotApplicable),
        1,
        "{report:#?}"
    );
    let again = plan(&w, &spec, &m).await;
    assert!(
        !actions(&again).contains(&"remove_from_desk"),
        "{:?}",
        actions(&again)
    );
    assert!(
        again
            .plan
            .notes
            .iter()
            .any(|n| n.contains("stays on desk ITSD")),
        "{:?}",
        again.plan.notes
    );
}
