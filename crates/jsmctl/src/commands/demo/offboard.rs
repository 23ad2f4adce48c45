//! Job 3: find a person whose email is hidden by that email, offboard them (deactivated through SCIM when the
//! directory manages them), check the audit log and the site, then restore them from what the audit log recorded.

use anyhow::{Context as _, Result, bail};
use jsm_store::VerifyError;

use super::flow::carry_out;
use super::sandbox::{Sandbox, Someone};
use super::say::Say;

/// Offboards and restores one agent whose email is hidden.
pub async fn run(say: &Say, sandbox: &Sandbox) -> Result<()> {
    let engine = &sandbox.engine;
    say.job("3. Find and offboard someone, then restore them");
    let who = sandbox
        .hidden_agent()
        .context("the demo site has no active agent whose email is hidden")?;
    look_up(say, sandbox, &who).await?;

    say.step(&format!(
        "Offboard {} by email: deactivate the account (through SCIM when the directory manages it) and remove \
         its desks, organizations and groups.",
        who.name
    ));
    let plan = engine.plan_offboard(&who.email).await?;
    say.plan(&plan);
    carry_out(say, engine, &plan).await?;
    verify_audit(say, sandbox).await?;
    match sandbox.standing(&who.account_id) {
        Some(s) if !s.account_active && s.scim_active != Some(true) && !s.agent => {
            say.ok(&format!(
                "in the emulator {} is inactive{} and holds no agent seat",
                who.email,
                if s.scim_active.is_some() {
                    ", in Jira and in SCIM,"
                } else {
                    ""
                }
            ))
        }
        other => bail!("{} is not offboarded after apply: {other:?}", who.email),
    }

    say.step(&format!(
        "Restore {}: jsmctl reads what the offboard removed from the audit log and plans the reverse.",
        who.name
    ));
    let plan = engine.plan_restore(&who.email).await?;
    say.plan(&plan);
    carry_out(say, engine, &plan).await?;
    match sandbox.standing(&who.account_id) {
        Some(s) if s.account_active && s.scim_active != Some(false) && s.agent => say.ok(&format!(
            "{} is active again, with the agent seat back",
            who.email
        )),
        other => bail!("{} is not restored after apply: {other:?}", who.email),
    }
    verify_audit(say, sandbox).await
}

/// Shows that Jira hides the email and that jsmctl finds the account by it anyway.
async fn look_up(say: &Say, sandbox: &Sandbox, who: &Someone) -> Result<()> {
    let engine = &sandbox.engine;
    say.step(&format!(
        "{} is an agent whose profile hides the email. Look the account up by {}:",
        who.name, who.email
    ));
    let user = engine.client.users().get(&who.account_id).await?;
    say.line(&format!(
        "  Jira's user API: account {}, {}, email {}",
        user.account_id,
        user.display_name,
        user.email_address
            .as_deref()
            .unwrap_or("(not in the answer)")
    ));
    let person = engine.observe().person(&who.email).await?;
    if person.account_id != who.account_id {
        bail!(
            "looking up {} found account {} instead of {}",
            who.email,
            person.account_id,
            who.account_id
        );
    }
    let through = match &person.scim {
        Some(link) => format!("through the SCIM directory (SCIM user {})", link.id),
        None => "through the organization admin API".to_string(),
    };
    say.ok(&format!(
        "jsmctl resolved {} to account {} {through}",
        who.email, person.account_id
    ));
    Ok(())
}

/// Checks the hash chain of the audit log.
async fn verify_audit(say: &Say, sandbox: &Sandbox) -> Result<()> {
    match sandbox.engine.store.audit_verify().await? {
        Ok(report) => {
            say.ok(&format!(
                "audit log verifies: {} hash-chained records (what `jsmctl audit verify` checks)",
                report.records
            ));
            Ok(())
        }
        Err(VerifyError::Broken { seq, reason }) => {
            bail!("the audit log does not verify at record {seq}: {reason}")
        }
    }
}
