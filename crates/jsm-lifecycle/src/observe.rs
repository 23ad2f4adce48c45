//! Reading the site: who a person is on each surface, which desks, organizations and groups they are in, and
//! which groups grant JSM. Reads only; the plan says how many calls they cost.

use jsm_client::{Client, GroupRef};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The product key of Jira Service Management.
pub const JSM_PRODUCT: &str = "jira-servicedesk";

/// Which optional credentials the client has, so plans pick a surface that will work.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// A SCIM directory URL and key.
    pub scim: bool,
    /// An organization id and admin API key.
    pub admin: bool,
}

/// A person as the site knows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// Atlassian account id.
    pub account_id: String,
    /// Email, when visible or resolved through SCIM or the admin API.
    pub email: Option<String>,
    /// Display name.
    pub display_name: String,
    /// Active on the site.
    pub active: bool,
    /// `atlassian`, `customer` or `app`.
    pub account_type: String,
    /// The SCIM user that manages the account, when there is one.
    pub scim: Option<ScimLink>,
}

/// A SCIM user linked to an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScimLink {
    /// SCIM id.
    pub id: String,
    /// SCIM `active`.
    pub active: bool,
}

/// A desk by id and key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Desk {
    /// Id.
    pub id: String,
    /// Project key.
    pub key: String,
    /// Project name.
    pub name: String,
}

/// An organization by id and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Org {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
}

/// Reads the site through the client.
#[derive(Debug, Clone, Copy)]
pub struct Observe<'a> {
    client: &'a Client,
    caps: Capabilities,
}

fn account_type(t: &jsm_proto::jira::AccountType) -> String {
    serde_json::to_value(t)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

impl<'a> Observe<'a> {
    /// A reader over this client.
    pub fn new(client: &'a Client, caps: Capabilities) -> Self {
        Self { client, caps }
    }

    /// The person with this email or account id: a hidden email is resolved through SCIM or the admin API,
    /// or the error names the credentials that would resolve it.
    pub async fn person(&self, who: &str) -> Result<Person> {
        let who = who.trim();
        if who.is_empty() {
            return Err(Error::InvalidInput {
                field: "EMAIL_OR_ACCOUNT_ID".into(),
                detail: "is empty".into(),
            });
        }
        let (user, email) = if who.contains('@') {
            match self.client.users().find_by_email(who).await {
                Ok(Some(u)) => (u, Some(who.to_string())),
                Ok(None) => return Err(Error::not_found(format!("account with email {who}"))),
                Err(jsm_client::Error::EmailHidden { .. }) => {
                    return Err(Error::EmailHidden {
                        email: who.to_string(),
                    });
                }
                Err(e) => return Err(e.into()),
            }
        } else {
            match self.client.users().get(who).await {
                Ok(u) => (u, None),
                Err(e) if e.is_not_found() => {
                    return Err(Error::not_found(format!("account {who}")));
                }
                Err(e) => return Err(e.into()),
            }
        };
        let email = match user.email_address.clone().or(email) {
            Some(e) => Some(e),
            None => self.hidden_email(&user.account_id).await?,
        };
        let scim = self.scim_link(&user.account_id, email.as_deref()).await?;
        Ok(Person {
            account_type: account_type(&user.account_type),
            account_id: user.account_id,
            email,
            display_name: user.display_name,
            active: user.active,
            scim,
        })
    }

    /// The email the profile hides, from the admin API (which shows it) or the SCIM directory, when configured.
    async fn hidden_email(&self, account_id: &str) -> Result<Option<String>> {
        use futures::TryStreamExt;
        if self.caps.admin {
            let mut users = self.client.admin().users()?.into_stream();
            while let Some(u) = users.try_next().await? {
                if u.account_id == account_id {
                    return Ok(u.email);
                }
            }
        }
        if self.caps.scim {
            let mut users = self.client.scim().users().pager().into_stream();
            while let Some(u) = users.try_next().await? {
                if u.atlassian_account_id() == Some(account_id) {
                    return Ok(Some(u.user_name));
                }
            }
        }
        Ok(None)
    }

    /// The SCIM user of the account, by `userName` when the email is known.
    async fn scim_link(&self, account_id: &str, email: Option<&str>) -> Result<Option<ScimLink>> {
        let (true, Some(email)) = (self.caps.scim, email) else {
            return Ok(None);
        };
        let found = self.client.scim().find_user_by_user_name(email).await?;
        Ok(found
            .filter(|u| u.atlassian_account_id() == Some(account_id))
            .and_then(|u| {
                u.id.clone().map(|id| ScimLink {
                    id,
                    active: u.active.unwrap_or(true),
                })
            }))
    }

    /// The desk with this key or id.
    pub async fn desk(&self, key_or_id: &str) -> Result<Desk> {
        match self.client.service_desks().get(key_or_id).await {
            Ok(d) => Ok(Desk {
                id: d.id,
                key: d.project_key,
                name: d.project_name,
            }),
            Err(e) if e.is_not_found() => {
                Err(Error::not_found(format!("service desk {key_or_id}")))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Every desk.
    pub async fn desks(&self) -> Result<Vec<Desk>> {
        let desks = self.client.service_desks().list().all().await?;
        Ok(desks
            .into_iter()
            .map(|d| Desk {
                id: d.id,
                key: d.project_key,
                name: d.project_name,
            })
            .collect())
    }

    /// Every organization.
    pub async fn organizations(&self) -> Result<Vec<Org>> {
        let orgs = self.client.organizations().list().all().await?;
        Ok(orgs
            .into_iter()
            .map(|o| Org {
                id: o.id,
                name: o.name,
            })
            .collect())
    }

    /// The organization with this name (case-insensitive) or id.
    pub async fn organization(&self, name_or_id: &str) -> Result<Org> {
        self.organizations()
            .await?
            .into_iter()
            .find(|o| o.id == name_or_id || o.name.eq_ignore_ascii_case(name_or_id))
            .ok_or_else(|| Error::not_found(format!("organization {name_or_id}")))
    }

    /// Whether the account is a customer of the desk (searched by email when known, else listed in full).
    pub async fn in_desk(&self, desk: &Desk, person: &Person) -> Result<bool> {
        let mut listing = self.client.customers().list(&desk.id);
        if let Some(email) = &person.email {
            listing = listing.query(email);
        }
        let customers = listing.all().await?;
        Ok(customers.iter().any(|c| c.account_id == person.account_id))
    }

    /// Whether the account is a member of the organization.
    pub async fn in_organization(&self, org: &Org, account_id: &str) -> Result<bool> {
        let users = self.client.organizations().users(&org.id).all().await?;
        Ok(users.iter().any(|u| u.account_id == account_id))
    }

    /// Names of the account's groups.
    pub async fn groups_of(&self, account_id: &str) -> Result<Vec<String>> {
        let groups = self.client.users().groups(account_id).await?;
        Ok(groups.into_iter().map(|g| g.name).collect())
    }

    /// Fails with "group NAME not found" unless the Jira group exists.
    pub async fn group_exists(&self, name: &str) -> Result<()> {
        match self.client.groups().get(&GroupRef::name(name)).await? {
            Some(_) => Ok(()),
            None => Err(Error::not_found(format!("group {name}"))),
        }
    }

    /// The groups that grant JSM access: the product's default groups first, then its other groups.
    pub async fn jsm_access_groups(&self) -> Result<Vec<String>> {
        let role = self.client.application_roles().get(JSM_PRODUCT).await?;
        let mut groups = role.default_groups.clone();
        groups.extend(
            role.groups
                .into_iter()
                .filter(|g| !role.default_groups.contains(g)),
        );
        Ok(groups)
    }

    /// The SCIM group of this name, when SCIM is configured and it exists: `(id, name)`.
    pub async fn scim_group(&self, name: &str) -> Result<Option<(String, String)>> {
        if !self.caps.scim {
            return Ok(None);
        }
        let group = self.client.scim().find_group_by_name(name).await?;
        Ok(group.and_then(|g| g.id.map(|id| (id, g.display_name))))
    }
}
