//! Write commands: each builds its plan through the engine and goes through the one write path.

use jsm_lifecycle::{AgentRequest, CustomerRequest};

use super::write::submit_and_apply;
use crate::cli::{CustomerCreate, CustomerRemove, GroupChange, PersonArgs, WriteArgs};
use crate::context::Context;
use crate::error::CliResult;

/// `customers create`
pub async fn customer_create(ctx: &Context, c: &CustomerCreate) -> CliResult {
    let engine = ctx.engine().await?;
    let req = CustomerRequest {
        email: c.email.clone(),
        name: c.name.clone(),
        desks: c.service_desks.clone(),
        organizations: c.organizations.clone(),
    };
    let plan = engine.plan_provision_customer(&req).await?;
    submit_and_apply(&engine, plan, &c.write, ctx.format).await
}

/// `customers remove`
pub async fn customer_remove(ctx: &Context, c: &CustomerRemove) -> CliResult {
    let engine = ctx.engine().await?;
    let plan = engine
        .plan_customers_remove(&c.service_desk, &c.account_ids)
        .await?;
    submit_and_apply(&engine, plan, &c.write, ctx.format).await
}

/// `groups add`
pub async fn group_add(ctx: &Context, c: &GroupChange) -> CliResult {
    let engine = ctx.engine().await?;
    let plan = engine.plan_group_add(&c.group, &c.account_ids).await?;
    submit_and_apply(&engine, plan, &c.write, ctx.format).await
}

/// `groups remove`
pub async fn group_remove(ctx: &Context, c: &GroupChange) -> CliResult {
    let engine = ctx.engine().await?;
    let plan = engine.plan_group_remove(&c.group, &c.account_ids).await?;
    submit_and_apply(&engine, plan, &c.write, ctx.format).await
}

/// `agents provision`
pub async fn agent_provision(
    ctx: &Context,
    email: &str,
    name: &str,
    write: &WriteArgs,
) -> CliResult {
    let engine = ctx.engine().await?;
    let req = AgentRequest {
        email: email.to_string(),
        name: name.to_string(),
    };
    let plan = engine.plan_provision_agent(&req).await?;
    submit_and_apply(&engine, plan, write, ctx.format).await
}

/// `offboard`
pub async fn offboard(ctx: &Context, p: &PersonArgs) -> CliResult {
    let engine = ctx.engine().await?;
    let plan = engine.plan_offboard(&p.email_or_account_id).await?;
    submit_and_apply(&engine, plan, &p.write, ctx.format).await
}

/// `restore`
pub async fn restore(ctx: &Context, p: &PersonArgs) -> CliResult {
    let engine = ctx.engine().await?;
    let plan = engine.plan_restore(&p.email_or_account_id).await?;
    submit_and_apply(&engine, plan, &p.write, ctx.format).await
}
