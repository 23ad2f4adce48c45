//! The reclaim plan: for every reclaimable seat, the safest change that frees it (remove every granting group;
//! else suspend on this site; never deactivate), a manual step for what only a person can change (a group the
//! identity provider syncs, a direct grant, the Trusted role), and a re-check of each seat after apply. The
//! plan's notes say what it saves and when.

use super::model::{PathKind, ReclaimAction, SeatAccount};
use super::{JSM, SeatQuery, SeatReport};
use crate::engine::Engine;
use crate::error::Result;
use crate::plan::{Action, Draft, ManualCheck, Plan, PlanKind, Precondition};

fn label(a: &SeatAccount) -> String {
    a.email.clone().unwrap_or_else(|| a.account_id.clone())
}

/// What a person must do about a path jsmctl cannot change.
fn instruction(a: &SeatAccount, path: &super::SeatPath) -> String {
    let who = label(a);
    match (&path.group, path.kind) {
        (Some(g), _) => format!(
            "remove {who} from group {g} in the identity provider that syncs it (SCIM): a change made in \
             Atlassian would be re-synced"
        ),
        (None, PathKind::Direct) => format!(
            "remove the {} role granted directly to {who} in Atlassian Administration",
            a.product
        ),
        (None, PathKind::Trusted) => {
            format!(
                "remove the Trusted role of {who} (original user management: it grants every product)"
            )
        }
        (None, _) => format!(
            "find the role that gives {who} {} in Atlassian Administration (Atlassian reports it as inferred)",
            a.product
        ),
    }
}

impl Engine {
    /// Plans the reclaim of every reclaimable seat of the products asked (JSM when none), and returns the
    /// report it was made from.
    pub async fn plan_seat_reclaim(&self, query: &SeatQuery) -> Result<(Plan, SeatReport)> {
        let before = self.calls_sent();
        let mut query = query.clone();
        if query.products.is_empty() {
            query.products = vec![JSM.to_string()];
        }
        let (report, directory) = self.seat_facts(&query).await?;
        let reclaim: Vec<&SeatAccount> = report.accounts.iter().filter(|a| a.reclaimable).collect();
        let billable = report.accounts.iter().filter(|a| a.billable).count();
        let mut draft = Draft::new(
            PlanKind::SeatReclaim,
            format!(
                "reclaim {} unused seat(s) of {} (inactive {} days or more)",
                reclaim.len(),
                query.products.join(", "),
                report.inactive_days
            ),
        );
        draft.scope(u32::try_from(billable).unwrap_or(u32::MAX));
        let exists = |a: &SeatAccount| Precondition::AccountExists {
            account_id: a.account_id.clone(),
        };
        let mut keys: Vec<(usize, Vec<String>)> = Vec::new();
        // Group removals first (the safest: the account keeps everything else), then suspensions.
        for (i, a) in reclaim.iter().enumerate() {
            let mut mine = Vec::new();
            if matches!(
                a.reclaim,
                Some(ReclaimAction::RemoveGroups | ReclaimAction::Manual)
            ) {
                for p in a.paths.iter().filter(|p| p.is_group() && !p.scim_managed) {
                    let group = p.group.clone().unwrap_or_default();
                    mine.push(draft.push(
                        Action::RemoveFromGroup {
                            group: group.clone(),
                            account_id: a.account_id.clone(),
                        },
                        format!("{} in group {group} ({})", label(a), a.product),
                        a.reason.clone(),
                        exists(a),
                    ));
                }
            }
            keys.push((i, mine));
        }
        for (i, a) in reclaim.iter().enumerate() {
            if a.reclaim == Some(ReclaimAction::Suspend)
                && let Some(dir) = &directory
            {
                let key = draft.push(
                    Action::SuspendAccess {
                        account_id: a.account_id.clone(),
                        directory_id: dir.clone(),
                    },
                    format!("access of {} to this site", label(a)),
                    format!(
                        "{}; suspension keeps roles and groups and frees every product's seat on this site \
                         (restore-access undoes it)",
                        a.reason
                    ),
                    exists(a),
                );
                keys[i].1.push(key);
            }
        }
        // What only a person can change; each stays pending until the seat is free.
        for (i, a) in reclaim.iter().enumerate() {
            if a.reclaim != Some(ReclaimAction::Manual) {
                continue;
            }
            for p in a.paths.iter().filter(|p| p.scim_managed || !p.is_group()) {
                let key = draft.push(
                    Action::Manual {
                        instruction: instruction(a, p),
                        verify: ManualCheck::SeatFreed {
                            account_id: a.account_id.clone(),
                            product: a.product.clone(),
                        },
                    },
                    format!("{} seat of {}", a.product, label(a)),
                    "a path jsmctl cannot change keeps the seat".to_string(),
                    Precondition::None,
                );
                let deps = keys[i].1.clone();
                if let Some(item) = draft.last() {
                    item.depends_on = deps;
                }
                keys[i].1.push(key);
            }
        }
        // Re-check every seat the plan frees, after its changes: SCIM can re-add a membership.
        for (i, a) in reclaim.iter().enumerate() {
            if !a.frees {
                continue;
            }
            let deps = keys[i].1.clone();
            draft.push(
                Action::Manual {
                    instruction: format!(
                        "nothing, unless this stays pending: then something granted the {} seat of {} again \
                         (an identity provider re-adding a SCIM group, a direct grant): jsmctl seats shows the \
                         path",
                        a.product,
                        label(a)
                    ),
                    verify: ManualCheck::SeatFreed {
                        account_id: a.account_id.clone(),
                        product: a.product.clone(),
                    },
                },
                format!("{} seat of {} is free", a.product, label(a)),
                "re-check after apply".to_string(),
                Precondition::None,
            );
            if let Some(item) = draft.last() {
                item.depends_on = deps;
            }
        }
        let frees = reclaim.iter().filter(|a| a.frees).count();
        let kept = reclaim.len() - frees;
        for p in &report.products {
            draft.note(format!("{}: {}", p.key, p.saving.summary));
        }
        if kept > 0 {
            draft.note(format!(
                "{kept} reclaimable seat(s) stay billed until a person acts (manual steps): not counted as freed"
            ));
        }
        let admins = report
            .accounts
            .iter()
            .filter(|a| {
                a.billable
                    && !a.reclaimable
                    && a.paths.iter().any(|p| p.kind == PathKind::AdminGroup)
                    && a.reason.contains("holds the seat through admin group")
            })
            .count();
        if admins > 0 {
            draft.note(format!(
                "{admins} inactive seat(s) come from admin groups: jsmctl leaves admins alone (see jsmctl seats)"
            ));
        }
        let plan = self.finish(draft, before)?;
        Ok((plan, report))
    }
}
