//! Sends one item's change through the client and says what happened; no journal, no retries here.

use jsm_client::{Change, Client, Created, GroupRef};
use jsm_proto::scim::{ScimEmail, ScimUser};
use serde_json::{Value, json};

use super::check::{manual_done, scim_output};
use super::report::Outcome;
use crate::error::Result;
use crate::plan::{Action, Deactivation};

/// What a send did and what it produced (e.g. the account id of a created customer).
#[derive(Debug, Clone, PartialEq)]
pub struct Sent {
    /// Applied, already applied, not applicable or pending manual.
    pub outcome: Outcome,
    /// Ids later items need.
    pub output: Value,
    /// Why, when not simply applied.
    pub detail: Option<String>,
}

fn change(c: Change, output: Value) -> Sent {
    Sent {
        outcome: match c {
            Change::Applied => Outcome::Applied,
            Change::AlreadyApplied => Outcome::AlreadyApplied,
        },
        output,
        detail: None,
    }
}

fn created<T>(c: &Created<T>, output: Value) -> Sent {
    Sent {
        outcome: if c.is_new() {
            Outcome::Applied
        } else {
            Outcome::AlreadyApplied
        },
        output,
        detail: (!c.is_new())
            .then(|| "an account with this email existed and was linked".to_string()),
    }
}

/// Sends the action. `account` is the resolved account id (or SCIM id for SCIM group changes) of actions that
/// take an [`AccountRef`](crate::plan::AccountRef).
pub async fn send(client: &Client, action: &Action, account: Option<&str>) -> Result<Sent> {
    let who = account.unwrap_or_default();
    let out = json!({ "account_id": account });
    Ok(match action {
        Action::CreateCustomer {
            email,
            display_name,
        } => {
            let c = client.customers().create(email, display_name).await?;
            let output = json!({ "account_id": c.get().account_id });
            created(&c, output)
        }
        Action::AddToDesk { desk_id, .. } => change(client.customers().add_to_desk(desk_id, &[who]).await?, out),
        Action::RemoveFromDesk {
            desk_id,
            account_id,
            ..
        } => match client.customers().remove_from_desk(desk_id, &[account_id]).await {
            Ok(c) => change(c, json!({ "account_id": account_id })),
            Err(jsm_client::Error::Api { status: 400, body, .. })
                if body.mentions("open access") || body.mentions("public signup") =>
            {
                Sent {
                    outcome: Outcome::NotApplicable,
                    output: json!({ "account_id": account_id }),
                    detail: Some(
                        "the desk is open to every customer, and JSM removes customers only from restricted \
                         desks; deactivation ends the access"
                            .into(),
                    ),
                }
            }
            Err(e) => return Err(e.into()),
        },
        Action::AddToOrganization {
            organization_id, ..
        } => change(client.organizations().add_users(organization_id, &[who]).await?, out),
        Action::RemoveFromOrganization {
            organization_id,
            account_id,
            ..
        } => change(
            client.organizations().remove_users(organization_id, &[account_id]).await?,
            json!({ "account_id": account_id }),
        ),
        Action::AddToGroup { group, .. } => {
            change(client.groups().add_member(&GroupRef::name(group), who).await?, out)
        }
        Action::RemoveFromGroup { group, account_id } => change(
            client.groups().remove_member(&GroupRef::name(group), account_id).await?,
            json!({ "account_id": account_id }),
        ),
        Action::ScimCreateUser {
            email,
            display_name,
        } => {
            let c = client.scim().create_user(&new_scim_user(email, display_name)).await?;
            let output = scim_output(c.get());
            created(&c, output)
        }
        Action::ScimAddToGroup { group_id, .. } => {
            client.scim().add_members(group_id, &[who]).await?;
            change(Change::Applied, json!({ "scim_id": who }))
        }
        Action::ScimRemoveFromGroup {
            group_id, scim_id, ..
        } => {
            client.scim().remove_members(group_id, &[scim_id]).await?;
            change(Change::Applied, json!({ "scim_id": scim_id }))
        }
        Action::Deactivate { .. } | Action::Reactivate { .. } => {
            let Some(a) = action.activation() else {
                return Ok(change(Change::AlreadyApplied, out));
            };
            let c = match (a.via, a.scim_id) {
                (Deactivation::Scim, Some(id)) => client.scim().set_active(id, a.active).await?,
                _ if a.active => client.admin().restore(a.account_id).await?,
                _ => client.admin().suspend(a.account_id).await?,
            };
            change(c, json!({ "account_id": a.account_id }))
        }
        Action::SuspendAccess {
            account_id,
            directory_id,
        } => change(
            client.admin().suspend_in_directory(directory_id, account_id).await?,
            json!({ "account_id": account_id }),
        ),
        // Links live in jsmctl's store, not on the site: the apply run writes them itself and never sends them.
        Action::Link { .. } => Sent {
            outcome: Outcome::NotApplicable,
            output: out,
            detail: Some("a link is written to the store by the apply run, not sent to the site".into()),
        },
        Action::Manual { verify, .. } => {
            let done = manual_done(client, verify).await?;
            Sent {
                outcome: if done {
                    Outcome::Applied
                } else {
                    Outcome::PendingManual
                },
                output: json!({}),
                detail: (!done).then(|| "waiting for a person to take this step".to_string()),
            }
        }
    })
}

fn new_scim_user(email: &str, display_name: &str) -> ScimUser {
    ScimUser {
        schemas: vec![jsm_proto::scim::USER_SCHEMA.to_string()],
        user_name: email.to_string(),
        display_name: Some(display_name.to_string()),
        emails: vec![ScimEmail {
            value: email.to_string(),
            kind: Some("work".into()),
            primary: Some(true),
        }],
        active: Some(true),
        ..ScimUser::default()
    }
}
