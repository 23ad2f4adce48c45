//! `jsmctl credentials add|list|remove|check`: the registry needs only the store; `check` also reads the site
//! when one is configured (owners, Atlassian's clock and token listing) and exits 0, 1 or 2 by the worst state.

use std::sync::Arc;

use jsm_client::SystemClock;
use jsm_lifecycle::credentials::{self, CheckOptions, Kind, Registration, SecretRef, Targets};
use serde_json::json;

use crate::cli::{CredentialAdd, CredentialKind, CredentialsCmd, Format};
use crate::context::Context;
use crate::error::{CliError, CliResult, Exit};
use crate::output::{self, Style};

fn kind(k: CredentialKind) -> Kind {
    match k {
        CredentialKind::ApiToken => Kind::ApiToken,
        CredentialKind::ScimKey => Kind::ScimKey,
        CredentialKind::AdminKey => Kind::AdminKey,
        CredentialKind::Oauth => Kind::OAuth,
        CredentialKind::Ldap => Kind::Ldap,
    }
}

fn encode<T: serde::Serialize>(t: &T) -> CliResult<serde_json::Value> {
    serde_json::to_value(t).map_err(|e| CliError::failed(format!("cannot encode: {e}")))
}

/// `credentials …`
pub async fn run(ctx: &Context, cmd: CredentialsCmd) -> CliResult {
    match cmd {
        CredentialsCmd::Add(a) => add(ctx, &a).await,
        CredentialsCmd::List => list(ctx).await,
        CredentialsCmd::Remove { name } => remove(ctx, &name).await,
        CredentialsCmd::Check { warn_days, verify } => check(ctx, warn_days, verify).await,
    }
}

async fn add(ctx: &Context, a: &CredentialAdd) -> CliResult {
    let store = ctx.store().await?;
    let secret = match (&a.secret_env, &a.secret_file) {
        (Some(var), _) => Some(SecretRef::Env(var.clone())),
        (None, Some(path)) => Some(SecretRef::File(
            std::path::absolute(path).unwrap_or_else(|_| path.clone()),
        )),
        (None, None) => None,
    };
    let reg = Registration {
        name: a.name.clone(),
        kind: kind(a.kind),
        owner: a.owner.clone(),
        expires: a.expires,
        secret,
    };
    let meta = credentials::add(&store, &reg, jsm_client::Clock::now(&SystemClock)).await?;
    match ctx.format {
        Format::Json => output::print_json(&encode(&meta)?),
        Format::Table => println!(
            "Registered {} ({}); the secret stays at {}.",
            meta.name,
            meta.kind,
            meta.secret_ref
                .as_deref()
                .unwrap_or("(no secret: metadata only)")
        ),
    }
    Ok(Exit::Done)
}

async fn list(ctx: &Context) -> CliResult {
    let store = ctx.store().await?;
    let all = credentials::list(&store).await?;
    match ctx.format {
        Format::Json => output::print_json(&encode(&all)?),
        Format::Table => println!("{}", output::render_credentials(&all)),
    }
    Ok(Exit::Done)
}

async fn remove(ctx: &Context, name: &str) -> CliResult {
    let store = ctx.store().await?;
    credentials::remove(&store, name).await?;
    match ctx.format {
        Format::Json => output::print_json(&json!({ "removed": name })),
        Format::Table => println!("Removed {name}; its secret was left where it is."),
    }
    Ok(Exit::Done)
}

async fn check(ctx: &Context, warn_days: Option<u32>, verify: bool) -> CliResult {
    let store = ctx.store().await?;
    let policy = ctx.policy()?;
    let s = &ctx.settings;
    // The site is optional here: without it the check judges dates on the local clock.
    let client = if s.site.is_some() && s.email.is_some() && s.api_token.is_some() {
        Some(ctx.client()?)
    } else {
        None
    };
    let api = s
        .api_url
        .clone()
        .unwrap_or_else(|| "https://api.atlassian.com".into());
    let targets = Targets {
        site: s.site.clone(),
        api_url: Some(api.clone()),
        auth_url: Some(
            s.api_url
                .clone()
                .unwrap_or_else(|| "https://auth.atlassian.com".into()),
        ),
        scim_url: s.scim_url.clone(),
        org_id: s.org_id.clone(),
    };
    let report = credentials::check(
        &store,
        client.as_ref(),
        s.capabilities(),
        &policy.credentials,
        Arc::new(SystemClock),
        &CheckOptions {
            warn_days,
            verify: verify.then_some(targets),
        },
    )
    .await?;
    match ctx.format {
        Format::Json => output::print_json(&encode(&report)?),
        Format::Table => println!("{}", output::render_check(&report, Style::detect())),
    }
    Ok(Exit::Check(report.exit_code()))
}
