//! Every reconcile situation end to end from each kind of source: a CSV file, a real scim2-server and a real
//! slapd. A scenario is written once: the people the source lists step by step (see [`Desired`]), the engine
//! planning, approving and applying over real HTTP against the emulator, and the emulator's own state after.
//! [`from_every_source!`] runs each scenario three times, as `SCENARIO::file`, `SCENARIO::scim2_server` and
//! `SCENARIO::slapd`; each test starts its server once. The server runs are skipped with a notice where
//! `JSMCTL_SCIM2_SERVER`, `JSMCTL_SLAPD` or `JSMCTL_LDAPADD` is unset.

use jsm_client::GroupRef;
use jsm_lifecycle::plan::{Action, Deactivation, Item};
use jsm_lifecycle::reconcile::{Reconciliation, Situation};
use jsm_lifecycle::{Error, Outcome, Policy, Quiet};
use jsm_testkit::Surfaces;
use reqwest::Method;
use serde_json::json;

use crate::reconcile::{account_id, actions, count, empty_site, policy};
use crate::reconcile_sources::{Desired, SourceKind, apply, person};
use crate::support::{Backend, World, accounts_with_email, active, in_desk, in_org};

/// One test per source kind for each scenario, in a module named after the scenario.
macro_rules! from_every_source {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            use crate::reconcile_sources::SourceKind;

            #[tokio::test]
            async fn file() {
                super::$scenario(SourceKind::File, stringify!($scenario)).await;
            }

            #[tokio::test]
            async fn scim2_server() {
                super::$scenario(SourceKind::Scim, stringify!($scenario)).await;
            }

            #[tokio::test]
            async fn slapd() {
                super::$scenario(SourceKind::Ldap, stringify!($scenario)).await;
            }
        }
    )*};
}

from_every_source!(
    an_email_changed_after_linking_keeps_the_account,
    two_people_claiming_one_account_are_disputed_and_left_alone,
    hidden_emails_are_matched_not_duplicated,
    without_scim_agents_are_invited_and_leavers_suspended,
    orphans_are_reported_then_removed_when_the_policy_says,
    people_deleted_disabled_or_out_of_scope_lose_their_access,
    additive_targets_keep_extras_and_authoritative_ones_remove_them,
    the_deletion_guard_holds_a_30_percent_deactivation_until_approved,
);

/// Customers of HR and of ITSD, and agents in it-support.
const DESKS: &str = r#"
[[groups]]
source = "Customers"
service_desks = ["HR"]

[[groups]]
source = "IT-Customers"
service_desks = ["ITSD"]

[[groups]]
source = "Agents"
kind = "agent"
jira_groups = ["it-support"]
"#;

/// An empty site (desks HR, ITSD, OPEN, group it-support, organization Acme) with every identity surface.
async fn site() -> World {
    empty_site(Surfaces::ALL, policy(100.0), Backend::Sqlite).await
}

/// A portal customer made by hand, outside any source; its account id.
async fn customer(w: &World, email: &str) -> String {
    w.engine
        .client
        .customers()
        .create(email, email)
        .await
        .unwrap()
        .into_inner()
        .account_id
}

/// A licensed Atlassian account made by hand (a Jira user in the JSM access group); its account id.
async fn agent(w: &World, email: &str) -> String {
    let id = w
        .engine
        .client
        .users()
        .create(email)
        .send()
        .await
        .unwrap()
        .account_id;
    let jsm = GroupRef::name("jira-servicemanagement-users");
    w.engine
        .client
        .groups()
        .add_member(&jsm, &id)
        .await
        .unwrap();
    id
}

/// The plan's items with this action.
fn items<'a>(r: &'a Reconciliation, action: &str) -> Vec<&'a Item> {
    r.plan
        .items
        .iter()
        .filter(|i| i.action.name() == action)
        .collect()
}

/// The plan's removals from desks, organizations and groups, as (target, situation).
fn removals(r: &Reconciliation) -> Vec<(&str, Option<&str>)> {
    r.plan
        .items
        .iter()
        .filter(|i| i.action.name().starts_with("remove_from"))
        .map(|i| (i.target.as_str(), i.situation.as_deref()))
        .collect()
}

/// Whether an item of the plan changes `who` for a reason that says `why`.
fn explained(r: &Reconciliation, who: &str, why: &str) -> bool {
    r.plan
        .items
        .iter()
        .any(|i| i.target.contains(who) && i.reason.contains(why))
}

/// Whether a note of the plan says all of `parts`.
fn noted(r: &Reconciliation, parts: &[&str]) -> bool {
    r.plan
        .notes
        .iter()
        .any(|n| parts.iter().all(|p| n.contains(p)))
}

/// What someone does by hand, outside any source: X on both desks, an outsider in it-support.
async fn extras_by_hand(w: &World) {
    let x = customer(w, "x@acme.example").await;
    for desk in ["1", "2"] {
        let added = w.engine.client.customers().add_to_desk(desk, &[&x]).await;
        added.unwrap();
    }
    let outsider = agent(w, "outsider@acme.example").await;
    let support = GroupRef::name("it-support");
    let added = w
        .engine
        .client
        .groups()
        .add_member(&support, &outsider)
        .await;
    added.unwrap();
}

/// Hides the account's email from the REST API, as its owner may in their profile.
async fn hide_email(w: &World, account_id: &str) {
    let body = json!({ "accountId": account_id, "emailHidden": true });
    w.emu.control(Method::PUT, "/privacy", Some(body)).await;
}

async fn an_email_changed_after_linking_keeps_the_account(kind: SourceKind, scenario: &str) {
    let Some(mut src) = Desired::start(kind, scenario, DESKS).await else {
        return;
    };
    let w = site().await;
    let ann = person("ann", "ann@acme.example", &["Customers"]);
    let cy = person("cy", "cy@acme.example", &["Agents"]);
    src.set(&[ann.clone(), cy.clone()]).await;
    src.run(&w).await;
    let accounts = w.site().accounts.len();
    let ann_id = account_id(&w, "ann@acme.example");

    // Ann marries and becomes a customer of IT too; Cy's mailbox is renamed. Only the links still know them.
    src.set(&[
        ann.with_email("ann.lee@acme.example")
            .in_groups(&["Customers", "IT-Customers"]),
        cy.with_email("cy.cole@acme.example"),
    ])
    .await;
    let r = src.plan(&w).await;
    assert_eq!(
        actions(&r),
        ["add_to_desk"],
        "{kind:?}: {:#?}",
        r.plan.items
    );
    assert!(
        matches!(&r.plan.items[0].action, Action::AddToDesk { account, desk_key, .. }
            if account.known() == Some(ann_id.as_str()) && desk_key == "ITSD"),
        "{kind:?}: {:#?}",
        r.plan.items
    );
    let item = &r.plan.items[0];
    assert_eq!(
        (item.situation.as_deref(), item.rule.as_deref()),
        (Some("linked"), Some("link"))
    );
    assert_eq!(r.summary.situations.get(&Situation::Linked), Some(&2));
    for new in ["ann.lee@acme.example", "cy.cole@acme.example"] {
        assert!(
            noted(&r, &[new, "link keeps"]),
            "{kind:?}: {:?}",
            r.plan.notes
        );
    }
    apply(&w, &r).await;
    {
        let site = w.site();
        assert_eq!(site.accounts.len(), accounts, "{kind:?}: no new account");
        assert!(site.find_by_email("ann.lee@acme.example").is_none());
        assert!(site.find_by_email("cy.cole@acme.example").is_none());
        assert!(
            in_desk(&site, "HR", "ann@acme.example") && in_desk(&site, "ITSD", "ann@acme.example")
        );
        let cy = site.find_by_email("cy@acme.example").unwrap();
        assert!(site.account(cy).active && site.is_member_of(cy, "it-support"));
    }
    assert!(src.plan(&w).await.plan.is_empty(), "{kind:?}");
}

async fn two_people_claiming_one_account_are_disputed_and_left_alone(
    kind: SourceKind,
    scenario: &str,
) {
    let Some(mut src) = Desired::start(kind, scenario, DESKS).await else {
        return;
    };
    let w = site().await;
    let ann = person("ann", "ann@acme.example", &["Customers"]);
    src.set(std::slice::from_ref(&ann)).await;
    src.run(&w).await;
    let accounts = w.site().accounts.len();

    // Ann's address changes and a newcomer is given her old one: the email rule finds Ann's account for Bea,
    // whose link says it is Ann's. Cal is new, so the plan still does something.
    src.set(&[
        ann.with_email("ann.lee@acme.example"),
        person("bea", "ann@acme.example", &["Customers", "IT-Customers"]),
        person("cal", "cal@acme.example", &["Customers"]),
    ])
    .await;
    let r = src.plan(&w).await;
    assert_eq!(r.summary.situations.get(&Situation::Disputed), Some(&1));
    assert_eq!(r.summary.disputed, ["ann@acme.example"], "{kind:?}");
    assert!(
        noted(&r, &["disputed", "already linked"]),
        "{kind:?}: {:?}",
        r.plan.notes
    );
    assert!(
        r.plan.items.iter().all(|i| i.target.contains("cal@")),
        "only Cal is acted on: {kind:?}: {:#?}",
        r.plan.items
    );
    apply(&w, &r).await;
    let site = w.site();
    assert_eq!(
        site.accounts.len(),
        accounts + 1,
        "{kind:?}: Cal's account only"
    );
    assert_eq!(accounts_with_email(&site, "ann@acme.example"), 1);
    assert!(in_desk(&site, "HR", "cal@acme.example"));
    assert!(
        !in_desk(&site, "ITSD", "ann@acme.example"),
        "{kind:?}: nothing Bea wants was done to the account"
    );
}

async fn hidden_emails_are_matched_not_duplicated(kind: SourceKind, scenario: &str) {
    let Some(mut src) = Desired::start(kind, scenario, DESKS).await else {
        return;
    };
    src.set(&[
        person("vis", "vis@acme.example", &["Customers"]),
        person("hid", "hid@acme.example", &["Customers"]),
        person("agent", "hidden.agent@acme.example", &["Agents"]),
    ])
    .await;
    // With SCIM and the admin API the engine resolves hidden emails there; with neither, through user search.
    for surfaces in [Surfaces::ALL, Surfaces::SITE_ONLY] {
        let w = empty_site(surfaces, policy(100.0), Backend::Sqlite).await;
        customer(&w, "vis@acme.example").await;
        let hid = customer(&w, "hid@acme.example").await;
        hide_email(&w, &hid).await;
        let agent_id = agent(&w, "hidden.agent@acme.example").await;
        hide_email(&w, &agent_id).await;
        let accounts = {
            let site = w.site();
            for email in ["hid@acme.example", "hidden.agent@acme.example"] {
                let k = site.find_by_email(email).unwrap();
                assert!(site.account(k).email_hidden, "{email} is hidden");
            }
            site.accounts.len()
        };

        let r = src.plan(&w).await;
        let links = items(&r, "link");
        assert_eq!(links.len(), 3, "{kind:?} {surfaces:?}: {:#?}", r.plan.items);
        assert!(
            links.iter().all(|i| i.rule.as_deref() == Some("email")
                && i.situation.as_deref() == Some("unlinked")),
            "{kind:?} {surfaces:?}: {links:#?}"
        );
        assert_eq!(count(&r, "add_to_desk"), 2, "{kind:?} {surfaces:?}");
        apply(&w, &r).await;
        {
            let site = w.site();
            assert_eq!(
                site.accounts.len(),
                accounts,
                "{kind:?} {surfaces:?}: none created"
            );
            assert!(
                in_desk(&site, "HR", "hid@acme.example")
                    && in_desk(&site, "HR", "vis@acme.example")
            );
            let agent = site.find_by_email("hidden.agent@acme.example").unwrap();
            assert!(
                site.is_member_of(agent, "it-support"),
                "{kind:?} {surfaces:?}"
            );
        }
        assert!(src.plan(&w).await.plan.is_empty(), "{kind:?} {surfaces:?}");
    }
}

async fn without_scim_agents_are_invited_and_leavers_suspended(kind: SourceKind, scenario: &str) {
    let Some(mut src) = Desired::start(kind, scenario, DESKS).await else {
        return;
    };
    let no_scim = Surfaces {
        scim: false,
        admin: true,
    };
    let w = empty_site(no_scim, policy(100.0), Backend::Sqlite).await;
    agent(&w, "old.agent@acme.example").await;
    let newbie = person("newbie", "newbie@acme.example", &["Agents"]);
    src.set(&[
        person("old", "old.agent@acme.example", &["Agents"]),
        newbie.clone(),
    ])
    .await;
    let r = src.plan(&w).await;
    assert_eq!(count(&r, "scim_create_user"), 0, "{kind:?}");
    assert_eq!(count(&r, "link"), 1, "{kind:?}: {:?}", actions(&r));
    let invites: Vec<&str> = items(&r, "manual")
        .iter()
        .filter_map(|i| match &i.action {
            Action::Manual { instruction, .. } => Some(instruction.as_str()),
            _ => None,
        })
        .collect();
    assert!(
        matches!(invites.as_slice(), [one] if one.contains("invite newbie@acme.example")),
        "{kind:?}: {invites:?}"
    );
    w.engine.submit(&r.plan).await.unwrap();
    let report = w.engine.apply(&r.plan, &Quiet).await.unwrap();
    assert_eq!(report.count(Outcome::PendingManual), 1, "{kind:?}");
    {
        let site = w.site();
        assert!(site.find_by_email("newbie@acme.example").is_none());
        let old = site.find_by_email("old.agent@acme.example").unwrap();
        assert!(site.is_member_of(old, "it-support"), "{kind:?}");
    }

    // The old agent leaves: no SCIM record to deactivate, so the admin API suspends the account.
    src.set(&[newbie]).await;
    let r = src.plan(&w).await;
    let deactivations = items(&r, "deactivate");
    assert!(
        matches!(deactivations.as_slice(), [d] if matches!(d.action,
            Action::Deactivate { via: Deactivation::AdminSuspend, .. })
            && d.situation.as_deref() == Some("deleted")),
        "{kind:?}: {:#?}",
        r.plan.items
    );
    w.engine.submit(&r.plan).await.unwrap();
    w.engine.apply(&r.plan, &Quiet).await.unwrap();
    assert!(!active(&w.site(), "old.agent@acme.example"), "{kind:?}");
}

async fn orphans_are_reported_then_removed_when_the_policy_says(kind: SourceKind, scenario: &str) {
    let Some(mut src) = Desired::start(kind, scenario, DESKS).await else {
        return;
    };
    let w = site().await;
    extras_by_hand(&w).await;
    src.set(&[person("a", "a@acme.example", &["Customers"])])
        .await;
    let r = src.run(&w).await;
    assert_eq!(r.summary.orphans, 2, "{kind:?}");
    for who in ["x@acme.example", "outsider@acme.example"] {
        let note = format!("orphan: {who}");
        assert!(noted(&r, &[&note]), "{kind:?}: {:?}", r.plan.notes);
    }
    {
        let site = w.site();
        assert!(in_desk(&site, "HR", "x@acme.example") && in_desk(&site, "ITSD", "x@acme.example"));
        assert!(
            active(&site, "outsider@acme.example"),
            "{kind:?}: only reported"
        );
    }

    let mut strict = w.engine.clone();
    strict.policy.reconcile.orphan = jsm_lifecycle::reconcile::policy::OrphanReaction::Deactivate;
    let r = src.plan_on(&strict).await;
    let mut removed = removals(&r);
    removed.sort();
    assert_eq!(
        removed,
        [
            ("x@acme.example on desk HR", Some("orphan")),
            ("x@acme.example on desk ITSD", Some("orphan")),
        ],
        "{kind:?}: a customer loses the managed desks"
    );
    let deactivated = items(&r, "deactivate");
    assert!(
        matches!(deactivated.as_slice(), [d] if d.target.contains("outsider@acme.example")
            && d.situation.as_deref() == Some("orphan")),
        "{kind:?}: {:#?}",
        r.plan.items
    );
    strict.submit(&r.plan).await.unwrap();
    assert!(strict.apply(&r.plan, &Quiet).await.unwrap().complete());
    let site = w.site();
    assert!(!in_desk(&site, "HR", "x@acme.example") && !in_desk(&site, "ITSD", "x@acme.example"));
    assert!(!active(&site, "outsider@acme.example"), "{kind:?}");
    assert!(in_desk(&site, "HR", "a@acme.example"), "{kind:?}");
}

/// Added to [`DESKS`]: staff are in Acme, and only Acme's staff and the agents are in scope.
const STAFF_IN_SCOPE: &str = r#"
[[groups]]
source = "Staff"
organizations = ["Acme"]

[[scope]]
name = "staff"
clauses = [{ attribute = "organizations", op = "eq", value = "Acme" }]

[[scope]]
name = "agents"
clauses = [{ attribute = "kind", op = "eq", value = "agent" }]
"#;

async fn people_deleted_disabled_or_out_of_scope_lose_their_access(
    kind: SourceKind,
    scenario: &str,
) {
    let mapping = format!("{DESKS}{STAFF_IN_SCOPE}");
    let Some(mut src) = Desired::start(kind, scenario, &mapping).await else {
        return;
    };
    let w = site().await;
    let staff = |key: &str| person(key, &format!("{key}@acme.example"), &["Customers", "Staff"]);
    let agent = |key: &str| person(key, &format!("{key}@acme.example"), &["Agents"]);
    let (ann, erin, cy, fay) = (
        staff("ann"),
        staff("erin"),
        agent("cy"),
        staff("fay").disabled(),
    );
    src.set(&[
        ann.clone(),
        staff("bob"),
        erin.clone(),
        cy.clone(),
        agent("dan"),
        fay.clone(),
    ])
    .await;
    src.run(&w).await;
    {
        let site = w.site();
        assert!(
            site.find_by_email("fay@acme.example").is_none(),
            "{kind:?}: disabled from the start"
        );
        for who in ["ann", "bob", "erin"] {
            let email = format!("{who}@acme.example");
            assert!(
                in_desk(&site, "HR", &email) && in_org(&site, "Acme", &email),
                "{kind:?} {who}"
            );
        }
    }

    // Bob and Dan are deleted at the source, Erin is disabled there, and Cy leaves every group in scope.
    src.set(&[ann, erin.disabled(), cy.in_groups(&[]), fay])
        .await;
    let r = src.plan(&w).await;
    assert_eq!(
        r.summary.situations.get(&Situation::Deleted),
        Some(&4),
        "{kind:?}"
    );
    assert!(
        r.plan
            .items
            .iter()
            .all(|i| i.situation.as_deref() == Some("deleted")),
        "{kind:?}: {:#?}",
        r.plan.items
    );
    for (who, why) in [
        ("bob@", "no longer in the source"),
        ("dan@", "no longer in the source"),
        ("erin@", "disabled at the source"),
        ("cy@", "out of scope"),
    ] {
        assert!(
            explained(&r, who, why),
            "{kind:?}: {who} {why}: {:#?}",
            r.plan.items
        );
    }
    assert_eq!(
        count(&r, "remove_from_desk"),
        2,
        "{kind:?}: {:?}",
        actions(&r)
    );
    assert_eq!(count(&r, "remove_from_organization"), 2, "{kind:?}");
    assert_eq!(count(&r, "deactivate"), 2, "{kind:?}");
    apply(&w, &r).await;
    let site = w.site();
    for gone in ["bob@acme.example", "erin@acme.example"] {
        assert!(
            !in_desk(&site, "HR", gone) && !in_org(&site, "Acme", gone),
            "{kind:?} {gone}"
        );
    }
    for gone in ["cy@acme.example", "dan@acme.example"] {
        assert!(!active(&site, gone), "{kind:?} {gone}");
    }
    assert!(active(&site, "ann@acme.example") && in_desk(&site, "HR", "ann@acme.example"));
    assert!(in_org(&site, "Acme", "ann@acme.example"), "{kind:?}");
}

/// Added to [`DESKS`]: licensed agents outside it-support; HR and it-support authoritative, ITSD additive.
const AUTHORITATIVE: &str = r#"
[[groups]]
source = "Licensed"
kind = "agent"

[targets."service_desk:HR"]
mode = "authoritative"

[targets."group:it-support"]
mode = "authoritative"
"#;

async fn additive_targets_keep_extras_and_authoritative_ones_remove_them(
    kind: SourceKind,
    scenario: &str,
) {
    let mapping = format!("{DESKS}{AUTHORITATIVE}");
    let Some(mut src) = Desired::start(kind, scenario, &mapping).await else {
        return;
    };
    let w = site().await;
    let both = ["Customers", "IT-Customers"];
    let (a, c) = (
        person("a", "a@acme.example", &both),
        person("c", "c@acme.example", &both),
    );
    let (g1, g2) = (
        person("g1", "g1@acme.example", &["Agents"]),
        person("g2", "g2@acme.example", &["Agents", "Licensed"]),
    );
    src.set(&[a.clone(), c.clone(), g1.clone(), g2.clone()])
        .await;
    src.run(&w).await;
    extras_by_hand(&w).await;

    // C no longer needs HR; G2 leaves it-support's group but stays a licensed agent.
    src.set(&[
        a,
        c.in_groups(&["IT-Customers"]),
        g1,
        g2.in_groups(&["Licensed"]),
    ])
    .await;
    let r = src.plan(&w).await;
    let mut removed = removals(&r);
    removed.sort();
    assert_eq!(
        removed,
        [
            ("c@acme.example on desk HR", Some("linked")),
            ("g2@acme.example in group it-support", Some("linked")),
            ("outsider@acme.example in group it-support", Some("orphan")),
            ("x@acme.example on desk HR", Some("orphan")),
        ],
        "{kind:?}: {:#?}",
        r.plan.items
    );
    assert!(
        noted(&r, &["orphan: x@acme.example", "ITSD"]),
        "{kind:?}: X is still reported as an orphan of additive ITSD: {:?}",
        r.plan.notes
    );
    apply(&w, &r).await;
    let site = w.site();
    assert!(!in_desk(&site, "HR", "c@acme.example") && in_desk(&site, "ITSD", "c@acme.example"));
    assert!(
        !in_desk(&site, "HR", "x@acme.example"),
        "{kind:?}: authoritative HR removed X"
    );
    assert!(
        in_desk(&site, "ITSD", "x@acme.example"),
        "{kind:?}: additive ITSD kept X"
    );
    assert!(in_desk(&site, "HR", "a@acme.example") && in_desk(&site, "ITSD", "a@acme.example"));
    let member =
        |email: &str, group: &str| site.is_member_of(site.find_by_email(email).unwrap(), group);
    assert!(member("g1@acme.example", "it-support"));
    assert!(
        !member("g2@acme.example", "it-support") && !member("outsider@acme.example", "it-support")
    );
    assert!(
        member("g2@acme.example", "jira-servicemanagement-users"),
        "{kind:?}: still an agent"
    );
}

async fn the_deletion_guard_holds_a_30_percent_deactivation_until_approved(
    kind: SourceKind,
    scenario: &str,
) {
    let Some(mut src) = Desired::start(kind, scenario, DESKS).await else {
        return;
    };
    let mut p = Policy::default();
    p.approval.agent_seat_grants = false;
    p.approval.distinct_approver = true;
    let w = empty_site(Surfaces::ALL, p, Backend::Sqlite).await;
    let agents: Vec<_> = (0..10)
        .map(|n| {
            person(
                &format!("agent{n}"),
                &format!("agent{n}@acme.example"),
                &["Agents"],
            )
        })
        .collect();
    src.set(&agents).await;
    src.run(&w).await;
    let active_agents = |w: &World| {
        let site = w.site();
        agents.iter().filter(|p| active(&site, &p.email)).count()
    };
    assert_eq!(active_agents(&w), 10, "{kind:?}");

    // Three of the ten leave at once (an export that lost a department, say).
    src.set(&agents[3..]).await;
    let r = src.plan(&w).await;
    assert_eq!(count(&r, "deactivate"), 3, "{kind:?}: {:?}", actions(&r));
    assert!(r.plan.needs_approval(), "{kind:?}");
    let reason = &r.plan.approval_reasons[0];
    assert!(
        reason.contains("deletion guard") && reason.contains("3 of 10"),
        "{kind:?}: {reason}"
    );
    w.engine.submit(&r.plan).await.unwrap();
    let err = w.engine.apply(&r.plan, &Quiet).await.unwrap_err();
    assert!(
        matches!(err, Error::AwaitingApproval { .. }),
        "{kind:?}: {err}"
    );
    assert_eq!(
        active_agents(&w),
        10,
        "{kind:?}: nothing deactivated before the approval"
    );
    assert!(
        w.engine.approve(&r.plan.id, "alice").await.is_err(),
        "not by the requester"
    );
    w.engine.approve(&r.plan.id, "bob").await.unwrap();
    let report = w.engine.apply(&r.plan, &Quiet).await.unwrap();
    assert!(report.complete(), "{kind:?}: {report:#?}");
    let left = agents[..3].iter().filter(|p| active(&w.site(), &p.email));
    assert_eq!(left.count(), 0, "{kind:?}: the three who left");
    assert_eq!(active_agents(&w), 7, "{kind:?}");
    assert!(src.plan(&w).await.plan.is_empty(), "{kind:?}");
}
