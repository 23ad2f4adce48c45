//! The scheduler: at each minute, every schedule whose cron matches queues its job. Every worker runs it; the
//! store keys each firing by (schedule, minute), so one worker queues it and the others find it taken.

use chrono::{DateTime, Duration, DurationRound, Utc};

use crate::config::Schedule;
use crate::state::AppState;

/// Minutes looked back after a pause (a busy machine, a suspended process): later ones are skipped, not queued.
const CATCH_UP_MINUTES: i64 = 5;

/// Queues what is due at `minute` (a whole minute); returns the jobs this call queued.
pub async fn fire_due(state: &AppState, schedules: &[Schedule], minute: DateTime<Utc>) -> Vec<i64> {
    let mut queued = Vec::new();
    for s in schedules.iter().filter(|s| s.cron.matches(minute)) {
        let new = s
            .job
            .to_new(state.config(), &format!("scheduler:{}", s.name), minute);
        match state
            .store()
            .schedule_fire(&s.name, minute, &new, state.now())
            .await
        {
            Ok(Some(id)) => {
                tracing::info!(schedule = %s.name, job = id, %minute, "schedule fired");
                queued.push(id);
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(schedule = %s.name, error = %e, "cannot queue a scheduled job")
            }
        }
    }
    if !queued.is_empty() {
        state.wake_worker();
    }
    queued
}

fn minute_of(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(Duration::minutes(1)).unwrap_or(t)
}

/// Runs until shutdown, firing each minute once.
pub async fn run(state: AppState) {
    let schedules = state.config().schedules.clone();
    if schedules.is_empty() {
        return;
    }
    let mut shutdown = state.0.shutdown.subscribe();
    let mut last = minute_of(state.now()) - Duration::minutes(1);
    while !*shutdown.borrow() {
        let current = minute_of(state.now());
        let mut m =
            (last + Duration::minutes(1)).max(current - Duration::minutes(CATCH_UP_MINUTES));
        while m <= current {
            fire_due(&state, &schedules, m).await;
            m += Duration::minutes(1);
        }
        last = current;
        let next = current + Duration::minutes(1);
        let wait = (next - state.now())
            .to_std()
            .unwrap_or(std::time::Duration::from_millis(100))
            .max(std::time::Duration::from_millis(100));
        tokio::select! {
            _ = state.0.clock.sleep(wait) => {}
            _ = shutdown.changed() => {}
        }
    }
}
