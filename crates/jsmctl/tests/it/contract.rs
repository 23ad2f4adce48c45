//! The command contract scripts rely on, with the real binary against a real emulator: exit codes, JSON fields,
//! refusal without a terminal, tamper detection by `audit verify`, and bad input refused with nothing written.

use std::process::{Command, Output, Stdio};

use jsm_emulator::limits::LimitConfig;
use jsm_emulator::{Emulator, RunningEmulator, Seed};
use serde_json::Value;

use super::jsmctl;

/// A running emulator and a state file for one test.
struct Site {
    emu: RunningEmulator,
    dir: tempfile::TempDir,
}

impl Site {
    async fn start() -> Self {
        let emu = Emulator::builder()
            .seed(Seed::Demo)
            .limits(LimitConfig::off())
            .admin("admin@example.com", "contract-token")
            .spawn("127.0.0.1:0")
            .await
            .unwrap();
        Self {
            emu,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn state(&self) -> String {
        self.dir
            .path()
            .join("state.db")
            .to_string_lossy()
            .into_owned()
    }

    /// `jsmctl ARGS` with the emulator's connection variables, a state file, no terminal on stdin.
    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = jsmctl();
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("JSMCTL_STATE", self.state())
            .env("JSMCTL_ACTOR", "alice")
            .stdin(Stdio::null());
        for (k, v) in self.emu.env_vars() {
            cmd.env(k, v);
        }
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// A visible-email customer's account id.
    fn customer(&self) -> String {
        let site = self.emu.emu.site();
        site.accounts
            .iter()
            .find(|a| a.account_type == jsm_proto::jira::AccountType::Customer && a.active)
            .map(|a| a.account_id.clone())
            .unwrap()
    }
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is JSON ({e}): {}",
            String::from_utf8_lossy(&o.stdout)
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_refuse_without_a_terminal_wait_for_approval_with_3_and_report_json() {
    let site = Site::start().await;
    let create = [
        "customers",
        "create",
        "--email",
        "json.person@acme.example",
        "--name",
        "Json Person",
        "--service-desk",
        "HR",
    ];
    let refused = site.run(&create);
    assert_eq!(
        code(&refused),
        2,
        "no terminal and no --yes: {}",
        stderr(&refused)
    );
    assert!(stderr(&refused).contains("--yes"));
    assert!(
        site.emu
            .emu
            .site()
            .find_by_email("json.person@acme.example")
            .is_none()
    );

    let mut args = create.to_vec();
    args.extend(["--yes", "--output", "json"]);
    let done = site.run(&args);
    assert_eq!(code(&done), 0, "{}", stderr(&done));
    let out = json(&done);
    assert!(out["plan_id"].is_string() && out["hash"].as_str().unwrap().len() == 64);
    let items = out["items"].as_array().unwrap();
    assert_eq!(items[0]["action"], "create_customer");
    assert_eq!(items[0]["outcome"], "applied");
    assert!(items.iter().all(|i| i["target"].is_string()));
    assert!(
        site.emu
            .emu
            .site()
            .find_by_email("json.person@acme.example")
            .is_some()
    );

    let account = site.customer();
    let policy = site.dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        "version = 1\n[approval]\ndeactivations = \"always\"\n",
    )
    .unwrap();
    let p = policy.to_str().unwrap();
    let offboard = site.run(&["--policy", p, "offboard", &account, "--output", "json"]);
    assert_eq!(code(&offboard), 3, "{}", stderr(&offboard));
    let plan_id = json(&offboard)["plan_id"].as_str().unwrap().to_string();
    let approved = site.run(&[
        "--policy",
        p,
        "approvals",
        "approve",
        &plan_id,
        "--as",
        "bob",
    ]);
    assert_eq!(code(&approved), 0, "{}", stderr(&approved));
    let applied = site.run(&[
        "--policy", p, "apply", &plan_id, "--yes", "--output", "json",
    ]);
    assert_eq!(
        code(&applied),
        0,
        "{}{}",
        stderr(&applied),
        String::from_utf8_lossy(&applied.stdout)
    );
    let out = json(&applied);
    let manual = out["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["action"] == "manual")
        .unwrap();
    assert_eq!(
        manual["outcome"], "pending_manual",
        "portal-only accounts have no deactivation API"
    );
    let status = site.run(&["status", "--output", "json"]);
    assert_eq!(json(&status)["pending_manual"].as_array().unwrap().len(), 1);
    let emu = site.emu.emu.site();
    let key = emu.find_account(&account).unwrap();
    assert!(
        emu.desks
            .iter()
            .filter(|d| d.access == jsm_emulator::site::DeskAccess::Closed)
            .all(|d| !d.customers.contains(&key)),
        "removed from every restricted desk"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_names_a_changed_deleted_or_reordered_record() {
    let site = Site::start().await;
    for n in 0..3 {
        let email = format!("tamper{n}@acme.example");
        let o = site.run(&[
            "customers",
            "create",
            "--email",
            &email,
            "--name",
            "T",
            "--service-desk",
            "HR",
            "--yes",
        ]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
    }
    assert_eq!(code(&site.run(&["audit", "verify"])), 0);
    let export = site.run(&["audit", "export"]);
    let lines = String::from_utf8_lossy(&export.stdout).lines().count();
    assert!(
        lines >= 12,
        "every plan, apply and write is a record: {lines}"
    );

    let cases = [
        (
            jsm_store::Tamper::ChangeOutcome {
                seq: 4,
                outcome: "failed".into(),
            },
            4,
        ),
        (jsm_store::Tamper::Swap { a: 6, b: 7 }, 6),
        (jsm_store::Tamper::Delete { seq: 9 }, 9),
    ];
    // The commands' processes may exit before their connections close, leaving records in the WAL file only:
    // one clean close checkpoints them into the file that is copied.
    jsm_store::Store::open(&site.state())
        .await
        .unwrap()
        .close()
        .await;
    for (tamper, seq) in cases {
        let copy = site.dir.path().join(format!("copy-{seq}.db"));
        std::fs::copy(site.state(), &copy).unwrap();
        let store = jsm_store::Store::open(copy.to_str().unwrap())
            .await
            .unwrap();
        store.tamper_audit_for_test(tamper).await.unwrap();
        store.close().await;
        let o = site
            .cmd(&["audit", "verify"])
            .env("JSMCTL_STATE", &copy)
            .output()
            .unwrap();
        assert_eq!(code(&o), 1);
        assert!(
            stderr(&o).contains(&format!("record {seq}")),
            "names record {seq}: {}",
            stderr(&o)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_exits_2_names_the_problem_and_writes_nothing() {
    let site = Site::start().await;
    let dir = site.dir.path();
    let policy = dir.join("policy.toml");
    std::fs::write(
        &policy,
        "version = 1\n[approval]\ndistinct_approver = true\nseat_grants = false\n",
    )
    .unwrap();
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        "version = 1\n[profiles.prod]\nsite = \"https://x.example\"\nsiet = 1\n",
    )
    .unwrap();
    let plan_file = dir.join("plan.json");
    std::fs::write(&plan_file, "{\"version\": 1, \"id\": 5}").unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "--policy".into(),
                policy.to_string_lossy().into(),
                "offboard".into(),
                "x@y.example".into(),
            ],
            "seat_grants",
        ),
        (
            vec![
                "--config".into(),
                config.to_string_lossy().into(),
                "users".into(),
                "get".into(),
                "x".into(),
            ],
            "siet",
        ),
        (
            vec![
                "apply".into(),
                plan_file.to_string_lossy().into(),
                "--yes".into(),
            ],
            "plan file",
        ),
        (
            vec![
                "customers".into(),
                "create".into(),
                "--email".into(),
                "a@b.example".into(),
                "--name".into(),
                "A".into(),
                "--service-desk".into(),
                "NOPE".into(),
                "--yes".into(),
            ],
            "service desk NOPE",
        ),
        (
            vec![
                "groups".into(),
                "add".into(),
                "no-such-group".into(),
                "x".into(),
                "--yes".into(),
            ],
            "group no-such-group",
        ),
        (
            vec!["users".into(), "get".into(), "712020:nobody".into()],
            "not found",
        ),
        (
            vec![
                "customers".into(),
                "create".into(),
                "--email".into(),
                "not-an-email".into(),
                "--name".into(),
                "A".into(),
                "--yes".into(),
            ],
            "--email",
        ),
    ];
    for (args, needle) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = site.run(&args);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(needle),
            "{args:?} should name {needle}: {}",
            stderr(&o)
        );
    }
    let o = site.run(&["--policy", policy.to_str().unwrap(), "status"]);
    assert!(
        stderr(&o).contains("line 4"),
        "the policy error names the line: {}",
        stderr(&o)
    );
    let store = jsm_store::Store::open(&site.state()).await.unwrap();
    assert!(
        store.plans(None).await.unwrap().is_empty(),
        "nothing was stored"
    );
    assert_eq!(store.audit_count().await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_requester_cannot_approve_their_own_plan_under_distinct_approver() {
    let site = Site::start().await;
    let policy = site.dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        "version = 1\n[approval]\ndistinct_approver = true\ndeactivations = \"always\"\n",
    )
    .unwrap();
    let p = policy.to_str().unwrap();
    let account = site.customer();
    let o = site.run(&["--policy", p, "offboard", &account, "--output", "json"]);
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    let id = json(&o)["plan_id"].as_str().unwrap().to_string();
    let own = site.run(&["--policy", p, "approvals", "approve", &id]);
    assert_eq!(code(&own), 2);
    assert!(stderr(&own).contains("cannot approve"), "{}", stderr(&own));
    let listed = site.run(&["--policy", p, "approvals", "list", "--output", "json"]);
    assert_eq!(json(&listed).as_array().unwrap().len(), 1, "still waiting");
    let other = site.run(&["--policy", p, "approvals", "approve", &id, "--as", "bob"]);
    assert_eq!(code(&other), 0, "{}", stderr(&other));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_come_from_the_profile_then_the_environment_then_flags() {
    use std::os::unix::fs::PermissionsExt;
    let site = Site::start().await;
    let account = site.customer();
    let config = site.dir.path().join("config.toml");
    let vars: std::collections::HashMap<_, _> = site.emu.env_vars().into_iter().collect();
    let text = format!(
        "version = 1\n[profiles.emu]\nsite = \"{}\"\nemail = \"{}\"\napi_token = \"{}\"\n",
        vars["ATLASSIAN_SITE"], vars["ATLASSIAN_EMAIL"], vars["ATLASSIAN_API_TOKEN"]
    );
    std::fs::write(&config, text).unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    let cfg = config.to_str().unwrap();
    let base = |extra: &[(&str, &str)]| {
        let mut cmd = jsmctl();
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("JSMCTL_STATE", site.state())
            .stdin(Stdio::null());
        for (k, v) in extra {
            cmd.env(k, v);
        }
        cmd
    };
    let get = [
        "--config",
        cfg,
        "--profile",
        "emu",
        "users",
        "get",
        account.as_str(),
    ];
    let from_file = base(&[]).args(get).output().unwrap();
    assert_eq!(
        code(&from_file),
        0,
        "the profile alone connects: {}",
        stderr(&from_file)
    );

    let dead = [("ATLASSIAN_SITE", "http://127.0.0.1:9")];
    let env_wins = base(&dead).args(get).output().unwrap();
    assert_eq!(
        code(&env_wins),
        1,
        "the environment beats the file: {}",
        stderr(&env_wins)
    );

    let flag_wins = base(&dead)
        .args(get)
        .args(["--site", &vars["ATLASSIAN_SITE"]])
        .output()
        .unwrap();
    assert_eq!(
        code(&flag_wins),
        0,
        "a flag beats the environment: {}",
        stderr(&flag_wins)
    );

    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    let open = base(&[]).args(get).output().unwrap();
    assert_eq!(code(&open), 2);
    assert!(stderr(&open).contains("chmod 600"), "{}", stderr(&open));
    assert!(
        !stderr(&open).contains(&vars["ATLASSIAN_API_TOKEN"]),
        "the token is never printed"
    );
}
