//! Seats end to end against a dedicated seed: every granting path, every account that must never count, idle
//! and active agents, invites, allowlists; the report's totals and each account's paths are checked one by one
//! against what the seed made; then the reclaim plan, applied, frees exactly the reclaimable seats, safest
//! action first, never touches a SCIM-synced group, and re-checks each seat.

use std::collections::BTreeMap;

use jsm_emulator::limits::LimitConfig;
use jsm_emulator::seed::{self, Admin, Seed};
use jsm_emulator::site::{AccountKey, DirectoryGroup, NewAccount, Site};
use jsm_emulator::{Emulator, clock::Clock};
use jsm_lifecycle::plan::{Action, ManualCheck};
use jsm_lifecycle::seats::{ReclaimAction, SeatQuery, SeatReport, SeatStatus};
use jsm_lifecycle::{Outcome, Policy, Quiet};
use jsm_proto::jira::AccountType;
use jsm_testkit::{ADMIN_EMAIL, ADMIN_TOKEN, Surfaces, TestEmulator};
use reqwest::Method;
use serde_json::json;

use crate::support::{Backend, World, backends};

const DAY: i64 = 86_400_000;
const JSM: &str = "jira-servicedesk";
const JSM_USERS: &str = "jira-servicemanagement-users";
const IDP_GROUP: &str = "jsm-idp-agents";

/// What the seed made for one account: billed, status, JSM paths, reclaimable, reclaim action.
struct Expect {
    email: &'static str,
    billable: bool,
    status: SeatStatus,
    paths: &'static [&'static str],
    reclaimable: bool,
    action: Option<ReclaimAction>,
}

const fn e(
    email: &'static str,
    billable: bool,
    status: SeatStatus,
    paths: &'static [&'static str],
    reclaimable: bool,
    action: Option<ReclaimAction>,
) -> Expect {
    Expect {
        email,
        billable,
        status,
        paths,
        reclaimable,
        action,
    }
}

use ReclaimAction::{RemoveGroups, Suspend};
use SeatStatus::{Active, App, Deactivated, Suspended};

const DEFAULT: &str = "default_group:jira-servicemanagement-users";
const SITE_ADMINS: &str = "admin_group:site-admins";

/// Every account with a JSM path, as the seed makes them (centralized user management).
const EXPECTED: &[Expect] = &[
    e(
        ADMIN_EMAIL,
        true,
        Active,
        &[DEFAULT, SITE_ADMINS],
        false,
        None,
    ),
    e(
        "active.agent@acme.example",
        true,
        Active,
        &[DEFAULT],
        false,
        None,
    ),
    e(
        "idle.agent@acme.example",
        true,
        Active,
        &[DEFAULT],
        true,
        Some(RemoveGroups),
    ),
    e(
        "old.agent@acme.example",
        true,
        Active,
        &["group:jira-servicedesk-users", "group:jsm-contractors"],
        true,
        Some(RemoveGroups),
    ),
    e(
        "admin.idle@acme.example",
        true,
        Active,
        &[SITE_ADMINS],
        false,
        None,
    ),
    e(
        "direct.agent@acme.example",
        true,
        Active,
        &["direct"],
        true,
        Some(Suspend),
    ),
    e(
        "scim.agent@acme.example",
        true,
        Active,
        &["group:jsm-idp-agents"],
        true,
        Some(Suspend),
    ),
    e(
        "scim.both@acme.example",
        true,
        Active,
        &[DEFAULT, "group:jsm-idp-agents"],
        true,
        Some(Suspend),
    ),
    e(
        "invite.new@acme.example",
        true,
        Active,
        &[DEFAULT],
        false,
        None,
    ),
    e(
        "invite.stale@acme.example",
        true,
        Active,
        &[DEFAULT],
        true,
        Some(RemoveGroups),
    ),
    e(
        "svc.backup@acme.example",
        true,
        Active,
        &[DEFAULT],
        false,
        None,
    ),
    e("oncall@acme.example", true, Active, &[DEFAULT], false, None),
    e("bot@connect.example", false, App, &[DEFAULT], false, None),
    e(
        "former@acme.example",
        false,
        Deactivated,
        &[DEFAULT],
        false,
        None,
    ),
    e(
        "suspended@acme.example",
        false,
        Suspended,
        &[DEFAULT],
        false,
        None,
    ),
];

fn join(site: &mut Site, group: &str, key: AccountKey) {
    let g = site
        .find_group_by_name(group)
        .or_else(|| site.create_group(group));
    if let Some(g) = g.and_then(|g| site.group_mut(g)) {
        g.members.insert(key);
    }
}

fn person(site: &mut Site, email: &str, kind: AccountType, added: i64) -> AccountKey {
    site.add_account(
        NewAccount {
            account_type: kind,
            email: email.into(),
            display_name: email.split('@').next().unwrap_or(email).replace('.', " "),
            email_hidden: false,
        },
        added,
    )
}

/// The seed: one account per case of the licensing rules, dated relative to `now`.
fn seats_site(now: i64) -> Site {
    let admin = Admin {
        email: ADMIN_EMAIL.into(),
        token: ADMIN_TOKEN.into(),
    };
    let mut site = seed::build(Seed::Empty, &admin, now);
    if let Some(a) = site.find_by_email(ADMIN_EMAIL) {
        site.account_mut(a).created = now - 400 * DAY;
    }
    if let Some(p) = site.products.iter_mut().find(|p| p.key == JSM) {
        p.seats = Some(40);
        p.groups.extend([
            "jira-servicedesk-users".to_string(),
            "jsm-contractors".into(),
            IDP_GROUP.into(),
        ]);
        p.customer_groups.push("jsm-requesters".into());
    }
    let old = now - 400 * DAY;
    let used = |site: &mut Site, key: AccountKey, product: &str, days_ago: i64| {
        site.directory.record(key, product, now - days_ago * DAY);
    };
    let k = person(
        &mut site,
        "active.agent@acme.example",
        AccountType::Atlassian,
        old,
    );
    join(&mut site, JSM_USERS, k);
    used(&mut site, k, JSM, 5);
    let k = person(
        &mut site,
        "idle.agent@acme.example",
        AccountType::Atlassian,
        old,
    );
    join(&mut site, JSM_USERS, k);
    join(&mut site, "jira-software-users", k);
    used(&mut site, k, JSM, 120);
    used(&mut site, k, "jira-software", 2);
    let k = person(
        &mut site,
        "old.agent@acme.example",
        AccountType::Atlassian,
        old,
    );
    join(&mut site, "jira-servicedesk-users", k);
    join(&mut site, "jsm-contractors", k);
    used(&mut site, k, JSM, 200);
    let k = person(
        &mut site,
        "admin.idle@acme.example",
        AccountType::Atlassian,
        old,
    );
    join(&mut site, "site-admins", k);
    used(&mut site, k, JSM, 150);
    let k = person(
        &mut site,
        "direct.agent@acme.example",
        AccountType::Atlassian,
        old,
    );
    site.account_mut(k).direct_roles.push(JSM.into());
    used(&mut site, k, JSM, 100);
    let k = person(
        &mut site,
        "scim.agent@acme.example",
        AccountType::Atlassian,
        old,
    );
    join(&mut site, IDP_GROUP, k);
    used(&mut site, k, JSM, 130);
    let k = person(
        &mut site,
        "scim.both@acme.example",
        AccountType::Atlassian,
        old,
    );
    join(&mut site, JSM_USERS, k);
    join(&mut site, IDP_GROUP, k);
    used(&mut site, k, JSM, 140);
    let k = person(
        &mut site,
        "invite.new@acme.example",
        AccountType::Atlassian,
        now - 45 * DAY,
    );
    join(&mut site, JSM_USERS, k);
    let k = person(
        &mut site,
        "invite.stale@acme.example",
        AccountType::Atlassian,
        now - 200 * DAY,
    );
    join(&mut site, JSM_USERS, k);
    let k = person(
        &mut site,
        "svc.backup@acme.example",
        AccountType::Atlassian,
        old,
    );
    join(&mut site, JSM_USERS, k);
    used(&mut site, k, JSM, 300);
    let k = person(
        &mut site,
        "oncall@acme.example",
        AccountType::Atlassian,
        old,
    );
    join(&mut site, JSM_USERS, k);
    join(&mut site, "opsgenie-oncall", k);
    used(&mut site, k, JSM, 200);
    let k = person(&mut site, "bot@connect.example", AccountType::App, old);
    join(&mut site, JSM_USERS, k);
    let k = person(
        &mut site,
        "former@acme.example",
        AccountType::Atlassian,
        old,
    );
    join(&mut site, JSM_USERS, k);
    site.account_mut(k).active = false;
    used(&mut site, k, JSM, 250);
    let k = person(
        &mut site,
        "suspended@acme.example",
        AccountType::Atlassian,
        old,
    );
    join(&mut site, JSM_USERS, k);
    site.account_mut(k).suspended = true;
    used(&mut site, k, JSM, 10);
    let k = person(
        &mut site,
        "requester@acme.example",
        AccountType::Atlassian,
        old,
    );
    join(&mut site, "jsm-requesters", k);
    person(
        &mut site,
        "customer@mail.example",
        AccountType::Customer,
        old,
    );
    let k = person(
        &mut site,
        "trusted@acme.example",
        AccountType::Atlassian,
        old,
    );
    site.account_mut(k).trusted = true;
    used(&mut site, k, JSM, 100);
    // The IdP syncs this group: a SCIM group record over the Jira group.
    if let Some(group) = site.find_group_by_name(IDP_GROUP) {
        let id = site.ids.uuid();
        site.directory.add_group(DirectoryGroup {
            id,
            group,
            external_id: Some("okta-jsm-agents".into()),
            displays: Default::default(),
            created: old,
            last_modified: old,
        });
    }
    site
}

fn seats_policy(suspend: bool) -> Policy {
    let mut policy = Policy::default();
    policy.seats.allowlist = vec!["svc.backup@acme.example".into()];
    policy.seats.allowlist_groups = vec!["opsgenie-oncall".into()];
    policy.seats.suspend = suspend;
    policy.seats.price_per_seat = Some(20.0);
    policy.seats.cycle_day = Some(1);
    policy
}

async fn world(suspend: bool, backend: Backend) -> World {
    let now = Clock::real().now_ms();
    let emu = TestEmulator::start_with(
        Emulator::builder()
            .site(seats_site(now))
            .limits(LimitConfig::off()),
    )
    .await;
    World::on(emu, Surfaces::ALL, seats_policy(suspend), backend).await
}

fn jsm_count(w: &World) -> u32 {
    let site = w.site();
    site.products
        .iter()
        .find(|p| p.key == JSM)
        .map(|p| site.seats_used(p))
        .unwrap_or(0)
}

fn by_email<'a>(
    report: &'a SeatReport,
    email: &str,
    product: &str,
) -> Option<&'a jsm_lifecycle::seats::SeatAccount> {
    report
        .accounts
        .iter()
        .find(|a| a.email.as_deref() == Some(email) && a.product == product)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_explains_every_seat_of_the_seed() {
    let w = world(true, Backend::Sqlite).await;
    let report = w.engine.seat_report(&SeatQuery::default()).await.unwrap();
    assert_eq!(report.user_management, "centralized");
    let jsm_entries: Vec<_> = report.of_product(JSM).collect();
    assert_eq!(
        jsm_entries.len(),
        EXPECTED.len(),
        "exactly the seeded accounts with a JSM path: {:#?}",
        jsm_entries.iter().map(|a| &a.email).collect::<Vec<_>>()
    );
    for x in EXPECTED {
        let a = by_email(&report, x.email, JSM).unwrap_or_else(|| panic!("{} missing", x.email));
        let mut paths: Vec<String> = a.paths.iter().map(|p| p.label()).collect();
        paths.sort();
        let mut want: Vec<String> = x.paths.iter().map(|p| p.to_string()).collect();
        want.sort();
        assert_eq!(paths, want, "{}: paths", x.email);
        assert_eq!(
            a.billable, x.billable,
            "{}: billable ({})",
            x.email, a.reason
        );
        assert_eq!(a.status, x.status, "{}: status", x.email);
        assert_eq!(
            a.reclaimable, x.reclaimable,
            "{}: reclaimable ({})",
            x.email, a.reason
        );
        assert_eq!(a.reclaim, x.action, "{}: action", x.email);
    }
    for never in [
        "customer@mail.example",
        "requester@acme.example",
        "trusted@acme.example",
    ] {
        assert!(
            by_email(&report, never, JSM).is_none(),
            "{never} holds no JSM seat on centralized user management"
        );
    }
    let idp = by_email(&report, "scim.agent@acme.example", JSM).unwrap();
    assert!(idp.paths[0].scim_managed, "the IdP group is SCIM-synced");

    // Reasons and activity, one by one where the rule is subtle.
    let reason = |email: &str| by_email(&report, email, JSM).unwrap().reason.clone();
    assert!(reason("svc.backup@acme.example").contains("allowlist"));
    assert!(reason("oncall@acme.example").contains("allowlist"));
    assert!(reason("admin.idle@acme.example").contains(
        "inactive 149 days (threshold 90), but it holds the seat through admin group site-admins"
    ));
    assert!(
        reason(ADMIN_EMAIL).contains("never used"),
        "an active admin is judged by its activity first"
    );
    assert!(reason("invite.new@acme.example").contains("never used, added 45 day(s) ago"));
    assert!(reason("invite.stale@acme.example").contains("never used, added 200 days ago"));
    assert!(
        reason("active.agent@acme.example").contains("active 4 day(s) ago"),
        "the 24 h lag is taken out"
    );
    let idle = by_email(&report, "idle.agent@acme.example", JSM).unwrap();
    assert_eq!(
        idle.inactive_days,
        Some(119),
        "120 days reported, less the lag"
    );
    assert!(!idle.never_active);
    let software = by_email(&report, "idle.agent@acme.example", "jira-software").unwrap();
    assert!(
        software.billable && !software.reclaimable,
        "per-product activity: Jira Software used 2 days ago"
    );
    assert_eq!(
        by_email(&report, "suspended@acme.example", JSM)
            .unwrap()
            .guard_billable,
        Some(true),
        "Guard still bills a suspended account"
    );

    // Totals per product and per path, against the seed.
    let jsm = report.products.iter().find(|p| p.key == JSM).unwrap();
    assert_eq!(report.products[0].key, JSM, "JSM first");
    assert_eq!(jsm.billable, 12);
    assert_eq!(jsm.atlassian_user_count, 12, "Atlassian's userCount agrees");
    let want: BTreeMap<String, u32> = [
        (DEFAULT, 8),
        (SITE_ADMINS, 2),
        ("group:jira-servicedesk-users", 1),
        ("group:jsm-contractors", 1),
        ("group:jsm-idp-agents", 2),
        ("direct", 1),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(jsm.by_path, want);
    assert_eq!(
        jsm.not_billable,
        [("app", 1), ("deactivated", 1), ("suspended", 1)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect()
    );
    assert_eq!((jsm.reclaimable, jsm.frees), (6, 6));
    assert_eq!(jsm.saving.per_month, Some(120.0));
    assert!(jsm.saving.from.is_some() && jsm.saving.summary.contains("120.00 USD a month"));
    assert_eq!(
        report.guard.billable,
        Some(13),
        "Guard apart: 12 seat holders and the suspended account"
    );
    assert_eq!(report.guard.billable_without_seat, 1);

    // Only Jira Software, and only one group.
    let only = w
        .engine
        .seat_report(&SeatQuery {
            products: vec!["jira-software".into()],
            ..SeatQuery::default()
        })
        .await
        .unwrap();
    assert!(only.accounts.iter().all(|a| a.product == "jira-software"));
    let group = w
        .engine
        .seat_report(&SeatQuery {
            products: vec![JSM.into()],
            group: Some("jsm-contractors".into()),
            ..SeatQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(group.accounts.len(), 1);
    assert_eq!(
        group.accounts[0].email.as_deref(),
        Some("old.agent@acme.example")
    );

    // Original user management: the Trusted role grants a seat, and added dates are not given.
    w.emu
        .control(
            Method::PUT,
            "/user-management",
            Some(json!({ "mode": "original" })),
        )
        .await;
    let report = w.engine.seat_report(&SeatQuery::default()).await.unwrap();
    assert_eq!(report.user_management, "original");
    let trusted = by_email(&report, "trusted@acme.example", JSM).unwrap();
    assert_eq!(trusted.paths.len(), 1);
    assert_eq!(trusted.paths[0].label(), "trusted");
    assert!(trusted.billable && trusted.reclaimable);
    assert_eq!(trusted.reclaim, Some(Suspend));
    let stale = by_email(&report, "invite.stale@acme.example", JSM).unwrap();
    assert!(!stale.reclaimable && stale.reason.contains("original user management"));
    assert_eq!(report.products[0].billable, 13);
    w.cleanup().await;
}

fn reclaimed_accounts(plan: &jsm_lifecycle::Plan) -> Vec<String> {
    let mut ids: Vec<String> = plan
        .items
        .iter()
        .filter_map(|i| match &i.action {
            Action::RemoveFromGroup { account_id, .. }
            | Action::SuspendAccess { account_id, .. } => Some(account_id.clone()),
            _ => None,
        })
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reclaim_frees_exactly_the_reclaimable_seats_safest_first() {
    for backend in backends() {
        let w = world(true, backend).await;
        let before = jsm_count(&w);
        let (plan, report) = w
            .engine
            .plan_seat_reclaim(&SeatQuery::default())
            .await
            .unwrap();
        let mut want: Vec<String> = report
            .accounts
            .iter()
            .filter(|a| a.reclaimable)
            .map(|a| a.account_id.clone())
            .collect();
        want.sort();
        assert_eq!(want.len(), 6);
        assert_eq!(
            reclaimed_accounts(&plan),
            want,
            "exactly the reclaimable seats"
        );
        // Safest first: every group removal before any suspension; nothing deactivated.
        let first_suspend = plan
            .items
            .iter()
            .position(|i| matches!(i.action, Action::SuspendAccess { .. }))
            .unwrap();
        let last_removal = plan
            .items
            .iter()
            .rposition(|i| matches!(i.action, Action::RemoveFromGroup { .. }))
            .unwrap();
        assert!(last_removal < first_suspend);
        assert!(!plan.items.iter().any(|i| matches!(
            i.action,
            Action::Deactivate { .. } | Action::ScimRemoveFromGroup { .. }
        )));
        assert!(
            !plan.items.iter().any(
                |i| matches!(&i.action, Action::RemoveFromGroup { group, .. } if group == IDP_GROUP)
            ),
            "a SCIM-synced group is not changed in Atlassian"
        );
        let checks = plan
            .items
            .iter()
            .filter(|i| {
                matches!(
                    &i.action,
                    Action::Manual {
                        verify: ManualCheck::SeatFreed { .. },
                        ..
                    }
                )
            })
            .count();
        assert_eq!(checks, 6, "one re-check per freed seat");
        assert!(
            plan.notes.iter().any(|n| n.contains("120.00 USD a month")),
            "{:?}",
            plan.notes
        );
        let idp_members = |w: &World| {
            let site = w.site();
            site.find_group_by_name(IDP_GROUP)
                .and_then(|k| site.group(k))
                .map(|g| g.members.clone())
                .unwrap_or_default()
        };
        let idp_before = idp_members(&w);

        w.engine.submit(&plan).await.unwrap();
        assert!(
            plan.needs_approval(),
            "6 of 12 seats trips the deletion guard"
        );
        w.engine.approve(&plan.id, "bob").await.unwrap();
        let applied = w.engine.apply(&plan, &Quiet).await.unwrap();
        assert!(applied.complete(), "{applied:#?}");
        assert_eq!(
            jsm_count(&w),
            before - 6,
            "the seat count drops by the reclaimable seats"
        );
        assert_eq!(idp_members(&w), idp_before, "the IdP's group is untouched");

        let after = w.engine.seat_report(&SeatQuery::default()).await.unwrap();
        for email in ["scim.agent@acme.example", "scim.both@acme.example"] {
            let a = by_email(&after, email, JSM).unwrap();
            assert_eq!(
                a.status,
                SeatStatus::Suspended,
                "{email}: groups kept, no seat"
            );
            assert!(!a.billable);
        }
        // A suspended account whose only path is a direct grant has no seat and nothing that lists it.
        assert!(by_email(&after, "direct.agent@acme.example", JSM).is_none());
        assert!(
            by_email(&after, "idle.agent@acme.example", JSM).is_none(),
            "no JSM path left"
        );
        w.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_suspension_a_second_granting_group_keeps_the_seat_and_is_not_counted() {
    let w = world(false, Backend::Sqlite).await;
    let before = jsm_count(&w);
    let (plan, report) = w
        .engine
        .plan_seat_reclaim(&SeatQuery::default())
        .await
        .unwrap();
    let both = by_email(&report, "scim.both@acme.example", JSM).unwrap();
    assert!(both.reclaimable && !both.frees, "{}", both.reason);
    assert_eq!(both.reclaim, Some(ReclaimAction::Manual));
    let jsm = report.products.iter().find(|p| p.key == JSM).unwrap();
    assert_eq!((jsm.reclaimable, jsm.frees), (6, 3));
    assert_eq!(jsm.saving.seats, 3, "only freed seats are saved");
    assert!(
        plan.notes
            .iter()
            .any(|n| n.contains("3 reclaimable seat(s) stay billed")),
        "{:?}",
        plan.notes
    );
    // The default group goes; the IdP group is a manual step at the IdP.
    assert!(plan.items.iter().any(|i| matches!(&i.action,
        Action::RemoveFromGroup { group, account_id } if group == JSM_USERS && *account_id == both.account_id)));
    assert!(plan.items.iter().any(|i| matches!(&i.action,
        Action::Manual { instruction, .. } if instruction.contains(IDP_GROUP) && instruction.contains("identity provider"))));

    w.engine.submit(&plan).await.unwrap();
    w.engine.approve(&plan.id, "bob").await.unwrap();
    let applied = w.engine.apply(&plan, &Quiet).await.unwrap();
    assert_eq!(applied.count(Outcome::PendingManual), 3, "{applied:#?}");
    assert_eq!(jsm_count(&w), before - 3);
    let after = w.engine.seat_report(&SeatQuery::default()).await.unwrap();
    let both = by_email(&after, "scim.both@acme.example", JSM).unwrap();
    assert!(both.billable);
    assert_eq!(both.paths.len(), 1);
    assert_eq!(both.paths[0].label(), "group:jsm-idp-agents");
    w.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_membership_the_idp_re_adds_leaves_the_re_check_pending() {
    let w = world(true, Backend::Sqlite).await;
    let (plan, _) = w
        .engine
        .plan_seat_reclaim(&SeatQuery::default())
        .await
        .unwrap();
    // Between plan and apply the IdP syncs idle.agent into its (granting) group.
    {
        let mut site = w.emu.emu.site_mut();
        let key = site.find_by_email("idle.agent@acme.example").unwrap();
        join(&mut site, IDP_GROUP, key);
    }
    w.engine.submit(&plan).await.unwrap();
    w.engine.approve(&plan.id, "bob").await.unwrap();
    let applied = w.engine.apply(&plan, &Quiet).await.unwrap();
    let pending: Vec<_> = applied
        .items
        .iter()
        .filter(|i| i.outcome == Outcome::PendingManual)
        .collect();
    assert_eq!(pending.len(), 1, "{applied:#?}");
    assert!(pending[0].target.contains("idle.agent@acme.example"));
    assert!(!applied.complete());
    w.cleanup().await;
}
