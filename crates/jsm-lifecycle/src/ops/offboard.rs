//! Offboard a person: cut access first (SCIM `active=false` when the directory manages the account, else the
//! admin API's suspend), then remove desks, organizations and groups as the policy says. Already inactive or
//! not a member is not an error: there is simply nothing to plan for it.

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::observe::Person;
use crate::plan::{Action, Deactivation, Draft, ManualCheck, Plan, PlanKind, Precondition};

impl Engine {
    /// Plans the offboarding of the account with this email or id.
    pub async fn plan_offboard(&self, who: &str) -> Result<Plan> {
        crate::apply::planning(async {
            let before = self.calls_sent();
            let observe = self.observe();
            let person = observe.person(who).await?;
            if person.account_type == "app" {
                return Err(Error::InvalidInput {
                    field: "EMAIL_OR_ACCOUNT_ID".into(),
                    detail: format!(
                        "{} is an app account; offboard people only",
                        person.account_id
                    ),
                });
            }
            let label = person
                .email
                .clone()
                .unwrap_or_else(|| person.account_id.clone());
            let mut draft = Draft::new(PlanKind::Offboard, format!("offboard {label}"));
            self.plan_deactivation(&mut draft, &person, &label);
            let exists = || Precondition::AccountExists {
                account_id: person.account_id.clone(),
            };
            let policy = &self.policy.offboard;
            if policy.remove_from_desks {
                for desk in observe.desks().await? {
                    if observe.in_desk(&desk, &person).await? {
                        draft.push(
                            Action::RemoveFromDesk {
                                desk_id: desk.id.clone(),
                                desk_key: desk.key.clone(),
                                account_id: person.account_id.clone(),
                            },
                            format!("{label} on desk {}", desk.key),
                            "offboard.remove_from_desks",
                            exists(),
                        );
                    }
                }
            }
            if policy.remove_from_organizations {
                for org in observe.organizations().await? {
                    if observe.in_organization(&org, &person.account_id).await? {
                        draft.push(
                            Action::RemoveFromOrganization {
                                organization_id: org.id.clone(),
                                organization: org.name.clone(),
                                account_id: person.account_id.clone(),
                            },
                            format!("{label} in organization {}", org.name),
                            "offboard.remove_from_organizations",
                            exists(),
                        );
                    }
                }
            }
            if policy.remove_from_groups {
                self.plan_group_removals(&mut draft, &person, &label)
                    .await?;
            }
            // Cut access first: memberships are removed once the deactivation is done.
            let first = draft.items().first();
            if let Some(key) = first
                .filter(|i| matches!(i.action, Action::Deactivate { .. }))
                .map(|i| i.key.clone())
            {
                draft.after(&key);
            }
            self.note_seat_after(&mut draft, &person).await?;
            self.finish(draft, before)
        })
        .await
    }

    fn plan_deactivation(&self, draft: &mut Draft, person: &Person, label: &str) {
        let scim_active = person.scim.as_ref().is_some_and(|s| s.active);
        if !person.active && !scim_active {
            draft.note(format!(
                "{label} is already inactive: no deactivation planned"
            ));
            return;
        }
        if person.account_type == "customer" {
            draft.push(
                Action::Manual {
                    instruction: format!(
                        "deactivate the portal-only customer {label} in Jira settings > Products > Portal-only \
                         customer accounts (no public API deactivates portal-only accounts)"
                    ),
                    verify: ManualCheck::Inactive {
                        account_id: person.account_id.clone(),
                    },
                },
                format!("account {label}"),
                "portal-only customers are not managed accounts: neither SCIM nor the admin API can deactivate them",
                Precondition::None,
            );
            return;
        }
        let (via, scim_id, precondition, reason) = match &person.scim {
            Some(link) => (
                Deactivation::Scim,
                Some(link.id.clone()),
                Precondition::ScimLinked {
                    scim_id: link.id.clone(),
                    account_id: person.account_id.clone(),
                },
                "the account is managed by the SCIM directory: deactivate there (SCIM PATCH active=false)",
            ),
            None if self.caps.admin => (
                Deactivation::AdminSuspend,
                None,
                Precondition::AccountExists {
                    account_id: person.account_id.clone(),
                },
                "not managed by SCIM: suspend access through the organizations admin API",
            ),
            None => {
                draft.push(
                    Action::Manual {
                        instruction: format!(
                            "deactivate {label} in Atlassian Administration (no SCIM record and no admin API key \
                             is configured)"
                        ),
                        verify: ManualCheck::Inactive {
                            account_id: person.account_id.clone(),
                        },
                    },
                    format!("account {label}"),
                    "neither SCIM nor the admin API can deactivate this account with the configured credentials",
                    Precondition::None,
                );
                return;
            }
        };
        draft.push(
            Action::Deactivate {
                account_id: person.account_id.clone(),
                via,
                scim_id,
            },
            format!("account {label}"),
            reason,
            precondition,
        );
    }

    async fn plan_group_removals(
        &self,
        draft: &mut Draft,
        person: &Person,
        label: &str,
    ) -> Result<()> {
        let observe = self.observe();
        let keep = &self.policy.offboard.keep_groups;
        for group in observe.groups_of(&person.account_id).await? {
            if keep.iter().any(|k| k.eq_ignore_ascii_case(&group)) {
                draft.note(format!("kept in group {group} (offboard.keep_groups)"));
                continue;
            }
            let scim_group = match &person.scim {
                Some(_) => observe.scim_group(&group).await?,
                None => None,
            };
            match (scim_group, &person.scim) {
                (Some((group_id, name)), Some(link)) => draft.push(
                    Action::ScimRemoveFromGroup {
                        group_id,
                        group: name,
                        scim_id: link.id.clone(),
                    },
                    format!("{label} in SCIM group {group}"),
                    "offboard.remove_from_groups (the group is managed by SCIM: changed there)",
                    Precondition::ScimLinked {
                        scim_id: link.id.clone(),
                        account_id: person.account_id.clone(),
                    },
                ),
                _ => draft.push(
                    Action::RemoveFromGroup {
                        group: group.clone(),
                        account_id: person.account_id.clone(),
                    },
                    format!("{label} in group {group}"),
                    "offboard.remove_from_groups",
                    Precondition::AccountExists {
                        account_id: person.account_id.clone(),
                    },
                ),
            };
        }
        Ok(())
    }

    /// Notes whether the person keeps a billed seat once the plan is applied.
    async fn note_seat_after(&self, draft: &mut Draft, person: &Person) -> Result<()> {
        let access = self.observe().jsm_access_groups().await?;
        let groups = self.observe().groups_of(&person.account_id).await?;
        let seat_groups: Vec<&String> = groups.iter().filter(|g| access.contains(g)).collect();
        if seat_groups.is_empty() {
            return Ok(());
        }
        let deactivated = draft
            .items()
            .iter()
            .any(|i| matches!(i.action, Action::Deactivate { .. }));
        let kept: Vec<&String> = seat_groups
            .into_iter()
            .filter(|g| {
                !draft.items().iter().any(|i| match &i.action {
                    Action::RemoveFromGroup { group, .. }
                    | Action::ScimRemoveFromGroup { group, .. } => group == *g,
                    _ => false,
                })
            })
            .collect();
        if !kept.is_empty() && !deactivated {
            draft.note(format!(
                "a Jira Service Management seat stays billed after apply: still in {}",
                kept.iter()
                    .map(|g| g.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        Ok(())
    }
}
