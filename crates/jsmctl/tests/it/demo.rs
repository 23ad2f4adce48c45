//! `jsmctl demo` as a newcomer runs it: the built binary, checked by the lines it prints.

use std::process::{Output, Stdio};
use std::time::Duration;

use super::jsmctl;

/// Runs `jsmctl demo` with `TMPDIR` pointing at `tmp`, killing it if it takes more than a minute.
async fn run_demo(tmp: &std::path::Path) -> Output {
    let child = jsmctl()
        .arg("demo")
        .env("NO_COLOR", "1")
        .env("TMPDIR", tmp)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn jsmctl demo");
    let pid = child.id();
    let waited = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::task::spawn_blocking(move || child.wait_with_output()),
    )
    .await;
    match waited {
        Ok(joined) => joined.expect("join").expect("wait for jsmctl demo"),
        Err(_) => {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("jsmctl demo did not finish within a minute");
        }
    }
}

#[tokio::test]
async fn demo_does_the_three_jobs_and_cleans_up() {
    let tmp = std::env::temp_dir().join(format!("jsmctl-it-demo-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let out = run_demo(&tmp).await;
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {:?}\n{text}\n{err}", out.status);
    let has = |needle: &str| {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    };
    let line = |what: &str, pred: &dyn Fn(&str) -> bool| {
        assert!(text.lines().any(pred), "no line {what} in:\n{text}");
    };

    // 1. A customer, twice: the second plan is empty.
    line("applying create_customer", &|l| {
        l.trim_start().starts_with("applied") && l.contains("create_customer")
    });
    has("No changes: the site already matches.");
    has("ok: the second run changes nothing");

    // 2. An agent through SCIM behind an approval, and the manual step without SCIM.
    line("applying scim_create_user", &|l| {
        l.trim_start().starts_with("applied") && l.contains("scim_create_user")
    });
    has(
        "the demo approves this for you as demo-approver; in real use a second person runs `jsmctl approvals approve ",
    );
    has(
        "manual step: invite riley.chen@acme.example to Jira Service Management in Atlassian Administration",
    );
    line("reporting the manual step pending", &|l| {
        l.trim_start().starts_with("pending_manual") && l.contains("riley.chen@acme.example")
    });

    // 3. A hidden email found by email, offboarded through SCIM, verified, restored.
    has("email (not in the answer)");
    has("through the SCIM directory");
    line("applying the deactivation", &|l| {
        l.trim_start().starts_with("applied") && l.contains("deactivate account")
    });
    has("ok: audit log verifies");
    line("checking the person is inactive", &|l| {
        l.contains("ok: in the emulator") && l.contains("is inactive")
    });
    line("applying the reactivation", &|l| {
        l.trim_start().starts_with("applied") && l.contains("reactivate account")
    });
    has("is active again");
    has(", 0 answered 429");

    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().collect();
    assert!(
        left.is_empty(),
        "the demo left files in its temp dir: {left:?}"
    );
    let _ = std::fs::remove_dir_all(&tmp);
}
