//! Turns site records into the wire objects each surface shows, applying profile privacy in one place.

use jsm_proto::jira::{ApplicationRole, AvatarUrls, GroupName, SimpleList, User, UserDetails};
use jsm_proto::jsm::{Customer, CustomerLinks};

use crate::http::Ctx;
use crate::site::{AccountKey, Group, Product, Site};

/// Avatar URLs built from the account's initials, as Atlassian does for accounts without a picture.
pub fn avatar_urls(site: &Site, key: AccountKey) -> AvatarUrls {
    let initials = site.account(key).initials();
    let shade = key % 6;
    let url = |size: u32| {
        format!(
            "https://avatar-management--avatars.us-west-2.prod.public.atl-paas.net/initials/{initials}-{shade}.png?size={size}&s={size}"
        )
    };
    AvatarUrls {
        x16: url(16),
        x24: url(24),
        x32: url(32),
        x48: url(48),
    }
}

/// Which optional parts of a user to expand.
#[derive(Debug, Clone, Copy, Default)]
pub struct Expand {
    pub groups: bool,
    pub roles: bool,
}

impl Expand {
    /// Reads `expand=groups,applicationRoles`.
    pub fn from_ctx(ctx: &Ctx) -> Self {
        let mut e = Expand::default();
        for part in ctx.params.all("expand").iter().flat_map(|v| v.split(',')) {
            match part.trim() {
                "groups" => e.groups = true,
                "applicationRoles" => e.roles = true,
                _ => {}
            }
        }
        e
    }
}

/// A Jira user with `groups` and `applicationRoles` counted, and listed when expanded.
pub fn user(ctx: &Ctx, site: &Site, key: AccountKey, expand: Expand) -> User {
    let account = site.account(key);
    let groups: Vec<&Group> = site
        .groups_of(key)
        .into_iter()
        .filter_map(|g| site.group(g))
        .collect();
    let roles: Vec<&Product> = site
        .products
        .iter()
        .filter(|p| !site.grants(key, p).is_empty())
        .collect();
    let group_items = if expand.groups {
        let mut names: Vec<GroupName> = groups.iter().map(|g| group_name(ctx, g)).collect();
        names.sort_by(|a, b| a.name.cmp(&b.name));
        names
    } else {
        Vec::new()
    };
    let role_items = if expand.roles {
        roles
            .iter()
            .map(|p| application_role(ctx, site, p))
            .collect()
    } else {
        Vec::new()
    };
    User {
        self_url: ctx.jira_url(&format!("/user?accountId={}", encode(&account.account_id))),
        account_id: account.account_id.clone(),
        account_type: account.account_type,
        app_type: matches!(account.account_type, jsm_proto::jira::AccountType::App)
            .then(|| "service".to_string()),
        email_address: account.visible_email().map(str::to_string),
        avatar_urls: avatar_urls(site, key),
        display_name: account.display_name.clone(),
        active: account.active && account.site_access && !account.suspended,
        time_zone: Some(account.time_zone().to_string()),
        locale: Some("en_US".to_string()),
        groups: Some(SimpleList {
            size: groups.len() as u32,
            items: group_items,
            max_results: None,
        }),
        application_roles: Some(SimpleList {
            size: roles.len() as u32,
            items: role_items,
            max_results: None,
        }),
        expand: Some("groups,applicationRoles".to_string()),
    }
}

/// The trimmed user of member lists.
pub fn user_details(ctx: &Ctx, site: &Site, key: AccountKey) -> UserDetails {
    let account = site.account(key);
    UserDetails {
        self_url: ctx.jira_url(&format!("/user?accountId={}", encode(&account.account_id))),
        account_id: account.account_id.clone(),
        account_type: account.account_type,
        email_address: account.visible_email().map(str::to_string),
        avatar_urls: avatar_urls(site, key),
        display_name: account.display_name.clone(),
        active: account.active && !account.suspended,
        time_zone: Some(account.time_zone().to_string()),
    }
}

/// A group reference with its self link.
pub fn group_name(ctx: &Ctx, group: &Group) -> GroupName {
    GroupName {
        name: group.name.clone(),
        group_id: Some(group.group_id.clone()),
        self_url: Some(ctx.jira_url(&format!("/group?groupId={}", group.group_id))),
    }
}

/// A product licence: every group that grants it (default group first), and seat counts by Atlassian's rules
/// (every path counted once; apps, customers, deactivated and suspended accounts never).
pub fn application_role(ctx: &Ctx, site: &Site, product: &Product) -> ApplicationRole {
    let used = i64::from(site.seats_used(product));
    let granting: Vec<&Group> = site
        .granting_groups(product)
        .into_iter()
        .filter_map(|k| site.group(k))
        .collect();
    let defaults: Vec<&Group> = granting
        .iter()
        .copied()
        .filter(|g| g.name.eq_ignore_ascii_case(&product.group))
        .collect();
    let seats = product.seats.map_or(-1, i64::from);
    ApplicationRole {
        key: product.key.clone(),
        name: product.name.clone(),
        groups: granting.iter().map(|g| g.name.clone()).collect(),
        group_details: granting.iter().map(|g| group_name(ctx, g)).collect(),
        default_groups: defaults.iter().map(|g| g.name.clone()).collect(),
        default_groups_details: defaults.iter().map(|g| group_name(ctx, g)).collect(),
        selected_by_default: false,
        defined: true,
        number_of_seats: seats,
        remaining_seats: if seats < 0 { -1 } else { (seats - used).max(0) },
        user_count: used,
        user_count_description: if used == 1 {
            "user".into()
        } else {
            "users".into()
        },
        has_unlimited_seats: product.seats.is_none(),
        platform: false,
    }
}

/// A user as JSM shows it.
pub fn customer(ctx: &Ctx, site: &Site, key: AccountKey) -> Customer {
    let account = site.account(key);
    let id = encode(&account.account_id);
    Customer {
        account_id: account.account_id.clone(),
        email_address: account.visible_email().map(str::to_string),
        display_name: account.display_name.clone(),
        active: account.active,
        time_zone: Some(account.time_zone().to_string()),
        links: CustomerLinks {
            jira_rest: format!("{}/rest/api/2/user?accountId={id}", ctx.base),
            avatar_urls: avatar_urls(site, key),
            self_url: format!("{}/rest/api/2/user?accountId={id}", ctx.base),
        },
    }
}

/// Percent-encodes a query value (account ids contain `:`).
pub fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
