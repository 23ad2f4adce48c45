//! Job 2: provision an agent on a site with SCIM (a seat that costs money, so an approval), and show what the
//! same job plans from a client without SCIM: a manual invite that apply reports as pending.

use anyhow::{Result, bail};
use jsm_lifecycle::{AgentRequest, Outcome};

use super::flow::carry_out;
use super::sandbox::Sandbox;
use super::say::Say;

/// Provisions one agent through SCIM and plans another without it.
pub async fn run(say: &Say, sandbox: &Sandbox) -> Result<()> {
    say.job("2. Provision an agent");
    say.step(
        "Sam joins IT as an agent. The site has a SCIM directory: jsmctl creates Sam there, then grants Jira \
         Service Management through the group that grants it. A seat costs money: the policy asks for an approval.",
    );
    let sam = AgentRequest {
        email: "sam.okafor@acme.example".into(),
        name: "Sam Okafor".into(),
    };
    let plan = sandbox.engine.plan_provision_agent(&sam).await?;
    say.plan(&plan);
    carry_out(say, &sandbox.engine, &plan).await?;
    match sandbox.standing_by_email(&sam.email) {
        Some(s) if s.account_active && s.agent => {
            say.ok(&format!("{} is an active agent in the emulator", sam.email));
        }
        other => bail!(
            "{} is not an active agent after apply: {other:?}",
            sam.email
        ),
    }

    say.step(
        "The same job from a client without SCIM credentials: agents cannot be created through the REST API, so \
         the plan carries a step for a person.",
    );
    let riley = AgentRequest {
        email: "riley.chen@acme.example".into(),
        name: "Riley Chen".into(),
    };
    let plan = sandbox.no_scim.plan_provision_agent(&riley).await?;
    say.plan(&plan);
    let report = carry_out(say, &sandbox.no_scim, &plan).await?;
    if report.count(Outcome::PendingManual) != 1 {
        bail!(
            "apply of the agent without SCIM should leave one manual step pending: {:?}",
            report.items
        );
    }
    say.ok(
        "the invite is reported pending; `jsmctl status` lists it and checks it again, until a person has done it",
    );
    Ok(())
}
