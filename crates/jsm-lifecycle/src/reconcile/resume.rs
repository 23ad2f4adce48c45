//! Taking over a reconcile: a run stopped mid-apply (its process killed, its lease lost) leaves its plan ready
//! or applying. Whoever runs the same reconcile again finishes that plan from its journal first (so every change
//! it had started is made once, and every item's outcome reaches the audit log), then plans anew.

use chrono::{DateTime, Utc};
use jsm_store::PlanStatus;
use serde_json::Value;

use super::plan::summary_of;
use crate::engine::Engine;
use crate::error::Result;
use crate::plan::Plan;

impl Engine {
    /// The reconcile plans of `source` (as [`super::source_name`] names it) made since `since` and never
    /// finished: ready, or applying when the run that made them stopped. Oldest first.
    pub async fn unfinished_reconciles(
        &self,
        source: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<Plan>> {
        let summary = summary_of(source);
        let mut found = Vec::new();
        for status in [PlanStatus::Ready, PlanStatus::Applying] {
            for r in self.store.plans(Some(status)).await? {
                let ours = r.body.get("summary").and_then(Value::as_str) == Some(summary.as_str());
                if ours && r.created_at >= since {
                    found.push(self.load_plan(&r.id).await?);
                }
            }
        }
        found.sort_by_key(|p| p.created_at);
        Ok(found)
    }
}
