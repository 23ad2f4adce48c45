//! From what the site said to the report, by the licensing rules: which paths grant each account a seat, whether
//! it is billed (apps, customers, deactivated and suspended accounts never are), how long it has been unused
//! (per product, less Atlassian's 24-hour lag; since it was added for accounts that never used it), and whether
//! a reclaim may take it back and how. Pure functions: no I/O.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use jsm_proto::admin::{AdminUser, UserRoleAssignment};
use jsm_proto::jira::{AccountType, ApplicationRole, UserDetails};

use super::model::{
    GuardBilling, PathKind, ProductSeats, ReclaimAction, SeatAccount, SeatPath, SeatReport,
    SeatStatus,
};
use super::observe::{Facts, admin_keys};
use super::policy::{SeatsPolicy, UserManagementSetting};
use super::{ACTIVITY_LAG_HOURS, money};

/// Groups that grant JSM by default to admins.
pub const ADMIN_GROUPS: [&str; 3] = ["site-admins", "administrators", "org-admins"];

/// Whether a group is an admin group (one of [`ADMIN_GROUPS`]).
pub fn is_admin_group(name: &str) -> bool {
    ADMIN_GROUPS.iter().any(|g| g.eq_ignore_ascii_case(name))
}

/// What the report is built from besides the facts.
#[derive(Debug, Clone)]
pub struct Inputs<'a> {
    /// The `[seats]` policy (allowlists, suspension, billing).
    pub policy: &'a SeatsPolicy,
    /// The inactivity threshold.
    pub inactive_days: u32,
    /// Only accounts holding a seat through this group.
    pub group: Option<&'a str>,
    /// Now.
    pub now: DateTime<Utc>,
    /// The site.
    pub site: &'a str,
    /// Whether the admin API key is configured.
    pub admin: bool,
    /// Whether SCIM credentials are configured.
    pub scim: bool,
    /// Calls made while reading.
    pub calls: u32,
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc())
        })
}

fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .or_else(|| parse_time(text).map(|t| t.date_naive()))
}

/// Whether a role assignment is on this product's resource.
fn on_product(a: &UserRoleAssignment, product: &str) -> bool {
    let keys = admin_keys(product);
    a.resource_owner
        .as_deref()
        .is_some_and(|o| keys.contains(&o))
        || a.resource_id.as_deref().is_some_and(|r| {
            keys.iter()
                .any(|k| r.starts_with(&format!("ari:cloud:{k}::")))
        })
}

/// The methods that assigned the product's user role (`atlassian/user` or `atlassian/admin`).
pub(crate) fn role_methods<'a>(roles: &'a [UserRoleAssignment], product: &str) -> Vec<&'a str> {
    roles
        .iter()
        .filter(|a| on_product(a, product))
        .flat_map(|a| a.role_assignments.iter())
        .filter(|r| {
            matches!(
                r.role.as_deref(),
                Some("atlassian/user") | Some("atlassian/admin")
            )
        })
        .flat_map(|r| r.role_assignment_methods.iter().map(String::as_str))
        .collect()
}

/// Whether Atlassian says the account is suspended in the directory of this product.
pub(crate) fn suspended_in(roles: &[UserRoleAssignment], product: &str) -> bool {
    roles
        .iter()
        .filter(|a| on_product(a, product))
        .any(|a| a.user_directory_status.as_deref() == Some("suspended"))
}

/// One account as seen across the sources.
struct Seen<'a> {
    id: &'a str,
    member: Option<&'a UserDetails>,
    admin: Option<&'a AdminUser>,
    roles: &'a [UserRoleAssignment],
    groups: Vec<String>,
}

fn status(seen: &Seen<'_>, product: &str) -> SeatStatus {
    let account_type = seen.member.map(|m| m.account_type).or_else(|| {
        seen.admin
            .and_then(|a| a.account_type.as_deref())
            .map(|t| match t {
                "app" => AccountType::App,
                "customer" => AccountType::Customer,
                _ => AccountType::Atlassian,
            })
    });
    match account_type {
        Some(AccountType::App) => return SeatStatus::App,
        Some(AccountType::Customer) => return SeatStatus::Customer,
        _ => {}
    }
    let admin_status = seen.admin.and_then(|a| a.account_status.as_deref());
    if matches!(admin_status, Some("inactive") | Some("closed")) {
        return SeatStatus::Deactivated;
    }
    if suspended_in(seen.roles, product) {
        return SeatStatus::Suspended;
    }
    match (seen.member.map(|m| m.active), admin_status) {
        (Some(false), Some(_)) => SeatStatus::Suspended,
        (Some(false), None) => SeatStatus::Inactive,
        _ => SeatStatus::Active,
    }
}

fn paths(
    seen: &Seen<'_>,
    role: &ApplicationRole,
    facts: &Facts,
    um: Option<UserManagementSetting>,
) -> Vec<SeatPath> {
    let mut out: Vec<SeatPath> = role
        .groups
        .iter()
        .filter(|g| seen.groups.iter().any(|x| x.eq_ignore_ascii_case(g)))
        .map(|g| SeatPath {
            kind: if role
                .default_groups
                .iter()
                .any(|d| d.eq_ignore_ascii_case(g))
            {
                PathKind::DefaultGroup
            } else if is_admin_group(g) {
                PathKind::AdminGroup
            } else {
                PathKind::Group
            },
            group: Some(g.clone()),
            scim_managed: facts
                .scim_groups
                .as_ref()
                .is_some_and(|s| s.contains(&g.to_lowercase())),
        })
        .collect();
    let methods = role_methods(seen.roles, &role.key);
    if methods.contains(&"direct") {
        out.push(SeatPath {
            kind: PathKind::Direct,
            group: None,
            scim_managed: false,
        });
    }
    if methods.contains(&"inferred") {
        out.push(SeatPath {
            kind: match um {
                Some(UserManagementSetting::Centralized) => PathKind::Inferred,
                _ => PathKind::Trusted,
            },
            group: None,
            scim_managed: false,
        });
    }
    out
}

fn not_billable_reason(status: SeatStatus) -> &'static str {
    match status {
        SeatStatus::Active => "no path grants a seat",
        SeatStatus::Deactivated => "deactivated: deactivated accounts are never billed",
        SeatStatus::Suspended => {
            "access to this site is suspended: no seat is billed (Guard may still bill it)"
        }
        SeatStatus::Inactive => {
            "inactive on the site (deactivated or suspended; the admin API key would tell which): not billed"
        }
        SeatStatus::App => "app account: accounts created by apps are not billed",
        SeatStatus::Customer => "portal-only customer: customers are free",
    }
}

/// How a reclaim frees a seat held through `paths`, safest first, and whether it frees it by itself.
pub fn reclaim_action(paths: &[SeatPath], suspend: bool) -> (ReclaimAction, bool) {
    let blocked = paths.iter().any(|p| p.scim_managed || !p.is_group());
    if !blocked {
        (ReclaimAction::RemoveGroups, true)
    } else if suspend {
        (ReclaimAction::Suspend, true)
    } else {
        (ReclaimAction::Manual, false)
    }
}

struct Judged {
    reclaimable: bool,
    reason: String,
    reclaim: Option<ReclaimAction>,
    frees: bool,
}

#[allow(
    clippy::too_many_arguments,
    reason = "one account's facts, each needed once"
)]
fn judge(
    inputs: &Inputs<'_>,
    seen: &Seen<'_>,
    billable: bool,
    status: SeatStatus,
    paths: &[SeatPath],
    email: Option<&str>,
    last_active: Option<DateTime<Utc>>,
    never: bool,
    added: Option<NaiveDate>,
    inactive: Option<u32>,
    can_suspend: bool,
) -> Judged {
    let no = |reason: String| Judged {
        reclaimable: false,
        reason,
        reclaim: None,
        frees: false,
    };
    let n = inputs.inactive_days;
    if !billable {
        return no(not_billable_reason(status).into());
    }
    if inputs.policy.allowlisted(seen.id, email, &seen.groups) {
        return no("on the seats allowlist: keeps its seat without activity".into());
    }
    if seen.admin.is_none() {
        return no(if inputs.admin {
            "not a managed account of the organization: Atlassian gives no activity date".into()
        } else {
            "no activity date without the admin API key (ATLASSIAN_ORG_ID, ATLASSIAN_ADMIN_API_KEY)"
                .into()
        });
    }
    let idle = match (last_active, never, added, inactive) {
        (Some(_), _, _, Some(d)) if d < n => {
            return no(format!("active {d} day(s) ago (threshold {n})"));
        }
        (Some(_), _, _, Some(d)) => format!("inactive {d} days (threshold {n})"),
        (None, true, Some(_), Some(d)) if d < n => {
            return no(format!(
                "never used, added {d} day(s) ago (threshold {n}): possibly a recent invite"
            ));
        }
        (None, true, Some(_), Some(d)) => format!(
            "never used, added {d} days ago: an invite never accepted, or a seat never used"
        ),
        (None, true, None, _) => {
            return no(
                "never used, and Atlassian does not say when it was added (original user management): check \
                 the invite in Atlassian Administration"
                    .into(),
            );
        }
        _ => return no("no activity date for this product".into()),
    };
    if let Some(g) = paths.iter().find(|p| p.kind == PathKind::AdminGroup) {
        return no(format!(
            "{idle}, but it holds the seat through admin group {}: jsmctl does not remove admins; remove the \
             group from the product's access in Atlassian Administration (admin rights stay)",
            g.group.as_deref().unwrap_or_default()
        ));
    }
    let (action, frees) = reclaim_action(paths, inputs.policy.suspend && can_suspend);
    let how = match action {
        ReclaimAction::RemoveGroups => "reclaim removes every granting group".to_string(),
        ReclaimAction::Suspend => format!(
            "reclaim suspends access on this site ({} cannot be changed here)",
            blocking(paths)
        ),
        ReclaimAction::Manual => format!(
            "{} keeps the seat until a person changes it: not counted as freed",
            blocking(paths)
        ),
    };
    Judged {
        reclaimable: true,
        reason: format!("{idle}; {how}"),
        reclaim: Some(action),
        frees,
    }
}

/// The paths a reclaim cannot remove through Jira, for people.
pub fn blocking(paths: &[SeatPath]) -> String {
    let parts: Vec<String> = paths
        .iter()
        .filter(|p| p.scim_managed || !p.is_group())
        .map(|p| match (&p.group, p.kind) {
            (Some(g), _) => format!("SCIM-synced group {g} (change it at the identity provider)"),
            (None, PathKind::Direct) => "a direct role grant".into(),
            (None, PathKind::Trusted) => "the Trusted role".into(),
            (None, _) => "an inferred role".into(),
        })
        .collect();
    parts.join(", ")
}

fn days_between(later: DateTime<Utc>, earlier: DateTime<Utc>) -> u32 {
    u32::try_from(later.signed_duration_since(earlier).num_days().max(0)).unwrap_or(u32::MAX)
}

/// Builds the report.
pub fn report(facts: &Facts, inputs: &Inputs<'_>) -> SeatReport {
    let lag = chrono::Duration::hours(i64::from(ACTIVITY_LAG_HOURS));
    let today = inputs.now.date_naive();
    let groups_of = facts.groups_by_account();
    let um = facts.user_management;
    let admin = facts.admin.as_ref();
    let can_suspend = admin.is_some_and(|a| a.directory.is_some());
    let empty: Vec<UserRoleAssignment> = Vec::new();
    let mut accounts = Vec::new();
    let mut products = Vec::new();
    for role in &facts.roles {
        let mut ids: Vec<&str> = role
            .groups
            .iter()
            .filter_map(|g| facts.members.get(g))
            .flatten()
            .map(|m| m.account_id.as_str())
            .collect();
        if let Some(a) = admin {
            ids.extend(
                a.roles
                    .iter()
                    .filter(|(_, r)| !role_methods(r, &role.key).is_empty())
                    .map(|(id, _)| id.as_str()),
            );
        }
        ids.sort_unstable();
        ids.dedup();
        let mut totals = ProductTotals::default();
        for id in ids {
            let member = role
                .groups
                .iter()
                .filter_map(|g| facts.members.get(g))
                .flatten()
                .find(|m| m.account_id == id);
            let seen = Seen {
                id,
                member,
                admin: admin.and_then(|a| a.users.get(id)),
                roles: admin.and_then(|a| a.roles.get(id)).unwrap_or(&empty),
                groups: groups_of.get(id).cloned().unwrap_or_default(),
            };
            let paths = paths(&seen, role, facts, um);
            if paths.is_empty() {
                continue;
            }
            if inputs.group.is_some_and(|g| {
                !paths.iter().any(|p| {
                    p.group
                        .as_deref()
                        .is_some_and(|x| x.eq_ignore_ascii_case(g))
                })
            }) {
                continue;
            }
            let status = status(&seen, &role.key);
            let billable = status == SeatStatus::Active;
            let product_access = seen.admin.and_then(|u| {
                let keys = admin_keys(&role.key);
                u.product_access
                    .iter()
                    .find(|p| keys.contains(&p.key.as_str()) && p.last_active.is_some())
            });
            let last_active = product_access
                .and_then(|p| p.last_active.as_deref())
                .and_then(parse_time);
            let never = seen.admin.is_some() && last_active.is_none();
            let added = admin
                .and_then(|a| a.dates.get(id))
                .and_then(|d| d.added_to_org.as_deref())
                .and_then(parse_date);
            let inactive = match (last_active, added) {
                (Some(at), _) => Some(days_between(inputs.now - lag, at)),
                (None, Some(d)) if never => Some(
                    u32::try_from(today.signed_duration_since(d).num_days().max(0))
                        .unwrap_or(u32::MAX),
                ),
                _ => None,
            };
            let email = member
                .and_then(|m| m.email_address.clone())
                .or_else(|| seen.admin.and_then(|u| u.email.clone()));
            let judged = judge(
                inputs,
                &seen,
                billable,
                status,
                &paths,
                email.as_deref(),
                last_active,
                never,
                added,
                inactive,
                can_suspend,
            );
            let entry = SeatAccount {
                account_id: id.to_string(),
                email,
                name: member
                    .map(|m| m.display_name.clone())
                    .or_else(|| seen.admin.map(|u| u.name.clone()))
                    .unwrap_or_default(),
                product: role.key.clone(),
                billable,
                status,
                paths,
                last_active,
                never_active: never,
                added,
                inactive_days: inactive,
                reclaimable: judged.reclaimable,
                reason: judged.reason,
                reclaim: judged.reclaim,
                frees: judged.frees,
                guard_billable: seen.admin.and_then(|u| u.access_billable),
            };
            totals.add(&entry);
            accounts.push(entry);
        }
        products.push(totals.finish(role, inputs, today));
    }
    let mut notes = vec![format!(
        "Atlassian reports last-active dates up to {ACTIVITY_LAG_HOURS} hours late: inactive_days counts only \
         days that are certain"
    )];
    if !inputs.admin {
        notes.push(
            "without the admin API key (ATLASSIAN_ORG_ID, ATLASSIAN_ADMIN_API_KEY) there are no activity dates, \
             direct grants, Trusted roles or suspensions: paths come from groups only and nothing is judged \
             reclaimable"
                .into(),
        );
    }
    if !inputs.scim {
        notes.push(
            "without SCIM credentials jsmctl cannot tell which groups the identity provider syncs; a change to \
             such a group in Atlassian would be re-synced (the reclaim re-checks each seat after apply)"
                .into(),
        );
    }
    for p in &products {
        if i64::from(p.billable) != p.atlassian_user_count && inputs.group.is_none() {
            notes.push(format!(
                "{}: Atlassian's userCount is {}, the paths found explain {}",
                p.key, p.atlassian_user_count, p.billable
            ));
        }
    }
    if let Some(a) = admin {
        let unmanaged = accounts
            .iter()
            .filter(|x| x.billable && !a.users.contains_key(&x.account_id))
            .count();
        if unmanaged > 0 {
            notes.push(format!(
                "{unmanaged} billed seat(s) belong to accounts the organization does not manage: no activity \
                 dates for them"
            ));
        }
    }
    let guard = GuardBilling {
        billable: admin.map(|a| {
            u32::try_from(
                a.users
                    .values()
                    .filter(|u| u.access_billable == Some(true))
                    .count(),
            )
            .unwrap_or(u32::MAX)
        }),
        billable_without_seat: u32::try_from(
            accounts
                .iter()
                .filter(|a| !a.billable && a.guard_billable == Some(true))
                .map(|a| a.account_id.as_str())
                .collect::<std::collections::BTreeSet<_>>()
                .len(),
        )
        .unwrap_or(u32::MAX),
        note: "Atlassian Guard bills each managed account on its own meter (access_billable); it is never \
               added to product seats, and a suspended account stays Guard-billable"
            .into(),
    };
    SeatReport {
        generated_at: inputs.now,
        site: inputs.site.to_string(),
        user_management: match um {
            Some(UserManagementSetting::Original) => "original",
            Some(UserManagementSetting::Centralized) => "centralized",
            _ => "unknown",
        }
        .into(),
        inactive_days: inputs.inactive_days,
        activity_lag_hours: ACTIVITY_LAG_HOURS,
        products,
        accounts,
        guard,
        calls: inputs.calls,
        notes,
    }
}

#[derive(Default)]
struct ProductTotals {
    billable: u32,
    by_path: BTreeMap<String, u32>,
    not_billable: BTreeMap<String, u32>,
    reclaimable: u32,
    frees: u32,
}

impl ProductTotals {
    fn add(&mut self, a: &SeatAccount) {
        if a.billable {
            self.billable += 1;
            for p in &a.paths {
                *self.by_path.entry(p.label()).or_default() += 1;
            }
        } else {
            let key = serde_json::to_value(a.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            *self.not_billable.entry(key).or_default() += 1;
        }
        if a.reclaimable {
            self.reclaimable += 1;
            self.frees += u32::from(a.frees);
        }
    }

    fn finish(self, role: &ApplicationRole, inputs: &Inputs<'_>, today: NaiveDate) -> ProductSeats {
        ProductSeats {
            key: role.key.clone(),
            name: role.name.clone(),
            billable: self.billable,
            atlassian_user_count: role.user_count,
            number_of_seats: (!role.has_unlimited_seats && role.number_of_seats >= 0)
                .then_some(role.number_of_seats),
            by_path: self.by_path,
            not_billable: self.not_billable,
            reclaimable: self.reclaimable,
            frees: self.frees,
            saving: money::saving(self.frees, inputs.policy, today),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(name: &str, scim: bool) -> SeatPath {
        SeatPath {
            kind: PathKind::Group,
            group: Some(name.into()),
            scim_managed: scim,
        }
    }

    #[test]
    fn groups_are_removed_else_the_account_is_suspended_else_a_person_acts() {
        let direct = SeatPath {
            kind: PathKind::Direct,
            group: None,
            scim_managed: false,
        };
        assert_eq!(
            reclaim_action(&[group("a", false), group("b", false)], true),
            (ReclaimAction::RemoveGroups, true)
        );
        assert_eq!(
            reclaim_action(&[group("a", false), group("idp", true)], true),
            (ReclaimAction::Suspend, true)
        );
        assert_eq!(
            reclaim_action(&[group("a", false), direct.clone()], false),
            (ReclaimAction::Manual, false),
            "without suspension a path left keeps the seat: not freed"
        );
        assert_eq!(
            blocking(&[group("idp", true), direct]),
            "SCIM-synced group idp (change it at the identity provider), a direct role grant"
        );
        assert!(is_admin_group("Site-Admins") && !is_admin_group("jira-administrators"));
    }
}
