//! The real client against the real emulator (jsm-testkit boots it on 127.0.0.1:0): every handler the emulator
//! serves, then the same operations with 20% injected 5xx faults and the default rate limits on. Every operation
//! must end correct, and nothing may be duplicated. Pages asked above the emulator's caps must still list every item
//! the emulator holds.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use jsm_client::{Change, Client, Created, GroupRef, Metrics, RetryConfig};
use jsm_emulator::faults::FaultRule;
use jsm_emulator::limits::LimitConfig;
use jsm_emulator::{Emulator, Seed};
use jsm_testkit::{ADMIN_EMAIL, ADMIN_TOKEN, TestEmulator};

fn client(emu: &TestEmulator, metrics: Arc<Metrics>) -> Client {
    Client::builder()
        .site(emu.base_url.clone())
        .api_url(emu.base_url.clone())
        .auth_url(emu.base_url.clone())
        .basic_auth(ADMIN_EMAIL, ADMIN_TOKEN)
        .retry(RetryConfig {
            max_retries: 10,
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(400),
            max_total_wait: Duration::from_secs(60),
            ..RetryConfig::default()
        })
        .jitter_seed(7)
        .observer(metrics)
        .build()
        .unwrap()
}

async fn agents(client: &Client) -> Vec<String> {
    let group = GroupRef::name("jira-servicemanagement-users");
    client
        .groups()
        .members(&group)
        .all()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.account_id)
        .collect()
}

async fn jira_workload(client: &Client, tag: &str) {
    let me = client.users().myself().await.unwrap();
    assert_eq!(me.email_address.as_deref(), Some(ADMIN_EMAIL));
    assert!(!client.application_roles().list().await.unwrap().is_empty());

    // Users: create is repeatable, get/delete work, delete twice is done.
    let email = format!("new-agent-{tag}@acme.example");
    let created = client
        .users()
        .create(&email)
        .products(&["jira-servicedesk"])
        .send()
        .await
        .unwrap();
    let again = client
        .users()
        .create(&email)
        .products(&["jira-servicedesk"])
        .send()
        .await
        .unwrap();
    assert_eq!(created.account_id, again.account_id, "create is idempotent");
    assert_eq!(
        client
            .users()
            .get(&created.account_id)
            .await
            .unwrap()
            .account_id,
        created.account_id
    );

    // Groups: create twice resolves to one group; membership add/remove twice.
    let name = format!("team-{tag}");
    let g1 = client.groups().create(&name).await.unwrap();
    let g2 = client.groups().create(&name).await.unwrap();
    assert_eq!(g1.get().group_id, g2.get().group_id);
    let gid = GroupRef::id(g1.get().group_id.clone().unwrap());
    let members = agents(client).await;
    assert!(
        members.len() >= 20,
        "the demo site has 20 agents: {}",
        members.len()
    );
    let added: Vec<Change> = futures::stream::iter(members.iter().cloned())
        .map(|id| {
            let (client, gid) = (client.clone(), gid.clone());
            async move { client.groups().add_member(&gid, &id).await }
        })
        .buffer_unordered(6)
        .try_collect()
        .await
        .unwrap();
    assert!(added.iter().all(|c| *c == Change::Applied));
    assert_eq!(
        client.groups().add_member(&gid, &members[0]).await.unwrap(),
        Change::AlreadyApplied
    );
    let listed: Vec<String> = client
        .groups()
        .members(&gid)
        .include_inactive(true)
        .pager()
        .page_size(7)
        .all()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.account_id)
        .collect();
    let unique: HashSet<&String> = listed.iter().collect();
    assert_eq!(listed.len(), unique.len(), "no member listed twice");
    assert_eq!(unique, members.iter().collect::<HashSet<_>>());
    assert_eq!(
        client
            .groups()
            .remove_member(&gid, &members[0])
            .await
            .unwrap(),
        Change::Applied
    );
    assert_eq!(
        client
            .groups()
            .remove_member(&gid, &members[0])
            .await
            .unwrap(),
        Change::AlreadyApplied
    );
    assert!(
        client
            .groups()
            .list()
            .all()
            .await
            .unwrap()
            .iter()
            .any(|g| g.name == name)
    );
    assert_eq!(client.groups().delete(&gid).await.unwrap(), Change::Applied);
    assert_eq!(
        client.groups().delete(&gid).await.unwrap(),
        Change::AlreadyApplied
    );

    // Listing everyone and searching.
    let everyone = client.users().list().page_size(100).all().await.unwrap();
    let ids: HashSet<&str> = everyone.iter().map(|u| u.account_id.as_str()).collect();
    assert_eq!(ids.len(), everyone.len(), "no user listed twice");
    assert!(ids.contains(created.account_id.as_str()));
    let found = client.users().find_by_email(&email).await.unwrap();
    assert_eq!(
        found.map(|u| u.account_id),
        Some(created.account_id.clone())
    );
    assert_eq!(
        client.users().delete(&created.account_id).await.unwrap(),
        Change::Applied
    );
}

async fn jsm_workload(client: &Client, tag: &str) {
    let desks = client.service_desks().list().all().await.unwrap();
    assert_eq!(desks.len(), 3, "the demo site has three desks");
    let desk = desks[0].id.clone();
    assert_eq!(client.service_desks().get(&desk).await.unwrap().id, desk);

    // Customers: create twice → one account; add to the desk twice → listed once.
    let mut ids = Vec::new();
    for i in 0..12 {
        let email = format!("cust-{tag}-{i}@globex.example");
        let first = client
            .customers()
            .create(&email, &format!("Customer {i}"))
            .await
            .unwrap();
        let second = client
            .customers()
            .create(&email, &format!("Customer {i}"))
            .await
            .unwrap();
        assert!(!second.is_new());
        assert_eq!(first.get().account_id, second.get().account_id);
        ids.push(first.into_inner().account_id);
    }
    for _ in 0..2 {
        assert_eq!(
            client.customers().add_to_desk(&desk, &ids).await.unwrap(),
            Change::Applied,
            "JSM's 204 does not say whether the accounts were on the desk"
        );
    }
    let on_desk: Vec<String> = client
        .customers()
        .list(&desk)
        .all()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.account_id)
        .collect();
    let unique: HashSet<&String> = on_desk.iter().collect();
    assert_eq!(on_desk.len(), unique.len(), "no customer listed twice");
    assert!(ids.iter().all(|id| unique.contains(id)));

    // Organizations: a second create finds the first; users added twice are listed once.
    let org = client
        .organizations()
        .create(&format!("Org {tag}"))
        .await
        .unwrap();
    assert!(org.is_new());
    let same = client
        .organizations()
        .create(&format!("Org {tag}"))
        .await
        .unwrap();
    assert_eq!(same, Created::Existing(org.get().clone()));
    let org = org.into_inner();
    let named = client
        .organizations()
        .list()
        .all()
        .await
        .unwrap()
        .into_iter()
        .filter(|o| o.name == format!("Org {tag}"))
        .count();
    assert_eq!(named, 1, "one organization of that name");
    for _ in 0..2 {
        assert_eq!(
            client
                .organizations()
                .add_users(&org.id, &ids)
                .await
                .unwrap(),
            Change::Applied
        );
    }
    let users: Vec<String> = client
        .organizations()
        .users(&org.id)
        .page_size(5)
        .all()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.account_id)
        .collect();
    assert_eq!(
        users.iter().collect::<HashSet<_>>(),
        ids.iter().collect::<HashSet<_>>()
    );
    assert_eq!(users.len(), ids.len());
    for _ in 0..2 {
        assert_eq!(
            client
                .service_desks()
                .add_organization(&desk, &org.id)
                .await
                .unwrap(),
            Change::Applied
        );
    }
    let linked = client
        .service_desks()
        .organizations(&desk)
        .all()
        .await
        .unwrap();
    assert_eq!(linked.iter().filter(|o| o.id == org.id).count(), 1);
    assert_eq!(
        client
            .service_desks()
            .remove_organization(&desk, &org.id)
            .await
            .unwrap(),
        Change::Applied
    );
    assert_eq!(
        client
            .organizations()
            .remove_users(&org.id, &ids[..2])
            .await
            .unwrap(),
        Change::Applied
    );
    assert_eq!(
        client
            .organizations()
            .users(&org.id)
            .all()
            .await
            .unwrap()
            .len(),
        ids.len() - 2
    );
    assert!(
        client
            .organizations()
            .list()
            .all()
            .await
            .unwrap()
            .iter()
            .any(|o| o.id == org.id)
    );
    assert_eq!(
        client.organizations().delete(&org.id).await.unwrap(),
        Change::Applied
    );
    assert_eq!(
        client.organizations().delete(&org.id).await.unwrap(),
        Change::AlreadyApplied
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_handler_against_the_emulator() {
    let emu = TestEmulator::start().await;
    let metrics = Arc::new(Metrics::default());
    let client = client(&emu, metrics.clone());
    jira_workload(&client, "plain").await;
    jsm_workload(&client, "plain").await;
    assert_eq!(
        metrics.snapshot().retries,
        0,
        "no faults, no limits: no retries"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_handler_survives_20_percent_faults_and_default_rate_limits() {
    let emu = TestEmulator::start_with(
        Emulator::builder()
            .seed(Seed::Demo)
            .limits(LimitConfig::default())
            .faults(FaultRule::server_errors(0.2)),
    )
    .await;
    let metrics = Arc::new(Metrics::default());
    let client = client(&emu, metrics.clone());
    jira_workload(&client, "faulty").await;
    jsm_workload(&client, "faulty").await;
    let m = metrics.snapshot();
    assert!(m.server_errors > 10, "faults were injected: {m:?}");
    assert!(
        m.retries >= m.server_errors,
        "every fault was retried: {m:?}"
    );
    println!("faults run: {m:?}");
}

/// Requests to `path_suffix` in the emulator's log: (query, status).
fn logged(emu: &TestEmulator, path_suffix: &str) -> Vec<(String, u16)> {
    emu.emu
        .log()
        .since(0, usize::MAX)
        .into_iter()
        .filter(|e| e.path.ends_with(path_suffix))
        .map(|e| (e.query, e.status))
        .collect()
}

/// Asking the real emulator for pages above its caps (group members: `maxResults` silently capped at 50; desk
/// customers: a hidden `limit` cap of 50 with `limit` echoed back) still lists every item exactly once. The
/// expected items come from the emulator's own state (`emu.site()`), and its request log shows the client asked
/// above the cap and paged on by what was served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_asked_above_the_emulators_caps_return_every_item() {
    const CAP: usize = 50;
    let emu = TestEmulator::start().await;
    let group = "cap-137";
    {
        // 137 members (not a multiple of the cap), every third one inactive.
        let mut site = emu.emu.site_mut();
        let key = site.create_group(group).unwrap();
        let members: Vec<u32> = (1..=137).collect();
        for k in members.iter().filter(|k| *k % 3 == 0) {
            site.account_mut(*k).active = false;
        }
        site.group_mut(key).unwrap().members.extend(members);
    }
    let (all_expected, active_expected, desks_expected) = {
        let site = emu.emu.site();
        let key = site.find_group_by_name(group).unwrap();
        let members = &site.group(key).unwrap().members;
        let ids = |keep: &dyn Fn(u32) -> bool| -> HashSet<String> {
            members
                .iter()
                .copied()
                .filter(|k| keep(*k))
                .map(|k| site.account(k).account_id.clone())
                .collect()
        };
        let all = ids(&|_| true);
        let active = ids(&|k| site.account(k).active && site.account(k).site_access);
        let desks: Vec<(String, HashSet<String>)> = site
            .desks
            .iter()
            .map(|d| {
                let ids = d
                    .customers
                    .iter()
                    .map(|k| site.account(*k).account_id.clone())
                    .collect();
                (d.id.to_string(), ids)
            })
            .collect();
        (all, active, desks)
    };
    assert_eq!(all_expected.len(), 137);
    assert!(active_expected.len() > CAP && active_expected.len() < 137);

    let rec = Arc::new(crate::common::Recorder::default());
    let client = Client::builder()
        .site(emu.base_url.clone())
        .basic_auth(ADMIN_EMAIL, ADMIN_TOKEN)
        .observer(rec.clone())
        .build()
        .unwrap();
    let listed = |users: Vec<jsm_proto::jira::UserDetails>| -> (usize, HashSet<String>) {
        let n = users.len();
        (n, users.into_iter().map(|u| u.account_id).collect())
    };

    // Group members, with and without inactive users, at maxResults=200 against a cap of 50.
    let (n, everyone) = listed(
        client
            .groups()
            .members(&GroupRef::name(group))
            .include_inactive(true)
            .pager()
            .page_size(200)
            .all()
            .await
            .unwrap(),
    );
    assert_eq!(n, all_expected.len(), "nothing truncated, nothing twice");
    assert_eq!(everyone, all_expected);
    let (n, active) = listed(
        client
            .groups()
            .members(&GroupRef::name(group))
            .pager()
            .page_size(200)
            .all()
            .await
            .unwrap(),
    );
    assert_eq!(n, active_expected.len());
    assert_eq!(active, active_expected);
    let pages = logged(&emu, "/group/member");
    assert_eq!(
        pages.len(),
        all_expected.len().div_ceil(CAP) + active_expected.len().div_ceil(CAP),
        "one request per served page of {CAP}: {pages:?}"
    );
    assert!(
        pages
            .iter()
            .all(|(q, status)| *status == 200 && q.contains("maxResults=200")),
        "every page asked above the cap: {pages:?}"
    );

    // Desk customers at limit=200 (and 75 for the second desk) against the hidden cap of 50.
    assert!(desks_expected.iter().all(|(_, ids)| ids.len() > CAP));
    for ((desk, expected), size) in desks_expected.iter().zip([200, 75, 1000]) {
        emu.emu.log().clear();
        let customers = client
            .customers()
            .list(desk)
            .pager()
            .page_size(size)
            .all()
            .await
            .unwrap();
        let ids: HashSet<String> = customers.iter().map(|c| c.account_id.clone()).collect();
        assert_eq!(
            customers.len(),
            expected.len(),
            "desk {desk}: nothing truncated"
        );
        assert_eq!(&ids, expected, "desk {desk}");
        let pages = logged(&emu, &format!("/servicedesk/{desk}/customer"));
        assert_eq!(
            pages.len(),
            expected.len().div_ceil(CAP),
            "desk {desk}: {pages:?}"
        );
        assert!(
            pages
                .iter()
                .all(|(q, status)| *status == 200 && q.contains(&format!("limit={size}"))),
            "desk {desk}: {pages:?}"
        );
    }
    let capped = rec.count(|e| matches!(e, jsm_client::Event::PageCapped { served: 50, .. }));
    assert!(capped >= 2, "the caps were reported, not hidden");
}
