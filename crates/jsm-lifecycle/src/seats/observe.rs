//! The reads a seat report needs, and no more: the application roles (which groups grant each product), the
//! members of each granting group, the managed accounts with per-product activity and Guard billing (admin
//! API), whether each granting group is synced by SCIM, the role assignments of each account that may hold a
//! seat (the only source of direct grants, the Trusted role and suspension), and the date added of accounts
//! that never used the product. Independent reads run concurrently; the client's limiter paces them.

use std::collections::{BTreeSet, HashMap, HashSet};

use futures::stream::{self, StreamExt, TryStreamExt};
use jsm_client::{Client, GroupRef};
use jsm_proto::admin::{AdminUser, LastActiveDates, UserRoleAssignment};
use jsm_proto::jira::{AccountType, ApplicationRole, UserDetails};

use super::policy::UserManagementSetting;
use crate::error::Result;
use crate::observe::Capabilities;

/// Product keys as the admin API spells them (`jira-servicedesk` is `jira-service-desk` there).
pub fn admin_keys(product: &str) -> [&str; 2] {
    match product {
        "jira-servicedesk" | "jira-service-desk" => ["jira-servicedesk", "jira-service-desk"],
        other => [other, other],
    }
}

/// What the site told us.
#[derive(Debug, Default)]
pub struct Facts {
    /// The application roles in scope, JSM first.
    pub roles: Vec<ApplicationRole>,
    /// Names of the groups that grant a product in scope.
    pub granting: BTreeSet<String>,
    /// Members of each granting group (and allowlist group), by group name.
    pub members: HashMap<String, Vec<UserDetails>>,
    /// Lower-case names of granting groups synced by SCIM; `None` without SCIM credentials.
    pub scim_groups: Option<HashSet<String>>,
    /// What the admin API said; `None` without its key.
    pub admin: Option<AdminFacts>,
    /// Original or centralized user management, when known.
    pub user_management: Option<UserManagementSetting>,
}

impl Facts {
    /// Granting groups of each account seen in one.
    pub fn groups_by_account(&self) -> HashMap<&str, Vec<String>> {
        let mut out: HashMap<&str, Vec<String>> = HashMap::new();
        for (group, members) in &self.members {
            for m in members {
                out.entry(m.account_id.as_str())
                    .or_default()
                    .push(group.clone());
            }
        }
        out
    }
}

/// The admin API's part.
#[derive(Debug, Default)]
pub struct AdminFacts {
    /// Managed accounts by account id.
    pub users: HashMap<String, AdminUser>,
    /// The directory suspensions go to.
    pub directory: Option<String>,
    /// Role assignments of each account that may hold a seat.
    pub roles: HashMap<String, Vec<UserRoleAssignment>>,
    /// Last-active dates (with `added_to_org`) of accounts that never used a product in scope.
    pub dates: HashMap<String, LastActiveDates>,
}

/// What to read.
#[derive(Debug, Clone)]
pub struct Scope<'a> {
    /// Product keys, or every product.
    pub products: Option<&'a [String]>,
    /// Only accounts holding a seat through this group.
    pub group: Option<&'a str>,
    /// Reads in flight.
    pub concurrency: usize,
    /// Original or centralized user management, or detect.
    pub user_management: UserManagementSetting,
    /// Groups whose members keep their seats without activity (read too, though they grant nothing).
    pub allowlist_groups: &'a [String],
}

fn in_scope(role: &ApplicationRole, products: Option<&[String]>) -> bool {
    products.is_none_or(|p| p.iter().any(|k| admin_keys(k).contains(&role.key.as_str())))
}

/// Whether the admin API reports a use of `product` by this account.
pub fn used(user: &AdminUser, product: &str) -> bool {
    let keys = admin_keys(product);
    user.product_access
        .iter()
        .any(|p| keys.contains(&p.key.as_str()) && p.last_active.is_some())
}

/// Whether the admin API lists `product` among the account's products.
pub fn has_product(user: &AdminUser, product: &str) -> bool {
    let keys = admin_keys(product);
    user.product_access
        .iter()
        .any(|p| keys.contains(&p.key.as_str()))
}

/// Reads everything the report needs.
pub async fn gather(client: &Client, caps: Capabilities, scope: &Scope<'_>) -> Result<Facts> {
    let mut roles: Vec<ApplicationRole> = client
        .application_roles()
        .list()
        .await?
        .into_iter()
        .filter(|r| in_scope(r, scope.products))
        .collect();
    roles.sort_by_key(|r| (r.key != "jira-servicedesk", r.key.clone()));
    let groups: BTreeSet<String> = roles.iter().flat_map(|r| r.groups.clone()).collect();
    let n = scope.concurrency.max(1);

    let mut read: BTreeSet<String> = groups.clone();
    read.extend(scope.allowlist_groups.iter().cloned());
    let members = stream::iter(read)
        .map(|g| async move {
            let listed = client
                .groups()
                .members(&GroupRef::name(&g))
                .include_inactive(true)
                .all()
                .await;
            let m = match listed {
                Ok(m) => m,
                // An allowlist group that does not exist has no members; granting groups come from Atlassian.
                Err(e) if e.is_not_found() => Vec::new(),
                Err(e) => return Err(e.into()),
            };
            Ok::<_, crate::Error>((g, m))
        })
        .buffer_unordered(n)
        .try_collect::<HashMap<_, _>>();
    let scim = async {
        if !caps.scim {
            return Ok(None);
        }
        let found = stream::iter(groups.iter().cloned())
            .map(|g| async move {
                let hit = client.scim().find_group_by_name(&g).await?;
                Ok::<_, crate::Error>(hit.map(|_| g.to_lowercase()))
            })
            .buffer_unordered(n)
            .try_collect::<Vec<_>>()
            .await?;
        Ok::<_, crate::Error>(Some(found.into_iter().flatten().collect::<HashSet<_>>()))
    };
    let admin_users = async {
        if !caps.admin {
            return Ok(None);
        }
        let users = client.admin().users()?.all().await?;
        let directory = client
            .admin()
            .directories()?
            .all()
            .await?
            .into_iter()
            .next()
            .map(|d| d.directory_id);
        Ok::<_, crate::Error>(Some((users, directory)))
    };
    let (members, scim_groups, admin_users) = futures::try_join!(members, scim, admin_users)?;

    let mut facts = Facts {
        granting: groups,
        roles,
        members,
        scim_groups,
        admin: None,
        user_management: match scope.user_management {
            UserManagementSetting::Detect => None,
            other => Some(other),
        },
    };
    if let Some((users, directory)) = admin_users {
        let users: HashMap<String, AdminUser> = users
            .into_iter()
            .map(|u| (u.account_id.clone(), u))
            .collect();
        let mut admin = AdminFacts {
            users,
            directory,
            ..AdminFacts::default()
        };
        read_admin_details(client, &facts, &mut admin, scope).await?;
        if facts.user_management.is_none() {
            facts.user_management = detect_user_management(client, &admin).await?;
        }
        facts.admin = Some(admin);
    }
    Ok(facts)
}

/// Accounts that may hold a seat in scope: active Atlassian accounts in a granting group (in `scope.group`
/// when given), and managed accounts the admin API lists with a product in scope though they are in no
/// granting group (direct grants, the Trusted role).
fn candidates(facts: &Facts, admin: &AdminFacts, scope: &Scope<'_>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (group, members) in &facts.members {
        if !facts.granting.contains(group)
            || scope.group.is_some_and(|g| !g.eq_ignore_ascii_case(group))
        {
            continue;
        }
        out.extend(
            members
                .iter()
                .filter(|m| m.active && m.account_type == AccountType::Atlassian)
                .map(|m| m.account_id.clone()),
        );
    }
    if scope.group.is_none() {
        for user in admin.users.values() {
            let active = user.account_status.as_deref().is_none_or(|s| s == "active");
            if active && facts.roles.iter().any(|r| has_product(user, &r.key)) {
                out.insert(user.account_id.clone());
            }
        }
    }
    out.retain(|id| admin.users.contains_key(id));
    out
}

async fn read_admin_details(
    client: &Client,
    facts: &Facts,
    admin: &mut AdminFacts,
    scope: &Scope<'_>,
) -> Result<()> {
    let Some(directory) = admin.directory.clone() else {
        return Ok(());
    };
    let wanted = candidates(facts, admin, scope);
    let n = scope.concurrency.max(1);
    let dir = directory.as_str();
    let groups_of = facts.groups_by_account();
    // Accounts that never used a product they hold: their date added is the only clock an invite has.
    let never: Vec<String> = wanted
        .iter()
        .filter(|id| {
            let groups = groups_of.get(id.as_str());
            admin.users.get(*id).is_some_and(|u| {
                facts.roles.iter().any(|r| {
                    let granted = has_product(u, &r.key)
                        || groups.is_some_and(|g| r.groups.iter().any(|x| g.contains(x)));
                    granted && !used(u, &r.key)
                })
            })
        })
        .cloned()
        .collect();
    // Two endpoints, two rate-limit buckets: read them side by side.
    let roles = stream::iter(wanted.iter().cloned())
        .map(|id| async move {
            let roles = client.admin().role_assignments(dir, &id).await?;
            Ok::<_, crate::Error>((id, roles))
        })
        .buffer_unordered(n)
        .try_collect::<HashMap<_, _>>();
    let dates = stream::iter(never)
        .map(|id| async move {
            let dates = client.admin().last_active_dates(&id).await?;
            Ok::<_, crate::Error>((id, dates))
        })
        .buffer_unordered(n)
        .try_collect::<HashMap<_, _>>();
    let (roles, dates) = futures::try_join!(roles, dates)?;
    admin.roles = roles;
    admin.dates = dates;
    Ok(())
}

/// Original or centralized, from `added_to_org` (only centralized user management has it), when it matters:
/// only an `inferred` role needs the answer (Trusted on original user management). One read at most.
async fn detect_user_management(
    client: &Client,
    admin: &AdminFacts,
) -> Result<Option<UserManagementSetting>> {
    let inferred = admin.roles.iter().find(|(_, roles)| {
        roles.iter().any(|r| {
            r.role_assignments
                .iter()
                .any(|a| a.role_assignment_methods.iter().any(|m| m == "inferred"))
        })
    });
    let Some((id, _)) = inferred else {
        return Ok(admin.dates.values().next().map(um_of));
    };
    if let Some(dates) = admin.dates.get(id).or(admin.dates.values().next()) {
        return Ok(Some(um_of(dates)));
    }
    let dates = client.admin().last_active_dates(id).await?;
    Ok(Some(um_of(&dates)))
}

fn um_of(dates: &LastActiveDates) -> UserManagementSetting {
    if dates.added_to_org.is_some() {
        UserManagementSetting::Centralized
    } else {
        UserManagementSetting::Original
    }
}
