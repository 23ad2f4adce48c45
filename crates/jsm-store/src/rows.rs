//! Rows as both backends return them, and their conversion to the public types: written once, used by both.

use chrono::{DateTime, Utc};

use crate::canonical::canonical_json;
use crate::error::{Error, Result};
use crate::model::{
    Approval, AuditDraft, AuditRecord, CredentialMeta, JournalEntry, Link, PlanRecord, Rejection,
};

/// Unix milliseconds, the form every time column has.
pub(crate) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// Optional time as unix milliseconds.
pub(crate) fn ms_opt(t: Option<DateTime<Utc>>) -> Option<i64> {
    t.map(ms)
}

/// `t` truncated to the millisecond, as it will read back.
pub(crate) fn truncate_ms(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms(t)).unwrap_or(t)
}

fn time(ms: i64, what: impl FnOnce() -> String) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| Error::Corrupt {
        what: format!(
            "{}: {ms} is not a representable unix-millisecond time",
            what()
        ),
    })
}

fn time_opt(ms: Option<i64>, what: impl FnOnce() -> String) -> Result<Option<DateTime<Utc>>> {
    ms.map(|v| time(v, what)).transpose()
}

fn json(text: &str, what: impl FnOnce() -> String) -> Result<serde_json::Value> {
    serde_json::from_str(text).map_err(|e| Error::Corrupt {
        what: format!("{}: not JSON ({e})", what()),
    })
}

/// The text stored in a JSON column: canonical, so it can be hashed again exactly.
pub(crate) fn json_text(v: &serde_json::Value) -> String {
    canonical_json(v)
}

#[derive(sqlx::FromRow)]
pub(crate) struct PlanRow {
    id: String,
    hash: String,
    kind: String,
    requester: String,
    created_at: i64,
    status: String,
    body: String,
}

impl TryFrom<PlanRow> for PlanRecord {
    type Error = Error;

    fn try_from(r: PlanRow) -> Result<Self> {
        let status = r.status.parse().map_err(|_| Error::Corrupt {
            what: format!("plan {}: unknown status {:?}", r.id, r.status),
        })?;
        Ok(PlanRecord {
            created_at: time(r.created_at, || format!("plan {} created_at", r.id))?,
            body: json(&r.body, || format!("plan {} body", r.id))?,
            status,
            id: r.id,
            hash: r.hash,
            kind: r.kind,
            requester: r.requester,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ApprovalRow {
    plan_id: String,
    plan_hash: String,
    approver: String,
    approved_at: i64,
    expires_at: i64,
    used_at: Option<i64>,
}

impl TryFrom<ApprovalRow> for Approval {
    type Error = Error;

    fn try_from(r: ApprovalRow) -> Result<Self> {
        let what = |c: &str| format!("approval of plan {} by {} {c}", r.plan_id, r.approver);
        Ok(Approval {
            approved_at: time(r.approved_at, || what("approved_at"))?,
            expires_at: time(r.expires_at, || what("expires_at"))?,
            used_at: time_opt(r.used_at, || what("used_at"))?,
            plan_id: r.plan_id,
            plan_hash: r.plan_hash,
            approver: r.approver,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct RejectionRow {
    plan_id: String,
    rejected_by: String,
    rejected_at: i64,
    reason: Option<String>,
}

impl TryFrom<RejectionRow> for Rejection {
    type Error = Error;

    fn try_from(r: RejectionRow) -> Result<Self> {
        Ok(Rejection {
            at: time(r.rejected_at, || format!("rejection of plan {}", r.plan_id))?,
            plan_id: r.plan_id,
            by: r.rejected_by,
            reason: r.reason,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct JournalRow {
    plan_id: String,
    item_key: String,
    state: String,
    attempts: i64,
    outcome: Option<String>,
    output: Option<String>,
    error: Option<String>,
    updated_at: i64,
}

impl TryFrom<JournalRow> for JournalEntry {
    type Error = Error;

    fn try_from(r: JournalRow) -> Result<Self> {
        let what = |c: &str| format!("journal {}/{} {c}", r.plan_id, r.item_key);
        let state = r.state.parse().map_err(|_| Error::Corrupt {
            what: what(&format!("state {:?}", r.state)),
        })?;
        let attempts = u32::try_from(r.attempts).map_err(|_| Error::Corrupt {
            what: what(&format!("attempts {}", r.attempts)),
        })?;
        let output = match &r.output {
            Some(text) => Some(json(text, || what("output"))?),
            None => None,
        };
        Ok(JournalEntry {
            updated_at: time(r.updated_at, || what("updated_at"))?,
            state,
            attempts,
            output,
            plan_id: r.plan_id,
            item_key: r.item_key,
            outcome: r.outcome,
            error: r.error,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    pub(crate) seq: i64,
    prev_hash: String,
    hash: String,
    occurred_at: i64,
    actor: String,
    kind: String,
    plan_id: Option<String>,
    item_key: Option<String>,
    action: String,
    target: String,
    outcome: String,
    request_id: Option<String>,
    detail: String,
}

impl TryFrom<AuditRow> for AuditRecord {
    type Error = Error;

    fn try_from(r: AuditRow) -> Result<Self> {
        let seq = r.seq;
        Ok(AuditRecord {
            seq,
            prev_hash: r.prev_hash,
            hash: r.hash,
            draft: AuditDraft {
                at: time(r.occurred_at, || format!("audit record {seq} at"))?,
                detail: json(&r.detail, || format!("audit record {seq} detail"))?,
                actor: r.actor,
                kind: r.kind,
                plan_id: r.plan_id,
                item_key: r.item_key,
                action: r.action,
                target: r.target,
                outcome: r.outcome,
                request_id: r.request_id,
            },
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct LinkRow {
    source: String,
    source_id: String,
    account_id: String,
    scim_id: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<LinkRow> for Link {
    type Error = Error;

    fn try_from(r: LinkRow) -> Result<Self> {
        let what = |c: &str| format!("link {}/{} {c}", r.source, r.source_id);
        Ok(Link {
            created_at: time(r.created_at, || what("created_at"))?,
            updated_at: time(r.updated_at, || what("updated_at"))?,
            source: r.source,
            source_id: r.source_id,
            account_id: r.account_id,
            scim_id: r.scim_id,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct CredentialRow {
    name: String,
    kind: String,
    owner: Option<String>,
    created_at: i64,
    expires_at: Option<i64>,
    last_used_at: Option<i64>,
    last_verified_at: Option<i64>,
    secret_ref: Option<String>,
}

impl TryFrom<CredentialRow> for CredentialMeta {
    type Error = Error;

    fn try_from(r: CredentialRow) -> Result<Self> {
        let what = |c: &str| format!("credential {} {c}", r.name);
        Ok(CredentialMeta {
            created_at: time(r.created_at, || what("created_at"))?,
            expires_at: time_opt(r.expires_at, || what("expires_at"))?,
            last_used_at: time_opt(r.last_used_at, || what("last_used_at"))?,
            last_verified_at: time_opt(r.last_verified_at, || what("last_verified_at"))?,
            name: r.name,
            kind: r.kind,
            owner: r.owner,
            secret_ref: r.secret_ref,
        })
    }
}

/// Converts every row, stopping at the first that does not convert.
pub(crate) fn convert<R, T>(rows: Vec<R>) -> Result<Vec<T>>
where
    T: TryFrom<R, Error = Error>,
{
    rows.into_iter().map(T::try_from).collect()
}
