//! Submitting plans to the store, loading them back (by id, id prefix or file), and human approval: bound to
//! the plan's hash, recorded with who and when, single-use, expiring, and refused to the requester under
//! `distinct_approver`.

use std::path::Path;

use chrono::Duration;
use jsm_store::{Approval, PlanRecord, PlanStatus, Rejection};

use crate::audit;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::plan::Plan;

impl Engine {
    /// Stores a new plan (awaiting approval or ready) and audits it; storing the same plan again is a no-op.
    pub async fn submit(&self, plan: &Plan) -> Result<PlanRecord> {
        plan.check_seal()?;
        if let Some(existing) = self.store.plan(&plan.id).await? {
            if existing.hash != plan.hash {
                return Err(Error::HashMismatch {
                    plan_id: plan.id.clone(),
                    recorded: existing.hash,
                    actual: plan.hash.clone(),
                });
            }
            return Ok(existing);
        }
        let record = PlanRecord {
            id: plan.id.clone(),
            hash: plan.hash.clone(),
            kind: plan.kind.as_str().into(),
            requester: plan.requester.clone(),
            created_at: plan.created_at,
            status: if plan.needs_approval() {
                PlanStatus::AwaitingApproval
            } else {
                PlanStatus::Ready
            },
            body: serde_json::to_value(plan).map_err(Error::encode)?,
        };
        self.store.put_plan(&record).await?;
        self.store
            .audit_append(audit::plan_made(plan, &self.actor))
            .await?;
        Ok(record)
    }

    /// The plan named by a file path, an id or a unique id prefix. A file is checked (format, version, hash)
    /// and stored if new; a stored plan with the same id but another hash is refused.
    pub async fn load_plan(&self, plan_or_id: &str) -> Result<Plan> {
        let path = Path::new(plan_or_id);
        if path.is_file() {
            let text = std::fs::read_to_string(path).map_err(|e| Error::BadPlanFile {
                origin: plan_or_id.to_string(),
                detail: e.to_string(),
            })?;
            let plan = Plan::from_json(&text, plan_or_id)?;
            self.submit(&plan).await?;
            return Ok(plan);
        }
        let record = match self.store.plan(plan_or_id).await? {
            Some(r) => Some(r),
            None if plan_or_id.len() >= 6 => self.store.plan_by_prefix(plan_or_id).await?,
            None => None,
        };
        let Some(record) = record else {
            return Err(Error::not_found(format!(
                "plan {plan_or_id} (neither a file nor a stored plan id)"
            )));
        };
        let plan: Plan = serde_json::from_value(record.body).map_err(|e| Error::BadPlanFile {
            origin: plan_or_id.to_string(),
            detail: format!("stored plan does not parse: {e}"),
        })?;
        plan.check_seal()?;
        Ok(plan)
    }

    /// Approves a stored plan as `approver`, bound to its hash, valid for the policy's TTL.
    pub async fn approve(&self, plan_id: &str, approver: &str) -> Result<Approval> {
        let plan = self.load_plan(plan_id).await?;
        let record = self.stored(&plan.id).await?;
        match record.status {
            PlanStatus::Rejected | PlanStatus::Applied => {
                return Err(Error::PlanState {
                    plan_id: plan.id,
                    state: record.status.as_str().into(),
                });
            }
            _ => {}
        }
        if self.policy.approval.distinct_approver && approver.eq_ignore_ascii_case(&plan.requester)
        {
            return Err(Error::SelfApproval {
                plan_id: plan.id,
                approver: approver.to_string(),
            });
        }
        let now = self.client.clock().now();
        let approval = Approval {
            plan_id: plan.id.clone(),
            plan_hash: plan.hash.clone(),
            approver: approver.to_string(),
            approved_at: now,
            expires_at: now + Duration::hours(i64::from(self.policy.approval.ttl_hours)),
            used_at: None,
        };
        self.store.add_approval(&approval).await?;
        if record.status == PlanStatus::AwaitingApproval {
            self.store
                .set_plan_status(&plan.id, PlanStatus::Ready)
                .await?;
        }
        let detail = serde_json::json!({ "hash": plan.hash, "expires_at": approval.expires_at });
        self.decided(&plan, approver, audit::kind::APPROVAL, "approved", detail)
            .await?;
        Ok(approval)
    }

    /// Rejects a stored plan; it can no longer be approved or applied.
    pub async fn reject(&self, plan_id: &str, by: &str, reason: Option<&str>) -> Result<Rejection> {
        let plan = self.load_plan(plan_id).await?;
        let record = self.stored(&plan.id).await?;
        if matches!(record.status, PlanStatus::Applied | PlanStatus::Applying) {
            return Err(Error::PlanState {
                plan_id: plan.id,
                state: record.status.as_str().into(),
            });
        }
        let now = self.client.clock().now();
        let rejection = Rejection {
            plan_id: plan.id.clone(),
            by: by.to_string(),
            at: now,
            reason: reason.map(str::to_string),
        };
        self.store.add_rejection(&rejection).await?;
        self.store
            .set_plan_status(&plan.id, PlanStatus::Rejected)
            .await?;
        let detail = serde_json::json!({ "hash": plan.hash, "reason": reason });
        self.decided(&plan, by, audit::kind::REJECTION, "rejected", detail)
            .await?;
        Ok(rejection)
    }

    /// Audits a person's decision on a plan.
    async fn decided(
        &self,
        plan: &Plan,
        who: &str,
        kind: &str,
        outcome: &str,
        detail: serde_json::Value,
    ) -> Result<()> {
        self.store
            .audit_append(jsm_store::AuditDraft {
                at: self.client.clock().now(),
                actor: who.to_string(),
                kind: kind.into(),
                plan_id: Some(plan.id.clone()),
                item_key: None,
                action: kind.into(),
                target: plan.summary.clone(),
                outcome: outcome.into(),
                request_id: None,
                detail,
            })
            .await?;
        Ok(())
    }

    async fn stored(&self, id: &str) -> Result<PlanRecord> {
        self.store
            .plan(id)
            .await?
            .ok_or_else(|| Error::not_found(format!("plan {id}")))
    }
}
