//! The one path every demo change takes, the same as `jsmctl`'s: store the plan, get the approval the policy
//! asks for (the demo gives it, and says so), apply exactly that plan, report.

use anyhow::{Result, bail};
use jsm_lifecycle::{ApplyReport, Engine, Plan, Quiet};

use super::sandbox::APPROVER;
use super::say::Say;

/// Submits the plan, approves it as [`APPROVER`] when it needs an approval, applies it and prints the report;
/// fails when apply stopped, or an item failed or was quarantined.
pub async fn carry_out(say: &Say, engine: &Engine, plan: &Plan) -> Result<ApplyReport> {
    engine.submit(plan).await?;
    if plan.needs_approval() {
        say.notice(&format!(
            "the demo approves this for you as {APPROVER}; in real use a second person runs \
             `jsmctl approvals approve {}`",
            plan.id
        ));
        engine.approve(&plan.id, APPROVER).await?;
    }
    let report = engine.apply(plan, &Quiet).await?;
    say.report(&report);
    if report.failed() {
        bail!(
            "apply of plan {} ({}) did not finish: {}",
            plan.id,
            plan.summary,
            report
                .stopped
                .as_deref()
                .unwrap_or("an item failed or was quarantined")
        );
    }
    Ok(report)
}
