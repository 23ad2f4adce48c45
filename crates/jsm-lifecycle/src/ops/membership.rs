//! Everyday writes as plans: add or remove group members, remove customers from a desk.

use jsm_client::GroupRef;

use super::AGENT_SEAT_COST;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::plan::{AccountRef, Action, Draft, Plan, PlanKind, Precondition};

impl Engine {
    /// Plans adding accounts to a Jira group (those already in it are left out).
    pub async fn plan_group_add(&self, group: &str, account_ids: &[String]) -> Result<Plan> {
        crate::apply::planning(async { self.plan_group_change(group, account_ids, true).await })
            .await
    }

    /// Plans removing accounts from a Jira group (those not in it are left out).
    pub async fn plan_group_remove(&self, group: &str, account_ids: &[String]) -> Result<Plan> {
        crate::apply::planning(async { self.plan_group_change(group, account_ids, false).await })
            .await
    }

    async fn plan_group_change(
        &self,
        group: &str,
        account_ids: &[String],
        add: bool,
    ) -> Result<Plan> {
        require_ids(account_ids)?;
        let before = self.calls_sent();
        let observe = self.observe();
        observe.group_exists(group).await?;
        let seat = add
            && observe
                .jsm_access_groups()
                .await?
                .iter()
                .any(|g| g == group);
        let verb = if add { "add to" } else { "remove from" };
        let mut draft = Draft::new(
            PlanKind::Groups,
            format!("{verb} group {group}: {} account(s)", account_ids.len()),
        );
        if !add {
            let members = self
                .client
                .groups()
                .members(&GroupRef::name(group))
                .include_inactive(true)
                .all()
                .await?;
            draft.scope(u32::try_from(members.len()).unwrap_or(u32::MAX));
        }
        for id in account_ids {
            let person = observe.person(id).await?;
            let member = observe
                .groups_of(&person.account_id)
                .await?
                .iter()
                .any(|g| g == group);
            let label = person
                .email
                .clone()
                .unwrap_or_else(|| person.account_id.clone());
            if add && !member {
                draft.push(
                    Action::AddToGroup {
                        group: group.to_string(),
                        account: AccountRef::Id(person.account_id.clone()),
                    },
                    format!("{label} in group {group}"),
                    "jsmctl groups add",
                    Precondition::AccountActive {
                        account_id: person.account_id.clone(),
                    },
                );
                if seat && let Some(item) = draft.last() {
                    item.cost = Some(AGENT_SEAT_COST.into());
                }
            } else if !add && member {
                draft.push(
                    Action::RemoveFromGroup {
                        group: group.to_string(),
                        account_id: person.account_id.clone(),
                    },
                    format!("{label} in group {group}"),
                    "jsmctl groups remove",
                    Precondition::AccountExists {
                        account_id: person.account_id.clone(),
                    },
                );
            } else {
                let state = if add { "already in" } else { "not in" };
                draft.note(format!("{label} is {state} group {group}: nothing to do"));
            }
        }
        self.finish(draft, before)
    }

    /// Plans removing accounts from a desk's customers (those not on it are left out).
    pub async fn plan_customers_remove(&self, desk: &str, account_ids: &[String]) -> Result<Plan> {
        crate::apply::planning(async {
            require_ids(account_ids)?;
            let before = self.calls_sent();
            let observe = self.observe();
            let desk = observe.desk(desk).await?;
            let customers = self.client.customers().list(&desk.id).all().await?;
            let mut draft = Draft::new(
                PlanKind::Customers,
                format!(
                    "remove {} customer(s) from desk {}",
                    account_ids.len(),
                    desk.key
                ),
            );
            draft.scope(u32::try_from(customers.len()).unwrap_or(u32::MAX));
            for id in account_ids {
                let person = observe.person(id).await?;
                let label = person
                    .email
                    .clone()
                    .unwrap_or_else(|| person.account_id.clone());
                if customers.iter().any(|c| c.account_id == person.account_id) {
                    draft.push(
                        Action::RemoveFromDesk {
                            desk_id: desk.id.clone(),
                            desk_key: desk.key.clone(),
                            account_id: person.account_id.clone(),
                        },
                        format!("{label} on desk {}", desk.key),
                        "jsmctl customers remove",
                        Precondition::AccountExists {
                            account_id: person.account_id.clone(),
                        },
                    );
                } else {
                    draft.note(format!(
                        "{label} is not a customer of desk {}: nothing to do",
                        desk.key
                    ));
                }
            }
            self.finish(draft, before)
        })
        .await
    }
}

fn require_ids(ids: &[String]) -> Result<()> {
    if ids.is_empty() {
        return Err(Error::InvalidInput {
            field: "ACCOUNT_ID".into(),
            detail: "give at least one account id".into(),
        });
    }
    Ok(())
}
