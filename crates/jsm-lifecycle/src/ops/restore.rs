//! Restore a person: the reverse of their last offboard, read from the audit log (reactivate, then re-add
//! the desks, organizations and groups it removed), skipping what already holds again.

use std::collections::BTreeSet;

use super::AGENT_SEAT_COST;
use crate::audit::{self, WriteRecord};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::observe::{Desk, Org, Person};
use crate::plan::{AccountRef, Action, Draft, Plan, PlanKind, Precondition};

impl Engine {
    /// Plans the restore of the account with this email or id from its last offboard.
    pub async fn plan_restore(&self, who: &str) -> Result<Plan> {
        crate::apply::planning(async {
            let before = self.calls_sent();
            let observe = self.observe();
            let person = observe.person(who).await?;
            let label = person
                .email
                .clone()
                .unwrap_or_else(|| person.account_id.clone());
            let mut writes = audit::last_offboard(&self.store, &person.account_id).await?;
            // Access first: reactivate before re-adding memberships.
            writes.sort_by(|a, b| {
                let deactivation = |w: &WriteRecord| !matches!(w.action, Action::Deactivate { .. });
                (deactivation(a), &a.item_key).cmp(&(deactivation(b), &b.item_key))
            });
            let Some(plan_id) = writes.first().map(|w| w.plan_id.clone()) else {
                return Err(Error::not_found(format!(
                    "an applied offboard of {label} in the audit log"
                )));
            };
            let mut draft = Draft::new(
                PlanKind::Restore,
                format!("restore {label} (undo offboard plan {plan_id})"),
            );
            let reason = format!("restore: offboard plan {plan_id} removed it");
            let access = observe.jsm_access_groups().await?;
            let groups: BTreeSet<String> = observe
                .groups_of(&person.account_id)
                .await?
                .into_iter()
                .collect();
            for write in &writes {
                if let Some(action) = self.reverse(&write.action, &person, &groups).await? {
                    let target = match &action {
                        Action::Reactivate { .. } => format!("account {label}"),
                        Action::AddToDesk { desk_key, .. } => format!("{label} on desk {desk_key}"),
                        Action::AddToOrganization { organization, .. } => {
                            format!("{label} in organization {organization}")
                        }
                        Action::AddToGroup { group, .. } | Action::ScimAddToGroup { group, .. } => {
                            format!("{label} in group {group}")
                        }
                        _ => label.clone(),
                    };
                    let seat = match &action {
                        Action::AddToGroup { group, .. } | Action::ScimAddToGroup { group, .. } => {
                            access.contains(group)
                        }
                        _ => false,
                    };
                    draft.push(
                        action,
                        target,
                        reason.clone(),
                        Precondition::AccountExists {
                            account_id: person.account_id.clone(),
                        },
                    );
                    if seat && let Some(item) = draft.last() {
                        item.cost = Some(AGENT_SEAT_COST.into());
                    }
                }
            }
            // Access first: memberships come back once the account is active again.
            if let Some(key) = draft
                .items()
                .first()
                .filter(|i| matches!(i.action, Action::Reactivate { .. }))
                .map(|i| i.key.clone())
            {
                draft.after(&key);
            }
            if draft.items().is_empty() {
                draft.note(format!(
                    "{label} already has everything the offboard removed: nothing to do"
                ));
            }
            self.finish(draft, before)
        })
        .await
    }

    /// The action that undoes `removed`, or None when the state already holds again.
    async fn reverse(
        &self,
        removed: &Action,
        person: &Person,
        groups: &BTreeSet<String>,
    ) -> Result<Option<Action>> {
        let observe = self.observe();
        let account = || AccountRef::Id(person.account_id.clone());
        Ok(match removed {
            Action::Deactivate {
                account_id,
                via,
                scim_id,
            } => {
                let scim_inactive = person.scim.as_ref().is_some_and(|s| !s.active);
                (!person.active || scim_inactive).then(|| Action::Reactivate {
                    account_id: account_id.clone(),
                    via: *via,
                    scim_id: scim_id.clone(),
                })
            }
            Action::RemoveFromDesk {
                desk_id, desk_key, ..
            } => {
                let desk = Desk {
                    id: desk_id.clone(),
                    key: desk_key.clone(),
                    name: desk_key.clone(),
                };
                (!observe.in_desk(&desk, person).await?).then(|| Action::AddToDesk {
                    desk_id: desk_id.clone(),
                    desk_key: desk_key.clone(),
                    account: account(),
                })
            }
            Action::RemoveFromOrganization {
                organization_id,
                organization,
                ..
            } => {
                let org = Org {
                    id: organization_id.clone(),
                    name: organization.clone(),
                };
                (!observe.in_organization(&org, &person.account_id).await?).then(|| {
                    Action::AddToOrganization {
                        organization_id: organization_id.clone(),
                        organization: organization.clone(),
                        account: account(),
                    }
                })
            }
            Action::RemoveFromGroup { group, .. } => {
                (!groups.contains(group)).then(|| Action::AddToGroup {
                    group: group.clone(),
                    account: account(),
                })
            }
            Action::ScimRemoveFromGroup {
                group_id,
                group,
                scim_id,
            } => (!groups.contains(group)).then(|| Action::ScimAddToGroup {
                group_id: group_id.clone(),
                group: group.clone(),
                user: AccountRef::Id(scim_id.clone()),
            }),
            _ => None,
        })
    }
}

impl WriteRecord {
    /// Whether this write touched the account.
    pub fn touches(&self, account_id: &str) -> bool {
        match &self.action {
            Action::Deactivate { account_id: a, .. }
            | Action::RemoveFromDesk { account_id: a, .. }
            | Action::RemoveFromOrganization { account_id: a, .. }
            | Action::RemoveFromGroup { account_id: a, .. } => a == account_id,
            Action::ScimRemoveFromGroup { .. } => self.account_id.as_deref() == Some(account_id),
            _ => false,
        }
    }
}
