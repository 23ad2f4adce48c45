//! Provision a portal customer: create, or link the account that already has the email (never a duplicate),
//! then add it to desks and organizations it is not yet in.

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::observe::{Desk, Org, Person};
use crate::plan::{AccountRef, Action, Draft, Plan, PlanKind, Precondition};

/// What to provision.
#[derive(Debug, Clone, Default)]
pub struct CustomerRequest {
    /// Email of the customer.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Desk keys or ids.
    pub desks: Vec<String>,
    /// Organization names or ids.
    pub organizations: Vec<String>,
}

impl Engine {
    /// Plans a portal customer: one create (or link) and the missing desk and organization memberships.
    pub async fn plan_provision_customer(&self, req: &CustomerRequest) -> Result<Plan> {
        crate::apply::planning(async {
            super::check_email(&req.email)?;
            super::check_name(&req.name)?;
            let before = self.calls_sent();
            let observe = self.observe();
            let mut desks = Vec::new();
            for d in &req.desks {
                desks.push(observe.desk(d).await?);
            }
            let mut orgs = Vec::new();
            for o in &req.organizations {
                orgs.push(observe.organization(o).await?);
            }
            let mut draft = Draft::new(
                PlanKind::ProvisionCustomer,
                format!("provision customer {}", req.email),
            );
            let existing = match observe.person(&req.email).await {
                Ok(p) => Some(p),
                Err(Error::NotFound { .. }) => None,
                Err(e) => return Err(e),
            };
            match existing {
                Some(person) => {
                    self.link_existing(&mut draft, &person, &desks, &orgs)
                        .await?
                }
                None => create_new(&mut draft, req, &desks, &orgs),
            }
            self.finish(draft, before)
        })
        .await
    }

    async fn link_existing(
        &self,
        draft: &mut Draft,
        person: &Person,
        desks: &[Desk],
        orgs: &[Org],
    ) -> Result<()> {
        if !person.active {
            return Err(Error::InvalidInput {
                field: "--email".into(),
                detail: format!(
                    "the account {} with this email is deactivated; restore it first (jsmctl restore {})",
                    person.account_id, person.account_id
                ),
            });
        }
        let observe = self.observe();
        let who = person
            .email
            .clone()
            .unwrap_or_else(|| person.account_id.clone());
        let active = || Precondition::AccountActive {
            account_id: person.account_id.clone(),
        };
        for desk in desks {
            if !observe.in_desk(desk, person).await? {
                draft.push(
                    Action::AddToDesk {
                        desk_id: desk.id.clone(),
                        desk_key: desk.key.clone(),
                        account: AccountRef::Id(person.account_id.clone()),
                    },
                    format!("{who} on desk {}", desk.key),
                    "requested desk; the email already has an account, which is linked, not duplicated",
                    active(),
                );
            }
        }
        for org in orgs {
            if !observe.in_organization(org, &person.account_id).await? {
                draft.push(
                    Action::AddToOrganization {
                        organization_id: org.id.clone(),
                        organization: org.name.clone(),
                        account: AccountRef::Id(person.account_id.clone()),
                    },
                    format!("{who} in organization {}", org.name),
                    "requested organization",
                    active(),
                );
            }
        }
        if draft.items().is_empty() {
            draft.note(format!(
                "{who} is already a customer with every requested desk and organization: nothing to do"
            ));
        }
        Ok(())
    }
}

fn create_new(draft: &mut Draft, req: &CustomerRequest, desks: &[Desk], orgs: &[Org]) {
    let create = draft.push(
        Action::CreateCustomer {
            email: req.email.clone(),
            display_name: req.name.clone(),
        },
        format!("customer {} ({})", req.email, req.name),
        "no account has this email",
        Precondition::None,
    );
    for desk in desks {
        draft.push(
            Action::AddToDesk {
                desk_id: desk.id.clone(),
                desk_key: desk.key.clone(),
                account: AccountRef::FromItem(create.clone()),
            },
            format!("{} on desk {}", req.email, desk.key),
            "requested desk",
            Precondition::None,
        );
        depend(draft, &create);
    }
    for org in orgs {
        draft.push(
            Action::AddToOrganization {
                organization_id: org.id.clone(),
                organization: org.name.clone(),
                account: AccountRef::FromItem(create.clone()),
            },
            format!("{} in organization {}", req.email, org.name),
            "requested organization",
            Precondition::None,
        );
        depend(draft, &create);
    }
}

/// Makes the last item wait for `key`.
pub(crate) fn depend(draft: &mut Draft, key: &str) {
    if let Some(item) = draft.last() {
        item.depends_on.push(key.to_string());
    }
}
