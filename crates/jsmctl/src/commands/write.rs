//! The one path every write command takes: store the plan, save it (`--out`) or show it, stop when it needs
//! an approval (exit 3), confirm (a yes on a terminal, `--yes`, or refuse with exit 2), apply, report.

use std::io::{BufRead, IsTerminal, Write};

use jsm_lifecycle::{ApplyReport, Engine, Plan};

use crate::cli::{Format, WriteArgs};
use crate::error::{CliError, CliResult, Exit};
use crate::output::{self, Bar, Style};

/// Stores, shows and (when allowed and confirmed) applies a freshly made plan.
pub async fn submit_and_apply(
    engine: &Engine,
    plan: Plan,
    args: &WriteArgs,
    format: Format,
) -> CliResult {
    let record = engine.submit(&plan).await?;
    if let Some(path) = &args.out {
        std::fs::write(path, plan.to_json()?)
            .map_err(|e| CliError::failed(format!("cannot write {}: {e}", path.display())))?;
        show(&plan, record.status.as_str(), None, format);
        if format == Format::Table {
            println!(
                "Saved to {}. Review it, then: jsmctl apply {}",
                path.display(),
                path.display()
            );
            if plan.needs_approval() {
                println!(
                    "It needs an approval first: jsmctl approvals approve {}",
                    plan.id
                );
            }
        }
        return Ok(Exit::Done);
    }
    if plan.is_empty() {
        show(&plan, "no_changes", None, format);
        return Ok(Exit::Done);
    }
    if plan.needs_approval() {
        return Ok(awaiting(&plan, format));
    }
    apply_confirmed(engine, &plan, args.yes, format).await
}

/// Shows the plan, asks for a yes unless `yes`, applies and reports.
pub async fn apply_confirmed(engine: &Engine, plan: &Plan, yes: bool, format: Format) -> CliResult {
    if format == Format::Table {
        println!("{}", output::render_plan(plan, Style::detect()));
    }
    if !yes && !confirm()? {
        eprintln!("Not applied. The plan is stored: jsmctl apply {}", plan.id);
        return Ok(Exit::Done);
    }
    let report = match engine.apply(plan, &Bar::detect()).await {
        Ok(r) => r,
        Err(jsm_lifecycle::Error::AwaitingApproval { .. }) => return Ok(awaiting(plan, format)),
        Err(e) => return Err(e.into()),
    };
    Ok(finish(plan, &report, format))
}

/// Prints the report and picks the exit code.
pub fn finish(plan: &Plan, report: &ApplyReport, format: Format) -> Exit {
    let status = if report.complete() {
        "applied"
    } else if report.failed() {
        "failed"
    } else {
        "pending"
    };
    match format {
        Format::Json => output::print_json(&output::plan_json(plan, status, Some(report))),
        Format::Table => println!("{}", output::render_report(report, Style::detect())),
    }
    if let Some(stop) = &report.stopped {
        eprintln!("error: {stop}");
    }
    if report.failed() {
        Exit::Failed
    } else {
        Exit::Done
    }
}

/// Prints the plan and how to approve it; exit 3.
pub fn awaiting(plan: &Plan, format: Format) -> Exit {
    match format {
        Format::Json => output::print_json(&output::plan_json(plan, "awaiting_approval", None)),
        Format::Table => {
            println!("{}", output::render_plan(plan, Style::detect()));
            println!();
            println!(
                "Plan {} waits for an approval. A person other than the requester (when the policy says so) \
                 runs:\n  jsmctl approvals approve {}\nthen:\n  jsmctl apply {}",
                plan.id, plan.id, plan.id
            );
        }
    }
    Exit::AwaitingApproval
}

fn show(plan: &Plan, status: &str, report: Option<&ApplyReport>, format: Format) {
    match format {
        Format::Json => output::print_json(&output::plan_json(plan, status, report)),
        Format::Table => println!("{}", output::render_plan(plan, Style::detect())),
    }
}

/// A yes on the terminal; refuses (exit 2) when stdin is not one.
fn confirm() -> CliResult<bool> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(CliError::usage(
            "refusing to apply without a terminal to confirm on: pass --yes, or --out PLAN to save the plan",
        ));
    }
    eprint!("Apply this plan? Only 'yes' applies: ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "yes" | "y"))
}
