//! `jsmctl demo`: the three jobs of a JSM administrator (provision a customer, provision an agent, find and
//! offboard someone, and restore them), done by the engine against an emulator started in this process, each
//! plan and apply report printed the way the CLI prints them. Exits non-zero when any step fails.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod agent;
mod customer;
mod flow;
mod offboard;
mod sandbox;
mod say;

use anyhow::{Context as _, Result};

use sandbox::{APPROVER, REQUESTER, Sandbox};
use say::Say;

/// Flags of `jsmctl demo`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `jsmctl demo`.
pub async fn run(_args: Args) -> Result<()> {
    let say = Say::detect();
    let sandbox = Sandbox::start().await?;
    let clock = sandbox.engine.client.clock().clone();
    let started = clock.instant();
    intro(&say, &sandbox);
    let result = jobs(&say, &sandbox).await;
    let took = clock.instant().saturating_duration_since(started);
    let calls = sandbox.calls();
    let stopped = sandbox.stop().await;
    result?;
    stopped?;
    say.job(&format!("Done in {:.1} s", took.as_secs_f64()));
    say.line(&format!(
        "  {} API calls over HTTP, {} answered 429: the client paced itself to the emulator's rate limits.",
        calls.sent, calls.throttled
    ));
    say.line(
        "  The emulator is stopped and the demo's state is removed. To do the same jobs yourself:",
    );
    say.line(
        "    jsmctl emulator --env-file /tmp/jsmctl.env          # one terminal: a local Atlassian",
    );
    say.line(
        "    set -a; . /tmp/jsmctl.env; set +a                  # another: point jsmctl at it",
    );
    say.line("  then follow the walkthrough in the README.");
    Ok(())
}

fn intro(say: &Say, sandbox: &Sandbox) {
    let (accounts, desks, scim_users) = sandbox.census();
    say.line("jsmctl demo: the jobs of a Jira Service Management administrator, against an emulated site.");
    say.line(&format!(
        "  site   {} (in this process: {accounts} accounts, {desks} service desks, {scim_users} SCIM users)",
        sandbox.url()
    ));
    say.line("  state  a SQLite file in a temporary directory, removed at the end");
    say.line(&format!(
        "  people {REQUESTER} asks for every change; {APPROVER} approves what the policy sends to a second person"
    ));
    say.line(
        "Every change is a plan first (+ create, ~ change, - remove or deactivate); apply carries out exactly \
         that plan and records it in a hash-chained audit log.",
    );
}

async fn jobs(say: &Say, sandbox: &Sandbox) -> Result<()> {
    customer::run(say, sandbox)
        .await
        .context("job 1, provisioning a customer")?;
    agent::run(say, sandbox)
        .await
        .context("job 2, provisioning an agent")?;
    offboard::run(say, sandbox)
        .await
        .context("job 3, offboarding and restoring")
}
