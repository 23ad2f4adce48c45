//! What each tool does, on the engine of the calling agent. Reads go straight through the client and
//! `Observe`; plan tools build a plan with the engine, mark it as the agent's, apply the caps and store it;
//! `apply_plan` applies only what the engine's gate lets through. Nothing here approves.

pub(crate) mod reconcile;
pub(crate) mod reports;

use chrono::Duration;
use futures::StreamExt;
use jsm_client::GroupRef;
use jsm_lifecycle::plan::Action;
use jsm_lifecycle::{Engine, Error, ErrorKind, Person, Plan, Quiet, RequesterKind};
use jsm_store::{JournalState, PlanStatus};

use crate::args::{
    AuditSearchArgs, FindUserArgs, GetUserArgs, ListCustomersArgs, ListGroupMembersArgs,
};
use crate::config::{Agent, McpConfig};
use crate::tools::{ToolError, ToolName, ToolResult, code};
use crate::views::*;

/// One call's world: the engine acting as the agent, the agent, the config.
pub(crate) struct Call<'a> {
    /// The engine, with `actor = mcp:NAME`.
    pub engine: Engine,
    /// Who calls.
    pub agent: &'a Agent,
    /// The server's config.
    pub config: &'a McpConfig,
}

/// Maps an engine error to a tool error; an invalid input names the tool's argument.
pub(crate) fn engine_error(e: Error) -> ToolError {
    match &e {
        Error::NotFound { .. } => ToolError::new(code::NOT_FOUND, e.to_string()),
        Error::InvalidInput { field, detail } => {
            let name = match field.as_str() {
                "EMAIL_OR_ACCOUNT_ID" => "who".to_string(),
                f => f.trim_start_matches("--").replace('-', "_"),
            };
            ToolError::argument(name, detail)
        }
        Error::AwaitingApproval { plan_id } => {
            ToolError::new(code::AWAITING_APPROVAL, e.to_string()).with("plan_id", plan_id)
        }
        _ => match e.kind() {
            ErrorKind::Refused => ToolError::new(code::REFUSED, e.to_string()),
            ErrorKind::AwaitingApproval => ToolError::new(code::AWAITING_APPROVAL, e.to_string()),
            ErrorKind::Failed => ToolError::new(code::FAILED, e.to_string()),
        },
    }
}

fn client_error(e: jsm_client::Error) -> ToolError {
    engine_error(Error::Client(e))
}

fn user_of_person(p: &Person) -> UserView {
    UserView {
        account_id: p.account_id.clone(),
        display_name: p.display_name.clone(),
        email: p.email.clone(),
        email_hidden: p.email.is_none(),
        active: p.active,
        account_type: p.account_type.clone(),
    }
}

fn user_of(u: &jsm_proto::jira::User) -> UserView {
    UserView {
        account_id: u.account_id.clone(),
        display_name: u.display_name.clone(),
        email: u.email_address.clone(),
        email_hidden: u.email_address.is_none(),
        active: u.active,
        account_type: wire_name(&u.account_type),
    }
}

fn scim_of(p: &Person) -> Option<ScimView> {
    p.scim.as_ref().map(|s| ScimView {
        id: s.id.clone(),
        active: s.active,
    })
}

/// Takes up to `limit` items of a stream; `truncated` when there was at least one more (or the pager stopped at
/// a ceiling after yielding items).
async fn take<T>(
    stream: futures::stream::BoxStream<'static, jsm_client::Result<T>>,
    limit: usize,
) -> ToolResult<(Vec<T>, bool)> {
    let mut stream = stream;
    let mut out = Vec::new();
    while let Some(next) = stream.next().await {
        match next {
            Ok(item) if out.len() < limit => out.push(item),
            Ok(_) => return Ok((out, true)),
            Err(jsm_client::Error::Truncated { .. }) if !out.is_empty() => return Ok((out, true)),
            Err(e) => return Err(client_error(e)),
        }
    }
    Ok((out, false))
}

/// `find_user`
pub(crate) async fn find_user(call: &Call<'_>, args: FindUserArgs) -> ToolResult<FindUserOutput> {
    let limit = args.limit.unwrap_or(20) as usize;
    let query = args.query.trim().to_string();
    if query.contains('@') {
        let users = match call.engine.observe().person(&query).await {
            Ok(p) => vec![user_of_person(&p)],
            Err(Error::NotFound { .. }) => Vec::new(),
            Err(e) => return Err(engine_error(e)),
        };
        return Ok(FindUserOutput {
            query,
            matched_by: "email".into(),
            users,
            truncated: false,
        });
    }
    let pager = call
        .engine
        .client
        .users()
        .search(&query)
        .page_size(50)
        .into_stream();
    let (users, truncated) = take(pager, limit).await?;
    Ok(FindUserOutput {
        query,
        matched_by: "name".into(),
        users: users.iter().map(user_of).collect(),
        truncated,
    })
}

/// `get_user`
pub(crate) async fn get_user(call: &Call<'_>, args: GetUserArgs) -> ToolResult<GetUserOutput> {
    let observe = call.engine.observe();
    let person = observe
        .person(&args.account_id)
        .await
        .map_err(engine_error)?;
    let groups = observe
        .groups_of(&person.account_id)
        .await
        .map_err(engine_error)?;
    Ok(GetUserOutput {
        user: user_of_person(&person),
        scim: scim_of(&person),
        groups,
    })
}

/// `list_group_members`
pub(crate) async fn list_group_members(
    call: &Call<'_>,
    args: ListGroupMembersArgs,
) -> ToolResult<GroupMembersOutput> {
    call.engine
        .observe()
        .group_exists(&args.group)
        .await
        .map_err(engine_error)?;
    let pager = call
        .engine
        .client
        .groups()
        .members(&GroupRef::name(&args.group))
        .include_inactive(args.include_inactive.unwrap_or(true))
        .pager()
        .into_stream();
    let (members, truncated) = take(pager, args.limit.unwrap_or(100) as usize).await?;
    Ok(GroupMembersOutput {
        group: args.group,
        members: members
            .iter()
            .map(|m| UserView {
                account_id: m.account_id.clone(),
                display_name: m.display_name.clone(),
                email: m.email_address.clone(),
                email_hidden: m.email_address.is_none(),
                active: m.active,
                account_type: wire_name(&m.account_type),
            })
            .collect(),
        truncated,
    })
}

/// `list_customers`
pub(crate) async fn list_customers(
    call: &Call<'_>,
    args: ListCustomersArgs,
) -> ToolResult<CustomersOutput> {
    let desk = call
        .engine
        .observe()
        .desk(&args.service_desk)
        .await
        .map_err(engine_error)?;
    let mut listing = call.engine.client.customers().list(&desk.id);
    if let Some(q) = &args.query {
        listing = listing.query(q.clone());
    }
    let (customers, truncated) = take(
        listing.pager().into_stream(),
        args.limit.unwrap_or(100) as usize,
    )
    .await?;
    Ok(CustomersOutput {
        service_desk: DeskView {
            id: desk.id,
            key: desk.key,
            name: desk.name,
        },
        customers: customers
            .iter()
            .map(|c| UserView {
                account_id: c.account_id.clone(),
                display_name: c.display_name.clone(),
                email: c.email_address.clone(),
                email_hidden: c.email_address.is_none(),
                active: c.active,
                account_type: "customer".into(),
            })
            .collect(),
        truncated,
    })
}

/// `explain_access`: groups and which grant JSM, desks, organizations, the seat, and the trace as sentences.
pub(crate) async fn explain_access(call: &Call<'_>, who: &str) -> ToolResult<ExplainAccessOutput> {
    let observe = call.engine.observe();
    let person = observe.person(who).await.map_err(engine_error)?;
    let id = person.account_id.clone();
    let access = observe.jsm_access_groups().await.map_err(engine_error)?;
    let group_names = observe.groups_of(&id).await.map_err(engine_error)?;
    let mut trace = vec![format!(
        "account {id} is {} ({} account{})",
        if person.active { "active" } else { "inactive" },
        person.account_type,
        match &person.scim {
            Some(s) => format!(", managed by SCIM user {}", s.id),
            None => String::new(),
        }
    )];
    let groups: Vec<GroupAccess> = group_names
        .iter()
        .map(|g| {
            let grants = access.contains(g);
            let why = if grants {
                if access.first() == Some(g) {
                    "the default group of application role jira-servicedesk: it grants JSM agent access"
                        .to_string()
                } else {
                    "a group of application role jira-servicedesk: it grants JSM agent access".to_string()
                }
            } else {
                "not a group of application role jira-servicedesk: no JSM seat from it".to_string()
            };
            GroupAccess {
                name: g.clone(),
                grants_jsm: grants,
                why,
            }
        })
        .collect();
    for g in &groups {
        trace.push(format!("in group {}: {}", g.name, g.why));
    }
    let mut desks = Vec::new();
    for desk in observe.desks().await.map_err(engine_error)? {
        if observe
            .in_desk(&desk, &person)
            .await
            .map_err(engine_error)?
        {
            trace.push(format!(
                "customer of service desk {} (id {})",
                desk.key, desk.id
            ));
            desks.push(DeskView {
                id: desk.id,
                key: desk.key,
                name: desk.name,
            });
        }
    }
    let mut organizations = Vec::new();
    for org in observe.organizations().await.map_err(engine_error)? {
        if observe
            .in_organization(&org, &id)
            .await
            .map_err(engine_error)?
        {
            trace.push(format!(
                "member of organization {} (id {}): portal access to the desks it is shared with",
                org.name, org.id
            ));
            organizations.push(OrgView {
                id: org.id,
                name: org.name,
            });
        }
    }
    let seat = seat_facts(&person, &groups);
    trace.push(seat.why.clone());
    Ok(ExplainAccessOutput {
        user: user_of_person(&person),
        scim: scim_of(&person),
        groups,
        jsm_access_groups: access,
        service_desks: desks,
        organizations,
        seat,
        trace,
    })
}

/// Seat facts from the groups that grant JSM: billable when an active managed (atlassian) account is in one.
fn seat_facts(person: &Person, groups: &[GroupAccess]) -> SeatFacts {
    let via: Vec<String> = groups
        .iter()
        .filter(|g| g.grants_jsm)
        .map(|g| g.name.clone())
        .collect();
    let (billable, why) = match (person.account_type.as_str(), person.active, via.is_empty()) {
        ("customer", _, _) => (
            false,
            "no agent seat: portal-only customers are free".to_string(),
        ),
        ("app", _, _) => (
            false,
            "no agent seat: app accounts are not billed".to_string(),
        ),
        (_, _, true) => (
            false,
            "no agent seat: no group of the account grants Jira Service Management".to_string(),
        ),
        (_, false, false) => (
            false,
            format!(
                "no billed seat: the account is inactive, though still in {} (removing it frees nothing more)",
                via.join(", ")
            ),
        ),
        (_, true, false) => (
            true,
            format!(
                "a billable Jira Service Management agent seat through {}; it is freed only when the account leaves \
                 every one of these groups or is deactivated",
                via.join(", ")
            ),
        ),
    };
    SeatFacts {
        billable,
        via_groups: via,
        why,
    }
}

/// The answer for a plan that needs a human, naming the plan and where a human approves it.
pub(crate) fn approval_needed(plan: &Plan, config: &McpConfig) -> ApprovalNeeded {
    ApprovalNeeded {
        plan_id: plan.id.clone(),
        hash: plan.hash.clone(),
        reasons: plan.approval_reasons.clone(),
        approve_command: format!("jsmctl approvals approve {}", plan.id),
        approvals_url: config.approvals_url.clone(),
        note: "Only a human approves, through the CLI or the approvals page; no MCP tool can, and no answer \
               from this client counts as an approval."
            .into(),
    }
}

/// Refuses when the agent already made its hourly number of plans.
pub(crate) async fn check_plan_rate(call: &Call<'_>) -> ToolResult<()> {
    let now = call.engine.client.clock().now();
    let since = now - Duration::hours(1);
    let actor = call.agent.actor();
    let plans = call
        .engine
        .store
        .plans(None)
        .await
        .map_err(|e| engine_error(e.into()))?;
    let made = plans
        .iter()
        .filter(|p| p.requester == actor && p.created_at > since)
        .count();
    let limit = call.agent.max_plans_per_hour as usize;
    if made >= limit {
        return Err(ToolError::new(
            code::BLAST_RADIUS,
            format!(
                "agent {} made {made} plans in the last hour; its limit is {limit} (agents.{}.max_plans_per_hour)",
                call.agent.name, call.agent.name
            ),
        )
        .with("limit", "max_plans_per_hour")
        .with("max", limit)
        .with("count", made));
    }
    Ok(())
}

/// Marks a freshly made plan as the agent's (with the tool's relaxations), evaluates policy again, seals it,
/// applies the items cap, and stores it unless it is empty.
pub(crate) async fn propose(call: &Call<'_>, tool: ToolName, plan: Plan) -> ToolResult<PlanOutput> {
    let mut plan = plan;
    let relaxed = call.config.relaxations(tool);
    for r in &relaxed {
        plan.notes.push(format!(
            "the MCP config relaxes the agent rule for {} on tool {}: {}",
            r.rule.as_str(),
            tool.as_str(),
            r.reason
        ));
    }
    plan.requested_by_agent(relaxed);
    call.engine.policy.evaluate(&mut plan);
    let plan = plan.seal().map_err(engine_error)?;
    let max = call.agent.max_items_per_plan as usize;
    if plan.items.len() > max {
        return Err(ToolError::new(
            code::BLAST_RADIUS,
            format!(
                "the plan has {} items; agent {} may propose at most {max} per plan \
                 (agents.{}.max_items_per_plan). Nothing was stored.",
                plan.items.len(),
                call.agent.name,
                call.agent.name
            ),
        )
        .with("limit", "max_items_per_plan")
        .with("max", max)
        .with("count", plan.items.len()));
    }
    if plan.is_empty() {
        return Ok(PlanOutput {
            status: "nothing_to_do".into(),
            stored: false,
            plan: PlanView::of(&plan),
            approval: None,
            next_step: "nothing to apply: the site already matches".into(),
        });
    }
    call.engine.submit(&plan).await.map_err(engine_error)?;
    let needs = plan.needs_approval();
    Ok(PlanOutput {
        status: if needs {
            "awaiting_approval".into()
        } else {
            "ready".into()
        },
        stored: true,
        approval: needs.then(|| approval_needed(&plan, call.config)),
        next_step: if needs {
            format!(
                "a human must approve plan {} (jsmctl approvals approve {}); then apply_plan applies it",
                plan.id, plan.id
            )
        } else {
            format!(
                "policy lets plan {} through without an approval: apply_plan applies it",
                plan.id
            )
        },
        plan: PlanView::of(&plan),
    })
}

/// A stored plan this agent requested (a handle alone proves nothing: another's plan is "not found").
pub(crate) async fn own_plan(call: &Call<'_>, id: &str) -> ToolResult<(Plan, PlanStatus)> {
    let store = &call.engine.store;
    let record = match store.plan(id).await.map_err(|e| engine_error(e.into()))? {
        Some(r) => Some(r),
        None if id.len() >= jsm_store::MIN_PLAN_PREFIX => store
            .plan_by_prefix(id)
            .await
            .map_err(|e| engine_error(e.into()))?,
        None => None,
    };
    let not_found = || {
        ToolError::new(
            code::NOT_FOUND,
            format!("no plan {id} requested by agent {}", call.agent.name),
        )
    };
    let Some(record) = record else {
        return Err(not_found());
    };
    let plan: Plan = serde_json::from_value(record.body).map_err(|e| {
        ToolError::new(
            code::FAILED,
            format!("stored plan {id} does not parse: {e}"),
        )
    })?;
    plan.check_seal().map_err(engine_error)?;
    if plan.requester != call.agent.actor() || plan.requester_kind != RequesterKind::Agent {
        return Err(not_found());
    }
    Ok((plan, record.status))
}

/// `show_plan`
pub(crate) async fn show_plan(call: &Call<'_>, id: &str) -> ToolResult<ShowPlanOutput> {
    let (plan, status) = own_plan(call, id).await?;
    let store = &call.engine.store;
    let approvals = store
        .approvals(&plan.id)
        .await
        .map_err(|e| engine_error(e.into()))?;
    let rejection = store
        .rejection(&plan.id)
        .await
        .map_err(|e| engine_error(e.into()))?;
    let approved = approvals.iter().any(|a| a.plan_hash == plan.hash);
    let waiting = plan.needs_approval() && !approved && status == PlanStatus::AwaitingApproval;
    Ok(ShowPlanOutput {
        status: status.as_str().into(),
        approvals: approvals
            .iter()
            .map(|a| ApprovalView::of(a, &plan.hash))
            .collect(),
        rejection: rejection.as_ref().map(RejectionView::of),
        approval: waiting.then(|| approval_needed(&plan, call.config)),
        plan: PlanView::of(&plan),
    })
}

/// `apply_plan`: the engine's gate decides; an unapproved plan is refused naming where a human approves it.
pub(crate) async fn apply_plan(call: &Call<'_>, id: &str) -> ToolResult<ApplyOutput> {
    let (plan, _) = own_plan(call, id).await?;
    match call.engine.apply(&plan, &Quiet).await {
        Ok(report) => {
            let status = call
                .engine
                .store
                .plan(&plan.id)
                .await
                .map_err(|e| engine_error(e.into()))?
                .map_or_else(|| "unknown".to_string(), |r| r.status.as_str().to_string());
            Ok(ApplyOutput {
                plan_id: plan.id.clone(),
                status,
                complete: report.complete(),
                items: report
                    .items
                    .iter()
                    .map(|i| ItemResultView {
                        key: i.key.clone(),
                        action: i.action.clone(),
                        target: i.target.clone(),
                        outcome: i.outcome.as_str().into(),
                        detail: i.detail.clone(),
                    })
                    .collect(),
                stopped: report.stopped,
            })
        }
        Err(Error::AwaitingApproval { .. }) => Err(ToolError::new(
            code::AWAITING_APPROVAL,
            format!(
                "plan {} needs a human approval and has none bound to its hash; nothing was changed. A human \
                 approves it with `jsmctl approvals approve {}`{}",
                plan.id,
                plan.id,
                call.config
                    .approvals_url
                    .as_ref()
                    .map(|u| format!(" or at {u}"))
                    .unwrap_or_default()
            ),
        )
        .with("plan_id", &plan.id)
        .with("approval", approval_needed(&plan, call.config))),
        Err(e) => Err(engine_error(e)),
    }
}

/// `plan_status`
pub(crate) async fn plan_status(call: &Call<'_>, id: &str) -> ToolResult<PlanStatusOutput> {
    let (plan, status) = own_plan(call, id).await?;
    let journal = call
        .engine
        .store
        .journal(&plan.id)
        .await
        .map_err(|e| engine_error(e.into()))?;
    let pending_manual = plan
        .items
        .iter()
        .filter(|i| matches!(i.action, Action::Manual { .. }))
        .filter(|i| {
            !journal
                .iter()
                .any(|e| e.item_key == i.key && e.state == JournalState::Done)
        })
        .map(|i| i.key.clone())
        .collect();
    Ok(PlanStatusOutput {
        plan_id: plan.id.clone(),
        status: status.as_str().into(),
        items: plan.items.len(),
        journal: journal.iter().map(JournalView::of).collect(),
        pending_manual,
    })
}

/// `audit_search`: reads the whole log in pages and keeps the newest matches.
pub(crate) async fn audit_search(
    call: &Call<'_>,
    args: AuditSearchArgs,
) -> ToolResult<AuditSearchOutput> {
    let limit = args.limit.unwrap_or(20) as usize;
    let text = args.text.as_ref().map(|t| t.to_lowercase());
    let mut matches = Vec::new();
    let mut after = 0;
    let mut scanned = 0u64;
    loop {
        let page = call
            .engine
            .store
            .audit_list(after, 1000)
            .await
            .map_err(|e| engine_error(e.into()))?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        scanned += page.len() as u64;
        for r in page {
            let d = &r.draft;
            let keep = args.plan_id.as_ref().is_none_or(|p| {
                d.plan_id
                    .as_deref()
                    .is_some_and(|id| id.starts_with(p.as_str()))
            }) && args.actor.as_ref().is_none_or(|a| &d.actor == a)
                && args.kind.as_ref().is_none_or(|k| &d.kind == k)
                && text.as_ref().is_none_or(|t| {
                    [&d.action, &d.target, &d.outcome]
                        .iter()
                        .any(|f| f.to_lowercase().contains(t.as_str()))
                });
            if keep {
                matches.push(r);
            }
        }
    }
    let truncated = matches.len() > limit;
    let records = matches
        .iter()
        .rev()
        .take(limit)
        .map(AuditView::of)
        .collect();
    Ok(AuditSearchOutput {
        records,
        scanned,
        truncated,
    })
}
