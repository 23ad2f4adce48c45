//! Apply: carries out exactly the approved plan. Each item goes `pending → sent → done | failed |
//! quarantined` in the journal, keyed by plan id and item key; a precondition that no longer holds stops the
//! run; after a crash an item left `sent` is read back before anything is resent. Independent items run
//! concurrently, paced by the client's rate limiter.

mod check;
mod execute;
mod gate;
mod report;
mod request_ids;
mod run;

pub use check::{Check, manual_done};
pub use report::{ApplyReport, ItemReport, Outcome, Progress, Quiet};
pub use request_ids::RequestIds;
pub(crate) use request_ids::{collecting as planning, so_far as reads_so_far};

use std::time::Duration;

/// Wait before an item's next attempt after a transient failure (grows with the attempt).
pub(crate) fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(250u64.saturating_mul(1 << attempt.min(6)))
}

/// Whether a client error is worth another attempt of the item.
pub(crate) fn transient(e: &crate::Error) -> bool {
    match e {
        crate::Error::Client(c) => match c {
            jsm_client::Error::RateLimited { .. } | jsm_client::Error::Transport { .. } => true,
            jsm_client::Error::Api { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        },
        crate::Error::Store(_) => true,
        _ => false,
    }
}
