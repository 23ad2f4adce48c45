//! Reads straight through the client: `users get/find`, `groups members`, `customers list`.

use jsm_client::GroupRef;
use jsm_lifecycle::Observe;
use serde_json::{Value, json};

use crate::cli::Format;
use crate::context::Context;
use crate::error::{CliError, CliResult, Exit};
use crate::output::{self, table};

/// One row per person: id, name, email (or "(hidden)"), active, type.
fn people(format: Format, rows: Vec<Value>) -> Exit {
    match format {
        Format::Json => output::print_json(&Value::Array(rows)),
        Format::Table => {
            let cells: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    let s = |k: &str| r[k].as_str().unwrap_or("").to_string();
                    vec![
                        s("accountId"),
                        s("displayName"),
                        r["emailAddress"].as_str().unwrap_or("(hidden)").to_string(),
                        r["active"]
                            .as_bool()
                            .map_or(String::new(), |a| a.to_string()),
                        s("accountType"),
                    ]
                })
                .collect();
            println!(
                "{}",
                table(&["ACCOUNT ID", "NAME", "EMAIL", "ACTIVE", "TYPE"], &cells)
            );
            println!("{} account(s)", cells.len());
        }
    }
    Exit::Done
}

fn value<T: serde::Serialize>(t: &T) -> CliResult<Value> {
    serde_json::to_value(t).map_err(|e| CliError::failed(format!("cannot encode: {e}")))
}

/// `users get ACCOUNT_ID`
pub async fn users_get(ctx: &Context, account_id: &str) -> CliResult {
    let client = ctx.client()?;
    match client.users().get(account_id).await {
        Ok(u) => Ok(people(ctx.format, vec![value(&u)?])),
        Err(e) if e.is_not_found() => {
            Err(CliError::usage(format!("account {account_id} not found")))
        }
        Err(e) => Err(e.into()),
    }
}

/// `users find EMAIL_OR_QUERY`: an email resolves exactly one account (through SCIM or the admin API when the
/// profile hides it); anything else is a name search.
pub async fn users_find(ctx: &Context, query: &str) -> CliResult {
    let client = ctx.client()?;
    if query.contains('@') {
        let person = Observe::new(&client, ctx.settings.capabilities())
            .person(query)
            .await?;
        let row = json!({
            "accountId": person.account_id,
            "displayName": person.display_name,
            "emailAddress": person.email,
            "active": person.active,
            "accountType": person.account_type,
            "scimId": person.scim.as_ref().map(|s| s.id.clone()),
        });
        return Ok(people(ctx.format, vec![row]));
    }
    let users = client.users().search(query).all().await?;
    let rows = users.iter().map(value).collect::<CliResult<Vec<_>>>()?;
    Ok(people(ctx.format, rows))
}

/// `groups members GROUP`
pub async fn group_members(ctx: &Context, group: &str) -> CliResult {
    let client = ctx.client()?;
    let caps = ctx.settings.capabilities();
    Observe::new(&client, caps).group_exists(group).await?;
    let members = client
        .groups()
        .members(&GroupRef::name(group))
        .include_inactive(true)
        .all()
        .await?;
    let rows = members.iter().map(value).collect::<CliResult<Vec<_>>>()?;
    Ok(people(ctx.format, rows))
}

/// `customers list --service-desk KEY_OR_ID`
pub async fn customers_list(ctx: &Context, desk: &str) -> CliResult {
    let client = ctx.client()?;
    let desk = Observe::new(&client, ctx.settings.capabilities())
        .desk(desk)
        .await?;
    let customers = client.customers().list(&desk.id).all().await?;
    let rows = customers
        .iter()
        .map(|c| {
            Ok(json!({
                "accountId": c.account_id,
                "displayName": c.display_name,
                "emailAddress": c.email_address,
                "active": c.active,
            }))
        })
        .collect::<CliResult<Vec<_>>>()?;
    Ok(people(ctx.format, rows))
}
