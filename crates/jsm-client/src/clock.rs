//! Time and randomness as parameters: the send loop, the limiter and OAuth expiry read the time and sleep only
//! through a [`Clock`], and draw jitter only from a [`Jitter`], so tests are deterministic.

use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use tokio::time::Instant;

/// Wall time, monotonic time and sleeping.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// Wall-clock time, for `Retry-After` dates, `X-RateLimit-Reset` and token expiry.
    fn now(&self) -> DateTime<Utc>;
    /// Monotonic time, for the limiter.
    fn instant(&self) -> Instant;
    /// Sleeps for `d`.
    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()>;
}

/// The real clock: `Utc::now()` and tokio's timer.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(
        clippy::disallowed_methods,
        reason = "the one place the client reads wall time"
    )]
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
    fn instant(&self) -> Instant {
        Instant::now()
    }
    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(d))
    }
}

/// A clock whose wall time is a fixed epoch plus tokio's elapsed time, so under `tokio::time::pause()` both wall
/// and monotonic time advance only with the test's (auto-advanced) timer.
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    epoch: DateTime<Utc>,
    start: Instant,
}

impl TokioClock {
    /// A clock that reads `epoch` now.
    pub fn starting_at(epoch: DateTime<Utc>) -> Self {
        Self {
            epoch,
            start: Instant::now(),
        }
    }
}

impl Clock for TokioClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = Instant::now().saturating_duration_since(self.start);
        chrono::Duration::from_std(elapsed)
            .ok()
            .and_then(|d| self.epoch.checked_add_signed(d))
            .unwrap_or(self.epoch)
    }
    fn instant(&self) -> Instant {
        Instant::now()
    }
    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(d))
    }
}

/// A source of uniform samples in `[0, 1)` for retry jitter.
pub trait Jitter: Send + Sync + fmt::Debug + 'static {
    /// The next sample in `[0, 1)`.
    fn sample(&self) -> f64;
}

/// SplitMix64: small, seeded, good enough for jitter (not for secrets).
#[derive(Debug)]
pub struct SeededJitter {
    state: Mutex<u64>,
}

impl SeededJitter {
    /// A generator starting from `seed`; the same seed gives the same sequence.
    pub fn new(seed: u64) -> Self {
        Self {
            state: Mutex::new(seed),
        }
    }

    /// A generator seeded from the process's hash randomness (different per client).
    pub fn from_entropy() -> Self {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(0x6a73_6d63_746c);
        Self::new(h.finish())
    }
}

impl Jitter for SeededJitter {
    fn sample(&self) -> f64 {
        let mut guard = match self.state.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        *guard = guard.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *guard;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_jitter_is_deterministic_and_in_range() {
        let a = SeededJitter::new(7);
        let b = SeededJitter::new(7);
        for _ in 0..1000 {
            let x = a.sample();
            assert_eq!(x, b.sample());
            assert!((0.0..1.0).contains(&x));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn tokio_clock_advances_with_paused_time() {
        let epoch =
            DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").map(|d| d.with_timezone(&Utc));
        let Ok(epoch) = epoch else {
            panic!("bad epoch")
        };
        let clock = TokioClock::starting_at(epoch);
        clock.sleep(Duration::from_secs(90)).await;
        assert_eq!((clock.now() - epoch).num_seconds(), 90);
    }
}
