//! The site as a reconcile sees it: every account once (by index), its email wherever one surface shows it, its
//! SCIM record, and the members of every managed desk, organization and group, read the cheapest complete way:
//! `users/search` at 1000 a page (never `user/search`, which stops at 1000 results), the SCIM list at its page
//! size, group member pages, desk customer pages at their 5/s limit, and the admin API only when hidden emails
//! need it. A targeted read (see [`super::targeted`]) asks only about the candidates instead.

use std::collections::{HashMap, HashSet};

use futures::future::try_join_all;
use jsm_client::GroupRef;
use jsm_proto::jira::AccountType;
use jsm_sources::{MembershipMode, Target};
use serde::Serialize;

use crate::engine::Engine;
use crate::error::{Error, Result};

/// What kind of account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    /// A managed or unmanaged Atlassian account (agents, staff).
    Atlassian,
    /// A portal-only JSM customer.
    Customer,
    /// An app or bot.
    App,
    /// Anything else the API reports.
    Unknown,
}

impl From<&AccountType> for AccountKind {
    fn from(t: &AccountType) -> Self {
        match t {
            AccountType::Atlassian => AccountKind::Atlassian,
            AccountType::Customer => AccountKind::Customer,
            AccountType::App => AccountKind::App,
            AccountType::Unknown => AccountKind::Unknown,
        }
    }
}

/// Which surface showed an account's email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailFrom {
    /// The Jira profile shows it.
    Profile,
    /// The profile hides it; the SCIM directory's `userName` has it.
    Scim,
    /// The profile hides it; the organizations admin API shows it.
    Admin,
    /// The profile hides it and nothing configured shows it.
    Hidden,
}

/// The SCIM user that manages an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScimRecord {
    /// SCIM id.
    pub id: String,
    /// `externalId` as the IdP set it.
    pub external_id: Option<String>,
    /// `userName` (usually the email).
    pub user_name: String,
    /// SCIM `active`.
    pub active: bool,
}

/// One account of the site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SiteAccount {
    /// Atlassian account id.
    pub account_id: String,
    /// The email, when some surface shows it.
    pub email: Option<String>,
    /// Which one.
    pub email_from: EmailFrom,
    /// Display name.
    pub display_name: String,
    /// Active on the site.
    pub active: bool,
    /// What kind of account.
    pub kind: AccountKind,
    /// Its SCIM record, when the directory manages it.
    pub scim: Option<ScimRecord>,
}

/// What kind of membership target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    /// A service desk's customers.
    ServiceDesk,
    /// A JSM organization's users.
    Organization,
    /// A Jira group's members.
    Group,
}

impl TargetKind {
    /// `service desk`, `organization` or `group`, for people.
    pub fn label(self) -> &'static str {
        match self {
            TargetKind::ServiceDesk => "desk",
            TargetKind::Organization => "organization",
            TargetKind::Group => "group",
        }
    }
}

/// A desk, organization or group whose members the reconcile manages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetView {
    /// Kind.
    pub kind: TargetKind,
    /// Desk id, organization id or group name.
    pub id: String,
    /// Desk key, organization name or group name.
    pub name: String,
    /// Additive or authoritative, from the mapping.
    pub mode: MembershipMode,
    /// Named by the mapping or by a source person (an access group only added for agents is not).
    pub explicit: bool,
    /// Member account indexes (for a targeted read: only those of the accounts asked about).
    pub members: HashSet<u32>,
    /// For groups: the SCIM group synced to it, `(id, name)`.
    pub scim_group: Option<(String, String)>,
    /// For groups: membership grants a Jira Service Management seat.
    pub grants_jsm: bool,
    /// For desks: learned to be open to every customer (JSM refuses removals there).
    pub open: bool,
}

impl TargetView {
    /// `desk HR`, `group it-support`, `organization Acme`.
    pub fn label(&self) -> String {
        format!("{} {}", self.kind.label(), self.name)
    }

    /// The mapping's name of this target, for its mode.
    pub fn mapping_target(&self) -> Target {
        match self.kind {
            TargetKind::ServiceDesk => Target::ServiceDesk(self.name.clone()),
            TargetKind::Organization => Target::Organization(self.name.clone()),
            TargetKind::Group => Target::Group(self.name.clone()),
        }
    }
}

/// The site as one reconcile read it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Observed {
    /// Every account read, by index.
    pub accounts: Vec<SiteAccount>,
    /// Managed targets.
    pub targets: Vec<TargetView>,
    /// The groups that grant Jira Service Management, the default one first.
    pub access_groups: Vec<String>,
    /// The account jsmctl runs as (never removed or deactivated by a reconcile).
    pub me: Option<u32>,
    /// Whether a SCIM directory was read (the `external_id` rule needs it).
    pub scim: bool,
    /// Whether an admin API key is configured (suspension of accounts SCIM does not manage).
    pub admin: bool,
    /// True for a full read: every account and every member of every target. False for a targeted read,
    /// which knows only the accounts it asked about.
    pub complete: bool,
    /// API calls the read made.
    pub calls: u32,
    #[serde(skip)]
    by_id: HashMap<String, u32>,
    #[serde(skip)]
    by_email: HashMap<String, Vec<u32>>,
    #[serde(skip)]
    by_external_id: HashMap<String, Vec<u32>>,
    #[serde(skip)]
    by_target: HashMap<(TargetKind, String), usize>,
    /// Accounts a `user/search` for a desired email found with the email hidden: `email -> accounts`.
    #[serde(skip)]
    searched: HashMap<String, Vec<u32>>,
}

/// Lower-cased key for emails and target names.
pub(crate) fn fold(s: &str) -> String {
    s.trim().to_lowercase()
}

impl Observed {
    /// An observation built from parts already in memory (benchmarks, tests); indexes are built here.
    pub fn from_parts(
        accounts: Vec<SiteAccount>,
        targets: Vec<TargetView>,
        access_groups: Vec<String>,
        complete: bool,
    ) -> Self {
        let mut o = Observed {
            accounts,
            targets,
            access_groups,
            complete,
            ..Observed::default()
        };
        o.reindex();
        o
    }

    /// Rebuilds every index from `accounts` and `targets`.
    pub fn reindex(&mut self) {
        self.by_id.clear();
        self.by_email.clear();
        self.by_external_id.clear();
        self.by_target.clear();
        self.by_id.reserve(self.accounts.len());
        self.by_email.reserve(self.accounts.len());
        for (i, a) in self.accounts.iter().enumerate() {
            let i = i as u32;
            self.by_id.insert(a.account_id.clone(), i);
            if let Some(e) = &a.email {
                self.by_email.entry(fold(e)).or_default().push(i);
            }
            if let Some(ext) = a.scim.as_ref().and_then(|s| s.external_id.as_ref()) {
                self.by_external_id.entry(ext.clone()).or_default().push(i);
            }
        }
        let keys: Vec<(TargetKind, String, String)> = self
            .targets
            .iter()
            .map(|t| (t.kind, t.id.clone(), t.name.clone()))
            .collect();
        for (i, (kind, id, name)) in keys.iter().enumerate() {
            self.index_target(i, *kind, id, name);
        }
    }

    fn index_target(&mut self, i: usize, kind: TargetKind, id: &str, name: &str) {
        self.by_target.insert((kind, fold(id)), i);
        self.by_target.insert((kind, fold(name)), i);
    }

    /// The index of an account id.
    pub fn account_index(&self, account_id: &str) -> Option<u32> {
        self.by_id.get(account_id).copied()
    }

    /// The account at an index.
    pub fn account(&self, i: u32) -> &SiteAccount {
        &self.accounts[i as usize]
    }

    /// Accounts whose email (shown or resolved) is this one, ignoring case; plus those a search for it found
    /// with the email hidden.
    pub fn by_email(&self, email: &str) -> Vec<u32> {
        let key = fold(email);
        let mut out: Vec<u32> = self.by_email.get(&key).cloned().unwrap_or_default();
        for i in self.searched.get(&key).into_iter().flatten() {
            if !out.contains(i) {
                out.push(*i);
            }
        }
        out
    }

    /// Whether the email candidates came from a search that cannot see the email (for the trace).
    pub fn found_by_search(&self, email: &str, account: u32) -> bool {
        self.searched
            .get(&fold(email))
            .is_some_and(|v| v.contains(&account))
    }

    /// An email a `user/search` found this account under while the account hides it.
    pub fn searched_email(&self, account: u32) -> Option<&str> {
        self.searched
            .iter()
            .find(|(_, found)| found.contains(&account))
            .map(|(email, _)| email.as_str())
    }

    /// Accounts whose SCIM record has this `externalId` (exact, as SCIM compares it).
    pub fn by_external_id(&self, external_id: &str) -> &[u32] {
        self.by_external_id
            .get(external_id)
            .map_or(&[], Vec::as_slice)
    }

    /// The target of this kind with this id, key or name (ignoring case).
    pub fn target(&self, kind: TargetKind, name: &str) -> Option<usize> {
        self.by_target.get(&(kind, fold(name))).copied()
    }

    /// Adds an account (or returns the index of the one with this id).
    pub fn add_account(&mut self, account: SiteAccount) -> u32 {
        if let Some(i) = self.by_id.get(&account.account_id) {
            return *i;
        }
        let i = self.accounts.len() as u32;
        self.by_id.insert(account.account_id.clone(), i);
        if let Some(e) = &account.email {
            self.by_email.entry(fold(e)).or_default().push(i);
        }
        if let Some(ext) = account.scim.as_ref().and_then(|s| s.external_id.as_ref()) {
            self.by_external_id.entry(ext.clone()).or_default().push(i);
        }
        self.accounts.push(account);
        i
    }

    /// Adds a target (or returns the one it duplicates).
    pub fn add_target(&mut self, target: TargetView) -> usize {
        if let Some(i) = self.target(target.kind, &target.id) {
            return i;
        }
        let i = self.targets.len();
        let (kind, id, name) = (target.kind, target.id.clone(), target.name.clone());
        self.targets.push(target);
        self.index_target(i, kind, &id, &name);
        i
    }

    /// Records that a search for `email` found an account whose email is hidden.
    pub fn add_search_hit(&mut self, email: &str, account: u32) {
        let v = self.searched.entry(fold(email)).or_default();
        if !v.contains(&account) {
            v.push(account);
        }
    }

    /// Accounts whose email no configured surface shows.
    pub fn hidden_unresolved(&self) -> usize {
        self.accounts
            .iter()
            .filter(|a| a.email.is_none() && a.kind != AccountKind::App)
            .count()
    }
}

/// The desks, organizations and groups a reconcile manages, by the names the mapping and source use.
#[derive(Debug, Clone, Default)]
pub struct Wanted {
    /// Desk keys or ids, with where they were named (for errors).
    pub desks: Vec<(String, String)>,
    /// Organization names or ids, with where.
    pub organizations: Vec<(String, String)>,
    /// Jira group names, with where.
    pub groups: Vec<(String, String)>,
    /// Whether any desired person is an agent (the JSM access group is then read too).
    pub agents: bool,
}

impl Wanted {
    /// Adds a name unless one equal to it (ignoring case) is there.
    pub fn add(&mut self, kind: TargetKind, name: &str, origin: impl Into<String>) {
        let list = match kind {
            TargetKind::ServiceDesk => &mut self.desks,
            TargetKind::Organization => &mut self.organizations,
            TargetKind::Group => &mut self.groups,
        };
        if !list.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
            list.push((name.to_string(), origin.into()));
        }
    }
}

/// Who a targeted read asks about: emails, external ids and account ids.
#[derive(Debug, Clone, Default)]
pub struct Lookups {
    /// Emails to find accounts for.
    pub emails: Vec<String>,
    /// SCIM `externalId`s to find.
    pub external_ids: Vec<String>,
    /// Account ids (links, the `account_id` rule).
    pub account_ids: Vec<String>,
    /// Whether an email no account shows may be looked for in the admin API's user list, which reads every
    /// managed account of the organization (a one-person reconcile does without).
    pub admin_scan: bool,
}

fn unknown_target(kind: TargetKind, name: &str, origin: &str) -> Error {
    let what = match kind {
        TargetKind::ServiceDesk => "service desk",
        TargetKind::Organization => "organization",
        TargetKind::Group => "Jira group",
    };
    Error::InvalidInput {
        field: origin.to_string(),
        detail: format!("names the {what} {name:?}, which does not exist on the site"),
    }
}

pub(super) fn site_account(u: &jsm_proto::jira::User) -> SiteAccount {
    account_from(
        &u.account_id,
        u.email_address.as_deref(),
        &u.display_name,
        u.active,
        &u.account_type,
    )
}

fn detail_account(u: &jsm_proto::jira::UserDetails) -> SiteAccount {
    account_from(
        &u.account_id,
        u.email_address.as_deref(),
        &u.display_name,
        u.active,
        &u.account_type,
    )
}

/// An account as a user listing shows it: the email from the profile, or hidden.
fn account_from(
    account_id: &str,
    email: Option<&str>,
    display_name: &str,
    active: bool,
    account_type: &jsm_proto::jira::AccountType,
) -> SiteAccount {
    SiteAccount {
        account_id: account_id.to_string(),
        email: email.map(str::to_string),
        email_from: if email.is_some() {
            EmailFrom::Profile
        } else {
            EmailFrom::Hidden
        },
        display_name: display_name.to_string(),
        active,
        kind: AccountKind::from(account_type),
        scim: None,
    }
}

pub(super) fn scim_record(u: &jsm_proto::scim::ScimUser) -> Option<ScimRecord> {
    Some(ScimRecord {
        id: u.id.clone()?,
        external_id: u.external_id.clone(),
        user_name: u.user_name.clone(),
        active: u.active.unwrap_or(true),
    })
}

impl Engine {
    /// Reads the site the cheapest complete way for a reconcile that manages `wanted`; `emails` are the desired
    /// people's, searched one by one only when the site has accounts whose email nothing configured shows.
    pub async fn observe_site(
        &self,
        wanted: &Wanted,
        modes: &(dyn Fn(&Target) -> MembershipMode + Sync),
        emails: &[&str],
    ) -> Result<Observed> {
        let before = self.calls_sent();
        let mut o = Observed {
            scim: self.caps.scim,
            admin: self.caps.admin,
            complete: true,
            ..Observed::default()
        };
        self.resolve_targets(&mut o, wanted, modes).await?;
        // Accounts, SCIM users and the caller in parallel: different endpoints, different rate buckets.
        let (users, scim_users, me) = futures::try_join!(
            async { Ok::<_, Error>(self.client.users().list().all().await?) },
            async {
                if self.caps.scim {
                    Ok(self.client.scim().users().all().await?)
                } else {
                    Ok(Vec::new())
                }
            },
            async { Ok(self.client.users().myself().await?) },
        )?;
        o.accounts.reserve(users.len());
        for u in &users {
            o.add_account(site_account(u));
        }
        drop(users);
        o.me = o.account_index(&me.account_id);
        for su in &scim_users {
            let Some(i) = su.atlassian_account_id().and_then(|id| o.account_index(id)) else {
                continue;
            };
            let a = &mut o.accounts[i as usize];
            a.scim = scim_record(su);
            if a.email.is_none() {
                a.email = Some(su.user_name.clone());
                a.email_from = EmailFrom::Scim;
            }
        }
        drop(scim_users);
        if self.caps.admin && o.hidden_unresolved() > 0 {
            let admin = self.client.admin().users()?.all().await?;
            for au in admin {
                if let (Some(i), Some(email)) = (o.account_index(&au.account_id), au.email) {
                    let a = &mut o.accounts[i as usize];
                    if a.email.is_none() {
                        a.email = Some(email);
                        a.email_from = EmailFrom::Admin;
                    }
                }
            }
        }
        o.reindex();
        self.read_members(&mut o).await?;
        self.search_hidden(&mut o, emails).await?;
        o.calls = self.calls_sent().saturating_sub(before);
        Ok(o)
    }

    /// Desks, organizations and groups: each name resolved (an unknown one is refused, naming where it came
    /// from), the JSM access groups, and learned facts (open desks).
    pub(super) async fn resolve_targets(
        &self,
        o: &mut Observed,
        wanted: &Wanted,
        modes: &(dyn Fn(&Target) -> MembershipMode + Sync),
    ) -> Result<()> {
        let observe = self.observe();
        let (desks, orgs, access) = futures::try_join!(
            async {
                if wanted.desks.is_empty() {
                    Ok(Vec::new())
                } else {
                    observe.desks().await
                }
            },
            async {
                if wanted.organizations.is_empty() {
                    Ok(Vec::new())
                } else {
                    observe.organizations().await
                }
            },
            async {
                if wanted.agents || !wanted.groups.is_empty() {
                    observe.jsm_access_groups().await
                } else {
                    Ok(Vec::new())
                }
            },
        )?;
        o.access_groups = access;
        let open: HashSet<String> = self
            .store
            .site_facts(&self.site, super::links::OPEN_DESK)
            .await?
            .into_iter()
            .map(|f| f.key)
            .collect();
        for (name, origin) in &wanted.desks {
            let desk = desks
                .iter()
                .find(|d| d.id == *name || d.key.eq_ignore_ascii_case(name))
                .ok_or_else(|| unknown_target(TargetKind::ServiceDesk, name, origin))?;
            o.add_target(TargetView {
                kind: TargetKind::ServiceDesk,
                id: desk.id.clone(),
                name: desk.key.clone(),
                mode: modes(&Target::ServiceDesk(desk.key.clone())),
                explicit: true,
                members: HashSet::new(),
                scim_group: None,
                grants_jsm: false,
                open: open.contains(&desk.id),
            });
        }
        for (name, origin) in &wanted.organizations {
            let org = orgs
                .iter()
                .find(|g| g.id == *name || g.name.eq_ignore_ascii_case(name))
                .ok_or_else(|| unknown_target(TargetKind::Organization, name, origin))?;
            o.add_target(TargetView {
                kind: TargetKind::Organization,
                id: org.id.clone(),
                name: org.name.clone(),
                mode: modes(&Target::Organization(org.name.clone())),
                explicit: true,
                members: HashSet::new(),
                scim_group: None,
                grants_jsm: false,
                open: false,
            });
        }
        let mut groups: Vec<(String, bool, String)> = wanted
            .groups
            .iter()
            .map(|(n, origin)| (n.clone(), true, origin.clone()))
            .collect();
        if wanted.agents
            && let Some(default) = o.access_groups.first()
            && !groups
                .iter()
                .any(|(g, _, _)| g.eq_ignore_ascii_case(default))
        {
            groups.push((default.clone(), false, "the JSM access group".into()));
        }
        let found = try_join_all(groups.iter().map(|(name, _, _)| async move {
            let details = self.client.groups().get(&GroupRef::name(name)).await?;
            let scim = match details {
                Some(_) => self.observe().scim_group(name).await?,
                None => None,
            };
            Ok::<_, Error>((details, scim))
        }))
        .await?;
        for ((name, explicit, origin), (details, scim)) in groups.iter().zip(found) {
            let Some(details) = details else {
                return Err(unknown_target(TargetKind::Group, name, origin));
            };
            let grants_jsm = o
                .access_groups
                .iter()
                .any(|g| g.eq_ignore_ascii_case(&details.name));
            o.add_target(TargetView {
                kind: TargetKind::Group,
                id: details.name.clone(),
                name: details.name.clone(),
                mode: modes(&Target::Group(details.name.clone())),
                explicit: *explicit,
                members: HashSet::new(),
                scim_group: scim,
                grants_jsm,
                open: false,
            });
        }
        Ok(())
    }

    /// Every member of every target (inactive ones too), all targets at once.
    async fn read_members(&self, o: &mut Observed) -> Result<()> {
        let lists = try_join_all(o.targets.iter().map(|t| async move {
            let ids: Vec<SiteAccount> = match t.kind {
                TargetKind::Group => self
                    .client
                    .groups()
                    .members(&GroupRef::name(&t.name))
                    .include_inactive(true)
                    .all()
                    .await?
                    .iter()
                    .map(detail_account)
                    .collect(),
                TargetKind::ServiceDesk => self
                    .client
                    .customers()
                    .list(&t.id)
                    .all()
                    .await?
                    .into_iter()
                    .map(|c| customer_account(&c))
                    .collect(),
                TargetKind::Organization => self
                    .client
                    .organizations()
                    .users(&t.id)
                    .all()
                    .await?
                    .into_iter()
                    .map(|c| customer_account(&c))
                    .collect(),
            };
            Ok::<_, Error>(ids)
        }))
        .await?;
        for (t, members) in lists.into_iter().enumerate() {
            for m in members {
                let i = o.add_account(m);
                o.targets[t].members.insert(i);
            }
        }
        Ok(())
    }

    /// For desired emails no account shows, when some accounts hide theirs: a `user/search` for the email,
    /// which matches hidden emails too but answers without them. One call per such email, so only then.
    async fn search_hidden(&self, o: &mut Observed, emails: &[&str]) -> Result<()> {
        if o.hidden_unresolved() == 0 {
            return Ok(());
        }
        let missing: Vec<&str> = emails
            .iter()
            .copied()
            .filter(|e| o.by_email(e).is_empty())
            .collect();
        for chunk in missing.chunks(16) {
            let found = try_join_all(chunk.iter().map(|email| self.search_email(email))).await?;
            for (email, users) in chunk.iter().zip(found) {
                for u in users {
                    let i = o.add_account(site_account(&u));
                    if o.account(i).email.is_none() {
                        o.add_search_hit(email, i);
                    }
                }
            }
        }
        Ok(())
    }

    /// Accounts a `user/search` for the email finds, at most one page (a longer answer is no exact match).
    pub(super) async fn search_email(&self, email: &str) -> Result<Vec<jsm_proto::jira::User>> {
        use futures::TryStreamExt;
        let mut found = Vec::new();
        let mut stream = self
            .client
            .users()
            .search(email)
            .page_size(50)
            .max_pages(1)
            .into_stream();
        loop {
            match stream.try_next().await {
                Ok(Some(u)) => found.push(u),
                Ok(None) | Err(jsm_client::Error::Truncated { .. }) => break,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(found)
    }
}

fn customer_account(c: &jsm_proto::jsm::Customer) -> SiteAccount {
    SiteAccount {
        account_id: c.account_id.clone(),
        email: c.email_address.clone(),
        email_from: if c.email_address.is_some() {
            EmailFrom::Profile
        } else {
            EmailFrom::Hidden
        },
        display_name: c.display_name.clone(),
        active: c.active,
        kind: AccountKind::Customer,
        scim: None,
    }
}
