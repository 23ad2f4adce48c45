//! Atlassian's request ids for the audit log: an observer on the client hands each answer's id to the item
//! being applied (a task-local scope around the item), so a write's record names the requests behind it.

use std::sync::{Arc, Mutex, PoisonError};

use jsm_client::{Event, Observer};

tokio::task_local! {
    static CALLS: Arc<Mutex<Vec<String>>>;
}

/// The client observer that collects request ids; add it when building the engine's client.
#[derive(Debug, Default, Clone, Copy)]
pub struct RequestIds;

impl Observer for RequestIds {
    fn on_event(&self, event: &Event) {
        if let Event::Answered {
            method,
            class,
            status,
            request_id: Some(id),
            ..
        } = event
        {
            let line = format!("{method} {class} {status} {id}");
            let _ = CALLS.try_with(|calls| {
                calls
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(line)
            });
        }
    }
}

/// Runs `f` with a fresh collector.
pub(crate) async fn collecting<F: Future>(f: F) -> F::Output {
    CALLS.scope(Arc::new(Mutex::new(Vec::new())), f).await
}

/// The calls answered so far in the current scope (`METHOD route STATUS request-id`).
pub(crate) fn so_far() -> Vec<String> {
    CALLS
        .try_with(|calls| calls.lock().unwrap_or_else(PoisonError::into_inner).clone())
        .unwrap_or_default()
}
