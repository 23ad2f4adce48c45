//! What must hold before apply touches the site: the plan is sealed, its approval marks are what the policy in
//! force says, it is in the store and not rejected, and an approval bound to its hash exists when it needs one.

use jsm_store::{PlanRecord, PlanStatus};

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::plan::Plan;

impl Engine {
    /// Checks a plan can be applied now; consumes its approval when this is its first apply.
    pub(crate) async fn gate(&self, plan: &Plan) -> Result<PlanRecord> {
        plan.check_seal()?;
        let Some(record) = self.store.plan(&plan.id).await? else {
            return Err(Error::PlanState {
                plan_id: plan.id.clone(),
                state: "not in the store".into(),
            });
        };
        if record.hash != plan.hash {
            return Err(Error::HashMismatch {
                plan_id: plan.id.clone(),
                recorded: record.hash,
                actual: plan.hash.clone(),
            });
        }
        let mut expected = plan.clone();
        self.policy.evaluate(&mut expected);
        if expected.items != plan.items || expected.approval_reasons != plan.approval_reasons {
            return Err(Error::BadPlanFile {
                origin: plan.id.clone(),
                detail: "its approval marks do not match the policy in force (the policy changed, or the plan \
                         was not made by jsmctl): plan again"
                    .into(),
            });
        }
        if record.status == PlanStatus::Rejected {
            return Err(Error::PlanState {
                plan_id: plan.id.clone(),
                state: "rejected".into(),
            });
        }
        if plan.needs_approval() && !self.approval_in_use(plan).await? {
            let now = self.client.clock().now();
            if self
                .store
                .consume_approval(&plan.id, &plan.hash, now)
                .await?
                .is_none()
            {
                if record.status == PlanStatus::Ready {
                    self.store
                        .set_plan_status(&plan.id, PlanStatus::AwaitingApproval)
                        .await?;
                }
                return Err(Error::AwaitingApproval {
                    plan_id: plan.id.clone(),
                });
            }
        }
        Ok(record)
    }

    /// True when an approval of this very hash was already consumed by an earlier (interrupted) apply.
    async fn approval_in_use(&self, plan: &Plan) -> Result<bool> {
        Ok(self
            .store
            .approvals(&plan.id)
            .await?
            .iter()
            .any(|a| a.plan_hash == plan.hash && a.used_at.is_some()))
    }
}
