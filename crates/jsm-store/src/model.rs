//! The records the store keeps, as the rest of jsmctl sees them.
//!
//! Times are kept to the millisecond: a finer `DateTime` comes back truncated.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// Where a plan is in its life: proposed, approved, being applied, finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    /// Policy wants a human to approve it first.
    AwaitingApproval,
    /// May be applied.
    Ready,
    /// An apply is under way.
    Applying,
    /// Every item was applied.
    Applied,
    /// The apply stopped with failures.
    Failed,
    /// A human rejected it; it will never be applied.
    Rejected,
}

impl PlanStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [PlanStatus; 6] = [
        PlanStatus::AwaitingApproval,
        PlanStatus::Ready,
        PlanStatus::Applying,
        PlanStatus::Applied,
        PlanStatus::Failed,
        PlanStatus::Rejected,
    ];

    /// The snake_case text stored in the database and shown in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            PlanStatus::AwaitingApproval => "awaiting_approval",
            PlanStatus::Ready => "ready",
            PlanStatus::Applying => "applying",
            PlanStatus::Applied => "applied",
            PlanStatus::Failed => "failed",
            PlanStatus::Rejected => "rejected",
        }
    }
}

impl fmt::Display for PlanStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PlanStatus {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PlanStatus::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| Error::Invalid {
                what: format!("unknown plan status {s:?}"),
            })
    }
}

/// A plan as stored: the reviewable artifact that apply executes exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanRecord {
    /// Stable id of the plan.
    pub id: String,
    /// Hash of the plan's canonical content; approvals are bound to it.
    pub hash: String,
    /// What kind of plan (provision, offboard, reconcile, ...).
    pub kind: String,
    /// Who asked for it.
    pub requester: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// Where it is in its life.
    pub status: PlanStatus,
    /// The plan itself.
    pub body: serde_json::Value,
}

/// A human's approval of one exact plan hash, valid until it expires or is used once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Approval {
    /// The plan approved.
    pub plan_id: String,
    /// The plan hash the approver saw; an approval is never valid for another hash.
    pub plan_hash: String,
    /// Who approved.
    pub approver: String,
    /// When.
    pub approved_at: DateTime<Utc>,
    /// After this instant the approval can no longer be used.
    pub expires_at: DateTime<Utc>,
    /// When an apply consumed it; `None` while unused.
    pub used_at: Option<DateTime<Utc>>,
}

/// A human's refusal of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rejection {
    /// The plan rejected.
    pub plan_id: String,
    /// Who rejected it.
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Why, if they said.
    pub reason: Option<String>,
}

/// Where one plan item is in an apply; lets a crashed apply resume without repeating or losing a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JournalState {
    /// Not yet sent.
    Pending,
    /// Sent; the outcome is not yet known (a crash here means: check before resending).
    Sent,
    /// Applied.
    Done,
    /// Failed; may be retried.
    Failed,
    /// Failed in a way that needs a human; never retried automatically.
    Quarantined,
}

impl JournalState {
    /// Every state, in apply order.
    pub const ALL: [JournalState; 5] = [
        JournalState::Pending,
        JournalState::Sent,
        JournalState::Done,
        JournalState::Failed,
        JournalState::Quarantined,
    ];

    /// The snake_case text stored in the database and shown in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            JournalState::Pending => "pending",
            JournalState::Sent => "sent",
            JournalState::Done => "done",
            JournalState::Failed => "failed",
            JournalState::Quarantined => "quarantined",
        }
    }
}

impl fmt::Display for JournalState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JournalState {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JournalState::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| Error::Invalid {
                what: format!("unknown journal state {s:?}"),
            })
    }
}

/// One item of one plan's apply; `(plan_id, item_key)` is the idempotency key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// The plan being applied.
    pub plan_id: String,
    /// The item within the plan; unique per plan.
    pub item_key: String,
    /// Where the item is.
    pub state: JournalState,
    /// How many times it was sent.
    pub attempts: u32,
    /// Short outcome word (created, unchanged, ...), once known.
    pub outcome: Option<String>,
    /// What the remote side answered that later steps need (e.g. a new account id).
    pub output: Option<serde_json::Value>,
    /// The last error, if any.
    pub error: Option<String>,
    /// When this row last changed.
    pub updated_at: DateTime<Utc>,
}

/// An audit event before the store gives it its place in the chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditDraft {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Who did it (a user, a service, an agent).
    pub actor: String,
    /// Category of event (read, write, approval, ...).
    pub kind: String,
    /// The plan it belongs to, if any.
    pub plan_id: Option<String>,
    /// The plan item it belongs to, if any.
    pub item_key: Option<String>,
    /// What was done.
    pub action: String,
    /// To what.
    pub target: String,
    /// How it ended.
    pub outcome: String,
    /// The remote request id, to match Atlassian's own logs.
    pub request_id: Option<String>,
    /// Anything else worth keeping (never a secret).
    pub detail: serde_json::Value,
}

/// An audit event in the chain: `hash` covers `prev_hash`, `seq` and the draft.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Position in the log, from 1 with no gaps.
    pub seq: i64,
    /// Hash of the record before (64 zeros for the first).
    pub prev_hash: String,
    /// Hex SHA-256 of this record; see [`crate::record_hash`].
    pub hash: String,
    /// The event itself.
    #[serde(flatten)]
    pub draft: AuditDraft,
}

/// A link from an identity in a source (an IdP, a CSV) to an Atlassian account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Link {
    /// The source's name.
    pub source: String,
    /// The identity's id in that source.
    pub source_id: String,
    /// The Atlassian account id it is linked to.
    pub account_id: String,
    /// The SCIM user id, when provisioned through SCIM.
    pub scim_id: Option<String>,
    /// When the link was first made (kept across updates).
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// What jsmctl knows about a credential, without the credential.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialMeta {
    /// The name jsmctl knows it by.
    pub name: String,
    /// api_token, oauth, scim_key, admin_key, ...
    pub kind: String,
    /// The person or team responsible for it.
    pub owner: Option<String>,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it stops working, if known (API tokens: a year after creation).
    pub expires_at: Option<DateTime<Utc>>,
    /// When jsmctl last used it.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When jsmctl last proved it still works.
    pub last_verified_at: Option<DateTime<Utc>>,
    /// Where the secret lives: an environment variable name or a file path, never the secret itself.
    pub secret_ref: Option<String>,
}

/// The result of a successful [`crate::Store::audit_verify`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// How many records were checked.
    pub records: u64,
    /// Hash of the last record, `None` for an empty log.
    pub head: Option<String>,
}

/// Why the audit chain does not verify.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum VerifyError {
    /// The chain is broken at `seq`.
    #[error("audit log broken at seq {seq}: {reason}")]
    Broken {
        /// The first record (or missing position) that fails.
        seq: i64,
        /// What is wrong there.
        reason: String,
    },
}
