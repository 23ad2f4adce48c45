//! The emulator's clock: wall time plus an offset the control plane can move, or a frozen instant, so token
//! expiry, rate-limit refill and last-active dates are reproducible in tests.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};

/// Milliseconds since the Unix epoch on the emulator's clock.
pub type Millis = i64;

/// A clock that is either real time shifted by an offset, or frozen at an instant.
#[derive(Debug, Default)]
pub struct Clock {
    offset_ms: AtomicI64,
    frozen: AtomicBool,
    frozen_at: AtomicI64,
}

impl Clock {
    /// A clock that follows real time.
    pub fn real() -> Self {
        Self::default()
    }

    /// A clock that stands still at `at` until advanced.
    pub fn frozen(at: Millis) -> Self {
        Self {
            offset_ms: AtomicI64::new(0),
            frozen: AtomicBool::new(true),
            frozen_at: AtomicI64::new(at),
        }
    }

    /// Now, in milliseconds since the epoch.
    pub fn now_ms(&self) -> Millis {
        if self.frozen.load(Ordering::Relaxed) {
            self.frozen_at.load(Ordering::Relaxed)
        } else {
            system_ms() + self.offset_ms.load(Ordering::Relaxed)
        }
    }

    /// Whether the clock stands still.
    pub fn is_frozen(&self) -> bool {
        self.frozen.load(Ordering::Relaxed)
    }

    /// Moves the clock forward (or back, with a negative value).
    pub fn advance(&self, ms: Millis) {
        if self.is_frozen() {
            self.frozen_at.fetch_add(ms, Ordering::Relaxed);
        } else {
            self.offset_ms.fetch_add(ms, Ordering::Relaxed);
        }
    }

    /// Sets the clock to `at`, keeping it frozen or running as it was.
    pub fn set(&self, at: Millis) {
        if self.is_frozen() {
            self.frozen_at.store(at, Ordering::Relaxed);
        } else {
            self.offset_ms.store(at - system_ms(), Ordering::Relaxed);
        }
    }
}

#[allow(
    clippy::disallowed_methods,
    reason = "the one place the emulator reads wall time"
)]
fn system_ms() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or_default()
}

/// An instant as a UTC date time.
pub fn to_datetime(ms: Millis) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// ISO 8601 with a `Z` suffix, as SCIM and the admin API write it.
pub fn iso_utc(ms: Millis) -> String {
    to_datetime(ms).to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Jira's own timestamp form, `2020-03-26T22:20:59.000+0000` (not RFC 3339: no colon in the offset).
pub fn jira_time(ms: Millis) -> String {
    to_datetime(ms)
        .format("%Y-%m-%dT%H:%M:%S%.3f%z")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frozen_clock_moves_only_when_told() {
        let clock = Clock::frozen(1_000);
        assert_eq!(clock.now_ms(), 1_000);
        clock.advance(500);
        assert_eq!(clock.now_ms(), 1_500);
        clock.set(10);
        assert_eq!(clock.now_ms(), 10);
    }

    #[test]
    fn jira_time_has_no_colon_in_offset() {
        assert_eq!(jira_time(0), "1970-01-01T00:00:00.000+0000");
        assert_eq!(iso_utc(0), "1970-01-01T00:00:00.000Z");
    }
}
