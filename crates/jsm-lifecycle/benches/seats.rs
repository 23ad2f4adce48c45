//! Benchmark (a program, not a test): the JSM seat report of a 50,000-account site with 2,000 agents, under the
//! emulator's default rate limits (GET 100/s per endpoint, a one-second bucket). Prints the API calls the report
//! made against the minimum it needs (counted from the seed, not from the engine), 429s, wall time against the
//! least time those rate limits allow, and both ratios; then what a per-account report would need.
//!
//! The minimum: the site's clock (`serverInfo`, which inactivity is judged on); one application-roles read; every member page (50 a page) of each group that grants JSM; one
//! SCIM groups listing (which granting groups the IdP syncs); every page (50) of the organization's managed
//! accounts (per-product last-active dates, Guard billing); one directories read; one role-assignments read per
//! account that may hold a seat (the only API that shows direct grants, the Trusted role and suspension); one
//! last-active-dates read per such account that never used JSM (its date added).
//!
//! Run: `cargo bench -p jsm-lifecycle --bench seats` (release build; about half a minute of report).

#![allow(
    clippy::disallowed_methods,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    reason = "a benchmark program measures real wall time and stops on any failure"
)]

use std::sync::Arc;
use std::time::Instant;

use jsm_client::{Client, Metrics};
use jsm_emulator::Emulator;
use jsm_emulator::limits::LimitConfig;
use jsm_emulator::seed::{self, Admin, Seed};
use jsm_emulator::site::{AccountKey, DirectoryGroup, NewAccount, Site};
use jsm_lifecycle::seats::SeatQuery;
use jsm_lifecycle::{Capabilities, Engine, Policy};
use jsm_proto::jira::AccountType;
use jsm_store::Store;
use jsm_testkit::{ADMIN_EMAIL, ADMIN_TOKEN, TestEmulator};

const ACCOUNTS: usize = 50_000;
const AGENTS: usize = 2_000;
const EMPLOYEES: usize = 3_000;
const DAY: i64 = 86_400_000;
const JSM: &str = "jira-servicedesk";
const PAGE: usize = 50;
const RATE: f64 = 100.0;

struct Seeded {
    site: Site,
    group_sizes: Vec<(String, usize)>,
    managed: usize,
    holders: usize,
    never: usize,
}

fn join(site: &mut Site, group: &str, key: AccountKey) {
    let g = site
        .find_group_by_name(group)
        .or_else(|| site.create_group(group))
        .unwrap();
    site.group_mut(g).unwrap().members.insert(key);
}

/// 2,000 JSM seat holders (the admin included) through every kind of path, 3,000 other employees, 50 agents
/// that hold no seat (deactivated, suspended, apps), the rest portal customers: 50,000 accounts.
fn seed_site(now: i64) -> Seeded {
    let admin = Admin {
        email: ADMIN_EMAIL.into(),
        token: ADMIN_TOKEN.into(),
    };
    let mut site = seed::build(Seed::Empty, &admin, now);
    site.reserve_accounts(ACCOUNTS);
    if let Some(p) = site.products.iter_mut().find(|p| p.key == JSM) {
        p.seats = Some(2_500);
        p.groups.extend([
            "jira-servicedesk-users".to_string(),
            "jsm-idp-agents".into(),
        ]);
    }
    let mut n = 0usize;
    let mut add = |site: &mut Site, kind: AccountType, added: i64| {
        n += 1;
        site.add_account(
            NewAccount {
                account_type: kind,
                email: format!("person{n}@bench.example"),
                display_name: format!("Person {n}"),
                email_hidden: n.is_multiple_of(17),
            },
            added,
        )
    };
    for i in 0..AGENTS - 1 {
        let k = add(&mut site, AccountType::Atlassian, now - 500 * DAY);
        match i % 40 {
            0 => site.account_mut(k).direct_roles.push(JSM.into()),
            1 => join(&mut site, "jsm-idp-agents", k),
            2 => {
                join(&mut site, "site-admins", k);
                join(&mut site, "jira-servicemanagement-users", k);
            }
            3..=5 => join(&mut site, "jira-servicedesk-users", k),
            _ => join(&mut site, "jira-servicemanagement-users", k),
        }
        if i % 20 == 7 {
            // An invite never accepted: added some time ago, never active.
            site.account_mut(k).created = now - (i as i64 % 200) * DAY;
        } else {
            let days = if i % 4 == 0 {
                100 + (i as i64 % 200)
            } else {
                i as i64 % 30 + 1
            };
            site.directory.record(k, JSM, now - days * DAY);
        }
    }
    for i in 0..50 {
        let kind = if i < 10 {
            AccountType::App
        } else {
            AccountType::Atlassian
        };
        let k = add(&mut site, kind, now - 500 * DAY);
        join(&mut site, "jira-servicemanagement-users", k);
        match i {
            10..=29 => site.account_mut(k).active = false,
            30.. => site.account_mut(k).suspended = true,
            _ => {}
        }
    }
    for _ in 0..EMPLOYEES {
        let k = add(&mut site, AccountType::Atlassian, now - 500 * DAY);
        join(&mut site, "jira-software-users", k);
        site.directory.record(k, "jira-software", now - 3 * DAY);
    }
    while site.accounts.len() < ACCOUNTS {
        add(&mut site, AccountType::Customer, now - 500 * DAY);
    }
    if let Some(group) = site.find_group_by_name("jsm-idp-agents") {
        let id = site.ids.uuid();
        site.directory.add_group(DirectoryGroup {
            id,
            group,
            external_id: None,
            displays: Default::default(),
            created: now,
            last_modified: now,
        });
    }
    let jsm = site.products.iter().find(|p| p.key == JSM).unwrap().clone();
    let group_sizes = site
        .granting_groups(&jsm)
        .into_iter()
        .filter_map(|k| site.group(k))
        .map(|g| (g.name.clone(), g.members.len()))
        .collect();
    let managed = (0..site.accounts.len() as AccountKey)
        .filter(|k| site.account(*k).account_type == AccountType::Atlassian)
        .count();
    let holders = site.seat_holders(&jsm);
    let never = holders
        .iter()
        .filter(|k| site.directory.reported(**k, JSM, now).is_none())
        .count();
    Seeded {
        holders: holders.len(),
        site,
        group_sizes,
        managed,
        never,
    }
}

/// The least time the emulator's limits allow for `n` calls on one endpoint (the bucket starts full).
fn limit_seconds(n: usize) -> f64 {
    (n as f64 - RATE).max(0.0) / RATE
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let now = jsm_emulator::clock::Clock::real().now_ms();
    let started = Instant::now();
    let seeded = seed_site(now);
    let seeding = started.elapsed();
    let jsm_seats = {
        let jsm = seeded.site.products.iter().find(|p| p.key == JSM).unwrap();
        seeded.site.seats_used(jsm)
    };
    let emu = TestEmulator::start_with(
        Emulator::builder()
            .site(seeded.site)
            .limits(LimitConfig::default())
            .log_capacity(20_000),
    )
    .await;
    let metrics = Arc::new(Metrics::default());
    let client: Client = emu
        .client_builder()
        .observer(metrics.clone())
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("state.db").to_str().unwrap())
        .await
        .unwrap();
    let engine = Engine::new(
        client,
        store,
        Policy::default(),
        Capabilities {
            scim: true,
            admin: true,
        },
        "bench",
        emu.base_url.clone(),
    )
    .with_metrics(metrics.clone());

    let t = Instant::now();
    let report = engine
        .seat_report(&SeatQuery {
            products: vec![JSM.into()],
            ..SeatQuery::default()
        })
        .await
        .unwrap();
    let wall = t.elapsed().as_secs_f64();
    let m = metrics.snapshot();

    let jsm = &report.products[0];
    assert_eq!(
        jsm.billable, jsm_seats,
        "the report explains every billed seat"
    );
    assert_eq!(jsm.billable as usize, seeded.holders);

    let member_pages: usize = seeded
        .group_sizes
        .iter()
        .map(|(_, n)| n.div_ceil(PAGE))
        .sum();
    let admin_pages = seeded.managed.div_ceil(PAGE);
    let minimum = 1 + 1 + member_pages + 1 + admin_pages + 1 + seeded.holders + seeded.never;
    // Phases that depend on each other add up; endpoints inside a phase run side by side.
    let phase2 = limit_seconds(admin_pages).max(
        seeded
            .group_sizes
            .iter()
            .map(|(_, n)| limit_seconds(n.div_ceil(PAGE)))
            .fold(0.0, f64::max),
    );
    let phase3 = limit_seconds(seeded.holders).max(limit_seconds(seeded.never));
    let allowed = phase2 + phase3;
    let call_eff = minimum as f64 / m.sent.max(1) as f64;
    let time_eff = allowed / wall;
    let naive = 2 * seeded.managed;

    println!(
        "seat report: {ACCOUNTS} accounts, {} JSM seat holders, default rate limits (GET {RATE}/s per endpoint)",
        seeded.holders
    );
    println!("  seeded in {:.2} s", seeding.as_secs_f64());
    println!(
        "  granting groups: {}",
        seeded
            .group_sizes
            .iter()
            .map(|(g, n)| format!("{g} ({n})"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "  calls: {} used, {minimum} minimum ({member_pages} member pages, {admin_pages} managed-account pages, \
         {} role assignments, {} last-active dates, 4 single reads) -> efficiency {call_eff:.3}",
        m.sent, seeded.holders, seeded.never
    );
    println!(
        "  429s: {} ({:.2}%)",
        m.throttled,
        m.throttled as f64 / m.sent.max(1) as f64 * 100.0
    );
    println!(
        "  wall: {wall:.2} s; the limits allow {allowed:.2} s at best -> efficiency {time_eff:.3}"
    );
    println!(
        "  report: {} billed, {} reclaimable ({} freed by a reclaim), Guard {} billable",
        jsm.billable,
        jsm.reclaimable,
        jsm.frees,
        report.guard.billable.unwrap_or_default()
    );
    println!(
        "  a per-account report (user?expand=groups,applicationRoles and last-active-dates for each of the {} \
         managed accounts) needs {naive} calls, {:.1}x these, and still cannot see direct grants",
        seeded.managed,
        naive as f64 / m.sent.max(1) as f64
    );
    println!(
        "  targets: call efficiency >= 0.85 {}, time efficiency >= 0.85 {}",
        if call_eff >= 0.85 { "met" } else { "MISSED" },
        if time_eff >= 0.85 { "met" } else { "MISSED" }
    );
}
