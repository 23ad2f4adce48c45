//! The `jsmctl` binary as scripts use it: the emulator's command contract and the demo.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests and benches fail loudly"
)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::json;

mod contract;
mod crash;
mod demo;
mod env_file;
mod mcp;
mod oauth_flags;
mod reconcile;
mod seats;
mod serve;

fn jsmctl() -> Command {
    Command::new(env!("CARGO_BIN_EXE_jsmctl"))
}

/// Starts `jsmctl emulator` and returns the child, its base URL and the stdout lines after it.
fn start(args: &[&str]) -> (Child, String, BufReader<std::process::ChildStdout>) {
    let mut child = jsmctl()
        .arg("emulator")
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn jsmctl");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    out.read_line(&mut first).expect("first line");
    (child, first.trim().to_string(), out)
}

fn terminate(mut child: Child) -> std::process::ExitStatus {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    child.wait().expect("wait")
}

#[tokio::test]
async fn emulator_prints_its_url_first_and_keeps_state_across_restarts() {
    let dir = std::env::temp_dir().join(format!("jsmctl-it-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let state = dir.join("state.json");
    let _ = std::fs::remove_file(&state);
    let state_arg = state.to_str().unwrap();
    let args = [
        "--seed",
        "empty",
        "--admin-token",
        "t0ken",
        "--state-file",
        state_arg,
    ];

    let (child, base, _) = start(&args);
    assert!(
        base.starts_with("http://127.0.0.1:"),
        "first line is the URL alone: {base}"
    );
    let http = reqwest::Client::new();
    let resp = http
        .post(format!("{base}/rest/api/3/group"))
        .basic_auth("admin@example.com", Some("t0ken"))
        .json(&json!({"name": "kept-across-restarts"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert!(terminate(child).success(), "SIGTERM exits 0");
    assert!(state.exists(), "state saved on shutdown");

    let (child, base, _) = start(&args);
    let resp = http
        .get(format!(
            "{base}/rest/api/3/group/member?groupname=kept-across-restarts"
        ))
        .basic_auth("admin@example.com", Some("t0ken"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "the group survived the restart");
    assert!(terminate(child).success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_generated_admin_token_is_printed_and_works() {
    let (child, base, mut out) = start(&["--seed", "demo"]);
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let token = line
        .trim()
        .strip_prefix("admin-token: ")
        .expect("token line")
        .to_string();
    let resp = reqwest::Client::new()
        .get(format!("{base}/rest/api/3/myself"))
        .basic_auth("admin@example.com", Some(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(terminate(child).success());
}

#[test]
fn bad_flags_and_bad_state_files_fail_clearly() {
    let out = jsmctl()
        .args(["emulator", "--listen", "nowhere"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "usage errors exit 2");
    let bad = std::env::temp_dir().join(format!("jsmctl-bad-{}.json", std::process::id()));
    std::fs::write(&bad, "{\"version\": 1, \"accounts\": 7}").unwrap();
    let out = jsmctl()
        .args([
            "emulator",
            "--listen",
            "127.0.0.1:0",
            "--seed",
            bad.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("accounts"), "names the field: {err}");
    let _ = std::fs::remove_file(&bad);
    let out = jsmctl()
        .args(["emulator", "--listen", "127.0.0.1:0", "--fault-rate", "2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--fault-rate"));
}

#[tokio::test]
async fn a_frozen_clock_makes_runs_reproducible() {
    let (child, base, mut out) =
        start(&["--seed", "demo", "--frozen-clock", "2026-01-01T00:00:00Z"]);
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let token = line
        .trim()
        .strip_prefix("admin-token: ")
        .unwrap()
        .to_string();
    let http = reqwest::Client::new();
    let clock: serde_json::Value = http
        .get(format!("{base}/_emulator/clock"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(clock["now"], 1_767_225_600_000i64);
    assert_eq!(clock["frozen"], true);
    assert!(terminate(child).success());
    let out = jsmctl()
        .args(["emulator", "--frozen-clock", "yesterday"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
