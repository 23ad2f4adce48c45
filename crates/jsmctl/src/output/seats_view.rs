//! How seat reports and credential checks print: a compact table on a terminal (totals per product and path,
//! the seats a reclaim would take back), every account as CSV, one line per credential.

use jsm_lifecycle::credentials::{CheckReport, State};
use jsm_lifecycle::seats::{ReclaimAction, SeatAccount, SeatReport};
use jsm_store::CredentialMeta;

use super::{Style, table};

fn date(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.date_naive().to_string())
        .unwrap_or_else(|| "-".into())
}

fn paths(a: &SeatAccount) -> String {
    a.paths
        .iter()
        .map(|p| {
            let mut l = p.label();
            if p.scim_managed {
                l.push_str(" (scim)");
            }
            l
        })
        .collect::<Vec<_>>()
        .join(" + ")
}

fn action(a: Option<ReclaimAction>) -> &'static str {
    match a {
        Some(ReclaimAction::RemoveGroups) => "remove groups",
        Some(ReclaimAction::Suspend) => "suspend",
        Some(ReclaimAction::Manual) => "manual",
        None => "-",
    }
}

/// The report for people: totals, paths, reclaimable seats, Guard apart, notes.
pub fn render_seats(r: &SeatReport, style: Style) -> String {
    let mut out = Vec::new();
    let rows: Vec<Vec<String>> = r
        .products
        .iter()
        .map(|p| {
            vec![
                p.key.clone(),
                p.billable.to_string(),
                p.atlassian_user_count.to_string(),
                p.number_of_seats
                    .map_or("unlimited".into(), |n| n.to_string()),
                p.not_billable.values().sum::<u32>().to_string(),
                p.reclaimable.to_string(),
                p.frees.to_string(),
            ]
        })
        .collect();
    out.push(style.bold("Seats"));
    out.push(table(
        &[
            "PRODUCT",
            "BILLED",
            "ATLASSIAN COUNT",
            "SEATS",
            "NOT BILLED",
            "RECLAIMABLE",
            "FREED BY RECLAIM",
        ],
        &rows,
    ));
    let mut paths_rows = Vec::new();
    for p in &r.products {
        for (path, n) in &p.by_path {
            paths_rows.push(vec![p.key.clone(), path.clone(), n.to_string()]);
        }
        for (status, n) in &p.not_billable {
            paths_rows.push(vec![
                p.key.clone(),
                format!("(not billed: {status})"),
                n.to_string(),
            ]);
        }
    }
    out.push(String::new());
    out.push(style.bold("Granting paths (an account with two paths counts under both)"));
    out.push(table(&["PRODUCT", "PATH", "ACCOUNTS"], &paths_rows));
    let reclaim: Vec<Vec<String>> = r
        .accounts
        .iter()
        .filter(|a| a.reclaimable)
        .map(|a| {
            vec![
                a.email.clone().unwrap_or_else(|| a.account_id.clone()),
                a.product.clone(),
                paths(a),
                a.inactive_days.map_or("-".into(), |d| d.to_string()),
                action(a.reclaim).into(),
            ]
        })
        .collect();
    out.push(String::new());
    out.push(style.bold(&format!(
        "Reclaimable (no use of the product for {} days or more)",
        r.inactive_days
    )));
    if reclaim.is_empty() {
        out.push("none".into());
    } else {
        out.push(table(
            &["ACCOUNT", "PRODUCT", "PATHS", "IDLE DAYS", "RECLAIM"],
            &reclaim,
        ));
    }
    out.push(String::new());
    for p in &r.products {
        out.push(format!("{}: {}", p.key, p.saving.summary));
    }
    out.push(format!(
        "Atlassian Guard (a separate meter, never added to seats): {}{}",
        r.guard
            .billable
            .map_or("unknown without the admin API key".into(), |n| format!(
                "{n} billable managed account(s)"
            )),
        if r.guard.billable_without_seat > 0 {
            format!(
                ", {} of them without a seat (suspended on this site)",
                r.guard.billable_without_seat
            )
        } else {
            String::new()
        }
    ));
    for n in &r.notes {
        out.push(style.dim(&format!("note: {n}")));
    }
    out.push(style.dim(&format!(
        "{} API call(s); every account with its paths and reasons: --output json or --output csv",
        r.calls
    )));
    out.join("\n")
}

/// Every account and product as CSV, with a header row.
pub fn seats_csv(r: &SeatReport) -> Result<String, String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = [
        "account_id",
        "email",
        "name",
        "product",
        "billable",
        "status",
        "paths",
        "last_active",
        "inactive_days",
        "never_active",
        "added",
        "reclaimable",
        "reclaim",
        "frees",
        "guard_billable",
        "reason",
    ];
    w.write_record(header).map_err(|e| e.to_string())?;
    for a in &r.accounts {
        let status = serde_json::to_value(a.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let reclaim = a
            .reclaim
            .and_then(|x| serde_json::to_value(x).ok())
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let paths: Vec<String> = a.paths.iter().map(|p| p.label()).collect();
        w.write_record([
            a.account_id.clone(),
            a.email.clone().unwrap_or_default(),
            a.name.clone(),
            a.product.clone(),
            a.billable.to_string(),
            status,
            paths.join(";"),
            a.last_active.map(|t| t.to_rfc3339()).unwrap_or_default(),
            a.inactive_days.map(|d| d.to_string()).unwrap_or_default(),
            a.never_active.to_string(),
            a.added.map(|d| d.to_string()).unwrap_or_default(),
            a.reclaimable.to_string(),
            reclaim,
            a.frees.to_string(),
            a.guard_billable.map(|b| b.to_string()).unwrap_or_default(),
            a.reason.clone(),
        ])
        .map_err(|e| e.to_string())?;
    }
    let bytes = w.into_inner().map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|e| e.to_string())
}

/// Registered credentials, one row each (never a secret: only where it lives).
pub fn render_credentials(list: &[CredentialMeta]) -> String {
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|m| {
            vec![
                m.name.clone(),
                m.kind.clone(),
                m.owner.clone().unwrap_or_else(|| "-".into()),
                m.created_at.date_naive().to_string(),
                date(m.expires_at),
                date(m.last_used_at),
                date(m.last_verified_at),
                m.secret_ref.clone().unwrap_or_else(|| "(none)".into()),
            ]
        })
        .collect();
    format!(
        "{}\n{} credential(s)",
        table(
            &[
                "NAME",
                "KIND",
                "OWNER",
                "CREATED",
                "EXPIRES",
                "LAST USED",
                "LAST VERIFIED",
                "SECRET AT"
            ],
            &rows
        ),
        list.len()
    )
}

/// One line per credential with its state, coloured by severity.
pub fn render_check(r: &CheckReport, style: Style) -> String {
    let rows: Vec<Vec<String>> = r
        .credentials
        .iter()
        .map(|c| {
            let state = match c.state {
                State::Ok => style.green("ok"),
                State::Expiring => style.yellow(&format!(
                    "expiring in {} days",
                    c.days_left.unwrap_or_default()
                )),
                s => style.red(s.as_str()),
            };
            vec![c.name.clone(), c.kind.clone(), state, c.detail.clone()]
        })
        .collect();
    let mut out = vec![table(&["NAME", "KIND", "STATE", "DETAIL"], &rows)];
    out.push(style.dim(&format!(
        "judged at {} ({} clock), warning {} days ahead",
        r.checked_at.format("%Y-%m-%d %H:%M UTC"),
        r.clock,
        r.warn_days
    )));
    for n in &r.notes {
        out.push(style.dim(&format!("note: {n}")));
    }
    out.join("\n")
}
