//! The HTTP API under `/api/v1`, described by the OpenAPI 3.1 document at `/openapi.json` that utoipa generates
//! from these handlers. Operators authenticate with a bearer token; every write records them as the actor.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use jsm_lifecycle::Plan;
use jsm_lifecycle::plan::Item;
use jsm_store::{AuditRecord, JobState, PlanRecord, PlanStatus};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::error::{ApiJson, ApiPath, ApiQuery, Error, ErrorBody, Result};
use crate::jobs::{CredentialView, Job, credential_report};
use crate::state::{AppState, SeatReport};

/// The OpenAPI document's fixed parts; the paths come from the router.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "jsmctl serve",
        description = "The jsmctl lifecycle engine as a service: plans, approvals, jobs (applies and reconciles), \
                       audit log, seats, credentials, and the Atlassian webhook receiver.",
        license(name = "Apache-2.0")
    ),
    modifiers(&BearerAuth),
    security(("operator_token" = [])),
    tags(
        (name = "plans", description = "Plans and their approval"),
        (name = "jobs", description = "Applies and reconciles run by the workers"),
        (name = "audit", description = "The hash-chained audit log"),
        (name = "site", description = "Seats and credentials"),
        (name = "webhooks", description = "Atlassian webhooks"),
        (name = "service", description = "Health and identity")
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "operator_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An operator token from `jsmctl operators add NAME`"))
                    .build(),
            ),
        );
    }
}

/// The API routes with their OpenAPI paths.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(list_plans, submit_plan))
        .routes(routes!(get_plan))
        .routes(routes!(approve_plan))
        .routes(routes!(reject_plan))
        .routes(routes!(apply_plan))
        .routes(routes!(list_jobs))
        .routes(routes!(get_job))
        .routes(routes!(queue_reconcile))
        .routes(routes!(list_audit))
        .routes(routes!(verify_audit))
        .routes(routes!(seats))
        .routes(routes!(credentials))
        .routes(routes!(whoami))
        .routes(routes!(crate::webhook::receive))
}

/// Counts of `+`, `~` and `-` items.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Counts {
    /// `+` items.
    pub create: usize,
    /// `~` items.
    pub change: usize,
    /// `-` items.
    pub remove: usize,
}

/// A plan in a list.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PlanSummary {
    /// The plan's id.
    pub id: String,
    /// What it is for.
    pub kind: String,
    /// One line for people.
    pub summary: String,
    /// Who asked for it.
    pub requester: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// `awaiting_approval`, `ready`, `applying`, `applied`, `failed` or `rejected`.
    pub status: String,
    /// Whether it needs a human approval.
    pub needs_approval: bool,
    /// The policy rules that asked for approval.
    pub approval_reasons: Vec<String>,
    /// Its items by sign.
    pub counts: Counts,
}

/// One item of a plan.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ItemView {
    /// Key within the plan.
    pub key: String,
    /// `+`, `~` or `-`.
    pub sign: String,
    /// The action's verb.
    pub action: String,
    /// Who or what it changes.
    pub target: String,
    /// Why.
    pub reason: String,
    /// `low`, `medium`, `high`.
    pub risk: String,
    /// Whether it needs approval.
    pub needs_approval: bool,
    /// The policy rule that asked for approval.
    pub approval_rule: Option<String>,
    /// What must still hold at apply time.
    pub precondition: String,
    /// What it costs.
    pub cost: Option<String>,
    /// Its state in the apply journal, once applying.
    pub journal: Option<String>,
}

/// An approval of a plan.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ApprovalView {
    /// Who approved.
    pub approver: String,
    /// When.
    pub approved_at: DateTime<Utc>,
    /// Until when it can be used.
    pub expires_at: DateTime<Utc>,
    /// When an apply used it.
    pub used_at: Option<DateTime<Utc>>,
}

/// A plan with its items, approvals and rejection.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PlanDetail {
    /// The summary fields.
    #[serde(flatten)]
    pub plan: PlanSummary,
    /// The content hash approvals are bound to.
    pub hash: String,
    /// The site it is for.
    pub site: String,
    /// Facts people should know.
    pub notes: Vec<String>,
    /// The changes, in apply order.
    pub items: Vec<ItemView>,
    /// Its approvals.
    pub approvals: Vec<ApprovalView>,
    /// Who rejected it, and why.
    pub rejected_by: Option<String>,
    /// Why it was rejected.
    pub rejection_reason: Option<String>,
}

/// The answer to an approval.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ApproveResult {
    /// The plan.
    pub plan_id: String,
    /// Who approved.
    pub approver: String,
    /// Until when the approval can be used.
    pub expires_at: DateTime<Utc>,
    /// The apply job queued, when the plan is now ready.
    pub apply_job: Option<i64>,
}

/// Body of a rejection.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectBody {
    /// Why (at most 1000 characters).
    #[schema(max_length = 1000)]
    pub reason: Option<String>,
}

/// A job.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct JobView {
    /// Queue-wide id.
    pub id: i64,
    /// `apply_plan`, `reconcile`, `credential_check`.
    pub kind: String,
    /// `queued`, `running`, `done`, `failed`, `cancelled`.
    pub state: String,
    /// Its parameters.
    pub spec: Value,
    /// Claims so far (a takeover after a dead worker counts).
    pub attempts: u32,
    /// Claims allowed.
    pub max_attempts: u32,
    /// Who queued it.
    pub created_by: String,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// Not before.
    pub run_at: DateTime<Utc>,
    /// First claim.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// The worker that holds (or last held) it.
    pub worker: Option<String>,
    /// When its lease runs out.
    pub lease_until: Option<DateTime<Utc>>,
    /// What it produced.
    pub result: Option<Value>,
    /// The last error.
    pub error: Option<String>,
}

impl From<jsm_store::Job> for JobView {
    fn from(j: jsm_store::Job) -> Self {
        Self {
            id: j.id,
            kind: j.kind,
            state: j.state.as_str().into(),
            spec: j.spec,
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            created_by: j.created_by,
            created_at: j.created_at,
            run_at: j.run_at,
            started_at: j.started_at,
            finished_at: j.finished_at,
            worker: j.worker,
            lease_until: j.lease_until,
            result: j.result,
            error: j.error,
        }
    }
}

/// Body of a reconcile request.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReconcileBody {
    /// The identity source (default: the configured one).
    #[schema(max_length = 100, pattern = "^[A-Za-z0-9._-]+$")]
    pub source: Option<String>,
    /// One person's Atlassian account id; everyone when absent.
    #[schema(max_length = 128, pattern = "^[A-Za-z0-9:._-]+$")]
    pub person: Option<String>,
}

/// One audit record.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    /// Position in the log, from 1.
    pub seq: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: String,
    /// `plan`, `approval`, `rejection`, `write`, `read`, `apply`.
    pub kind: String,
    /// The plan.
    pub plan_id: Option<String>,
    /// The plan item.
    pub item_key: Option<String>,
    /// What was done.
    pub action: String,
    /// To what.
    pub target: String,
    /// How it ended.
    pub outcome: String,
    /// Remote request id.
    pub request_id: Option<String>,
    /// Anything else.
    pub detail: Value,
    /// This record's hash.
    pub hash: String,
}

impl From<AuditRecord> for AuditEntry {
    fn from(r: AuditRecord) -> Self {
        let d = r.draft;
        Self {
            seq: r.seq,
            at: d.at,
            actor: d.actor,
            kind: d.kind,
            plan_id: d.plan_id,
            item_key: d.item_key,
            action: d.action,
            target: d.target,
            outcome: d.outcome,
            request_id: d.request_id,
            detail: d.detail,
            hash: r.hash,
        }
    }
}

/// The verdict on the audit chain.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VerifyView {
    /// Whether the whole chain verifies.
    pub ok: bool,
    /// Records checked.
    pub records: u64,
    /// Hash of the last record (keep it elsewhere to anchor the log).
    pub head: Option<String>,
    /// The first record that does not verify.
    pub broken_at: Option<i64>,
    /// Why.
    pub reason: Option<String>,
}

/// Who is asking.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WhoAmI {
    /// The operator.
    pub operator: String,
    /// The worker answering.
    pub worker: String,
    /// `sqlite` (one worker) or `postgres` (many).
    pub backend: String,
}

/// Filter of the plan list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PlansQuery {
    /// Only plans in this status.
    #[param(inline)]
    pub status: Option<PlanStatusParam>,
}

/// A plan status as a query parameter.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatusParam {
    /// Waiting for approval.
    AwaitingApproval,
    /// May be applied.
    Ready,
    /// Being applied.
    Applying,
    /// Applied.
    Applied,
    /// Stopped with failures.
    Failed,
    /// Rejected.
    Rejected,
}

impl From<PlanStatusParam> for PlanStatus {
    fn from(p: PlanStatusParam) -> Self {
        match p {
            PlanStatusParam::AwaitingApproval => PlanStatus::AwaitingApproval,
            PlanStatusParam::Ready => PlanStatus::Ready,
            PlanStatusParam::Applying => PlanStatus::Applying,
            PlanStatusParam::Applied => PlanStatus::Applied,
            PlanStatusParam::Failed => PlanStatus::Failed,
            PlanStatusParam::Rejected => PlanStatus::Rejected,
        }
    }
}

/// Filter and page of the job list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct JobsQuery {
    /// Only jobs in this state.
    #[param(inline)]
    pub state: Option<JobStateParam>,
    /// Only jobs with an id below this (the last id of the previous page).
    #[param(minimum = 1)]
    pub before: Option<i64>,
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// A job state as a query parameter.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobStateParam {
    /// Waiting.
    Queued,
    /// Leased.
    Running,
    /// Finished.
    Done,
    /// Gave up.
    Failed,
    /// Withdrawn.
    Cancelled,
}

impl From<JobStateParam> for JobState {
    fn from(p: JobStateParam) -> Self {
        match p {
            JobStateParam::Queued => JobState::Queued,
            JobStateParam::Running => JobState::Running,
            JobStateParam::Done => JobState::Done,
            JobStateParam::Failed => JobState::Failed,
            JobStateParam::Cancelled => JobState::Cancelled,
        }
    }
}

/// Page and search of the audit log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only records with a seq above this (the last seq of the previous page).
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// Page size, 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// Only records whose actor, action, target, outcome, kind or plan id contains this (case-insensitive).
    #[param(max_length = 200)]
    pub q: Option<String>,
}

fn check_limit(limit: Option<u32>, default: u32) -> Result<u32> {
    match limit {
        None => Ok(default),
        Some(n @ 1..=500) => Ok(n),
        Some(n) => Err(Error::BadRequest(format!("limit {n} is outside 1-500"))),
    }
}

/// Whether a plan id (or prefix) has the shape jsmctl gives them.
fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The stored plan that `id` names exactly or by a unique prefix of at least 6 characters.
pub async fn find_plan(state: &AppState, id: &str) -> Result<PlanRecord> {
    if !valid_id(id) {
        return Err(Error::NotFound(format!("no plan {id:?}")));
    }
    let store = state.store();
    let found = match store.plan(id).await? {
        Some(p) => Some(p),
        None if id.len() >= jsm_store::MIN_PLAN_PREFIX => match store.plan_by_prefix(id).await {
            Ok(p) => p,
            Err(jsm_store::Error::Conflict { what }) => return Err(Error::Conflict(what)),
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    found.ok_or_else(|| Error::NotFound(format!("no plan {id:?}")))
}

/// Parses a stored plan's body.
pub fn plan_of(record: &PlanRecord) -> Result<Plan> {
    serde_json::from_value(record.body.clone())
        .map_err(|e| Error::Internal(format!("stored plan {} does not parse: {e}", record.id)))
}

fn summary(record: &PlanRecord, plan: &Plan) -> PlanSummary {
    let (create, change, remove) = plan.counts();
    PlanSummary {
        id: record.id.clone(),
        kind: record.kind.clone(),
        summary: plan.summary.clone(),
        requester: record.requester.clone(),
        created_at: record.created_at,
        status: record.status.as_str().into(),
        needs_approval: plan.needs_approval(),
        approval_reasons: plan.approval_reasons.clone(),
        counts: Counts {
            create,
            change,
            remove,
        },
    }
}

fn item_view(item: &Item, journal: Option<String>) -> ItemView {
    ItemView {
        key: item.key.clone(),
        sign: item.action.sign().symbol().to_string(),
        action: item.action.name().into(),
        target: item.target.clone(),
        reason: item.reason.clone(),
        risk: serde_json::to_value(item.risk)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        needs_approval: item.needs_approval,
        approval_rule: item.approval_rule.clone(),
        precondition: item.precondition.describe(),
        cost: item.cost.clone(),
        journal,
    }
}

/// A plan with everything the page and the API show.
pub async fn plan_detail(state: &AppState, record: &PlanRecord) -> Result<PlanDetail> {
    let plan = plan_of(record)?;
    let store = state.store();
    let journal: std::collections::HashMap<String, String> = store
        .journal(&record.id)
        .await?
        .into_iter()
        .map(|e| (e.item_key, e.state.as_str().to_string()))
        .collect();
    let approvals = store
        .approvals(&record.id)
        .await?
        .into_iter()
        .map(|a| ApprovalView {
            approver: a.approver,
            approved_at: a.approved_at,
            expires_at: a.expires_at,
            used_at: a.used_at,
        })
        .collect();
    let rejection = store.rejection(&record.id).await?;
    Ok(PlanDetail {
        plan: summary(record, &plan),
        hash: record.hash.clone(),
        site: plan.site.clone(),
        notes: plan.notes.clone(),
        items: plan
            .items
            .iter()
            .map(|i| item_view(i, journal.get(&i.key).cloned()))
            .collect(),
        approvals,
        rejected_by: rejection.as_ref().map(|r| r.by.clone()),
        rejection_reason: rejection.and_then(|r| r.reason),
    })
}

/// The plan file as `jsmctl … --out FILE` writes it: the documented shape; its `hash` must be the SHA-256 of its
/// canonical content, and its approval marks those of the policy in force.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(
    dead_code,
    reason = "documents the request body; the handler parses the plan with its own checks"
)]
pub struct PlanFile {
    /// Plan file format version (1).
    version: u32,
    /// Unique id.
    id: String,
    /// SHA-256 of the canonical content without the hash.
    hash: String,
    /// `provision_customer`, `provision_agent`, `offboard`, `restore`, `groups`, `customers`, `batch`.
    kind: String,
    /// One line for people.
    summary: String,
    /// Who asked for it.
    requester: String,
    /// When it was made.
    created_at: DateTime<Utc>,
    /// The site it is for.
    site: String,
    /// Accounts in scope (deletion guard).
    scope: u32,
    /// The changes.
    #[schema(value_type = Vec<Object>)]
    items: Vec<Value>,
    /// API calls and time.
    #[schema(value_type = Object)]
    estimate: Value,
    /// Facts people should know.
    notes: Vec<String>,
    /// Why it needs approval.
    approval_reasons: Vec<String>,
}

/// Plans, newest first.
#[utoipa::path(get, path = "/api/v1/plans", tag = "plans", params(PlansQuery),
    responses(
        (status = 200, body = Vec<PlanSummary>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    ))]
async fn list_plans(
    State(state): State<AppState>,
    _caller: Caller,
    ApiQuery(q): ApiQuery<PlansQuery>,
) -> Result<Json<Vec<PlanSummary>>> {
    let records = state.store().plans(q.status.map(Into::into)).await?;
    let mut out = Vec::with_capacity(records.len());
    for r in &records {
        out.push(summary(r, &plan_of(r)?));
    }
    Ok(Json(out))
}

/// Submits a plan file (as `jsmctl … --out FILE` writes it); it is checked (format, version, hash, policy marks).
#[utoipa::path(post, path = "/api/v1/plans", tag = "plans",
    request_body(content = PlanFile, description = "A plan file"),
    responses(
        (status = 201, body = PlanDetail),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
    ))]
async fn submit_plan(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<Value>,
) -> Result<(StatusCode, Json<PlanDetail>)> {
    let text = body.to_string();
    let plan = Plan::from_json(&text, "request body")?;
    let mut expected = plan.clone();
    state.0.policy.evaluate(&mut expected);
    if expected.items != plan.items || expected.approval_reasons != plan.approval_reasons {
        return Err(Error::BadRequest(
            "the plan's approval marks do not match the policy in force: plan again".into(),
        ));
    }
    let record = state.engine_as(&caller.name).submit(&plan).await?;
    Ok((
        StatusCode::CREATED,
        Json(plan_detail(&state, &record).await?),
    ))
}

/// One plan, by id or unique id prefix.
#[utoipa::path(get, path = "/api/v1/plans/{id}", tag = "plans",
    params(("id" = String, Path, description = "Plan id or a unique prefix of at least 6 characters")),
    responses(
        (status = 200, body = PlanDetail),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
    ))]
async fn get_plan(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<PlanDetail>> {
    let record = find_plan(&state, &id).await?;
    Ok(Json(plan_detail(&state, &record).await?))
}

/// Approves a plan as the caller (bound to its hash, single-use, expiring; refused to its requester under
/// `distinct_approver`) and queues its apply when it is then ready.
pub async fn approve(state: &AppState, caller: &Caller, id: &str) -> Result<ApproveResult> {
    let record = find_plan(state, id).await?;
    let approval = state
        .engine_as(&caller.name)
        .approve(&record.id, &caller.name)
        .await?;
    let now = state.now();
    let status = state.store().plan(&record.id).await?.map(|r| r.status);
    let apply_job = if status == Some(PlanStatus::Ready) {
        Some(
            queue(
                state,
                &Job::ApplyPlan {
                    plan_id: record.id.clone(),
                },
                &caller.name,
                now,
            )
            .await?
            .id,
        )
    } else {
        None
    };
    Ok(ApproveResult {
        plan_id: record.id,
        approver: approval.approver,
        expires_at: approval.expires_at,
        apply_job,
    })
}

/// Rejects a plan as the caller.
pub async fn reject(
    state: &AppState,
    caller: &Caller,
    id: &str,
    reason: Option<&str>,
) -> Result<()> {
    let record = find_plan(state, id).await?;
    if let Some(r) = reason
        && r.chars().count() > 1000
    {
        return Err(Error::BadRequest("reason: at most 1000 characters".into()));
    }
    if record.status == PlanStatus::Rejected {
        return Err(Error::Conflict(format!(
            "plan {} is already rejected",
            record.id
        )));
    }
    state
        .engine_as(&caller.name)
        .reject(
            &record.id,
            &caller.name,
            reason.filter(|r| !r.trim().is_empty()),
        )
        .await?;
    Ok(())
}

/// Queues a job as `by`.
pub async fn queue(
    state: &AppState,
    job: &Job,
    by: &str,
    now: DateTime<Utc>,
) -> Result<jsm_store::Job> {
    let stored = state
        .store()
        .job_enqueue(&job.to_new(state.config(), by, now), now)
        .await?;
    state.wake_worker();
    Ok(stored)
}

/// Approves a plan; when it is then ready its apply is queued.
#[utoipa::path(post, path = "/api/v1/plans/{id}/approve", tag = "plans",
    params(("id" = String, Path, description = "Plan id or unique prefix")),
    responses(
        (status = 200, body = ApproveResult),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, description = "The requester cannot approve their own plan (distinct_approver), or a missing CSRF token", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
    ))]
async fn approve_plan(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ApproveResult>> {
    Ok(Json(approve(&state, &caller, &id).await?))
}

/// Rejects a plan; it can no longer be approved or applied.
#[utoipa::path(post, path = "/api/v1/plans/{id}/reject", tag = "plans",
    params(("id" = String, Path, description = "Plan id or unique prefix")),
    request_body(content = RejectBody, description = "Why (optional)"),
    responses(
        (status = 200, body = PlanDetail),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
    ))]
async fn reject_plan(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<RejectBody>,
) -> Result<Json<PlanDetail>> {
    reject(&state, &caller, &id, body.reason.as_deref()).await?;
    let record = find_plan(&state, &id).await?;
    Ok(Json(plan_detail(&state, &record).await?))
}

/// Queues the apply of a ready plan (or the resumption of an interrupted one).
#[utoipa::path(post, path = "/api/v1/plans/{id}/apply", tag = "plans",
    params(("id" = String, Path, description = "Plan id or unique prefix")),
    responses(
        (status = 202, body = JobView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Waiting for approval, rejected or already applied", body = ErrorBody),
    ))]
async fn apply_plan(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<JobView>)> {
    let record = find_plan(&state, &id).await?;
    match record.status {
        PlanStatus::Ready | PlanStatus::Applying | PlanStatus::Failed => {}
        other => {
            return Err(Error::Conflict(format!(
                "plan {} is {other}: nothing to apply",
                record.id
            )));
        }
    }
    let job = queue(
        &state,
        &Job::ApplyPlan { plan_id: record.id },
        &caller.name,
        state.now(),
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(job.into())))
}

/// Jobs, newest first.
#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs", params(JobsQuery),
    responses(
        (status = 200, body = Vec<JobView>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    ))]
async fn list_jobs(
    State(state): State<AppState>,
    _caller: Caller,
    ApiQuery(q): ApiQuery<JobsQuery>,
) -> Result<Json<Vec<JobView>>> {
    let limit = check_limit(q.limit, 50)?;
    if let Some(b) = q.before
        && b < 1
    {
        return Err(Error::BadRequest("before must be at least 1".into()));
    }
    let jobs = state
        .store()
        .jobs(q.state.map(Into::into), q.before, limit)
        .await?;
    Ok(Json(jobs.into_iter().map(Into::into).collect()))
}

/// One job.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "jobs",
    params(("id" = i64, Path, description = "Job id")),
    responses(
        (status = 200, body = JobView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
    ))]
async fn get_job(
    State(state): State<AppState>,
    _caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<JobView>> {
    let job = state
        .store()
        .job(id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("no job {id}")))?;
    Ok(Json(job.into()))
}

fn check_pattern(what: &str, v: &str, max: usize, extra: &[char]) -> Result<()> {
    if v.is_empty()
        || v.chars().count() > max
        || !v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || extra.contains(&c))
    {
        return Err(Error::BadRequest(format!(
            "{what}: 1 to {max} letters, digits or {extra:?}"
        )));
    }
    Ok(())
}

/// Queues a reconcile run: everyone, or one person.
#[utoipa::path(post, path = "/api/v1/reconcile", tag = "jobs",
    request_body(content = ReconcileBody),
    responses(
        (status = 202, body = JobView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "No source given and none configured", body = ErrorBody),
    ))]
async fn queue_reconcile(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<ReconcileBody>,
) -> Result<(StatusCode, Json<JobView>)> {
    let source = body
        .source
        .or_else(|| state.config().source.clone())
        .ok_or_else(|| {
            Error::Conflict("no source given and none configured (serve config `source`)".into())
        })?;
    check_pattern("source", &source, 100, &['.', '_', '-'])?;
    if let Some(p) = &body.person {
        check_pattern("person", p, 128, &[':', '.', '_', '-'])?;
    }
    let job = Job::Reconcile {
        site: state.config().site.clone(),
        source,
        person: body.person,
    };
    let stored = queue(&state, &job, &caller.name, state.now()).await?;
    Ok((StatusCode::ACCEPTED, Json(stored.into())))
}

/// Reads audit records after `after`, keeping those that match `q`, up to `limit`.
pub async fn audit_page(
    state: &AppState,
    after: i64,
    limit: u32,
    q: Option<&str>,
) -> Result<Vec<AuditEntry>> {
    let needle = q.map(str::to_lowercase).filter(|s| !s.is_empty());
    let mut out = Vec::new();
    let mut cursor = after;
    // Bounded scan: at most 50 pages of 500 per request, so a search never runs unbounded.
    for _ in 0..50 {
        let page = state.store().audit_list(cursor, 500).await?;
        let Some(last) = page.last() else { break };
        cursor = last.seq;
        for r in page {
            let d = &r.draft;
            let hit = needle.as_ref().is_none_or(|n| {
                [&d.actor, &d.action, &d.target, &d.outcome, &d.kind]
                    .iter()
                    .any(|f| f.to_lowercase().contains(n.as_str()))
                    || d.plan_id.as_deref().is_some_and(|p| p.contains(n.as_str()))
            });
            if hit {
                out.push(AuditEntry::from(r));
                if out.len() >= limit as usize {
                    return Ok(out);
                }
            }
        }
    }
    Ok(out)
}

/// Audit records in seq order, with search.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses(
        (status = 200, body = Vec<AuditEntry>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    ))]
async fn list_audit(
    State(state): State<AppState>,
    _caller: Caller,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<Vec<AuditEntry>>> {
    let limit = check_limit(q.limit, 100)?;
    let after = q.after.unwrap_or(0);
    if after < 0 {
        return Err(Error::BadRequest("after must be at least 0".into()));
    }
    if q.q.as_ref().is_some_and(|s| s.chars().count() > 200) {
        return Err(Error::BadRequest("q: at most 200 characters".into()));
    }
    Ok(Json(
        audit_page(&state, after, limit, q.q.as_deref()).await?,
    ))
}

/// Checks the audit log's hash chain.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit",
    responses((status = 200, body = VerifyView), (status = 401, body = ErrorBody)))]
async fn verify_audit(State(state): State<AppState>, _caller: Caller) -> Result<Json<VerifyView>> {
    Ok(Json(match state.store().audit_verify().await? {
        Ok(report) => VerifyView {
            ok: true,
            records: report.records,
            head: report.head,
            broken_at: None,
            reason: None,
        },
        Err(jsm_store::VerifyError::Broken { seq, reason }) => VerifyView {
            ok: false,
            records: 0,
            head: None,
            broken_at: Some(seq),
            reason: Some(reason),
        },
    }))
}

/// The seat report (not available until seat reporting lands).
#[utoipa::path(get, path = "/api/v1/seats", tag = "site",
    responses((status = 200, body = SeatReport), (status = 401, body = ErrorBody)))]
async fn seats(State(state): State<AppState>, caller: Caller) -> Result<Json<SeatReport>> {
    let engine = state.site_reader(&caller.name).await?;
    Ok(Json(state.0.seats.report(&engine).await?))
}

/// Credentials with their expiry (metadata only, never a secret).
#[utoipa::path(get, path = "/api/v1/credentials", tag = "site",
    responses((status = 200, body = Vec<CredentialView>), (status = 401, body = ErrorBody)))]
async fn credentials(
    State(state): State<AppState>,
    _caller: Caller,
) -> Result<Json<Vec<CredentialView>>> {
    Ok(Json(
        credential_report(
            state.store(),
            state.now(),
            state.config().credential_warn_days,
        )
        .await?,
    ))
}

/// Who the token belongs to.
#[utoipa::path(get, path = "/api/v1/whoami", tag = "service",
    responses((status = 200, body = WhoAmI), (status = 401, body = ErrorBody)))]
async fn whoami(State(state): State<AppState>, caller: Caller) -> Json<WhoAmI> {
    Json(WhoAmI {
        operator: caller.name,
        worker: state.config().worker_id.clone(),
        backend: state.store().backend().into(),
    })
}
