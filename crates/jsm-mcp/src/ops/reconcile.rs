//! `plan_reconcile`: the engine's reconcile from a source of the server's config, named by the agent. The agent
//! passes a name only, so it can never make the server read a file or call a URL of its choosing; the plan then
//! goes through the same proposal as every plan tool (agent overlay, caps, store, approval answer).

use jsm_lifecycle::reconcile::Request;
use jsm_lifecycle::{Error, Plan};
use jsm_sources::SourceConfig;

use super::{Call, engine_error};
use crate::args::ReconcileArgs;
use crate::config::McpConfig;
use crate::tools::{ToolError, ToolResult, code};
use crate::views::ReconcileView;

/// The configured source of this name; an unknown name is an error naming `source` and listing the names.
pub(crate) fn configured<'a>(config: &'a McpConfig, name: &str) -> ToolResult<&'a SourceConfig> {
    config.source(name).ok_or_else(|| {
        let names: Vec<&str> = config.sources.iter().map(|s| s.name.as_str()).collect();
        ToolError::argument(
            "source",
            format!(
                "no source is named {name:?}; the configured sources are: {}",
                names.join(", ")
            ),
        )
        .with("sources", names)
    })
}

/// A failure of the source or its mapping is the operator's to fix, never an argument of the agent's.
fn source_error(source: &str, e: Error) -> ToolError {
    let error = match e {
        Error::InvalidInput { .. } => ToolError::new(code::REFUSED, e.to_string()),
        other => engine_error(other),
    };
    ToolError {
        message: format!("source {source}: {}", error.message),
        ..error
    }
    .with("source", source)
}

/// Opens the source (its mapping read afresh, secrets from the environment) and plans the reconcile.
pub(crate) async fn plan(
    call: &Call<'_>,
    source: &SourceConfig,
    args: &ReconcileArgs,
) -> ToolResult<(Plan, ReconcileView)> {
    let env = |name: &str| std::env::var(name).ok();
    let opened = source
        .open(&env)
        .map_err(|e| source_error(&source.name, e.into()))?;
    let mut request = Request::new(&opened.source, &opened.mapping, &opened.origin);
    request.incremental = args.incremental.unwrap_or(false);
    let reconciled = call
        .engine
        .plan_reconcile(&request)
        .await
        .map_err(|e| source_error(&source.name, e))?;
    let view = ReconcileView::of(&source.name, &reconciled);
    Ok((reconciled.plan, view))
}
