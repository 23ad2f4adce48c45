//! Job 1: provision a portal customer onto a desk and an organization, then again to show it changes nothing.

use anyhow::{Result, bail};
use jsm_lifecycle::CustomerRequest;

use super::flow::carry_out;
use super::sandbox::Sandbox;
use super::say::Say;

/// Provisions the customer twice.
pub async fn run(say: &Say, sandbox: &Sandbox) -> Result<()> {
    let engine = &sandbox.engine;
    say.job("1. Provision a portal customer");
    say.step(
        "Dana raises requests on the HR portal: jsmctl creates her customer account (or links the one her email \
         already has) and adds it to the HR desk and the Acme Corporation organization.",
    );
    let request = CustomerRequest {
        email: "dana.whitfield@acme.example".into(),
        name: "Dana Whitfield".into(),
        desks: vec!["HR".into()],
        organizations: vec!["Acme Corporation".into()],
    };
    let plan = engine.plan_provision_customer(&request).await?;
    say.plan(&plan);
    carry_out(say, engine, &plan).await?;

    say.step(
        "The same provisioning again, as a script run twice would do: jsmctl plans from what the site has now.",
    );
    let again = engine.plan_provision_customer(&request).await?;
    say.plan(&again);
    engine.submit(&again).await?;
    if !again.is_empty() {
        bail!(
            "the second provisioning of {} planned {} change(s) instead of none",
            request.email,
            again.items.len()
        );
    }
    say.ok("the second run changes nothing: no duplicate account, no second membership");
    Ok(())
}
