//! `jsmctl emulator --env-file`: the file appears once the server listens, only its owner can read it, and the
//! values it holds reach the site and the SCIM directory.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use super::{jsmctl, terminate};

/// Waits, up to 10 s, for `path` to exist and returns its text.
async fn wait_for(path: &Path) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            return text;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The variables of an env file as `sh` would source them: `NAME=value`, the value bare or single-quoted.
fn source(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let (name, value) = line.split_once('=').expect("NAME=value");
            let value = match value.strip_prefix('\'') {
                Some(quoted) => quoted
                    .strip_suffix('\'')
                    .expect("closing quote")
                    .replace("'\\''", "'"),
                None => value.to_string(),
            };
            (name.to_string(), value)
        })
        .collect()
}

#[tokio::test]
async fn env_file_points_a_client_at_the_running_emulator() {
    let dir = std::env::temp_dir().join(format!("jsmctl-env-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("emulator.env");
    let _ = std::fs::remove_file(&file);
    let mut child = jsmctl()
        .args(["emulator", "--listen", "127.0.0.1:0", "--seed", "demo"])
        .args(["--admin-token", "it's a t0ken"])
        .arg("--env-file")
        .arg(&file)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn jsmctl");
    let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    out.read_line(&mut first).expect("first line");
    let base = first.trim().to_string();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");

    let text = wait_for(&file).await;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the file holds tokens");
    }
    let vars = source(&text);
    assert_eq!(vars["ATLASSIAN_SITE"], base);
    assert_eq!(vars["ATLASSIAN_API_URL"], base);
    assert_eq!(vars["ATLASSIAN_EMAIL"], "admin@example.com");
    assert_eq!(vars["ATLASSIAN_API_TOKEN"], "it's a t0ken", "quoted for sh");
    assert!(vars["ATLASSIAN_SCIM_URL"].starts_with(&format!("{base}/scim/directory/")));
    for name in [
        "ATLASSIAN_SCIM_TOKEN",
        "ATLASSIAN_ORG_ID",
        "ATLASSIAN_ADMIN_API_KEY",
    ] {
        assert!(!vars[name].is_empty(), "{name}");
    }

    let http = reqwest::Client::new();
    let me = http
        .get(format!("{}/rest/api/3/myself", vars["ATLASSIAN_SITE"]))
        .basic_auth(&vars["ATLASSIAN_EMAIL"], Some(&vars["ATLASSIAN_API_TOKEN"]))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let users = http
        .get(format!("{}/Users", vars["ATLASSIAN_SCIM_URL"]))
        .bearer_auth(&vars["ATLASSIAN_SCIM_TOKEN"])
        .send()
        .await
        .unwrap();
    assert_eq!(users.status(), 200);
    let org = http
        .get(format!(
            "{}/admin/v1/orgs/{}/users",
            vars["ATLASSIAN_API_URL"], vars["ATLASSIAN_ORG_ID"]
        ))
        .bearer_auth(&vars["ATLASSIAN_ADMIN_API_KEY"])
        .send()
        .await
        .unwrap();
    assert_eq!(org.status(), 200);

    assert!(terminate(child).success(), "SIGTERM exits 0");
    assert!(!file.exists(), "the file goes with the server");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_env_file_that_cannot_be_written_fails_clearly() {
    let out = jsmctl()
        .args(["emulator", "--listen", "127.0.0.1:0", "--seed", "empty"])
        .args(["--env-file", "/nonexistent-dir-jsmctl/emulator.env"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--env-file"), "{err}");
    assert!(out.stdout.is_empty(), "no URL printed for a failed start");
}
