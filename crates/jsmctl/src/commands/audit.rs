//! `audit list|verify|export`.

use std::io::Write;

use serde_json::json;

use crate::cli::Format;
use crate::context::Context;
use crate::error::{CliError, CliResult, Exit};
use crate::output::{self, table};

/// `audit list [--limit N]`: the latest records, oldest first.
pub async fn list(ctx: &Context, limit: u32) -> CliResult {
    let store = ctx.store().await?;
    let count = store.audit_count().await?;
    let after = i64::try_from(count.saturating_sub(u64::from(limit))).unwrap_or(0);
    let records = store.audit_list(after, limit).await?;
    match ctx.format {
        Format::Json => output::print_json(&json!(records)),
        Format::Table => {
            let rows: Vec<Vec<String>> = records
                .iter()
                .map(|r| {
                    let d = &r.draft;
                    vec![
                        r.seq.to_string(),
                        d.at.format("%Y-%m-%d %H:%M:%S").to_string(),
                        d.actor.clone(),
                        d.kind.clone(),
                        d.action.clone(),
                        d.outcome.clone(),
                        d.target.clone(),
                    ]
                })
                .collect();
            println!(
                "{}",
                table(
                    &[
                        "SEQ", "AT (UTC)", "ACTOR", "KIND", "ACTION", "OUTCOME", "TARGET"
                    ],
                    &rows
                )
            );
        }
    }
    Ok(Exit::Done)
}

/// `audit verify`: exit 0 when the whole chain verifies, 1 naming the first record that does not.
pub async fn verify(ctx: &Context) -> CliResult {
    let store = ctx.store().await?;
    match store.audit_verify().await? {
        Ok(report) => {
            match ctx.format {
                Format::Json => output::print_json(
                    &json!({"ok": true, "records": report.records, "head": report.head}),
                ),
                Format::Table => println!(
                    "Audit log verifies: {} record(s), head {}",
                    report.records,
                    report.head.as_deref().unwrap_or("(empty)")
                ),
            }
            Ok(Exit::Done)
        }
        Err(jsm_store::VerifyError::Broken { seq, reason }) => {
            if ctx.format == Format::Json {
                output::print_json(&json!({"ok": false, "seq": seq, "reason": reason}));
            }
            Err(CliError::failed(format!(
                "audit log does not verify at record {seq}: {reason}"
            )))
        }
    }
}

/// `audit export [--out FILE]`: every record as one JSON object per line.
pub async fn export(ctx: &Context, out: Option<&std::path::Path>) -> CliResult {
    let store = ctx.store().await?;
    let mut sink: Box<dyn Write> = match out {
        Some(p) => Box::new(std::io::BufWriter::new(std::fs::File::create(p)?)),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let mut after = 0;
    loop {
        let page = store.audit_list(after, 1000).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for record in &page {
            let line = serde_json::to_string(record).map_err(|e| {
                CliError::failed(format!("cannot encode record {}: {e}", record.seq))
            })?;
            writeln!(sink, "{line}")?;
        }
    }
    sink.flush()?;
    Ok(Exit::Done)
}
