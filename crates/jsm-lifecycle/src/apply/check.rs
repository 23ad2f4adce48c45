//! Before an item is sent: does its precondition still hold, and does the target already match? Also the
//! read-back after a crash, for an item journaled as sent with no answer recorded.

use jsm_client::Client;
use serde_json::{Value, json};

use crate::error::Result;
use crate::plan::{Action, Deactivation, Item, ManualCheck, Precondition};

/// What the site says about an item now.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// Send it.
    Ready,
    /// Nothing to send: the target already matches (with the output a send would have given).
    AlreadyApplied(Value),
    /// The precondition no longer holds: the plan must be made again.
    Broken(String),
}

/// Checks the precondition, then whether the target already matches. `account` is the item's account id
/// when known (from the plan or an earlier item's output).
pub async fn before_send(client: &Client, item: &Item, account: Option<&str>) -> Result<Check> {
    if let Some(broken) = precondition(client, &item.precondition).await? {
        return Ok(Check::Broken(broken));
    }
    already(client, &item.action, account).await
}

async fn precondition(client: &Client, pre: &Precondition) -> Result<Option<String>> {
    match pre {
        Precondition::None => Ok(None),
        Precondition::AccountActive { account_id } | Precondition::AccountExists { account_id } => {
            match client.users().get(account_id).await {
                Ok(u) if !u.active && matches!(pre, Precondition::AccountActive { .. }) => {
                    Ok(Some(format!("account {account_id} is no longer active")))
                }
                Ok(_) => Ok(None),
                Err(e) if e.is_not_found() => {
                    Ok(Some(format!("account {account_id} no longer exists")))
                }
                Err(e) => Err(e.into()),
            }
        }
        Precondition::ScimLinked {
            scim_id,
            account_id,
        } => match client.scim().get_user(scim_id).await {
            Ok(u) if u.atlassian_account_id() == Some(account_id.as_str()) => Ok(None),
            Ok(_) => Ok(Some(format!(
                "SCIM user {scim_id} no longer belongs to account {account_id}"
            ))),
            Err(e) if e.is_not_found() => Ok(Some(format!("SCIM user {scim_id} no longer exists"))),
            Err(e) => Err(e.into()),
        },
    }
}

/// Whether the target of `action` already matches, by the cheapest read that can tell. Creates are resolved
/// by the create itself (an existing email links), and desk and organization memberships by their idempotent
/// endpoints, so those are `Ready`.
pub async fn already(client: &Client, action: &Action, account: Option<&str>) -> Result<Check> {
    let done = |v: Value| Ok(Check::AlreadyApplied(v));
    if let Some(a) = action.activation() {
        let active = match (a.via, a.scim_id) {
            (Deactivation::Scim, Some(id)) => {
                client.scim().get_user(id).await?.active.unwrap_or(true)
            }
            _ => client.users().get(a.account_id).await?.active,
        };
        return if active == a.active {
            done(json!({ "account_id": a.account_id }))
        } else {
            Ok(Check::Ready)
        };
    }
    match action {
        Action::AddToGroup { group, .. } | Action::RemoveFromGroup { group, .. } => {
            let Some(id) = account else {
                return Ok(Check::Ready);
            };
            let member = client
                .users()
                .groups(id)
                .await?
                .iter()
                .any(|g| &g.name == group);
            let adding = matches!(action, Action::AddToGroup { .. });
            if member == adding {
                done(json!({ "account_id": id }))
            } else {
                Ok(Check::Ready)
            }
        }
        Action::SuspendAccess {
            account_id,
            directory_id,
        } => {
            let roles = client
                .admin()
                .role_assignments(directory_id, account_id)
                .await?;
            if roles
                .iter()
                .any(|r| r.user_directory_status.as_deref() == Some("suspended"))
            {
                done(json!({ "account_id": account_id }))
            } else {
                Ok(Check::Ready)
            }
        }
        Action::Manual { verify, .. } => {
            if manual_done(client, verify).await? {
                done(json!({}))
            } else {
                Ok(Check::Ready)
            }
        }
        _ => Ok(Check::Ready),
    }
}

/// Whether a manual step has been taken.
pub async fn manual_done(client: &Client, verify: &ManualCheck) -> Result<bool> {
    match verify {
        ManualCheck::InGroup { email, groups } => {
            let user = match client.users().find_by_email(email).await {
                Ok(u) => u,
                Err(jsm_client::Error::EmailHidden { .. }) => None,
                Err(e) => return Err(e.into()),
            };
            let Some(user) = user else { return Ok(false) };
            let have = client.users().groups(&user.account_id).await?;
            Ok(have.iter().any(|g| groups.contains(&g.name)))
        }
        ManualCheck::Inactive { account_id } => Ok(!client.users().get(account_id).await?.active),
        ManualCheck::SeatFreed {
            account_id,
            product,
        } => crate::seats::seat_is_free(client, account_id, product).await,
    }
}

/// After a crash, for an item journaled as sent: the output when the change is found made, else None (send it
/// again, which every action tolerates: creates link an existing email, memberships are idempotent).
pub async fn read_back(
    client: &Client,
    item: &Item,
    account: Option<&str>,
) -> Result<Option<Value>> {
    match &item.action {
        Action::CreateCustomer { email, .. } => match client.users().find_by_email(email).await {
            Ok(Some(u)) => Ok(Some(json!({ "account_id": u.account_id }))),
            Ok(None) | Err(jsm_client::Error::EmailHidden { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        },
        Action::ScimCreateUser { email, .. } => {
            let found = client.scim().find_user_by_user_name(email).await?;
            Ok(found.map(|u| scim_output(&u)))
        }
        action => match already(client, action, account).await? {
            Check::AlreadyApplied(v) => Ok(Some(v)),
            Check::Ready | Check::Broken(_) => Ok(None),
        },
    }
}

/// The output of a SCIM user: its id and the Atlassian account it manages.
pub fn scim_output(user: &jsm_proto::scim::ScimUser) -> Value {
    json!({ "scim_id": user.id, "account_id": user.atlassian_account_id() })
}
