//! The whole emulated site: accounts, groups, products, service desks, organizations and API tokens, with the
//! indexes that make lookups O(1). One `Site` sits behind every surface, so a change made through one API shows
//! in all of them.

mod account;
mod desk;
mod directory;
mod directory_file;
mod file;
mod group;
mod oauth;
mod product;
mod provisioning;
mod seat;
mod secret;
mod token;
mod webhook;

pub use account::{Account, AccountKey, NewAccount, TIME_ZONES, valid_email};
pub use desk::{DeskAccess, Organization, ServiceDesk};
pub use directory::{
    ACTIVITY_LAG_MS, DIRECTORY_USER_LIMIT, Directory, DirectoryGroup, DirectoryLimits,
    DirectoryUser, GROUP_MEMBER_LIMIT,
};
pub use directory_file::{DirectoryFile, DirectoryGroupFile, DirectoryUserFile};
pub use file::SiteFile;
pub use group::{Group, GroupKey};
pub use oauth::{
    ACCESS_TOKEN_LIFETIME_MS, AccessFailure, AuthCode, CODE_LIFETIME_MS, Grant, GrantFailure,
    Issued, OAuthApp, OAuthState, OFFLINE_ACCESS, REFRESH_ABSOLUTE_MS, REFRESH_INACTIVITY_MS,
    REUSE_LEEWAY_MS,
};
pub use product::{Perms, Product};
pub use provisioning::{display_name as scim_display_name, primary_email};
pub use seat::{SeatPath, UserManagement};
pub use secret::{Redacted, constant_time_eq};
pub use token::{ApiToken, AuthFailure};
pub use webhook::{
    APP_WEBHOOK_LIFETIME_MS, AdminWebhook, AppWebhook, PendingEvent, UserEventKind, UserSnapshot,
    Webhooks,
};

use std::collections::{BTreeMap, HashMap};

use crate::ids::IdGen;

/// Names of groups with special meaning.
pub mod groups {
    /// Members are site administrators.
    pub const SITE_ADMINS: &str = "site-admins";
    /// Members hold the *Administer Jira* global permission.
    pub const JIRA_ADMINS: &str = "jira-administrators";
    /// Product-access group of Jira Service Management: members are agents holding a seat.
    pub const JSM_USERS: &str = "jira-servicemanagement-users";
    /// Product-access group of Jira Software.
    pub const SOFTWARE_USERS: &str = "jira-software-users";
    /// Admin group of older sites; grants JSM by default.
    pub const ADMINISTRATORS: &str = "administrators";
    /// Organization admins (centralized user management); grants JSM by default.
    pub const ORG_ADMINS: &str = "org-admins";
}

/// The emulated site and its indexes.
#[derive(Debug, Clone)]
pub struct Site {
    pub ids: IdGen,
    pub accounts: Vec<Account>,
    pub groups: Vec<Option<Group>>,
    pub products: Vec<Product>,
    pub desks: Vec<ServiceDesk>,
    pub organizations: BTreeMap<u32, Organization>,
    pub next_organization_id: u32,
    pub tokens: Vec<ApiToken>,
    /// The organization's identity directory: SCIM users and groups, removals, last-active dates.
    pub directory: Directory,
    /// OAuth 2.0 (3LO) apps, codes and token families.
    pub oauth: OAuthState,
    /// Webhook registrations and the outbox of user events.
    pub webhooks: Webhooks,
    /// Original or centralized user management (which paths grant seats, which admin calls exist).
    pub user_management: UserManagement,
    by_account_id: HashMap<Box<str>, AccountKey>,
    by_email: HashMap<Box<str>, AccountKey>,
    group_by_name: HashMap<String, GroupKey>,
    group_by_id: HashMap<String, GroupKey>,
    token_by_secret: HashMap<String, usize>,
}

impl Site {
    /// An empty site with the standard products and groups.
    pub fn new(seed: u64) -> Self {
        let mut site = Self {
            ids: IdGen::new(seed),
            accounts: Vec::new(),
            groups: Vec::new(),
            products: Product::defaults(),
            desks: Vec::new(),
            organizations: BTreeMap::new(),
            next_organization_id: 1,
            tokens: Vec::new(),
            directory: Directory::default(),
            oauth: OAuthState::default(),
            webhooks: Webhooks::default(),
            user_management: UserManagement::default(),
            by_account_id: HashMap::new(),
            by_email: HashMap::new(),
            group_by_name: HashMap::new(),
            group_by_id: HashMap::new(),
            token_by_secret: HashMap::new(),
        };
        let mut standard = vec![
            groups::SITE_ADMINS.to_string(),
            groups::JIRA_ADMINS.to_string(),
        ];
        standard.extend(site.products.iter().map(|p| p.group.clone()));
        for name in standard {
            // The names are distinct, so creation cannot fail.
            let _ = site.create_group(&name);
        }
        site
    }

    /// Reserves room for `n` more accounts (large generated sites).
    pub fn reserve_accounts(&mut self, n: usize) {
        self.accounts.reserve(n);
        self.by_account_id.reserve(n);
        self.by_email.reserve(n);
    }

    /// The account behind a key.
    pub fn account(&self, key: AccountKey) -> &Account {
        &self.accounts[key as usize]
    }

    /// The account behind a key, for changes.
    pub fn account_mut(&mut self, key: AccountKey) -> &mut Account {
        &mut self.accounts[key as usize]
    }

    /// Finds an account by its Atlassian account id.
    pub fn find_account(&self, account_id: &str) -> Option<AccountKey> {
        self.by_account_id.get(account_id).copied()
    }

    /// Finds an account by email, ignoring case.
    pub fn find_by_email(&self, email: &str) -> Option<AccountKey> {
        self.by_email
            .get(email.to_ascii_lowercase().as_str())
            .copied()
    }

    /// Adds an account; the caller has checked that the email is free.
    pub fn add_account(&mut self, new: NewAccount, now: i64) -> AccountKey {
        let account_id = match new.account_type {
            jsm_proto::jira::AccountType::Customer => self.ids.customer_account_id(),
            _ => self.ids.atlassian_account_id(),
        };
        let tz = (self.ids.next_u64() % TIME_ZONES.len() as u64) as u8;
        self.insert_account(Account {
            account_id,
            account_type: new.account_type,
            email: new.email,
            display_name: new.display_name,
            active: true,
            email_hidden: new.email_hidden,
            tz,
            site_access: true,
            created: now,
            last_active: None,
            suspended: false,
            direct_roles: Vec::new(),
            trusted: false,
        })
    }

    fn insert_account(&mut self, account: Account) -> AccountKey {
        let key = self.accounts.len() as AccountKey;
        self.by_account_id
            .insert(account.account_id.clone().into_boxed_str(), key);
        self.by_email
            .insert(account.email.to_ascii_lowercase().into_boxed_str(), key);
        self.accounts.push(account);
        key
    }

    /// The group behind a key, if it still exists.
    pub fn group(&self, key: GroupKey) -> Option<&Group> {
        self.groups.get(key as usize).and_then(Option::as_ref)
    }

    /// The group behind a key, for changes.
    pub fn group_mut(&mut self, key: GroupKey) -> Option<&mut Group> {
        self.groups.get_mut(key as usize).and_then(Option::as_mut)
    }

    /// Existing groups with their keys, in creation order.
    pub fn live_groups(&self) -> impl Iterator<Item = (GroupKey, &Group)> {
        self.groups
            .iter()
            .enumerate()
            .filter_map(|(i, g)| g.as_ref().map(|g| (i as GroupKey, g)))
    }

    /// Finds a group by name, ignoring case (Jira group names are case-insensitive).
    pub fn find_group_by_name(&self, name: &str) -> Option<GroupKey> {
        self.group_by_name.get(&name.to_lowercase()).copied()
    }

    /// Finds a group by its id.
    pub fn find_group_by_id(&self, id: &str) -> Option<GroupKey> {
        self.group_by_id.get(id).copied()
    }

    /// Creates a group; `None` when the name is taken.
    pub fn create_group(&mut self, name: &str) -> Option<GroupKey> {
        if self.find_group_by_name(name).is_some() {
            return None;
        }
        let group = Group::new(self.ids.uuid(), name.to_string());
        let key = self.groups.len() as GroupKey;
        self.group_by_name.insert(name.to_lowercase(), key);
        self.group_by_id.insert(group.group_id.clone(), key);
        self.groups.push(Some(group));
        Some(key)
    }

    /// Deletes a group and its memberships.
    pub fn delete_group(&mut self, key: GroupKey) {
        if let Some(group) = self.groups.get_mut(key as usize).and_then(Option::take) {
            self.group_by_name.remove(&group.name.to_lowercase());
            self.group_by_id.remove(&group.group_id);
        }
    }

    /// Keys of the groups an account belongs to.
    pub fn groups_of(&self, account: AccountKey) -> Vec<GroupKey> {
        self.live_groups()
            .filter(|(_, g)| g.members.contains(&account))
            .map(|(k, _)| k)
            .collect()
    }

    /// Whether the account is in the group with this name.
    pub fn is_member_of(&self, account: AccountKey, group_name: &str) -> bool {
        self.find_group_by_name(group_name)
            .and_then(|k| self.group(k))
            .is_some_and(|g| g.members.contains(&account))
    }

    /// Accounts ordered the way Jira lists them: by display name, then account id.
    pub fn sort_accounts(&self, keys: &mut [AccountKey]) {
        keys.sort_by(|a, b| {
            let (a, b) = (self.account(*a), self.account(*b));
            a.display_name
                .to_lowercase()
                .cmp(&b.display_name.to_lowercase())
                .then_with(|| a.account_id.cmp(&b.account_id))
        });
    }

    /// Finds a service desk by any of the identifiers JSM accepts: `15`, `ABC`, `projectKey:ABC`,
    /// `projectId:10012`, `serviceDeskId:15`.
    pub fn find_desk(&self, ident: &str) -> Option<usize> {
        let (kind, value) = ident.split_once(':').unwrap_or(("", ident));
        self.desks.iter().position(|d| match kind {
            "projectKey" => d.project_key.eq_ignore_ascii_case(value),
            "projectId" => d.project_id.to_string() == value,
            "serviceDeskId" => d.id.to_string() == value,
            _ => d.id.to_string() == value || d.project_key.eq_ignore_ascii_case(value),
        })
    }

    /// Allocates the next organization id.
    pub fn next_org_id(&mut self) -> u32 {
        let id = self.next_organization_id;
        self.next_organization_id += 1;
        id
    }

    /// Finds an organization by name, ignoring case.
    pub fn find_org_by_name(&self, name: &str) -> Option<u32> {
        self.organizations
            .values()
            .find(|o| o.name.eq_ignore_ascii_case(name))
            .map(|o| o.id)
    }

    /// Changes an account's email and keeps the email index in step; the caller checked that it is free.
    pub fn set_email(&mut self, key: AccountKey, email: &str) {
        let old = std::mem::replace(&mut self.accounts[key as usize].email, email.to_string());
        self.by_email.remove(old.to_ascii_lowercase().as_str());
        self.by_email
            .insert(email.to_ascii_lowercase().into_boxed_str(), key);
    }

    /// Registers an API token.
    pub fn add_token(&mut self, token: ApiToken) -> usize {
        let idx = self.tokens.len();
        self.token_by_secret.insert(token.secret.clone(), idx);
        self.tokens.push(token);
        idx
    }

    /// Checks Basic credentials: the email must own the token, which must be live and the account active.
    pub fn authenticate(
        &self,
        email: &str,
        secret: &str,
        now: i64,
    ) -> Result<AccountKey, AuthFailure> {
        let idx = self
            .token_by_secret
            .get(secret)
            .ok_or(AuthFailure::Unknown)?;
        let token = &self.tokens[*idx];
        let account = self.account(token.account);
        if !account.email.eq_ignore_ascii_case(email) {
            return Err(AuthFailure::Unknown);
        }
        if token.revoked {
            return Err(AuthFailure::Revoked);
        }
        if token.expires_at <= now {
            return Err(AuthFailure::Expired);
        }
        if !account.active || account.suspended {
            return Err(AuthFailure::Inactive);
        }
        Ok(token.account)
    }
}

impl Site {
    /// What an account may do, from its group memberships and product roles.
    pub fn perms(&self, account: AccountKey) -> Perms {
        let mut perms = Perms::default();
        for (_, g) in self
            .live_groups()
            .filter(|(_, g)| g.members.contains(&account))
        {
            let name = g.name.as_str();
            perms.site_admin |= name.eq_ignore_ascii_case(groups::SITE_ADMINS);
            perms.jira_admin |= name.eq_ignore_ascii_case(groups::JIRA_ADMINS);
        }
        let mut licensed = false;
        for p in &self.products {
            let granted = !self.grants(account, p).is_empty();
            licensed |= granted;
            perms.agent |= granted && p.group.eq_ignore_ascii_case(groups::JSM_USERS);
        }
        perms.jira_admin |= perms.site_admin;
        perms.browse_users = perms.jira_admin || licensed;
        perms
    }

    /// Seats of the product billed now: accounts that hold its user role by any path and can be billed (see
    /// [`Site::holds_seat`]).
    pub fn seats_used(&self, product: &Product) -> u32 {
        self.seat_holders(product).len() as u32
    }

    /// The product whose access groups (default or other) include this group.
    pub fn product_of_group(&self, group_name: &str) -> Option<&Product> {
        self.products.iter().find(|p| {
            p.group.eq_ignore_ascii_case(group_name)
                || p.groups.iter().any(|g| g.eq_ignore_ascii_case(group_name))
        })
    }
}

impl Site {
    /// Whether a user search `query` matches: a prefix of any word of the display name, or of the email. As at
    /// Atlassian, a hidden email still matches; the answer then leaves the email out.
    pub fn matches_query(&self, key: AccountKey, query: &str) -> bool {
        let account = self.account(key);
        let q = query.trim().to_lowercase();
        if q.is_empty() {
            return true;
        }
        let name = account.display_name.to_lowercase();
        name.starts_with(&q)
            || name.split_whitespace().any(|w| w.starts_with(&q))
            || account.email.to_lowercase().starts_with(&q)
    }
}
