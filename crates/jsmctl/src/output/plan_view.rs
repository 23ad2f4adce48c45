//! The Terraform-like view of a plan (`+` create, `~` change, `-` remove or deactivate) and the JSON that
//! scripts read: `plan_id`, `hash`, `items[]` with `action`, `target`, `outcome`.

use jsm_lifecycle::plan::{Action, Item, Sign};
use jsm_lifecycle::{ApplyReport, Outcome, Plan};
use serde_json::{Value, json};

use super::Style;

fn sign(style: Style, item: &Item) -> String {
    let s = item.action.sign();
    let mark = s.symbol().to_string();
    match s {
        Sign::Create => style.green(&mark),
        Sign::Change => style.yellow(&mark),
        Sign::Remove => style.red(&mark),
    }
}

/// The plan for people.
pub fn render_plan(plan: &Plan, style: Style) -> String {
    let mut out = Vec::new();
    out.push(format!(
        "{} {}  {}",
        style.bold("Plan"),
        style.bold(&plan.id),
        plan.summary
    ));
    out.push(style.dim(&format!(
        "  hash {}  requested by {} at {}",
        plan.hash,
        plan.requester,
        plan.created_at.format("%Y-%m-%d %H:%M:%S UTC")
    )));
    if !plan.requester_kind.is_human() {
        out.push(style.yellow(
            "  requested by an AI agent through the MCP server: every deactivation, removal and seat grant needs \
             a human approval (mcp.agent_requires_approval)",
        ));
        for r in &plan.agent_relaxed {
            out.push(style.yellow(&format!(
                "  relaxed by the MCP config: {} ({})",
                r.rule.as_str(),
                r.reason
            )));
        }
    }
    out.push(String::new());
    let width = plan
        .items
        .iter()
        .map(|i| i.action.name().len())
        .max()
        .unwrap_or(0);
    for item in &plan.items {
        let approval = match &item.approval_rule {
            Some(rule) => format!("  {}", style.yellow(&format!("[needs approval: {rule}]"))),
            None => String::new(),
        };
        out.push(format!(
            "  {} {:<width$}  {}{approval}",
            sign(style, item),
            item.action.name(),
            item.target
        ));
        let mut why = format!("      reason: {}", item.reason);
        if item.precondition != jsm_lifecycle::plan::Precondition::None {
            why.push_str(&format!("; requires {}", item.precondition.describe()));
        }
        if !item.depends_on.is_empty() {
            why.push_str(&format!("; after {}", item.depends_on.join(", ")));
        }
        out.push(style.dim(&why));
        if let Action::Manual { instruction, .. } = &item.action {
            out.push(format!(
                "      {}",
                style.yellow(&format!("manual step: {instruction}"))
            ));
        }
        if let Some(cost) = &item.cost {
            out.push(format!("      {}", style.yellow(&format!("cost: {cost}"))));
        }
    }
    if plan.items.is_empty() {
        out.push("  No changes: the site already matches.".into());
    }
    for note in &plan.notes {
        out.push(format!("  note: {note}"));
    }
    out.push(String::new());
    let (c, m, r) = plan.counts();
    let e = &plan.estimate;
    out.push(format!(
        "{} {c} to create, {m} to change, {r} to remove; {} API calls, at least {:.2} s under the rate limits{}; \
         planning read {} calls.",
        style.bold("Plan:"),
        e.apply_calls,
        e.apply_seconds,
        e.busiest_endpoint
            .as_deref()
            .map(|b| format!(" (busiest: {b})"))
            .unwrap_or_default(),
        e.observe_calls
    ));
    if plan.needs_approval() {
        out.push(style.yellow(&format!(
            "Needs approval: {}",
            plan.approval_reasons.join("; ")
        )));
    }
    out.join("\n")
}

/// What apply did, for people.
pub fn render_report(report: &ApplyReport, style: Style) -> String {
    let mut out = Vec::new();
    for item in &report.items {
        let outcome = item.outcome.as_str();
        let shown = match item.outcome {
            Outcome::Applied => style.green(outcome),
            Outcome::AlreadyApplied | Outcome::NotApplicable => style.dim(outcome),
            Outcome::PendingManual | Outcome::Skipped => style.yellow(outcome),
            Outcome::Failed | Outcome::Quarantined => style.red(outcome),
        };
        let detail = item
            .detail
            .as_deref()
            .map(|d| format!(": {d}"))
            .unwrap_or_default();
        out.push(format!(
            "  {shown:<16} {} {}{detail}",
            item.action, item.target
        ));
    }
    out.push(format!(
        "{} {} applied, {} already applied, {} pending manual, {} failed, {} quarantined, {} skipped.",
        style.bold("Apply:"),
        report.count(Outcome::Applied),
        report.count(Outcome::AlreadyApplied) + report.count(Outcome::NotApplicable),
        report.count(Outcome::PendingManual),
        report.count(Outcome::Failed),
        report.count(Outcome::Quarantined),
        report.count(Outcome::Skipped)
    ));
    if let Some(stop) = &report.stopped {
        out.push(style.red(&format!("Stopped: {stop}")));
    }
    out.join("\n")
}

/// The plan (and what apply did, when it ran) for scripts.
pub fn plan_json(plan: &Plan, status: &str, report: Option<&ApplyReport>) -> Value {
    let items: Vec<Value> = plan
        .items
        .iter()
        .map(|item| {
            let done = report.and_then(|r| r.items.iter().find(|i| i.key == item.key));
            json!({
                "key": item.key,
                "action": item.action.name(),
                "sign": item.action.sign().symbol().to_string(),
                "target": item.target,
                "reason": item.reason,
                "risk": item.risk,
                "needs_approval": item.needs_approval,
                "approval_rule": item.approval_rule,
                "precondition": item.precondition.describe(),
                "cost": item.cost,
                "situation": item.situation,
                "rule": item.rule,
                "outcome": done.map_or("planned", |d| d.outcome.as_str()),
                "detail": done.and_then(|d| d.detail.clone()),
                "change": item.action,
            })
        })
        .collect();
    json!({
        "plan_id": plan.id,
        "hash": plan.hash,
        "kind": plan.kind,
        "summary": plan.summary,
        "status": status,
        "requester": plan.requester,
        "needs_approval": plan.needs_approval(),
        "approval_reasons": plan.approval_reasons,
        "notes": plan.notes,
        "estimate": plan.estimate,
        "stopped": report.and_then(|r| r.stopped.clone()),
        "items": items,
    })
}
