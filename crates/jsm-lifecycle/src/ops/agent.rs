//! Provision an agent: the user through SCIM (created or linked), then JSM access through the group that
//! grants it: the SCIM-managed group mapped to JSM when the site grants access that way, else the product's
//! default access group through the Jira API. Without SCIM and without an account, a manual invite step.

use super::AGENT_SEAT_COST;
use super::customer::depend;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::observe::Person;
use crate::plan::{AccountRef, Action, Draft, ManualCheck, Plan, PlanKind, Precondition};

/// Who to provision.
#[derive(Debug, Clone, Default)]
pub struct AgentRequest {
    /// Email.
    pub email: String,
    /// Display name.
    pub name: String,
}

impl Engine {
    /// Plans an agent: a SCIM user and a JSM access grant, or a manual invite where no SCIM is configured.
    pub async fn plan_provision_agent(&self, req: &AgentRequest) -> Result<Plan> {
        crate::apply::planning(async {
            super::check_email(&req.email)?;
            super::check_name(&req.name)?;
            let before = self.calls_sent();
            let observe = self.observe();
            let access = observe.jsm_access_groups().await?;
            let Some(default_group) = access.first().cloned() else {
                return Err(Error::not_found(
                    "a group that grants Jira Service Management (application role jira-servicedesk)",
                ));
            };
            let mut draft = Draft::new(
                PlanKind::ProvisionAgent,
                format!("provision agent {}", req.email),
            );
            let existing = match observe.person(&req.email).await {
                Ok(p) => Some(p),
                Err(Error::NotFound { .. }) => None,
                Err(e) => return Err(e),
            };
            if let Some(person) = &existing {
                let groups = observe.groups_of(&person.account_id).await?;
                if let Some(g) = groups.iter().find(|g| access.contains(g)) {
                    draft.note(format!(
                        "{} already has Jira Service Management through group {g}: nothing to do",
                        req.email
                    ));
                    return self.finish(draft, before);
                }
                if !person.active {
                    return Err(Error::InvalidInput {
                        field: "--email".into(),
                        detail: format!(
                            "the account {} is deactivated; restore it first (jsmctl restore {})",
                            person.account_id, person.account_id
                        ),
                    });
                }
            }
            if self.caps.scim {
                self.plan_scim_agent(&mut draft, req, existing.as_ref(), &access, &default_group)
                    .await?;
            } else if let Some(person) = &existing {
                grant_by_jira_group(&mut draft, person, &default_group);
            } else {
                draft.push(
                    Action::Manual {
                        instruction: format!(
                            "invite {} to Jira Service Management in Atlassian Administration (no SCIM directory \
                             is configured, and agents cannot be created through the REST API)",
                            req.email
                        ),
                        verify: ManualCheck::InGroup {
                            email: req.email.clone(),
                            groups: access.clone(),
                        },
                    },
                    format!("agent {} ({})", req.email, req.name),
                    "no account has this email and no SCIM directory is configured",
                    Precondition::None,
                );
                seat(&mut draft);
            }
            self.finish(draft, before)
        })
        .await
    }

    async fn plan_scim_agent(
        &self,
        draft: &mut Draft,
        req: &AgentRequest,
        existing: Option<&Person>,
        access: &[String],
        default_group: &str,
    ) -> Result<()> {
        let observe = self.observe();
        let mut scim_group = None;
        for name in access {
            if let Some(found) = observe.scim_group(name).await? {
                scim_group = Some(found);
                break;
            }
        }
        let linked = existing.and_then(|p| p.scim.as_ref().map(|s| (p, s.id.clone())));
        let (scim_user, account) = match &linked {
            Some((person, scim_id)) => (
                AccountRef::Id(scim_id.clone()),
                AccountRef::Id(person.account_id.clone()),
            ),
            None => {
                let key = draft.push(
                    Action::ScimCreateUser {
                        email: req.email.clone(),
                        display_name: req.name.clone(),
                    },
                    format!("SCIM user {} ({})", req.email, req.name),
                    match existing {
                        Some(_) => "the account is not managed by the SCIM directory yet: link it",
                        None => "no account has this email",
                    },
                    Precondition::None,
                );
                (AccountRef::FromItem(key.clone()), AccountRef::FromItem(key))
            }
        };
        let create_key = match &scim_user {
            AccountRef::FromItem(k) => Some(k.clone()),
            AccountRef::Id(_) => None,
        };
        match scim_group {
            Some((group_id, group)) => {
                draft.push(
                    Action::ScimAddToGroup {
                        group_id,
                        group: group.clone(),
                        user: scim_user,
                    },
                    format!("{} in SCIM group {group}", req.email),
                    "the site grants Jira Service Management through this SCIM-managed group",
                    Precondition::None,
                );
            }
            None => {
                draft.push(
                    Action::AddToGroup {
                        group: default_group.to_string(),
                        account,
                    },
                    format!("{} in group {default_group}", req.email),
                    "the product's default access group grants Jira Service Management",
                    Precondition::None,
                );
            }
        }
        if let Some(k) = create_key {
            depend(draft, &k);
        }
        seat(draft);
        Ok(())
    }
}

fn grant_by_jira_group(draft: &mut Draft, person: &Person, group: &str) {
    draft.push(
        Action::AddToGroup {
            group: group.to_string(),
            account: AccountRef::Id(person.account_id.clone()),
        },
        format!(
            "{} in group {group}",
            person.email.as_deref().unwrap_or(&person.account_id)
        ),
        "the account exists; the product's default access group grants Jira Service Management",
        Precondition::AccountActive {
            account_id: person.account_id.clone(),
        },
    );
    seat(draft);
}

/// Marks the last item as granting a paid seat.
fn seat(draft: &mut Draft) {
    if let Some(item) = draft.last() {
        item.cost = Some(AGENT_SEAT_COST.into());
    }
}
