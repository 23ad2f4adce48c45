//! The request log: the last requests the emulator answered, readable through the control plane so tests can
//! count calls and retries.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use serde::Serialize;

/// One answered request.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEntry {
    pub seq: u64,
    pub at: i64,
    pub method: String,
    pub path: String,
    pub query: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
}

/// A bounded log; the oldest entries fall off.
#[derive(Debug)]
pub struct RequestLog {
    entries: Mutex<(u64, VecDeque<LogEntry>)>,
    capacity: usize,
}

impl RequestLog {
    /// A log keeping the last `capacity` requests.
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: Mutex::new((0, VecDeque::with_capacity(capacity.min(4096)))),
            capacity,
        }
    }

    /// Records a request, numbering it.
    pub fn push(&self, mut entry: LogEntry) {
        if self.capacity == 0 {
            return;
        }
        let mut guard = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        guard.0 += 1;
        entry.seq = guard.0;
        if guard.1.len() == self.capacity {
            guard.1.pop_front();
        }
        guard.1.push_back(entry);
    }

    /// Entries numbered above `since`, oldest first, at most `limit`.
    pub fn since(&self, since: u64, limit: usize) -> Vec<LogEntry> {
        let guard = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        guard
            .1
            .iter()
            .filter(|e| e.seq > since)
            .take(limit)
            .cloned()
            .collect()
    }

    /// Forgets every entry.
    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .1
            .clear();
    }
}
