//! `plan show`, `apply` and `status`.

use jsm_lifecycle::plan::Action;
use jsm_lifecycle::{Outcome, Plan};
use jsm_store::{JournalState, PlanStatus, Store};
use serde_json::{Value, json};

use super::write;
use crate::cli::Format;
use crate::context::Context;
use crate::error::{CliResult, Exit};
use crate::output::{self, Style, table};

/// `plan show PLAN_OR_ID`
pub async fn show(ctx: &Context, plan: &str) -> CliResult {
    let engine = ctx.engine().await?;
    let plan = engine.load_plan(plan).await?;
    let status = engine
        .store
        .plan(&plan.id)
        .await?
        .map_or("unknown", |r| r.status.as_str())
        .to_string();
    match ctx.format {
        Format::Json => output::print_json(&output::plan_json(&plan, &status, None)),
        Format::Table => {
            println!("{}", output::render_plan(&plan, Style::detect()));
            println!("Status: {status}");
        }
    }
    Ok(Exit::Done)
}

/// `apply PLAN_OR_ID [--yes]`
pub async fn apply(ctx: &Context, plan: &str, yes: bool) -> CliResult {
    let engine = ctx.engine().await?;
    let plan = engine.load_plan(plan).await?;
    write::apply_confirmed(&engine, &plan, yes, ctx.format).await
}

/// `status`: plans waiting for approval, manual steps still pending (checked again now), quarantined items.
pub async fn status(ctx: &Context) -> CliResult {
    let engine = ctx.engine().await?;
    let store = &engine.store;
    let waiting = store.plans(Some(PlanStatus::AwaitingApproval)).await?;
    let mut manual = Vec::new();
    for record in store.plans(Some(PlanStatus::Applying)).await? {
        let plan: Plan = match serde_json::from_value(record.body.clone()) {
            Ok(p) => p,
            Err(_) => continue,
        };
        let pending = pending_manual(store, &plan).await?;
        if pending.is_empty() {
            continue;
        }
        let mut still = Vec::new();
        for (key, instruction, verify) in pending {
            if !jsm_lifecycle::apply::manual_done(&engine.client, &verify).await? {
                still.push((key, instruction));
            }
        }
        if still.is_empty() {
            let report = engine.apply(&plan, &jsm_lifecycle::Quiet).await?;
            eprintln!(
                "plan {}: every manual step is done now; apply finished it ({} done)",
                plan.id,
                report.count(Outcome::Applied) + report.count(Outcome::AlreadyApplied)
            );
        } else {
            manual.extend(still.into_iter().map(|(k, i)| (plan.id.clone(), k, i)));
        }
    }
    let quarantined = store.quarantined().await?;
    match ctx.format {
        Format::Json => output::print_json(&json!({
            "awaiting_approval": waiting.iter().map(|r| json!({
                "plan_id": r.id, "kind": r.kind, "requester": r.requester, "created_at": r.created_at,
                "summary": r.body.get("summary").cloned().unwrap_or(Value::Null),
            })).collect::<Vec<_>>(),
            "pending_manual": manual.iter().map(|(p, k, i)| json!({"plan_id": p, "item": k, "instruction": i})).collect::<Vec<_>>(),
            "quarantined": quarantined.iter().map(|e| json!({
                "plan_id": e.plan_id, "item": e.item_key, "attempts": e.attempts, "error": e.error,
            })).collect::<Vec<_>>(),
        })),
        Format::Table => {
            println!("Plans waiting for an approval: {}", waiting.len());
            let rows: Vec<Vec<String>> = waiting
                .iter()
                .map(|r| {
                    vec![
                        r.id.clone(),
                        r.requester.clone(),
                        r.body["summary"].as_str().unwrap_or("").to_string(),
                    ]
                })
                .collect();
            if !rows.is_empty() {
                println!("{}", table(&["PLAN", "REQUESTER", "SUMMARY"], &rows));
            }
            println!("Manual steps pending: {}", manual.len());
            for (plan, key, instruction) in &manual {
                println!("  {plan} {key}: {instruction}");
            }
            println!("Quarantined items: {}", quarantined.len());
            for e in &quarantined {
                println!(
                    "  {} {} after {} attempt(s): {}",
                    e.plan_id,
                    e.item_key,
                    e.attempts,
                    e.error.as_deref().unwrap_or("")
                );
            }
        }
    }
    Ok(Exit::Done)
}

/// Manual items of a plan whose journal says they wait for a person.
async fn pending_manual(
    store: &Store,
    plan: &Plan,
) -> CliResult<Vec<(String, String, jsm_lifecycle::plan::ManualCheck)>> {
    let journal = store.journal(&plan.id).await?;
    Ok(plan
        .items
        .iter()
        .filter_map(|item| match &item.action {
            Action::Manual {
                instruction,
                verify,
            } => {
                let waiting = journal.iter().any(|e| {
                    e.item_key == item.key
                        && e.state == JournalState::Pending
                        && e.outcome.as_deref() == Some(Outcome::PendingManual.as_str())
                });
                waiting.then(|| (item.key.clone(), instruction.clone(), verify.clone()))
            }
            _ => None,
        })
        .collect())
}
