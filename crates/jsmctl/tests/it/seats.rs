//! `jsmctl seats` and `jsmctl credentials` as scripts use them, with the real binary against an in-process
//! emulator on a dedicated seed: JSON and CSV of the report, a reclaim applied with `--yes`, and the exit codes
//! of `credentials check` while the emulator's clock moves forward.

use std::process::{Command, Output, Stdio};

use jsm_emulator::limits::LimitConfig;
use jsm_emulator::seed::{self, Admin, Seed};
use jsm_emulator::site::{AccountKey, NewAccount, Site};
use jsm_emulator::{Emulator, RunningEmulator};
use jsm_proto::jira::AccountType;
use serde_json::Value;

use super::jsmctl;

const DAY: i64 = 86_400_000;
const ADMIN: &str = "admin@example.com";
const TOKEN: &str = "seats-contract-token";

/// Ten agents, one idle for 200 days (10%: under the deletion guard), one app account in the group.
fn site(now: i64) -> Site {
    let mut site = seed::build(
        Seed::Empty,
        &Admin {
            email: ADMIN.into(),
            token: TOKEN.into(),
        },
        now,
    );
    let group = site
        .find_group_by_name("jira-servicemanagement-users")
        .unwrap();
    let add = |site: &mut Site, email: &str, kind: AccountType| -> AccountKey {
        let k = site.add_account(
            NewAccount {
                account_type: kind,
                email: email.into(),
                display_name: email.into(),
                email_hidden: false,
            },
            now - 300 * DAY,
        );
        site.group_mut(group).unwrap().members.insert(k);
        k
    };
    for i in 0..9 {
        let k = add(
            &mut site,
            &format!("agent{i}@acme.example"),
            AccountType::Atlassian,
        );
        site.directory.record(k, "jira-servicedesk", now - 3 * DAY);
    }
    let idle = add(&mut site, "idle@acme.example", AccountType::Atlassian);
    site.directory
        .record(idle, "jira-servicedesk", now - 200 * DAY);
    add(&mut site, "bot@connect.example", AccountType::App);
    let admin = site.find_by_email(ADMIN).unwrap();
    site.directory
        .record(admin, "jira-servicedesk", now - DAY * 2);
    site
}

struct World {
    emu: RunningEmulator,
    dir: tempfile::TempDir,
}

impl World {
    async fn start() -> Self {
        let now = jsm_emulator::clock::Clock::real().now_ms();
        let emu = Emulator::builder()
            .site(site(now))
            .limits(LimitConfig::off())
            .admin(ADMIN, TOKEN)
            .spawn("127.0.0.1:0")
            .await
            .unwrap();
        Self {
            emu,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut cmd: Command = jsmctl();
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("JSMCTL_STATE", self.dir.path().join("state.db"))
            .env("JSMCTL_ACTOR", "alice")
            .stdin(Stdio::null());
        for (k, v) in self.emu.env_vars() {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }

    fn secret_file(&self, name: &str, secret: &str, mode: u32) -> String {
        use std::os::unix::fs::PermissionsExt;
        let path = self.dir.path().join(name);
        std::fs::write(&path, secret).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path.to_string_lossy().into_owned()
    }

    fn advance(&self, days: i64) {
        self.emu.emu.clock().advance(days * DAY);
    }
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("stdout is JSON ({e}): {}", stdout(o)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_in_json_and_csv_and_a_reclaim_applied_with_yes() {
    let w = World::start().await;
    let report = w.run(&[
        "seats",
        "--output",
        "json",
        "--price-per-seat",
        "17.5",
        "--cycle-day",
        "3",
    ]);
    assert_eq!(code(&report), 0, "{}", stderr(&report));
    let r = json(&report);
    let jsm = &r["products"][0];
    assert_eq!(jsm["key"], "jira-servicedesk");
    assert_eq!(jsm["billable"], 11, "ten agents and the admin");
    assert_eq!(jsm["reclaimable"], 1);
    assert_eq!(jsm["saving"]["per_month"], 17.5);
    let idle = r["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["email"] == "idle@acme.example")
        .unwrap()
        .clone();
    for field in [
        "billable",
        "paths",
        "last_active",
        "inactive_days",
        "reclaimable",
        "reason",
    ] {
        assert!(!idle[field].is_null(), "{field} in {idle}");
    }
    assert_eq!(idle["paths"][0]["kind"], "default_group");
    let bot = r["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["email"] == "bot@connect.example")
        .unwrap()
        .clone();
    assert_eq!(
        (bot["billable"].clone(), bot["status"].clone()),
        (false.into(), "app".into())
    );

    let csv = w.run(&["seats", "--output", "csv", "--product", "jira-servicedesk"]);
    assert_eq!(code(&csv), 0, "{}", stderr(&csv));
    let text = stdout(&csv);
    let mut lines = text.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("account_id,email,name,product,billable")
    );
    assert_eq!(lines.count(), 12, "one row per account with a JSM path");
    let table = w.run(&["seats"]);
    assert!(
        stdout(&table).contains("Granting paths"),
        "{}",
        stdout(&table)
    );

    let refused = w.run(&["seats", "reclaim", "--output", "csv"]);
    assert_eq!(code(&refused), 2);
    let reclaim = w.run(&["seats", "reclaim", "--yes", "--output", "json"]);
    assert_eq!(code(&reclaim), 0, "{}", stderr(&reclaim));
    let applied = json(&reclaim);
    assert!(
        applied["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["outcome"] == "applied" || i["outcome"] == "already_applied"),
        "{applied}"
    );
    assert_eq!(applied["kind"], "seat_reclaim");
    assert!(
        applied["items"][1]["change"]["verify"]["check"] == "seat_freed",
        "the seat is re-checked"
    );
    let after = json(&w.run(&["seats", "--output", "json"]));
    assert_eq!(after["products"][0]["billable"], 10);
    assert_eq!(after["products"][0]["reclaimable"], 0);

    // Inactivity is judged on Atlassian's clock: 100 days on, the nine agents are idle too (the admin stays:
    // admin group).
    w.advance(100);
    let later = json(&w.run(&["seats", "--output", "json"]));
    assert_eq!(
        later["products"][0]["reclaimable"], 9,
        "{}",
        later["accounts"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_check_exits_0_1_2_as_the_clock_moves_and_refuses_a_0644_file() {
    let w = World::start().await;
    let wide = w.secret_file("wide", TOKEN, 0o644);
    let refused = w.run(&[
        "credentials",
        "add",
        "--kind",
        "api-token",
        "--name",
        "admin",
        "--owner",
        ADMIN,
        "--secret-file",
        &wide,
    ]);
    assert_eq!(code(&refused), 2);
    assert!(
        stderr(&refused).contains("0644") && stderr(&refused).contains("chmod 600"),
        "{}",
        stderr(&refused)
    );
    assert!(stdout(&w.run(&["credentials", "list"])).contains("0 credential(s)"));

    let file = w.secret_file("admin.token", TOKEN, 0o600);
    let added = w.run(&[
        "credentials",
        "add",
        "--kind",
        "api-token",
        "--name",
        "admin",
        "--owner",
        ADMIN,
        "--secret-file",
        &file,
    ]);
    assert_eq!(code(&added), 0, "{}", stderr(&added));
    let ok = w.run(&["credentials", "check", "--verify"]);
    assert_eq!(code(&ok), 0, "{}{}", stdout(&ok), stderr(&ok));
    assert!(stdout(&ok).contains("verified now"), "{}", stdout(&ok));

    // The admin's token lasts a year on the emulator: 340 days on, it is inside the 30-day window.
    w.advance(340);
    let warn = w.run(&["credentials", "check", "--output", "json"]);
    assert_eq!(code(&warn), 1, "{}", stdout(&warn));
    let c = &json(&warn)["credentials"][0];
    assert_eq!(c["state"], "expiring");
    assert_eq!(c["expiry_source"], "atlassian");
    let wider = w.run(&["credentials", "check", "--warn-days", "10"]);
    assert_eq!(code(&wider), 0, "a 10-day window does not warn yet");

    // Past it the token is dead. jsmctl no longer reaches the site with it (so it cannot read Atlassian's
    // clock), but the admin API's token listing says expired.
    let list = stdout(&w.run(&["credentials", "list"]));
    assert!(!list.contains(TOKEN), "no secret printed: {list}");
    w.advance(30);
    let dead = w.run(&["credentials", "check"]);
    assert_eq!(code(&dead), 2, "{}{}", stdout(&dead), stderr(&dead));
    assert!(stdout(&dead).contains("expired"), "{}", stdout(&dead));
}
