//! What each command does; the clap types are in `cli`.

pub mod approvals;
pub mod audit;
pub mod changes;
pub mod credentials;
pub mod demo;
pub mod emulator;
pub mod mcp;
pub mod plans;
pub mod reads;
pub mod reconcile;
pub mod seats;
pub mod serve;
pub mod write;

use crate::cli::{
    ApprovalsCmd, AuditCmd, Command, CustomersCmd, GroupsCmd, LinksCmd, PlanArgs, PlanCmd, UsersCmd,
};
use crate::context::Context;
use crate::error::{CliError, CliResult};

/// Runs a command that works on a site (every command but `emulator` and `demo`).
pub async fn dispatch(ctx: &Context, command: Command) -> CliResult {
    if ctx.output == crate::cli::Output::Csv
        && !matches!(&command, Command::Seats(a) if a.command.is_none())
    {
        return Err(CliError::usage(
            "--output csv is for the seat report (jsmctl seats); use table or json here",
        ));
    }
    match command {
        Command::Seats(a) => seats::run(ctx, a).await,
        Command::Credentials(c) => credentials::run(ctx, c).await,
        Command::Users(UsersCmd::Get { account_id }) => reads::users_get(ctx, &account_id).await,
        Command::Users(UsersCmd::Find { email_or_query }) => {
            reads::users_find(ctx, &email_or_query).await
        }
        Command::Groups(GroupsCmd::Members { group }) => reads::group_members(ctx, &group).await,
        Command::Groups(GroupsCmd::Add(c)) => changes::group_add(ctx, &c).await,
        Command::Groups(GroupsCmd::Remove(c)) => changes::group_remove(ctx, &c).await,
        Command::Customers(CustomersCmd::Create(c)) => changes::customer_create(ctx, &c).await,
        Command::Customers(CustomersCmd::List { service_desk }) => {
            reads::customers_list(ctx, &service_desk).await
        }
        Command::Customers(CustomersCmd::Remove(c)) => changes::customer_remove(ctx, &c).await,
        Command::Agents(crate::cli::AgentsCmd::Provision { email, name, write }) => {
            changes::agent_provision(ctx, &email, &name, &write).await
        }
        Command::Offboard(p) => changes::offboard(ctx, &p).await,
        Command::Restore(p) => changes::restore(ctx, &p).await,
        Command::Plan(PlanArgs {
            command: Some(PlanCmd::Show { plan }),
            ..
        }) => plans::show(ctx, &plan).await,
        Command::Plan(args) => reconcile::plan(ctx, &args.source, args.out.as_deref()).await,
        Command::Reconcile(args) => reconcile::reconcile(ctx, &args).await,
        Command::Trace(args) => reconcile::trace(ctx, &args.email_or_source_id, &args.source).await,
        Command::Links(LinksCmd::List { source }) => {
            reconcile::links_list(ctx, source.as_deref()).await
        }
        Command::Links(LinksCmd::Show { who, source }) => {
            reconcile::links_show(ctx, &who, source.as_deref()).await
        }
        Command::Links(LinksCmd::Unlink { source_id, source }) => {
            reconcile::unlink(ctx, &source, &source_id).await
        }
        Command::Apply(a) => plans::apply(ctx, &a.plan, a.yes).await,
        Command::Status => plans::status(ctx).await,
        Command::Approvals(ApprovalsCmd::List) => approvals::list(ctx).await,
        Command::Approvals(ApprovalsCmd::Approve { plan_id, as_name }) => {
            approvals::approve(ctx, &plan_id, as_name.as_deref()).await
        }
        Command::Approvals(ApprovalsCmd::Reject { plan_id, reason }) => {
            approvals::reject(ctx, &plan_id, reason.as_deref()).await
        }
        Command::Audit(AuditCmd::List { limit }) => audit::list(ctx, limit).await,
        Command::Audit(AuditCmd::Verify) => audit::verify(ctx).await,
        Command::Audit(AuditCmd::Export { out }) => audit::export(ctx, out.as_deref()).await,
        Command::Mcp(args) => mcp::run(ctx, &args).await,
        Command::Serve(args) => serve::run(ctx, &args).await,
        Command::Operators(cmd) => serve::operators(ctx, &cmd).await,
        Command::Emulator(_) | Command::Demo(_) => Err(CliError::usage(
            "emulator and demo run outside a site context",
        )),
    }
}
