//! `jsmctl demo`: starts the emulator with the demo site on a free port and tours it with real HTTP calls, so a
//! new user sees the traps jsmctl exists for (silent page caps, hidden emails, experimental headers, 429s).

use std::sync::Arc;

use anyhow::{Context, bail};
use jsm_client::{Client, GroupRef, Metrics};
use jsm_emulator::{Emulator, RunningEmulator, Seed};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const ADMIN_EMAIL: &str = "admin@example.com";
const ADMIN_TOKEN: &str = "jsmctl-demo-token";

/// Flags of `jsmctl demo`.
#[derive(Debug, clap::Args)]
pub struct Args {}

struct Tour {
    http: reqwest::Client,
    base: String,
}

impl Tour {
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .basic_auth(ADMIN_EMAIL, Some(ADMIN_TOKEN))
            .header("X-ExperimentalApi", "opt-in");
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req
            .send()
            .await
            .with_context(|| format!("{method} {path}"))?;
        let status = resp.status();
        let bytes = resp.bytes().await?;
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok((status, value))
    }

    async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let (status, value) = self.call(Method::GET, path, None).await?;
        if !status.is_success() {
            bail!("GET {path} answered {status}: {value}");
        }
        Ok(value)
    }

    async fn control(&self, method: Method, path: &str, body: Value) -> anyhow::Result<()> {
        let resp = self
            .http
            .request(method, format!("{}/_emulator{path}", self.base))
            .bearer_auth(ADMIN_TOKEN)
            .json(&body)
            .send()
            .await?;
        if !resp.status().is_success() {
            bail!("control plane {path} answered {}", resp.status());
        }
        Ok(())
    }
}

/// Runs `jsmctl demo`.
pub async fn run(_args: Args) -> anyhow::Result<()> {
    let running = Emulator::builder()
        .seed(Seed::Demo)
        .admin(ADMIN_EMAIL, ADMIN_TOKEN)
        .spawn("127.0.0.1:0")
        .await
        .context("starting the emulator on a loopback port")?;
    let base = running.base_url().to_string();
    println!("Emulator running at {base}");
    println!("  Basic auth: {ADMIN_EMAIL} / {ADMIN_TOKEN}   (control plane: Bearer {ADMIN_TOKEN})");
    println!();
    let tour = Tour {
        http: reqwest::Client::new(),
        base,
    };
    let mut result = steps(&tour).await;
    if result.is_ok() {
        result = client_steps(&running).await;
    }
    running.stop().await?;
    result?;
    println!();
    println!(
        "Tour complete. Run `jsmctl emulator` to keep an emulator running for your own client."
    );
    Ok(())
}

async fn steps(t: &Tour) -> anyhow::Result<()> {
    let info = t.get("/rest/api/3/serverInfo").await?;
    println!(
        "1. serverInfo: deploymentType={} version={}",
        info["deploymentType"], info["version"]
    );

    let me = t.get("/rest/api/3/myself").await?;
    println!("2. myself: {} ({})", me["displayName"], me["accountId"]);

    let roles = t.get("/rest/api/3/applicationrole").await?;
    for role in roles.as_array().into_iter().flatten() {
        println!(
            "3. seats of {}: {} used of {}",
            role["name"], role["userCount"], role["numberOfSeats"]
        );
    }

    let (mut start, mut agents, mut hidden, mut pages) = (0, 0, 0, 0);
    loop {
        let page = t
            .get(&format!(
                "/rest/api/3/group/member?groupname=jira-servicemanagement-users&startAt={start}&maxResults=100"
            ))
            .await?;
        pages += 1;
        let values = page["values"].as_array().cloned().unwrap_or_default();
        agents += values.len();
        hidden += values
            .iter()
            .filter(|u| u.get("emailAddress").is_none())
            .count();
        if pages == 1 {
            println!(
                "4. group/member asked maxResults=100, served maxResults={} (a silent cap)",
                page["maxResults"]
            );
        }
        if page["isLast"].as_bool() != Some(false) {
            break;
        }
        start += values.len();
    }
    println!(
        "   {agents} agents in {pages} pages; {hidden} hide their email (the field is absent, not null)"
    );

    let desks = t.get("/rest/servicedeskapi/servicedesk").await?;
    let names: Vec<String> = desks["values"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| {
            format!(
                "{} ({})",
                d["projectName"].as_str().unwrap_or("?"),
                d["projectKey"].as_str().unwrap_or("?")
            )
        })
        .collect();
    println!("5. service desks: {}", names.join(", "));

    let (mut start, mut customers, mut first_size) = (0, 0, None);
    loop {
        let page = t
            .get(&format!(
                "/rest/servicedeskapi/servicedesk/HR/customer?start={start}&limit=100"
            ))
            .await?;
        let size = page["size"].as_u64().unwrap_or(0);
        first_size.get_or_insert(size);
        customers += size;
        if page["isLastPage"].as_bool() != Some(false) {
            break;
        }
        start += size;
    }
    println!(
        "6. HR desk customers: asked limit=100, first page size={} (hidden cap); {customers} in total by following isLastPage",
        first_size.unwrap_or(0)
    );

    let (status, created) = t
        .call(
            Method::POST,
            "/rest/servicedeskapi/customer",
            Some(json!({"displayName": "Demo Customer", "email": "demo.customer@acme.example"})),
        )
        .await?;
    println!("7. POST /customer -> {status}: {}", created["accountId"]);
    let (status, _) = t
        .call(
            Method::POST,
            "/rest/servicedeskapi/servicedesk/HR/customer",
            Some(json!({"accountIds": [created["accountId"]]})),
        )
        .await?;
    println!("   added to the HR desk -> {status}");
    let (status, err) = t
        .call(
            Method::DELETE,
            "/rest/servicedeskapi/servicedesk/ITSD/customer",
            Some(json!({"accountIds": [created["accountId"]]})),
        )
        .await?;
    println!(
        "8. removing a customer from an open desk -> {status}: {}",
        err["errorMessage"]
    );

    t.control(
        Method::PUT,
        "/faults",
        json!({"rules": [{"method": "GET", "path": "/rest/api/3/myself", "status": 429, "retryAfter": 1, "times": 1}]}),
    )
    .await?;
    let resp = t
        .http
        .get(format!("{}/rest/api/3/myself", t.base))
        .basic_auth(ADMIN_EMAIL, Some(ADMIN_TOKEN))
        .send()
        .await?;
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("?")
        .to_string();
    println!(
        "9. an injected 429: status {} with Retry-After: {retry_after}",
        resp.status()
    );
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let again = t.get("/rest/api/3/myself").await?;
    println!(
        "   after waiting {retry_after}s the retry succeeds: {}",
        again["displayName"]
    );
    Ok(())
}

/// The same site through jsm-client, the typed client: pagers that follow the hidden caps and a limiter that paces
/// itself, and an email lookup that falls back to SCIM when the profile hides the email.
async fn client_steps(running: &RunningEmulator) -> anyhow::Result<()> {
    let emu = &running.emu;
    let base = running.base_url();
    let metrics = Arc::new(Metrics::default());
    let client = Client::builder()
        .site(base)
        .api_url(base)
        .auth_url(base)
        .basic_auth(running.admin_email(), running.admin_token().expose())
        .scim(running.directory_id(), running.scim_token().expose())
        .org_admin(running.org_id(), running.org_api_key().expose())
        .observer(metrics.clone())
        .build()?;
    let customers = client.customers().list("HR").all().await?;
    let agents = client
        .groups()
        .members(&GroupRef::name("jira-servicemanagement-users"))
        .all()
        .await?;
    let calls = metrics.snapshot();
    println!(
        "10. jsm-client: {} HR customers and {} agents in {} calls, {} answered 429 (it paces itself to the limits)",
        customers.len(),
        agents.len(),
        calls.sent,
        calls.throttled
    );
    let hidden = agents
        .iter()
        .find(|a| a.email_address.is_none())
        .and_then(|a| {
            let site = emu.site();
            site.find_account(&a.account_id)
                .map(|k| site.account(k).email.clone())
        });
    if let Some(email) = hidden {
        let found = client.users().find_by_email(&email).await?;
        println!(
            "    find_by_email({email}), an agent whose email is hidden: {} through the SCIM fallback",
            found.map_or("not found".to_string(), |u| u.display_name)
        );
    }
    Ok(())
}
