//! Benchmark (a program, not a test): plan a reconcile of 100,000 desired people against 100,000 observed
//! accounts, the observation already in memory. Matching (links, externalId, email), situations, reactions,
//! authoritative removals, orphans, then the policy and the plan's hash: everything a real run does after its
//! reads. Prints the time of each phase and the process's peak resident memory (`VmHWM`), against the targets
//! of under 2 s and under 500 MiB.
//!
//! The site: 90,000 portal customers (all on desk ITSD, two thirds on desk HR, which is authoritative) and
//! 10,000 agents with SCIM records in `it-support` and the JSM access group. The source: 95% of people linked
//! already, 5% found again by email or externalId, 1% with a desk added, 1,000 new people, 1,000 gone.
//!
//! Run: `cargo bench -p jsm-lifecycle --bench reconcile_plan` (`BENCH_PEOPLE` changes the size;
//! `BENCH_SCRATCH=1` plans the same people against an empty site, the largest plan: everyone created).

#![allow(
    clippy::disallowed_methods,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a benchmark measures real wall time and stops on any failure"
)]

use std::collections::HashSet;
use std::time::Instant;

use chrono::{DateTime, Utc};
use jsm_lifecycle::reconcile::observe::{
    AccountKind, EmailFrom, ScimRecord, SiteAccount, TargetView,
};
use jsm_lifecycle::reconcile::{LinkIndex, Observed, TargetKind, plan_in_memory, prepare};
use jsm_lifecycle::{Capabilities, Engine, Policy};
use jsm_sources::{DesiredPerson, Kind, Mapping, MembershipMode};
use jsm_store::{Link, Store};

const SOURCE: &str = "file:/bench/people.csv";

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn account_id(i: usize) -> String {
    format!("712020:{:032x}", i as u128 * 0x9e37_79b9_7f4a_7c15)
}

fn email(i: usize) -> String {
    format!("person{i}@bench.example")
}

fn agent(i: usize) -> bool {
    i.is_multiple_of(10)
}

fn on_hr(i: usize) -> bool {
    !agent(i) && !i.is_multiple_of(3)
}

fn observed(n: usize) -> Observed {
    let accounts: Vec<SiteAccount> = (0..n)
        .map(|i| SiteAccount {
            account_id: account_id(i),
            email: Some(email(i)),
            email_from: EmailFrom::Profile,
            display_name: format!("Person {i}"),
            active: true,
            kind: if agent(i) {
                AccountKind::Atlassian
            } else {
                AccountKind::Customer
            },
            scim: agent(i).then(|| ScimRecord {
                id: format!("scim-{i:08}"),
                external_id: Some(format!("ext-{i}")),
                user_name: email(i),
                active: true,
            }),
        })
        .collect();
    let members = |f: &dyn Fn(usize) -> bool| -> HashSet<u32> {
        (0..n).filter(|i| f(*i)).map(|i| i as u32).collect()
    };
    let target = |kind, id: &str, name: &str, mode, members, grants_jsm| TargetView {
        kind,
        id: id.into(),
        name: name.into(),
        mode,
        explicit: true,
        members,
        scim_group: None,
        grants_jsm,
        open: false,
    };
    let targets = vec![
        target(
            TargetKind::ServiceDesk,
            "1",
            "HR",
            MembershipMode::Authoritative,
            members(&on_hr),
            false,
        ),
        target(
            TargetKind::ServiceDesk,
            "2",
            "ITSD",
            MembershipMode::Additive,
            members(&|i| !agent(i)),
            false,
        ),
        target(
            TargetKind::Group,
            "it-support",
            "it-support",
            MembershipMode::Additive,
            members(&agent),
            false,
        ),
        target(
            TargetKind::Group,
            "jira-servicemanagement-users",
            "jira-servicemanagement-users",
            MembershipMode::Additive,
            members(&agent),
            true,
        ),
    ];
    let mut o = Observed::from_parts(
        accounts,
        targets,
        vec!["jira-servicemanagement-users".into()],
        true,
    );
    o.scim = true;
    o.admin = true;
    o
}

/// 99% of the site's people (the last 1% left) plus 1% new ones; 1% of those kept get desk HR added.
fn desired(n: usize) -> Vec<DesiredPerson> {
    let gone = n / 100;
    let new = n / 100;
    (0..n - gone)
        .chain(n..n + new)
        .map(|i| {
            let mut desks = Vec::new();
            if !agent(i) {
                desks.push("ITSD".to_string());
                if on_hr(i) || i % 100 == 1 || i >= n {
                    desks.push("HR".to_string());
                }
            }
            DesiredPerson {
                source_id: format!("S{i}"),
                email: email(i),
                display_name: Some(format!("Person {i}")),
                external_id: agent(i).then(|| format!("ext-{i}")),
                kind: if agent(i) {
                    Kind::Agent
                } else {
                    Kind::Customer
                },
                active: true,
                service_desks: desks,
                groups: if agent(i) {
                    vec!["it-support".into()]
                } else {
                    Vec::new()
                },
                ..DesiredPerson::default()
            }
        })
        .collect()
}

/// 95% of the site's people linked already.
fn links(n: usize) -> LinkIndex {
    let at = DateTime::<Utc>::from_timestamp(1_780_000_000, 0).unwrap();
    LinkIndex::new(
        (0..n)
            .filter(|i| !i.is_multiple_of(20))
            .map(|i| Link {
                source: SOURCE.into(),
                source_id: format!("S{i}"),
                account_id: account_id(i),
                scim_id: agent(i).then(|| format!("scim-{i:08}")),
                created_at: at,
                updated_at: at,
            })
            .collect(),
    )
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let n: usize = std::env::var("BENCH_PEOPLE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    // BENCH_SCRATCH=1: the same people against an empty site (every person created: the largest plan).
    let scratch = std::env::var_os("BENCH_SCRATCH").is_some();
    let built = Instant::now();
    let mut observed = observed(if scratch { 0 } else { n });
    if scratch {
        observed.complete = true;
    }
    let mut people = desired(n);
    let links = if scratch {
        LinkIndex::default()
    } else {
        links(n)
    };
    let mapping = Mapping::default();
    let inputs = built.elapsed();
    let rss_inputs = peak_rss_mib();

    let client = jsm_client::Client::builder()
        .site("http://127.0.0.1:9")
        .basic_auth("bench@example.com", "unused")
        .build()
        .unwrap();
    let store = Store::open(":memory:").await.unwrap();
    let mut policy = Policy::default();
    policy.deletion_guard.max_count = u32::MAX;
    let engine = Engine::new(
        client,
        store,
        policy,
        Capabilities {
            scim: true,
            admin: true,
        },
        "bench",
        "http://127.0.0.1:9",
    );

    let started = Instant::now();
    let in_scope = prepare(&mapping, &mut people);
    let t_prepare = started.elapsed();
    let result = plan_in_memory(
        &people,
        &in_scope,
        &observed,
        &links,
        &engine.policy.reconcile,
        SOURCE,
        true,
    )
    .unwrap();
    let t_plan = started.elapsed();
    let summary = result.summary.clone();
    let plan = engine.finish_draft(result.draft).unwrap();
    let total = started.elapsed();
    let rss = peak_rss_mib();

    println!(
        "plan {} desired against {} observed accounts (inputs built in {:.2} s, peak {:.0} MiB before planning)",
        people.len(),
        observed.accounts.len(),
        inputs.as_secs_f64(),
        rss_inputs
    );
    println!(
        "  mapping + scope {:.3} s, match + situations + reactions {:.3} s, policy + hash {:.3} s",
        t_prepare.as_secs_f64(),
        (t_plan - t_prepare).as_secs_f64(),
        (total - t_plan).as_secs_f64()
    );
    let (c, m, r) = plan.counts();
    println!(
        "  plan: {} items ({c} create, {m} change, {r} remove), {} notes; situations {:?}; orphans {}",
        plan.items.len(),
        plan.notes.len(),
        summary.situations,
        summary.orphans
    );
    println!(
        "  planning time {:.3} s (target < 2 s: {:.2} of it); peak RSS {:.0} MiB (target < 500 MiB: {:.2} of it)",
        total.as_secs_f64(),
        total.as_secs_f64() / 2.0,
        rss,
        rss / 500.0
    );
}
