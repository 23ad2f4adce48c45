//! `seat_report` and `credential_status`: the engine's two reports, for the calling agent. Neither changes the
//! site; the credential check refreshes what the store knows of each credential (Atlassian's expiry and last
//! use) and is never asked to verify, so no secret is read.

use jsm_lifecycle::credentials::CheckOptions;
use jsm_lifecycle::seats::SeatQuery;

use super::{Call, engine_error};
use crate::args::{CredentialStatusArgs, SeatReportArgs};
use crate::tools::ToolResult;
use crate::views::{CredentialStatusOutput, SeatReportOutput};

/// Account entries `seat_report` returns without a `limit`.
const DEFAULT_SEAT_ENTRIES: u32 = 100;

/// `seat_report`: billed and reclaimable seats per product (the `[seats]` policy, with the agent's filters).
pub(crate) async fn seat_report(
    call: &Call<'_>,
    args: SeatReportArgs,
) -> ToolResult<SeatReportOutput> {
    let report = call
        .engine
        .seat_report(&SeatQuery {
            products: args.products.unwrap_or_default(),
            inactive_days: args.inactive_days,
            group: args.group,
            price_per_seat: None,
            cycle_day: None,
        })
        .await
        .map_err(engine_error)?;
    let reclaimable_only = args.reclaimable_only.unwrap_or(false);
    Ok(SeatReportOutput::of(
        &report,
        |a| !reclaimable_only || a.reclaimable,
        args.limit.unwrap_or(DEFAULT_SEAT_ENTRIES) as usize,
    ))
}

/// `credential_status`: the state and expiry of every registered credential, judged on Atlassian's clock.
pub(crate) async fn credential_status(
    call: &Call<'_>,
    args: CredentialStatusArgs,
) -> ToolResult<CredentialStatusOutput> {
    let report = call
        .engine
        .check_credentials(&CheckOptions {
            warn_days: args.warn_days,
            verify: None,
        })
        .await
        .map_err(engine_error)?;
    Ok(CredentialStatusOutput::of(&report))
}
