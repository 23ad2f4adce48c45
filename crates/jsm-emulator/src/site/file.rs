//! The site as a JSON document: what export, import and `--state-file FILE` read and write. Memberships refer to
//! accounts by account id, so the file can be read and edited by hand.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::directory_file::DirectoryFile;
use super::{
    Account, AccountKey, ApiToken, DeskAccess, Group, OAuthState, Organization, Product,
    ServiceDesk, Site, UserManagement, Webhooks,
};
use crate::ids::IdGen;

/// Version of the file format; bumped on incompatible changes.
pub const FILE_VERSION: u32 = 1;

/// The whole site, serialisable.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SiteFile {
    pub version: u32,
    pub ids: IdGen,
    pub accounts: Vec<Account>,
    pub groups: Vec<GroupFile>,
    pub products: Vec<Product>,
    pub service_desks: Vec<DeskFile>,
    pub organizations: Vec<OrganizationFile>,
    pub next_organization_id: u32,
    pub tokens: Vec<TokenFile>,
    /// The identity directory (SCIM users and groups, removals, last-active dates); absent in older files.
    #[serde(default)]
    pub directory: DirectoryFile,
    /// OAuth apps, codes and token families; absent in older files.
    #[serde(default)]
    pub oauth: OAuthState,
    /// Webhook registrations; absent in older files.
    #[serde(default)]
    pub webhooks: Webhooks,
    /// Original or centralized user management; absent in older files (centralized).
    #[serde(default, skip_serializing_if = "is_centralized")]
    pub user_management: UserManagement,
}

fn is_centralized(um: &UserManagement) -> bool {
    *um == UserManagement::Centralized
}

/// A group with its members' account ids.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupFile {
    pub group_id: String,
    pub name: String,
    pub members: Vec<String>,
}

/// A service desk with its customers' account ids and its organization ids.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeskFile {
    pub id: u32,
    pub project_id: u32,
    pub project_key: String,
    pub project_name: String,
    pub access: DeskAccess,
    pub customers: Vec<String>,
    pub organizations: Vec<u32>,
}

/// An organization with its members' account ids.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrganizationFile {
    pub id: u32,
    pub uuid: String,
    pub name: String,
    pub created: i64,
    pub members: Vec<String>,
}

/// An API token with its owner's account id.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenFile {
    pub account_id: String,
    #[serde(flatten)]
    pub token: ApiToken,
}

impl Site {
    /// The site as a document.
    pub fn to_file(&self) -> SiteFile {
        let ids = |keys: &BTreeSet<AccountKey>| -> Vec<String> {
            keys.iter()
                .map(|k| self.account(*k).account_id.clone())
                .collect()
        };
        SiteFile {
            version: FILE_VERSION,
            ids: self.ids.clone(),
            accounts: self.accounts.clone(),
            groups: self
                .live_groups()
                .map(|(_, g)| GroupFile {
                    group_id: g.group_id.clone(),
                    name: g.name.clone(),
                    members: ids(&g.members),
                })
                .collect(),
            products: self.products.clone(),
            service_desks: self
                .desks
                .iter()
                .map(|d| DeskFile {
                    id: d.id,
                    project_id: d.project_id,
                    project_key: d.project_key.clone(),
                    project_name: d.project_name.clone(),
                    access: d.access,
                    customers: ids(&d.customers),
                    organizations: d.organizations.iter().copied().collect(),
                })
                .collect(),
            organizations: self
                .organizations
                .values()
                .map(|o| OrganizationFile {
                    id: o.id,
                    uuid: o.uuid.clone(),
                    name: o.name.clone(),
                    created: o.created,
                    members: ids(&o.members),
                })
                .collect(),
            next_organization_id: self.next_organization_id,
            tokens: self
                .tokens
                .iter()
                .map(|t| TokenFile {
                    account_id: self.account(t.account).account_id.clone(),
                    token: t.clone(),
                })
                .collect(),
            directory: self.directory_to_file(),
            oauth: self.oauth.clone(),
            webhooks: Webhooks {
                outbox: Vec::new(),
                ..self.webhooks.clone()
            },
            user_management: self.user_management,
        }
    }

    /// Rebuilds a site from a document, refusing dangling references and duplicates with a message that
    /// names the offending entry.
    pub fn from_file(file: SiteFile) -> Result<Site, String> {
        if file.version != FILE_VERSION {
            return Err(format!(
                "unsupported state file version {} (expected {FILE_VERSION})",
                file.version
            ));
        }
        let mut site = Site::new(0);
        site.groups.clear();
        site.group_by_name.clear();
        site.group_by_id.clear();
        site.ids = file.ids;
        site.products = file.products;
        site.reserve_accounts(file.accounts.len());
        for (i, account) in file.accounts.into_iter().enumerate() {
            if site.find_account(&account.account_id).is_some() {
                return Err(format!(
                    "accounts[{i}]: duplicate accountId {}",
                    account.account_id
                ));
            }
            if site.find_by_email(&account.email).is_some() {
                return Err(format!("accounts[{i}]: duplicate email {}", account.email));
            }
            site.insert_account(account);
        }
        let index: HashMap<String, AccountKey> = site
            .accounts
            .iter()
            .enumerate()
            .map(|(i, a)| (a.account_id.clone(), i as AccountKey))
            .collect();
        let resolve = |what: &str, ids: Vec<String>| -> Result<BTreeSet<AccountKey>, String> {
            ids.into_iter()
                .map(|id| {
                    index
                        .get(&id)
                        .copied()
                        .ok_or_else(|| format!("{what}: unknown accountId {id}"))
                })
                .collect()
        };
        for g in file.groups {
            let members = resolve(&format!("group {}", g.name), g.members)?;
            let key = site.groups.len() as u32;
            if site.find_group_by_name(&g.name).is_some() {
                return Err(format!("group {}: duplicate name", g.name));
            }
            site.group_by_name.insert(g.name.to_lowercase(), key);
            site.group_by_id.insert(g.group_id.clone(), key);
            site.groups.push(Some(Group {
                group_id: g.group_id,
                name: g.name,
                members,
            }));
        }
        let mut organizations = BTreeMap::new();
        for o in file.organizations {
            let members = resolve(&format!("organization {}", o.id), o.members)?;
            organizations.insert(
                o.id,
                Organization {
                    id: o.id,
                    uuid: o.uuid,
                    name: o.name,
                    created: o.created,
                    members,
                },
            );
        }
        for d in file.service_desks {
            if let Some(missing) = d
                .organizations
                .iter()
                .find(|id| !organizations.contains_key(id))
            {
                return Err(format!(
                    "service desk {}: unknown organization {missing}",
                    d.id
                ));
            }
            site.desks.push(ServiceDesk {
                id: d.id,
                project_id: d.project_id,
                project_key: d.project_key,
                project_name: d.project_name,
                access: d.access,
                customers: resolve(&format!("service desk {}", d.id), d.customers)?,
                organizations: d.organizations.into_iter().collect(),
            });
        }
        site.organizations = organizations;
        site.next_organization_id = file.next_organization_id;
        for t in file.tokens {
            let account = *index.get(&t.account_id).ok_or_else(|| {
                format!("token {}: unknown accountId {}", t.token.id, t.account_id)
            })?;
            site.add_token(ApiToken { account, ..t.token });
        }
        site.directory = site.directory_from_file(file.directory)?;
        site.oauth = file.oauth;
        site.webhooks = file.webhooks;
        site.user_management = file.user_management;
        Ok(site)
    }
}
