//! The approvals page: server-rendered HTML, no build step and no script. Pending plans with their coloured
//! `+ ~ -` diff and the policy rule that asked for approval, approve and reject (CSRF-protected; the requester
//! cannot approve their own plan under `distinct_approver`), jobs, the audit log with search, the seat report and
//! credential expiry. Everything shown is escaped.

use std::fmt::Write;

use axum::Form;
use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use jsm_store::{PlanStatus, sha256_hex};
use serde::Deserialize;

use crate::api::{self, PlanDetail};
use crate::auth::{self, Caller, LOGIN_COOKIE, SESSION_COOKIE, Via};
use crate::error::Error;
use crate::html::{CSP, Flash, STYLE, esc, page, url_part};
use crate::jobs::{CredentialStatus, credential_report};
use crate::state::AppState;

/// The page's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/ui") }))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/ui", get(plans))
        .route("/ui/style.css", get(style))
        .route("/ui/plans/{id}", get(plan))
        .route("/ui/plans/{id}/approve", post(approve))
        .route("/ui/plans/{id}/reject", post(reject))
        .route("/ui/jobs", get(jobs))
        .route("/ui/audit", get(audit))
        .route("/ui/site", get(site))
}

/// An HTML answer with the page's security headers.
fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_FRAME_OPTIONS, "DENY"),
        ],
        body,
    )
        .into_response()
}

fn error_page(who: Option<&Caller>, e: &Error) -> Response {
    let (status, _) = e.status_code();
    let who = who.map(|c| (c.name.as_str(), c.csrf()));
    html(
        status,
        page(
            "Error",
            who,
            "",
            Some(&Flash::error(e.to_string())),
            "<p><a href=\"/ui\">Back to the plans</a></p>",
        ),
    )
}

/// The logged-in operator, or a redirect to the login form.
async fn session(state: &AppState, headers: &HeaderMap) -> Result<Caller, Response> {
    match auth::caller(state, headers).await {
        Ok(Some(c)) if matches!(c.via, Via::Session { .. }) => Ok(c),
        Ok(_) | Err(Error::Unauthorized(_)) => Err(Redirect::to("/login").into_response()),
        Err(e) => Err(error_page(None, &e)),
    }
}

async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=300"),
        ],
        STYLE,
    )
        .into_response()
}

/// The fields every form posts.
#[derive(Debug, Deserialize)]
struct CsrfForm {
    csrf: Option<String>,
    reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    token: Option<String>,
    csrf: Option<String>,
}

async fn login_form(State(state): State<AppState>) -> Response {
    login_page(&state, None, StatusCode::OK)
}

fn login_page(state: &AppState, flash: Option<Flash>, status: StatusCode) -> Response {
    let nonce = auth::random_hex();
    let body = format!(
        "<div class=\"login card\"><h1>Log in to jsmctl</h1>\
         <form method=\"post\" action=\"/login\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{nonce}\">\
         <label for=\"token\">Operator token</label>\
         <input type=\"password\" id=\"token\" name=\"token\" autocomplete=\"off\" required>\
         <p class=\"muted\">Tokens come from <code>jsmctl operators add NAME</code>.</p>\
         <button type=\"submit\" class=\"approve\">Log in</button></form></div>"
    );
    let mut resp = html(status, page("Log in", None, "", flash.as_ref(), &body));
    if let Some(c) = auth::set_cookie(
        LOGIN_COOKIE,
        &nonce,
        Some(600),
        state.config().secure_cookies,
    ) {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    resp
}

async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return login_page(
            &state,
            Some(Flash::error("The form could not be read.")),
            StatusCode::BAD_REQUEST,
        );
    };
    let expected = auth::cookie(&headers, LOGIN_COOKIE);
    match (expected, form.csrf.as_deref()) {
        (Some(e), Some(p)) if auth::same(e, p) => {}
        _ => {
            return login_page(
                &state,
                Some(Flash::error(
                    "The login form expired or did not come from this page (CSRF); try again.",
                )),
                StatusCode::FORBIDDEN,
            );
        }
    }
    let token = form.token.unwrap_or_default();
    let op = match state
        .store()
        .operator_by_token(&sha256_hex(token.trim().as_bytes()))
        .await
    {
        Ok(op) => op,
        Err(e) => return error_page(None, &e.into()),
    };
    let Some(op) = op else {
        return login_page(
            &state,
            Some(Flash::error("Unknown or disabled operator token.")),
            StatusCode::UNAUTHORIZED,
        );
    };
    let value = match auth::login(&state, &op.name).await {
        Ok(v) => v,
        Err(e) => return error_page(None, &e),
    };
    let secure = state.config().secure_cookies;
    let ttl = i64::try_from(state.config().session_ttl.as_secs()).unwrap_or(28_800);
    let mut resp = Redirect::to("/ui").into_response();
    if let Some(c) = auth::set_cookie(SESSION_COOKIE, &value, Some(ttl), secure) {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    if let Some(c) = auth::set_cookie(LOGIN_COOKIE, "", Some(0), secure) {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    resp
}

async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    let caller = match session(&state, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let csrf = form.ok().and_then(|Form(f)| f.csrf);
    if let Err(e) = caller.check_csrf(csrf.as_deref()) {
        return error_page(Some(&caller), &e);
    }
    if let Via::Session { cookie, .. } = &caller.via {
        let _ = state
            .store()
            .session_remove(&sha256_hex(cookie.as_bytes()))
            .await;
    }
    let mut resp = Redirect::to("/login").into_response();
    if let Some(c) = auth::set_cookie(SESSION_COOKIE, "", Some(0), state.config().secure_cookies) {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    resp
}

fn badge(status: &str) -> String {
    format!(
        "<span class=\"badge {}\">{}</span>",
        esc(status),
        esc(&status.replace('_', " "))
    )
}

fn plan_rows(plans: &[(jsm_store::PlanRecord, jsm_lifecycle::Plan)]) -> String {
    if plans.is_empty() {
        return "<p class=\"muted\">None.</p>".into();
    }
    let mut out = String::from(
        "<table><thead><tr><th>Plan</th><th>Summary</th><th>Changes</th><th>Requested by</th><th>Status</th></tr></thead><tbody>",
    );
    for (r, p) in plans {
        let (c, m, d) = p.counts();
        let _ = write!(
            out,
            "<tr><td><a class=\"mono\" href=\"/ui/plans/{}\">{}</a></td><td>{}</td>\
             <td><span class=\"create\"><span class=\"sign\">+</span>{c}</span> \
             <span class=\"change\"><span class=\"sign\">~</span>{m}</span> \
             <span class=\"remove\"><span class=\"sign\">-</span>{d}</span></td>\
             <td>{}<div class=\"muted\">{}</div></td><td>{}</td></tr>",
            url_part(&r.id),
            esc(r.id.get(..12).unwrap_or(&r.id)),
            esc(&p.summary),
            esc(&r.requester),
            esc(&r.created_at.format("%Y-%m-%d %H:%M UTC").to_string()),
            badge(r.status.as_str()),
        );
    }
    out.push_str("</tbody></table>");
    out
}

async fn plans(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let caller = match session(&state, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let all = match state.store().plans(None).await {
        Ok(p) => p,
        Err(e) => return error_page(Some(&caller), &e.into()),
    };
    let mut pending = Vec::new();
    let mut recent = Vec::new();
    for r in all {
        let Ok(p) = api::plan_of(&r) else { continue };
        if r.status == PlanStatus::AwaitingApproval {
            pending.push((r, p));
        } else if recent.len() < 25 {
            recent.push((r, p));
        }
    }
    let body = format!(
        "<h1>Plans waiting for approval</h1>{}<h2>Recent plans</h2>{}",
        plan_rows(&pending),
        plan_rows(&recent)
    );
    html(
        StatusCode::OK,
        page(
            "Plans",
            Some((&caller.name, caller.csrf())),
            "plans",
            None,
            &body,
        ),
    )
}

/// The Terraform-like view of a plan, in HTML.
pub fn diff_html(d: &PlanDetail) -> String {
    let mut out = String::from("<div class=\"diff\" id=\"diff\">");
    if d.items.is_empty() {
        out.push_str("<div class=\"muted\">No changes: the site already matches.</div>");
    }
    for i in &d.items {
        let class = match i.sign.as_str() {
            "+" => "create",
            "-" => "remove",
            _ => "change",
        };
        let rule = i
            .approval_rule
            .as_deref()
            .map(|r| format!("<span class=\"rule\">[needs approval: {}]</span>", esc(r)))
            .unwrap_or_default();
        let journal = i
            .journal
            .as_deref()
            .map(|j| format!(" {}", badge(j)))
            .unwrap_or_default();
        let mut why = format!("reason: {}", esc(&i.reason));
        if i.precondition != "none" {
            let _ = write!(why, "; requires {}", esc(&i.precondition));
        }
        if let Some(cost) = &i.cost {
            let _ = write!(why, "; cost: {}", esc(cost));
        }
        let _ = write!(
            out,
            "<div class=\"item {class}\" data-key=\"{}\"><span class=\"sign\">{}</span><span class=\"verb\">{}</span>\
             <span class=\"target\">{}</span>{rule}{journal}<div class=\"why\">{why}</div></div>",
            esc(&i.key),
            esc(&i.sign),
            esc(&i.action),
            esc(&i.target),
        );
    }
    let c = &d.plan.counts;
    let _ = write!(
        out,
        "</div><p><strong>Plan:</strong> {} to create, {} to change, {} to remove.</p>",
        c.create, c.change, c.remove
    );
    out
}

fn plan_page(
    state: &AppState,
    caller: &Caller,
    d: &PlanDetail,
    flash: Option<Flash>,
    status: StatusCode,
) -> Response {
    let _ = state;
    let p = &d.plan;
    let mut body = format!(
        "<h1>{} {}</h1><div class=\"card\"><div><span class=\"mono\">{}</span></div>\
         <div class=\"muted\">{} plan, requested by <strong class=\"requester\">{}</strong> at {}; hash <span class=\"mono\">{}</span></div>",
        esc(&p.summary),
        badge(&p.status),
        esc(&p.id),
        esc(&p.kind),
        esc(&p.requester),
        esc(&p.created_at.format("%Y-%m-%d %H:%M:%S UTC").to_string()),
        esc(d.hash.get(..16).unwrap_or(&d.hash)),
    );
    if p.needs_approval {
        let _ = write!(body, "<h2>Why it needs approval</h2><ul class=\"reasons\">");
        for r in &p.approval_reasons {
            let _ = write!(body, "<li>{}</li>", esc(r));
        }
        body.push_str("</ul>");
    }
    for n in &d.notes {
        let _ = write!(body, "<p class=\"muted\">note: {}</p>", esc(n));
    }
    body.push_str("</div><h2>Changes</h2>");
    body.push_str(&diff_html(d));
    if !d.approvals.is_empty() {
        body.push_str("<h2>Approvals</h2><ul>");
        for a in &d.approvals {
            let _ = write!(
                body,
                "<li>{} at {} (valid until {}{})</li>",
                esc(&a.approver),
                esc(&a.approved_at.format("%Y-%m-%d %H:%M UTC").to_string()),
                esc(&a.expires_at.format("%Y-%m-%d %H:%M UTC").to_string()),
                if a.used_at.is_some() { ", used" } else { "" }
            );
        }
        body.push_str("</ul>");
    }
    if let Some(by) = &d.rejected_by {
        let _ = write!(
            body,
            "<p>Rejected by {}{}</p>",
            esc(by),
            d.rejection_reason
                .as_deref()
                .map(|r| format!(": {}", esc(r)))
                .unwrap_or_default()
        );
    }
    if p.status == "awaiting_approval" || p.status == "ready" {
        let id = url_part(&p.id);
        let csrf = esc(caller.csrf());
        let _ = write!(
            body,
            "<div class=\"actions\">\
             <form method=\"post\" action=\"/ui/plans/{id}/approve\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <button type=\"submit\" class=\"approve\" id=\"approve\">Approve and apply</button></form>\
             <form method=\"post\" action=\"/ui/plans/{id}/reject\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <label for=\"reason\">Reason for rejecting</label><input type=\"text\" id=\"reason\" name=\"reason\" maxlength=\"1000\"> \
             <button type=\"submit\" class=\"reject\" id=\"reject\">Reject</button></form></div>"
        );
    }
    html(
        status,
        page(
            &p.summary,
            Some((&caller.name, caller.csrf())),
            "plans",
            flash.as_ref(),
            &body,
        ),
    )
}

async fn plan(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let caller = match session(&state, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let detail = match api::find_plan(&state, &id).await {
        Ok(r) => api::plan_detail(&state, &r).await,
        Err(e) => Err(e),
    };
    match detail {
        Ok(d) => plan_page(&state, &caller, &d, None, StatusCode::OK),
        Err(e) => error_page(Some(&caller), &e),
    }
}

/// Runs a form post (CSRF checked) and shows the plan again with the outcome.
async fn act(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    form: Result<Form<CsrfForm>, FormRejection>,
    approve: bool,
) -> Response {
    let caller = match session(state, headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let form = form.ok().map(|Form(f)| f);
    if let Err(e) = caller.check_csrf(form.as_ref().and_then(|f| f.csrf.as_deref())) {
        return error_page(Some(&caller), &e);
    }
    let outcome = if approve {
        api::approve(state, &caller, id)
            .await
            .map(|r| match r.apply_job {
                Some(job) => Flash::ok(format!(
                    "Approved by {}; apply queued as job {job}.",
                    r.approver
                )),
                None => Flash::ok(format!("Approved by {}.", r.approver)),
            })
    } else {
        let reason = form.and_then(|f| f.reason);
        api::reject(state, &caller, id, reason.as_deref())
            .await
            .map(|()| Flash::ok(format!("Rejected by {}.", caller.name)))
    };
    let (flash, status) = match outcome {
        Ok(f) => (f, StatusCode::OK),
        Err(e) => {
            let (s, _) = e.status_code();
            (Flash::error(e.to_string()), s)
        }
    };
    let detail = match api::find_plan(state, id).await {
        Ok(r) => api::plan_detail(state, &r).await,
        Err(e) => Err(e),
    };
    match detail {
        Ok(d) => plan_page(state, &caller, &d, Some(flash), status),
        Err(e) => error_page(Some(&caller), &e),
    }
}

async fn approve(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    act(&state, &headers, &id, form, true).await
}

async fn reject(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    act(&state, &headers, &id, form, false).await
}

async fn jobs(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let caller = match session(&state, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let jobs = match state.store().jobs(None, None, 100).await {
        Ok(j) => j,
        Err(e) => return error_page(Some(&caller), &e.into()),
    };
    let mut body = String::from(
        "<h1>Jobs</h1><table><thead><tr><th>Id</th><th>Kind</th><th>What</th><th>State</th><th>Attempts</th>\
         <th>Worker</th><th>Queued by</th><th>Result</th></tr></thead><tbody>",
    );
    for j in &jobs {
        let what = j
            .spec
            .as_object()
            .map(|o| {
                o.iter()
                    .filter(|(k, _)| k.as_str() != "kind")
                    .map(|(k, v)| {
                        format!(
                            "{k}: {}",
                            v.as_str().map_or_else(|| v.to_string(), str::to_string)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        let result = j
            .error
            .clone()
            .or_else(|| j.result.as_ref().map(|r| r.to_string()))
            .unwrap_or_default();
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td class=\"mono\">{}</td><td>{}</td><td>{}/{}</td><td class=\"mono\">{}</td>\
             <td>{}</td><td class=\"muted\">{}</td></tr>",
            j.id,
            esc(&j.kind),
            esc(&what),
            badge(j.state.as_str()),
            j.attempts,
            j.max_attempts,
            esc(j.worker.as_deref().unwrap_or("")),
            esc(&j.created_by),
            esc(result.get(..200).unwrap_or(&result)),
        );
    }
    body.push_str("</tbody></table>");
    html(
        StatusCode::OK,
        page(
            "Jobs",
            Some((&caller.name, caller.csrf())),
            "jobs",
            None,
            &body,
        ),
    )
}

#[derive(Debug, Deserialize)]
struct AuditParams {
    q: Option<String>,
    after: Option<i64>,
}

async fn audit(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Result<Query<AuditParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let caller = match session(&state, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let (q, after) = match params {
        Ok(Query(p)) => (p.q.unwrap_or_default(), p.after.unwrap_or(0).max(0)),
        Err(_) => (String::new(), 0),
    };
    let q: String = q.chars().take(200).collect();
    let entries = match api::audit_page(&state, after, 200, Some(&q)).await {
        Ok(e) => e,
        Err(e) => return error_page(Some(&caller), &e),
    };
    let verdict = match state.store().audit_verify().await {
        Ok(Ok(r)) => format!(
            "<span class=\"badge done\">chain verifies: {} records</span>",
            r.records
        ),
        Ok(Err(b)) => format!(
            "<span class=\"badge failed\">{}</span>",
            esc(&b.to_string())
        ),
        Err(e) => format!(
            "<span class=\"badge failed\">{}</span>",
            esc(&e.to_string())
        ),
    };
    let mut body = format!(
        "<h1>Audit log</h1><p>{verdict}</p><form method=\"get\" action=\"/ui/audit\" class=\"actions\">\
         <div><label for=\"q\">Search actor, action, target, outcome or plan</label>\
         <input type=\"search\" id=\"q\" name=\"q\" value=\"{}\"></div><button type=\"submit\">Search</button></form>\
         <table><thead><tr><th>#</th><th>When</th><th>Actor</th><th>Kind</th><th>Action</th><th>Target</th>\
         <th>Outcome</th><th>Plan</th></tr></thead><tbody>",
        esc(&q)
    );
    for e in &entries {
        let _ = write!(
            body,
            "<tr><td>{}</td><td class=\"muted\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"mono\">{}</td></tr>",
            e.seq,
            esc(&e.at.format("%Y-%m-%d %H:%M:%S").to_string()),
            esc(&e.actor),
            esc(&e.kind),
            esc(&e.action),
            esc(&e.target),
            esc(&e.outcome),
            esc(e
                .plan_id
                .as_deref()
                .map(|p| p.get(..12).unwrap_or(p))
                .unwrap_or("")),
        );
    }
    body.push_str("</tbody></table>");
    if let Some(last) = entries.last().filter(|_| entries.len() >= 200) {
        let _ = write!(
            body,
            "<p><a href=\"/ui/audit?q={}&amp;after={}\">Next page</a></p>",
            url_part(&q),
            last.seq
        );
    }
    html(
        StatusCode::OK,
        page(
            "Audit log",
            Some((&caller.name, caller.csrf())),
            "audit",
            None,
            &body,
        ),
    )
}

async fn site(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let caller = match session(&state, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let mut body = String::from("<h1>Seats</h1><div class=\"card\" id=\"seats\">");
    let report = match state.site_reader(&caller.name).await {
        Ok(engine) => state.0.seats.report(&engine).await,
        Err(e) => Err(e),
    };
    match report {
        Ok(r) if r.available => {
            body.push_str(
                "<table><thead><tr><th>Product</th><th>Billed seats</th><th>Seats</th><th>Reclaimable</th></tr></thead><tbody>",
            );
            for l in &r.products {
                let _ = write!(
                    body,
                    "<tr><td>{} <span class=\"muted mono\">{}</span></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&l.name),
                    esc(&l.product),
                    l.used,
                    l.seats
                        .map_or_else(|| "unlimited".into(), |s| s.to_string()),
                    l.reclaimable,
                );
            }
            body.push_str("</tbody></table>");
            if let Some(notes) = &r.reason {
                let _ = write!(body, "<p class=\"muted\">{}</p>", esc(notes));
            }
            body.push_str("<p class=\"muted\">Reclaim with <code>jsmctl seats reclaim</code> (a plan, approved here).</p>");
        }
        Ok(r) => {
            let _ = write!(
                body,
                "<p class=\"muted\">Not available: {}</p>",
                esc(r.reason.as_deref().unwrap_or(""))
            );
        }
        Err(e) => {
            let _ = write!(
                body,
                "<p class=\"muted\">Not available: {}</p>",
                esc(&e.to_string())
            );
        }
    }
    body.push_str("</div><h1>Credentials</h1>");
    match credential_report(
        state.store(),
        state.now(),
        state.config().credential_warn_days,
    )
    .await
    {
        Ok(list) if list.is_empty() => {
            body.push_str("<p class=\"muted\">No credential metadata recorded.</p>")
        }
        Ok(list) => {
            body.push_str(
                "<table id=\"credentials\"><thead><tr><th>Name</th><th>Kind</th><th>Owner</th><th>Expires</th><th>Status</th></tr></thead><tbody>",
            );
            for c in &list {
                let status = match c.status {
                    CredentialStatus::Ok => "ok",
                    CredentialStatus::Expiring => "awaiting_approval",
                    CredentialStatus::Expired => "failed",
                };
                let label = match (c.status, c.days_left) {
                    (CredentialStatus::Expired, _) => "expired".to_string(),
                    (CredentialStatus::Expiring, Some(d)) => format!("expires in {d} days"),
                    (_, Some(d)) => format!("{d} days left"),
                    (_, None) => "no known expiry".into(),
                };
                let _ = write!(
                    body,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><span class=\"badge {status}\">{}</span></td></tr>",
                    esc(&c.name),
                    esc(&c.kind),
                    esc(c.owner.as_deref().unwrap_or("")),
                    esc(&c
                        .expires_at
                        .map(|e| e.format("%Y-%m-%d").to_string())
                        .unwrap_or_default()),
                    esc(&label),
                );
            }
            body.push_str("</tbody></table>");
        }
        Err(e) => {
            let _ = write!(body, "<p class=\"muted\">{}</p>", esc(&e.to_string()));
        }
    }
    html(
        StatusCode::OK,
        page(
            "Seats and credentials",
            Some((&caller.name, caller.csrf())),
            "site",
            None,
            &body,
        ),
    )
}
