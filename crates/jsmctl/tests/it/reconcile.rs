//! The reconcile commands as scripts use them, with the real binary against a real emulator: `plan --source`
//! and `--desired` (JSON items carry `situation` and `rule`) beside `plan show`, `reconcile` (exit 3 while an
//! approval is missing, nothing left to plan after it), `trace`, `links list|show|unlink`, and bad input
//! refused with exit 2 and nothing written.

use std::process::{Output, Stdio};

use jsm_emulator::limits::LimitConfig;
use jsm_emulator::{Emulator, RunningEmulator, Seed};
use serde_json::Value;

use super::jsmctl;

struct Site {
    emu: RunningEmulator,
    dir: tempfile::TempDir,
}

impl Site {
    async fn start() -> Self {
        let emu = Emulator::builder()
            .seed(Seed::Demo)
            .limits(LimitConfig::off())
            .admin("admin@example.com", "reconcile-token")
            .spawn("127.0.0.1:0")
            .await
            .unwrap();
        Self {
            emu,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_string_lossy().into_owned()
    }

    fn write(&self, name: &str, text: &str) -> String {
        let p = self.path(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut cmd = jsmctl();
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("JSMCTL_STATE", self.path("state.db"))
            .env("JSMCTL_ACTOR", "alice")
            .stdin(Stdio::null());
        for (k, v) in self.emu.env_vars() {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
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
            "stdout is JSON ({e}): {}{}",
            String::from_utf8_lossy(&o.stdout),
            stderr(o)
        )
    })
}

const HEADER: &str =
    "email,display_name,external_id,kind,active,service_desks,organizations,groups\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_reconcile_trace_and_links_from_the_command_line() {
    let site = Site::start().await;
    let csv = site.write(
        "people.csv",
        &format!(
            "{HEADER}rita@acme.example,Rita Reyes,E1,customer,true,HR,,\n\
             sam@acme.example,Sam Stone,E2,agent,true,,,\n"
        ),
    );
    let source = format!("file:{csv}");

    let planned = site.run(&["plan", "--source", &source, "--output", "json"]);
    assert_eq!(code(&planned), 0, "{}", stderr(&planned));
    let out = json(&planned);
    let items = out["items"].as_array().unwrap();
    assert!(
        items.iter().all(|i| i["situation"] == "unmatched"),
        "{items:#?}"
    );
    assert!(
        items
            .iter()
            .any(|i| i["action"] == "link" && i["rule"].is_null())
    );
    assert!(
        out["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("2 unmatched"))
    );
    let plan_id = out["plan_id"].as_str().unwrap().to_string();
    let shown = site.run(&["plan", "show", &plan_id, "--output", "json"]);
    assert_eq!(code(&shown), 0, "plan show still works: {}", stderr(&shown));
    assert_eq!(json(&shown)["plan_id"], plan_id.as_str());
    let saved = site.path("plan.json");
    let desired = site.run(&["plan", "--desired", &csv, "--out", &saved]);
    assert_eq!(code(&desired), 0, "{}", stderr(&desired));
    assert!(
        std::fs::read_to_string(&saved)
            .unwrap()
            .contains("\"situation\": \"unmatched\"")
    );

    // An agent seat needs an approval: exit 3, nothing sent; approved, the same reconcile applies.
    let waiting = site.run(&[
        "reconcile",
        "--source",
        &source,
        "--yes",
        "--output",
        "json",
    ]);
    assert_eq!(code(&waiting), 3, "{}", stderr(&waiting));
    assert!(
        site.emu
            .emu
            .site()
            .find_by_email("rita@acme.example")
            .is_none()
    );
    let id = json(&waiting)["plan_id"].as_str().unwrap().to_string();
    assert_eq!(
        code(&site.run(&["approvals", "approve", &id, "--as", "bob"])),
        0
    );
    let applied = site.run(&["apply", &id, "--yes"]);
    assert_eq!(code(&applied), 0, "{}", stderr(&applied));
    let again = site.run(&[
        "reconcile",
        "--source",
        &source,
        "--yes",
        "--output",
        "json",
    ]);
    assert_eq!(code(&again), 0, "{}", stderr(&again));
    assert_eq!(json(&again)["status"], "no_changes");
    assert_eq!(json(&again)["items"].as_array().unwrap().len(), 0);

    let traced = site.run(&[
        "trace",
        "rita@acme.example",
        "--source",
        &source,
        "--output",
        "json",
    ]);
    assert_eq!(code(&traced), 0, "{}", stderr(&traced));
    let t = json(&traced);
    assert_eq!(t["situation"], "linked");
    assert_eq!(t["matching"][0]["rule"], "link");
    assert_eq!(t["site"][0]["memberships"][0], "desk HR");
    let table = site.run(&["trace", "E2", "--source", &source]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("Matching") && text.contains("situation: linked"),
        "{text}"
    );

    let links = site.run(&["links", "list", "--source", &source, "--output", "json"]);
    assert_eq!(json(&links).as_array().unwrap().len(), 2);
    let shown = site.run(&[
        "links", "show", "E1", "--source", &source, "--output", "json",
    ]);
    assert_eq!(code(&shown), 0, "{}", stderr(&shown));
    let account = json(&shown)[0]["account_id"].as_str().unwrap().to_string();
    let by_account = site.run(&["links", "show", &account, "--output", "json"]);
    assert_eq!(json(&by_account)[0]["source_id"], "E1");
    let unlinked = site.run(&["links", "unlink", "E1", "--source", &source]);
    assert_eq!(code(&unlinked), 0, "{}", stderr(&unlinked));
    let relink = site.run(&["plan", "--source", &source, "--output", "json"]);
    let items = json(&relink)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "only the link again: {items:#?}");
    assert_eq!(items[0]["situation"], "unlinked");
    assert_eq!(items[0]["rule"], "email");
    let audit = site.run(&["audit", "export"]);
    assert!(String::from_utf8_lossy(&audit.stdout).contains("\"unlink\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_reconcile_input_exits_2_naming_the_problem_and_writes_nothing() {
    let site = Site::start().await;
    let bad = site.write(
        "bad.csv",
        &format!(
            "{HEADER}ok@acme.example,Ok,,customer,true,HR,,\nbroken,Nope,,customer,true,HR,,\n"
        ),
    );
    let o = site.run(&["reconcile", "--desired", &bad, "--yes"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("line 3"), "{}", stderr(&o));
    let cols = site.write("cols.csv", "email,name\nok@acme.example,Ok\n");
    let o = site.run(&["plan", "--desired", &cols]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("unknown column `name`"),
        "{}",
        stderr(&o)
    );
    let good = site.write(
        "good.csv",
        &format!("{HEADER}ok@acme.example,Ok,,customer,true,HR,,\n"),
    );
    let mapping = site.write(
        "mapping.toml",
        "version = 1\n[[groups]]\nsource = \"x\"\nservice_desks = [\"NOPE\"]\n",
    );
    let o = site.run(&["plan", "--desired", &good, "--mapping", &mapping]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("groups[0].service_desks") && stderr(&o).contains("NOPE"),
        "{}",
        stderr(&o)
    );
    let typo = site.write("typo.toml", "version = 1\n[[groups]]\nsorce = \"x\"\n");
    let o = site.run(&["plan", "--desired", &good, "--mapping", &typo]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("sorce"), "{}", stderr(&o));
    let o = site.run(&["plan"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--source"), "{}", stderr(&o));
    let o = site.run(&["reconcile", "--source", "ldap://127.0.0.1:1/dc=x", "--yes"]);
    assert_eq!(code(&o), 1, "an unreachable source is a failure");
    assert!(
        stderr(&o).contains("cannot reach the LDAP server"),
        "{}",
        stderr(&o)
    );
    let plans = site.run(&["status", "--output", "json"]);
    assert_eq!(
        json(&plans)["awaiting_approval"].as_array().unwrap().len(),
        0
    );
    assert!(
        site.emu
            .emu
            .site()
            .find_by_email("ok@acme.example")
            .is_none(),
        "nothing sent"
    );
}
