//! `jsmctl seats` (the report) and `jsmctl seats reclaim` (a plan through the one write path).

use jsm_lifecycle::seats::SeatQuery;

use super::write::submit_and_apply;
use crate::cli::{Format, Output, SeatsArgs, SeatsCmd, SeatsReclaimArgs, SeatsReportArgs};
use crate::context::Context;
use crate::error::{CliError, CliResult, Exit};
use crate::output::{self, Style};

/// `seats …`
pub async fn run(ctx: &Context, args: SeatsArgs) -> CliResult {
    match args.command {
        None => report(ctx, &args.report).await,
        Some(SeatsCmd::Reclaim(r)) => reclaim(ctx, &r).await,
    }
}

async fn report(ctx: &Context, a: &SeatsReportArgs) -> CliResult {
    let engine = ctx.engine().await?;
    let report = engine
        .seat_report(&SeatQuery {
            products: a.products.clone(),
            inactive_days: a.inactive_days,
            group: a.group.clone(),
            price_per_seat: a.price_per_seat,
            cycle_day: a.cycle_day,
        })
        .await?;
    match ctx.output {
        Output::Json => output::print_json(
            &serde_json::to_value(&report)
                .map_err(|e| CliError::failed(format!("cannot encode the report: {e}")))?,
        ),
        Output::Csv => print!("{}", output::seats_csv(&report).map_err(CliError::failed)?),
        Output::Table => println!("{}", output::render_seats(&report, Style::detect())),
    }
    Ok(Exit::Done)
}

async fn reclaim(ctx: &Context, a: &SeatsReclaimArgs) -> CliResult {
    let engine = ctx.engine().await?;
    let (plan, report) = engine
        .plan_seat_reclaim(&SeatQuery {
            products: a.products.clone(),
            inactive_days: a.inactive_days,
            group: None,
            price_per_seat: a.price_per_seat,
            cycle_day: a.cycle_day,
        })
        .await?;
    if ctx.format == Format::Table {
        for p in &report.products {
            println!("{}: {}", p.key, p.saving.summary);
        }
    }
    submit_and_apply(&engine, plan, &a.write, ctx.format).await
}
