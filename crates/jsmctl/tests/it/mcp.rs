//! `jsmctl mcp` as an MCP host runs it: over stdio every stdout line is a JSON-RPC message and logs go to
//! stderr; with `--listen 127.0.0.1:0` the first stdout line is the base URL alone; a bad config exits 2 naming
//! the key.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use jsm_emulator::limits::LimitConfig;
use jsm_emulator::{Emulator, RunningEmulator, Seed};
use serde_json::{Value, json};

use super::{jsmctl, terminate};

async fn emulator() -> RunningEmulator {
    Emulator::builder()
        .seed(Seed::Demo)
        .limits(LimitConfig::off())
        .admin("admin@example.com", "mcp-cli-token")
        .spawn("127.0.0.1:0")
        .await
        .unwrap()
}

fn cmd(emu: &RunningEmulator, dir: &tempfile::TempDir, args: &[&str]) -> Command {
    let mut cmd = jsmctl();
    cmd.arg("mcp")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir.path())
        .env("JSMCTL_STATE", dir.path().join("state.db"))
        .env("JSMCTL_LOG", "info");
    for (k, v) in emu.env_vars() {
        cmd.env(k, v);
    }
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_carries_only_the_protocol_and_logs_go_to_stderr() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let messages = [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
            "params": {"name": "find_user", "arguments": {"query": "admin@example.com"}}}),
        json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call",
            "params": {"name": "plan_offboard", "arguments": {"who": "admin@example.com"}}}),
    ];
    let mut child = cmd(&emu, &dir, &[])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for m in &messages {
        writeln!(stdin, "{m}").unwrap();
    }
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut answers = std::collections::BTreeMap::new();
    for line in stdout.lines() {
        let line = line.unwrap();
        let v: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("stdout carries only JSON-RPC ({e}): {line}"));
        assert_eq!(v["jsonrpc"], "2.0", "{line}");
        answers.insert(v["id"].as_i64().unwrap(), v);
        if answers.len() == 4 {
            break;
        }
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "exits 0 when stdin closes");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("serving MCP over stdio"),
        "logs on stderr: {stderr}"
    );
    assert_eq!(
        answers[&2]["result"]["tools"].as_array().unwrap().len(),
        10,
        "read-only by default"
    );
    assert_eq!(answers[&3]["result"]["isError"], false);
    assert_eq!(
        answers[&4]["result"]["isError"], true,
        "write tools are off by default"
    );
    assert_eq!(
        answers[&4]["result"]["structuredContent"]["error"]["code"],
        "tool_disabled"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_prints_the_base_url_first_and_serves_metadata() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let mut child = cmd(&emu, &dir, &["--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    let base = first.trim().to_string();
    assert!(
        base.starts_with("http://127.0.0.1:") && !base.contains(' '),
        "{base}"
    );
    let prm: Value = reqwest::get(format!("{base}/.well-known/oauth-protected-resource"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(prm["resource"], format!("{base}/mcp"));
    let denied = reqwest::Client::new()
        .post(format!("{base}/mcp"))
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), 401);
    assert!(terminate(child).success(), "SIGTERM exits 0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_mcp_config_exits_2_naming_the_key() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("mcp.toml");
    let missing = dir.path().join("missing-mapping.toml");
    for (text, needles) in [
        (
            "version = 1\n[tools]\nenabled = [\"approve_plan\"]\n".to_string(),
            vec!["tools.enabled", "approve_plan"],
        ),
        (
            format!(
                "version = 1\n[[sources]]\nname = \"hr\"\nspec = \"file:people.csv\"\nmapping = \"{}\"\n",
                missing.display()
            ),
            vec!["sources: hr", "missing-mapping.toml"],
        ),
    ] {
        std::fs::write(&config, &text).unwrap();
        let out = cmd(&emu, &dir, &["--mcp-config", config.to_str().unwrap()])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{text}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(needles.iter().all(|n| err.contains(n)), "{text}: {err}");
        assert!(out.stdout.is_empty(), "nothing on stdout");
    }
}
