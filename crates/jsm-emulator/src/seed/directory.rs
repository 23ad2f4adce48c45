//! The demo directory: the demo's Atlassian accounts (the admin and the app excepted) as SCIM-managed users of an
//! identity provider, `it-support` and `hr-team` as SCIM-synced groups, and last-active dates spread over the
//! past year (some seats stale for more than 90 days), all relative to the seeding time on the emulator clock.

use jsm_proto::jira::AccountType;
use serde_json::{Map, json};

use crate::site::{AccountKey, DirectoryGroup, DirectoryUser, Site};

const DAY_MS: i64 = 24 * 3600 * 1000;

/// Adds the demo directory to a seeded site.
pub fn provision(site: &mut Site, now: i64) {
    let managed: Vec<AccountKey> = (1..site.accounts.len() as AccountKey)
        .filter(|k| site.account(*k).account_type == AccountType::Atlassian)
        .collect();
    for (i, key) in managed.iter().copied().enumerate() {
        let account = site.account(key).clone();
        let (given, family) = account
            .display_name
            .split_once(' ')
            .unwrap_or((account.display_name.as_str(), ""));
        let in_hr = site.is_member_of(key, "hr-team");
        let mut attributes = Map::new();
        attributes.insert(
            "name".into(),
            json!({
                "givenName": given,
                "familyName": family,
                "formatted": account.display_name,
            }),
        );
        attributes.insert("displayName".into(), json!(account.display_name));
        attributes.insert(
            "emails".into(),
            json!([{
                "value": account.email, "type": "work", "primary": true
            }]),
        );
        attributes.insert(
            "title".into(),
            json!(if in_hr {
                "HR Partner"
            } else {
                "IT Support Engineer"
            }),
        );
        attributes.insert(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".into(),
            json!({ "department": if in_hr { "HR" } else { "IT" }, "organization": "Example Corp" }),
        );
        let created = now - (400 - i as i64 * 5) * DAY_MS;
        let id = site.ids.uuid();
        site.directory.add_user(DirectoryUser {
            id,
            account: key,
            user_name: account.email.clone(),
            external_id: Some(format!("00u{:017}", 1_000 + i)),
            attributes,
            active: Some(account.active),
            deleted: false,
            created,
            last_modified: created,
        });
    }
    for name in ["it-support", "hr-team"] {
        let Some(group) = site.find_group_by_name(name) else {
            continue;
        };
        let id = site.ids.uuid();
        site.directory.add_group(DirectoryGroup {
            id,
            group,
            external_id: Some(format!("grp-{name}")),
            displays: Default::default(),
            created: now - 400 * DAY_MS,
            last_modified: now - 30 * DAY_MS,
        });
    }
    seed_activity(site, now);
}

/// Last-active dates for every licensed account: most within a month, every fourth over 90 days ago.
fn seed_activity(site: &mut Site, now: i64) {
    let products: Vec<(String, String)> = site
        .products
        .iter()
        .map(|p| (p.key.clone(), p.group.clone()))
        .collect();
    for key in 0..site.accounts.len() as AccountKey {
        if site.account(key).account_type != AccountType::Atlassian {
            continue;
        }
        let days = match key % 4 {
            0 if key > 0 => 95 + i64::from(key) * 3,
            _ => i64::from(key % 23),
        };
        let mut latest = None;
        for (n, (product, group)) in products.iter().enumerate() {
            if site.is_member_of(key, group) {
                let at = now - (days + n as i64 * 2) * DAY_MS;
                site.directory.record(key, product, at);
                latest = latest.max(Some(at));
            }
        }
        site.account_mut(key).last_active = latest;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::{Admin, Seed, build};
    use serde_json::Value;

    fn attr<'a>(site: &'a Site, i: usize, name: &str) -> Option<&'a Value> {
        site.directory.users.get(i)?.attributes.get(name)
    }

    #[test]
    fn demo_agents_are_scim_managed_and_some_seats_are_stale() {
        let admin = Admin {
            email: "admin@example.com".into(),
            token: "t".into(),
        };
        let now = 1_800_000_000_000;
        let site = build(Seed::Demo, &admin, now);
        assert_eq!(site.directory.users.len(), 21);
        assert!(attr(&site, 0, "emails").is_some());
        assert_eq!(site.directory.live_groups().count(), 2);
        let stale = site
            .directory
            .activity
            .values()
            .filter(|p| p.values().all(|at| now - at > 90 * DAY_MS))
            .count();
        assert!(stale >= 3, "{stale}");
        assert!(site.directory.users.iter().any(|u| u.active == Some(false)));
    }
}
