//! Seeds: an empty site, the deterministic `demo` site, and a generator for large sites.

mod directory;

use jsm_proto::jira::AccountType;

use crate::site::{
    AccountKey, ApiToken, DeskAccess, NewAccount, Organization, ServiceDesk, Site, groups,
};

/// A year, the longest life of an Atlassian API token.
pub const TOKEN_LIFETIME_MS: i64 = 365 * 24 * 3600 * 1000;

const SEED: u64 = 0x004A_534D_4354_4C00;

const FIRST: [&str; 32] = [
    "Alice", "Bruno", "Chloe", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas",
    "Keiko", "Liam", "Maya", "Nikolai", "Olivia", "Pedro", "Quinn", "Rosa", "Sven", "Tara", "Umar",
    "Vera", "Wen", "Xavier", "Yara", "Zoltan", "Amara", "Bjorn", "Carmen", "Dev", "Emeka", "Fiona",
];
const LAST: [&str; 24] = [
    "Smith",
    "Okafor",
    "Nakamura",
    "Schmidt",
    "Garcia",
    "Kowalski",
    "Haddad",
    "Jensen",
    "Rossi",
    "Novak",
    "Silva",
    "Brennan",
    "Laurent",
    "Ivanova",
    "Mensah",
    "Tanaka",
    "Moreau",
    "Fischer",
    "Costa",
    "Lindqvist",
    "Patel",
    "Reyes",
    "Dubois",
    "Yilmaz",
];
const DOMAINS: [&str; 5] = [
    "acme.example",
    "globex.example",
    "initech.example",
    "umbrella.example",
    "mail.example",
];

/// Which site to start with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seed {
    /// Only the admin account and the standard groups.
    Empty,
    /// The demo site: 20 agents, 500 customers, three desks, two organizations.
    Demo,
    /// A generated site of about this many accounts (agents are 1%, the rest customers).
    Generated { users: usize },
}

/// Who administers the seeded site.
#[derive(Debug, Clone)]
pub struct Admin {
    pub email: String,
    pub token: String,
}

/// Builds a seeded site at time `now`.
pub fn build(seed: Seed, admin: &Admin, now: i64) -> Site {
    let mut site = Site::new(SEED);
    add_admin(&mut site, admin, now);
    match seed {
        Seed::Empty => {}
        Seed::Demo => {
            demo(&mut site, now);
            directory::provision(&mut site, now);
        }
        Seed::Generated { users } => generated(&mut site, users.saturating_sub(1), now),
    }
    site
}

fn add_admin(site: &mut Site, admin: &Admin, now: i64) {
    let key = site.add_account(
        NewAccount {
            account_type: AccountType::Atlassian,
            email: admin.email.clone(),
            display_name: "Site Admin".into(),
            email_hidden: false,
        },
        now,
    );
    for g in [
        groups::SITE_ADMINS,
        groups::JIRA_ADMINS,
        groups::JSM_USERS,
        groups::SOFTWARE_USERS,
    ] {
        join(site, g, key);
    }
    let id = site.ids.uuid();
    site.add_token(ApiToken {
        id,
        account: key,
        secret: admin.token.clone(),
        label: "admin".into(),
        created: now,
        expires_at: now + TOKEN_LIFETIME_MS,
        revoked: false,
        last_used: None,
        scoped: false,
        scopes: Vec::new(),
    });
}

fn join(site: &mut Site, group: &str, account: AccountKey) {
    let key = match site.find_group_by_name(group) {
        Some(k) => Some(k),
        None => site.create_group(group),
    };
    if let Some(g) = key.and_then(|k| site.group_mut(k)) {
        g.members.insert(account);
    }
}

fn person(i: usize) -> (&'static str, &'static str) {
    (
        FIRST[i % FIRST.len()],
        LAST[(i / FIRST.len() + i) % LAST.len()],
    )
}

fn add_person(
    site: &mut Site,
    kind: AccountType,
    i: usize,
    domain: &str,
    hidden: bool,
    now: i64,
) -> AccountKey {
    let (first, last) = person(i);
    site.add_account(
        NewAccount {
            account_type: kind,
            email: format!(
                "{}.{}{i}@{domain}",
                first.to_lowercase(),
                last.to_lowercase()
            ),
            display_name: format!("{first} {last}"),
            email_hidden: hidden,
        },
        now,
    )
}

fn demo(site: &mut Site, now: i64) {
    let mut agents = Vec::new();
    for i in 0..20 {
        let key = add_person(
            site,
            AccountType::Atlassian,
            i * 7 + 3,
            "example.com",
            i % 5 == 4,
            now,
        );
        join(site, groups::JSM_USERS, key);
        if i < 10 {
            join(site, "it-support", key);
            join(site, groups::SOFTWARE_USERS, key);
        } else if i < 15 {
            join(site, "hr-team", key);
        }
        agents.push(key);
    }
    join(site, "service-desk-leads", agents[0]);
    join(site, "service-desk-leads", agents[10]);
    join(site, groups::JIRA_ADMINS, agents[0]);
    let former = add_person(site, AccountType::Atlassian, 999, "example.com", false, now);
    site.account_mut(former).active = false;
    site.add_account(
        NewAccount {
            account_type: AccountType::App,
            email: "automation@connect.atlassian.example".into(),
            display_name: "Automation for Jira".into(),
            email_hidden: true,
        },
        now,
    );

    let customers: Vec<AccountKey> = (0..500)
        .map(|i| {
            let domain = DOMAINS[i % DOMAINS.len()];
            add_person(site, AccountType::Customer, i, domain, i % 9 == 8, now)
        })
        .collect();
    let desk = |id: u32, key: &str, name: &str, access, members: &[AccountKey]| ServiceDesk {
        id,
        project_id: 10_000 + id,
        project_key: key.into(),
        project_name: name.into(),
        access,
        customers: members.iter().copied().collect(),
        organizations: Default::default(),
    };
    let mut facilities: Vec<AccountKey> = customers[420..].to_vec();
    facilities.extend_from_slice(&customers[..50]);
    site.desks = vec![
        desk(
            1,
            "ITSD",
            "IT Service Desk",
            DeskAccess::Open,
            &customers[..300],
        ),
        desk(
            2,
            "HR",
            "HR Service Desk",
            DeskAccess::Closed,
            &customers[300..420],
        ),
        desk(
            3,
            "FAC",
            "Facilities",
            DeskAccess::PublicSignup,
            &facilities,
        ),
    ];
    for (name, domain, desks) in [
        ("Acme Corporation", DOMAINS[0], vec![0usize, 1]),
        ("Globex", DOMAINS[1], vec![0]),
    ] {
        let id = site.next_org_id();
        let members = customers
            .iter()
            .copied()
            .filter(|k| site.account(*k).email.ends_with(domain))
            .collect();
        let uuid = site.ids.uuid();
        site.organizations.insert(
            id,
            Organization {
                id,
                uuid,
                name: name.into(),
                created: now,
                members,
            },
        );
        for d in desks {
            site.desks[d].organizations.insert(id);
        }
    }
}

fn generated(site: &mut Site, users: usize, now: i64) {
    let agents = (users / 100).max(1).min(users);
    site.reserve_accounts(users);
    for p in site.products.iter_mut() {
        p.seats = Some(agents as u32 + 25);
    }
    for i in 0..agents {
        let key = add_person(
            site,
            AccountType::Atlassian,
            i,
            "example.com",
            i % 5 == 4,
            now,
        );
        join(site, groups::JSM_USERS, key);
    }
    let first_customer = site.accounts.len() as AccountKey;
    for i in agents..users {
        add_person(
            site,
            AccountType::Customer,
            i,
            DOMAINS[i % DOMAINS.len()],
            i % 9 == 8,
            now,
        );
    }
    let last = site.accounts.len() as AccountKey;
    let all: Vec<AccountKey> = (first_customer..last).collect();
    let half: Vec<AccountKey> = all.iter().copied().step_by(2).collect();
    site.desks = vec![
        ServiceDesk {
            id: 1,
            project_id: 10_001,
            project_key: "ITSD".into(),
            project_name: "IT Service Desk".into(),
            access: DeskAccess::Open,
            customers: all.into_iter().collect(),
            organizations: Default::default(),
        },
        ServiceDesk {
            id: 2,
            project_id: 10_002,
            project_key: "HR".into(),
            project_name: "HR Service Desk".into(),
            access: DeskAccess::Closed,
            customers: half.into_iter().collect(),
            organizations: Default::default(),
        },
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admin() -> Admin {
        Admin {
            email: "admin@example.com".into(),
            token: "secret".into(),
        }
    }

    #[test]
    fn demo_is_deterministic_and_shaped_as_documented() {
        let a = build(Seed::Demo, &admin(), 0);
        let b = build(Seed::Demo, &admin(), 0);
        assert_eq!(a.accounts, b.accounts);
        let customers = a
            .accounts
            .iter()
            .filter(|x| x.account_type == AccountType::Customer)
            .count();
        assert_eq!(customers, 500);
        let jsm = a.products.iter().find(|p| p.group == groups::JSM_USERS);
        assert_eq!(jsm.map(|p| a.seats_used(p)), Some(21));
        assert_eq!(a.desks.len(), 3);
        assert_eq!(a.organizations.len(), 2);
        assert!(a.accounts.iter().any(|x| x.email_hidden));
    }

    #[test]
    fn generated_site_has_the_requested_size() {
        let site = build(Seed::Generated { users: 1_000 }, &admin(), 0);
        assert_eq!(site.accounts.len(), 1_000);
        assert!(site.authenticate("admin@example.com", "secret", 1).is_ok());
    }
}
