//! `approvals list|approve|reject`.

use jsm_store::PlanStatus;
use serde_json::json;

use crate::cli::Format;
use crate::context::Context;
use crate::error::{CliResult, Exit};
use crate::output::{self, table};

/// `approvals list`
pub async fn list(ctx: &Context) -> CliResult {
    let store = ctx.store().await?;
    let waiting = store.plans(Some(PlanStatus::AwaitingApproval)).await?;
    match ctx.format {
        Format::Json => output::print_json(&json!(
            waiting
                .iter()
                .map(|r| json!({
                    "plan_id": r.id, "hash": r.hash, "kind": r.kind, "requester": r.requester,
                    "created_at": r.created_at, "summary": r.body.get("summary"),
                    "approval_reasons": r.body.get("approval_reasons"),
                }))
                .collect::<Vec<_>>()
        )),
        Format::Table => {
            let rows: Vec<Vec<String>> = waiting
                .iter()
                .map(|r| {
                    vec![
                        r.id.clone(),
                        r.requester.clone(),
                        r.created_at.format("%Y-%m-%d %H:%M").to_string(),
                        r.body["summary"].as_str().unwrap_or("").to_string(),
                    ]
                })
                .collect();
            println!(
                "{}",
                table(&["PLAN", "REQUESTER", "CREATED", "SUMMARY"], &rows)
            );
            println!(
                "{} plan(s) waiting. Review with: jsmctl plan show PLAN",
                rows.len()
            );
        }
    }
    Ok(Exit::Done)
}

/// `approvals approve PLAN_ID [--as NAME]`
pub async fn approve(ctx: &Context, plan_id: &str, as_name: Option<&str>) -> CliResult {
    let engine = ctx.engine().await?;
    let approver = as_name.unwrap_or(&ctx.settings.actor);
    let approval = engine.approve(plan_id, approver).await?;
    match ctx.format {
        Format::Json => output::print_json(&json!(approval)),
        Format::Table => println!(
            "Approved plan {} (hash {}) as {}; valid once, until {}. Apply with: jsmctl apply {}",
            approval.plan_id,
            approval.plan_hash,
            approval.approver,
            approval.expires_at.format("%Y-%m-%d %H:%M UTC"),
            approval.plan_id
        ),
    }
    Ok(Exit::Done)
}

/// `approvals reject PLAN_ID [--reason TEXT]`
pub async fn reject(ctx: &Context, plan_id: &str, reason: Option<&str>) -> CliResult {
    let engine = ctx.engine().await?;
    let rejection = engine.reject(plan_id, &ctx.settings.actor, reason).await?;
    match ctx.format {
        Format::Json => output::print_json(&json!(rejection)),
        Format::Table => println!("Rejected plan {} as {}.", rejection.plan_id, rejection.by),
    }
    Ok(Exit::Done)
}
