//! `seat_report` over streamable HTTP against the emulator: the billed seats are exactly the emulator's own seat
//! holders (and follow a change on the site), the reclaimable filter and the limit cut the entries but never the
//! totals, and every result fits the tool's output schema.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::http::Http;
use crate::support::*;

const JSM: &str = "jira-servicedesk";

/// Account ids the emulator bills a JSM seat for, by its own licensing rules.
fn emulator_holders(w: &World) -> BTreeSet<String> {
    let site = w.emu.emu.site();
    let product = site.products.iter().find(|p| p.key == JSM).unwrap();
    site.seat_holders(product)
        .into_iter()
        .map(|k| site.account(k).account_id.clone())
        .collect()
}

fn billed(report: &Value) -> BTreeSet<String> {
    report["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["product"] == JSM && a["billable"] == true)
        .map(|a| a["account_id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn seat_report_bills_exactly_the_emulators_seat_holders_and_follows_the_site() {
    let w = World::new().await;
    let s = Http::start(&w).await;
    let client = s.client(READER_TOKEN).await;
    let listed = tools(&client).await;
    let args = json!({"products": [JSM], "limit": 500});
    let report = validated(
        &call(&client, "seat_report", args.clone()).await,
        &listed,
        "seat_report",
    );
    let holders = emulator_holders(&w);
    assert!(holders.len() > 10, "the demo site bills its agents");
    let product = &report["products"][0];
    assert_eq!(product["key"], JSM, "{report:#}");
    assert_eq!(product["billable"], holders.len());
    assert_eq!(billed(&report), holders);
    assert_eq!(report["truncated"], false);
    assert!(report["generated_at"].as_str().unwrap().contains('T'));

    // One agent leaves every granting group on the site: the next report no longer bills them.
    let (_, account_id) = w.agent_person();
    {
        let mut site = w.emu.emu.site_mut();
        let key = site.find_account(&account_id).unwrap();
        for g in site.groups_of(key) {
            site.group_mut(g).unwrap().members.remove(&key);
        }
    }
    let after = validated(
        &call(&client, "seat_report", args).await,
        &listed,
        "seat_report",
    );
    assert_eq!(after["products"][0]["billable"], holders.len() - 1);
    assert!(!billed(&after).contains(&account_id));
    assert_eq!(billed(&after), emulator_holders(&w));
}

#[tokio::test]
async fn reclaimable_only_and_limit_cut_the_entries_not_the_totals() {
    let w = World::new().await;
    let s = Http::start(&w).await;
    let client = s.client(BOT_TOKEN).await;
    let listed = tools(&client).await;
    let all = validated(
        &call(
            &client,
            "seat_report",
            json!({"products": [JSM], "limit": 500}),
        )
        .await,
        &listed,
        "seat_report",
    );
    let reclaimable: Vec<&Value> = all["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["reclaimable"] == true)
        .collect();
    assert!(
        reclaimable.len() >= 2,
        "the demo site has stale seats: {all:#}"
    );
    let threshold = all["inactive_days"].as_u64().unwrap();
    for a in &reclaimable {
        assert_eq!(a["billable"], true, "{a}");
        assert!(a["inactive_days"].as_u64().unwrap() >= threshold, "{a}");
        assert!(a["reclaim"].is_string(), "{a}");
    }

    let one = validated(
        &call(
            &client,
            "seat_report",
            json!({"products": [JSM], "reclaimable_only": true, "limit": 1}),
        )
        .await,
        &listed,
        "seat_report",
    );
    assert_eq!(one["accounts"].as_array().unwrap().len(), 1);
    assert_eq!(one["accounts"][0]["reclaimable"], true);
    assert_eq!(one["accounts_matched"], reclaimable.len());
    assert_eq!(one["truncated"], true);
    assert_eq!(
        one["products"], all["products"],
        "the totals count every account"
    );

    let e = err(&call(
        &client,
        "seat_report",
        json!({"products": ["jira-nothing"]}),
    )
    .await);
    assert_eq!(e["code"], "not_found", "{e:?}");
    let e = err(&call(&client, "seat_report", json!({"inactive_days": 0})).await);
    assert_eq!(e["argument"], "inactive_days", "{e:?}");
}
