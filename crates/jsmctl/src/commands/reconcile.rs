//! `plan --source`, `reconcile`, `trace` and `links`: the site kept in step with an identity source.

use std::path::Path;

use jsm_lifecycle::reconcile::{PersonTrace, Request, source_name};
use jsm_lifecycle::{Engine, Plan};
use jsm_sources::{Opened, Source};
use jsm_store::{Link, PlanStatus};
use serde_json::json;

use super::write;
use crate::cli::{Format, ReconcileArgs, SourceArgs};
use crate::context::Context;
use crate::error::{CliError, CliResult, Exit};
use crate::output::{self, Style, table};

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn load(args: &SourceArgs) -> CliResult<Opened> {
    let spec = match (&args.source, &args.desired) {
        (Some(s), None) => s.clone(),
        (None, Some(f)) => format!("file:{}", f.display()),
        (Some(_), Some(_)) => {
            return Err(CliError::usage("give --source or --desired, not both"));
        }
        (None, None) => {
            return Err(CliError::usage(
                "give --source SOURCE (file:PATH, scim:URL, ldap://HOST:PORT/BASE_DN) or --desired FILE; \
                 or `plan show PLAN` to show a stored plan",
            ));
        }
    };
    Ok(jsm_sources::configured::open(
        &spec,
        args.mapping.as_deref(),
        &env,
    )?)
}

fn show(plan: &Plan, status: &str, format: Format) {
    match format {
        Format::Json => output::print_json(&output::plan_json(plan, status, None)),
        Format::Table => println!("{}", output::render_plan(plan, Style::detect())),
    }
}

/// `plan --source SOURCE [--mapping FILE] [--out PLAN]`: plans a reconcile, stores it, shows or saves it.
pub async fn plan(ctx: &Context, args: &SourceArgs, out: Option<&Path>) -> CliResult {
    let loaded = load(args)?;
    let engine = ctx.engine().await?;
    let req = Request::new(&loaded.source, &loaded.mapping, &loaded.origin);
    let reconciled = engine.plan_reconcile(&req).await?;
    let plan = reconciled.plan;
    let record = engine.submit(&plan).await?;
    if let Some(path) = out {
        std::fs::write(path, plan.to_json()?)
            .map_err(|e| CliError::failed(format!("cannot write {}: {e}", path.display())))?;
    }
    show(&plan, record.status.as_str(), ctx.format);
    if ctx.format == Format::Table && !plan.is_empty() {
        let target = out.map_or_else(|| plan.id.clone(), |p| p.display().to_string());
        println!(
            "Stored as {}. Review it, then: jsmctl apply {target}",
            plan.id
        );
        if plan.needs_approval() {
            println!(
                "It needs an approval first: jsmctl approvals approve {}",
                plan.id
            );
        }
    }
    Ok(Exit::Done)
}

/// `reconcile --source SOURCE [--mapping FILE] [--yes] [--incremental]`: plan, policy, apply, under the
/// site's run lock; the source's watermark moves only once the plan is applied.
pub async fn reconcile(ctx: &Context, args: &ReconcileArgs) -> CliResult {
    let loaded = load(&args.source)?;
    let engine = ctx.engine().await?;
    let lock = engine.lock_site().await?;
    let result = reconcile_locked(&engine, &loaded, args, ctx.format).await;
    let released = engine.unlock_site(lock).await;
    let exit = result?;
    released?;
    Ok(exit)
}

async fn reconcile_locked(
    engine: &Engine,
    loaded: &Opened,
    args: &ReconcileArgs,
    format: Format,
) -> CliResult {
    let mut req = Request::new(&loaded.source, &loaded.mapping, &loaded.origin);
    req.incremental = args.incremental;
    let reconciled = engine.plan_reconcile(&req).await?;
    if format == Format::Table {
        eprintln!("{}: {}", reconciled.source, reconciled.read);
    }
    let plan = reconciled.plan.clone();
    let exit = write::submit_and_apply(engine, plan.clone(), &args.write, format).await?;
    let applied = args.write.out.is_none()
        && (plan.is_empty()
            || engine
                .store
                .plan(&plan.id)
                .await?
                .is_some_and(|r| r.status == PlanStatus::Applied));
    if applied {
        engine.save_watermark(&reconciled.watermark).await?;
    }
    Ok(exit)
}

/// `trace EMAIL_OR_SOURCE_ID --source SOURCE [--mapping FILE]`
pub async fn trace(ctx: &Context, who: &str, args: &SourceArgs) -> CliResult {
    let loaded = load(args)?;
    let engine = ctx.engine().await?;
    let req = Request::new(&loaded.source, &loaded.mapping, &loaded.origin);
    let t = engine.trace(&req, who).await?;
    match ctx.format {
        Format::Json => output::print_json(
            &serde_json::to_value(&t)
                .map_err(|e| CliError::failed(format!("cannot encode the trace: {e}")))?,
        ),
        Format::Table => println!("{}", render_trace(&t, Style::detect())),
    }
    Ok(Exit::Done)
}

fn render_trace(t: &PersonTrace, style: Style) -> String {
    let mut out = Vec::new();
    let mark = |ok: bool| {
        if ok {
            style.green("✓")
        } else {
            style.dim("·")
        }
    };
    match &t.person {
        Some(p) => {
            out.push(format!(
                "{} {} in {}",
                style.bold("Trace of"),
                p.email,
                t.source
            ));
            out.push(format!(
                "  source: id {}, {}, {}{}{}",
                p.source_id,
                p.kind.as_str(),
                if p.active { "active" } else { "disabled" },
                p.display_name
                    .as_deref()
                    .map(|n| format!(", name {n}"))
                    .unwrap_or_default(),
                p.external_id
                    .as_deref()
                    .map(|e| format!(", external id {e}"))
                    .unwrap_or_default()
            ));
            let list = |l: &[String]| {
                if l.is_empty() {
                    "-".to_string()
                } else {
                    l.join(", ")
                }
            };
            out.push(format!(
                "  wants: desks {}; organizations {}; groups {}  (source groups: {})",
                list(&p.service_desks),
                list(&p.organizations),
                list(&p.groups),
                list(&p.source_groups)
            ));
        }
        None => out.push(format!(
            "{} a linked identity no longer in {}",
            style.bold("Trace of"),
            t.source
        )),
    }
    if let Some(scope) = &t.scope {
        out.push(String::new());
        out.push(style.bold("Scope"));
        for line in scope.to_string().lines() {
            out.push(format!("  {line}"));
        }
    }
    out.push(String::new());
    out.push(style.bold("Matching (first hit wins; the link first ever after)"));
    for r in &t.matching {
        let found = if r.candidates.is_empty() {
            "no account".to_string()
        } else {
            r.candidates.join(", ")
        };
        out.push(format!(
            "  {} {:<12} {:<40} -> {found}{}",
            mark(!r.candidates.is_empty()),
            r.rule,
            r.value.as_deref().unwrap_or("-"),
            r.note
                .as_deref()
                .map(|n| format!("  ({n})"))
                .unwrap_or_default()
        ));
    }
    out.push(format!("  decision: {}", t.verdict));
    out.push(format!(
        "  situation: {} ({})",
        style.bold(t.situation.as_str()),
        t.why
    ));
    out.push(String::new());
    out.push(style.bold("A reconcile would"));
    if t.actions.is_empty() {
        out.push("  change nothing for this person".into());
    }
    for a in &t.actions {
        let approval = a
            .approval_rule
            .as_deref()
            .map(|r| format!("  {}", style.yellow(&format!("[needs approval: {r}]"))))
            .unwrap_or_default();
        out.push(format!("  {} {} {}{approval}", a.sign, a.action, a.target));
        out.push(style.dim(&format!("      reason: {}", a.reason)));
    }
    for n in &t.notes {
        out.push(format!("  note: {n}"));
    }
    out.push(String::new());
    out.push(style.bold("The site now"));
    if t.site.is_empty() {
        out.push("  no candidate account".into());
    }
    for s in &t.site {
        out.push(format!(
            "  {} {} ({:?}, {}), email {} from {:?}",
            s.account_id,
            s.display_name,
            s.account_type,
            if s.active { "active" } else { "inactive" },
            s.email.as_deref().unwrap_or("hidden"),
            s.email_from
        ));
        out.push(format!(
            "      SCIM: {}; in: {}",
            s.scim.as_ref().map_or("none".to_string(), |r| format!(
                "{} (externalId {}, {})",
                r.id,
                r.external_id.as_deref().unwrap_or("-"),
                if r.active { "active" } else { "inactive" }
            )),
            if s.memberships.is_empty() {
                "no managed desk, organization or group".to_string()
            } else {
                s.memberships.join(", ")
            }
        ));
    }
    out.push(style.dim(&format!("({} API calls)", t.calls)));
    out.join("\n")
}

/// The store's name of a source given as on the command line (a spec that does not parse is taken as is).
fn source_key(spec: &str) -> String {
    match Source::parse(spec, &env) {
        Ok(s) => source_name(&s),
        Err(_) => spec.to_string(),
    }
}

fn print_links(links: &[Link], format: Format) {
    match format {
        Format::Json => output::print_json(&json!(links)),
        Format::Table => {
            let rows: Vec<Vec<String>> = links
                .iter()
                .map(|l| {
                    vec![
                        l.source.clone(),
                        l.source_id.clone(),
                        l.account_id.clone(),
                        l.scim_id.clone().unwrap_or_else(|| "-".into()),
                        l.updated_at.format("%Y-%m-%d %H:%M").to_string(),
                    ]
                })
                .collect();
            println!(
                "{}",
                table(
                    &["SOURCE", "SOURCE ID", "ACCOUNT", "SCIM ID", "UPDATED"],
                    &rows
                )
            );
            println!("{} link(s)", links.len());
        }
    }
}

/// `links list [--source SOURCE]`
pub async fn links_list(ctx: &Context, source: Option<&str>) -> CliResult {
    let engine = ctx.engine().await?;
    let key = source.map(source_key);
    let links = engine.links(key.as_deref()).await?;
    print_links(&links, ctx.format);
    Ok(Exit::Done)
}

/// `links show WHO [--source SOURCE]`
pub async fn links_show(ctx: &Context, who: &str, source: Option<&str>) -> CliResult {
    let engine = ctx.engine().await?;
    let key = source.map(source_key);
    let links = engine.links_of(key.as_deref(), who).await?;
    if links.is_empty() {
        return Err(CliError::usage(format!("no link for {who}")));
    }
    print_links(&links, ctx.format);
    Ok(Exit::Done)
}

/// `links unlink SOURCE_ID --source SOURCE`
pub async fn unlink(ctx: &Context, source: &str, source_id: &str) -> CliResult {
    let engine = ctx.engine().await?;
    let link = engine.unlink(&source_key(source), source_id).await?;
    match ctx.format {
        Format::Json => output::print_json(&json!({ "unlinked": link })),
        Format::Table => println!(
            "Unlinked {} / {} from account {}; the next reconcile matches the person again by externalId, \
             email and account id.",
            link.source, link.source_id, link.account_id
        ),
    }
    Ok(Exit::Done)
}
