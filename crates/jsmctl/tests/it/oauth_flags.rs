//! `jsmctl emulator --cloud-id --oauth-client --oauth-user`: the 3LO flow against the binary with those flags.

use serde_json::{Value, json};

use super::{jsmctl, start, terminate};

#[tokio::test]
async fn oauth_flags_set_the_app_the_consenting_user_and_the_gateway() {
    let (child, base, _) = start(&[
        "--seed",
        "demo",
        "--admin-token",
        "t0ken",
        "--cloud-id",
        "cli-cloud",
        "--oauth-client",
        "cli-app:cli-secret",
        "--oauth-user",
        "admin@example.com",
    ]);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let redirect = "http://127.0.0.1:9/cb";
    let resp = http
        .get(format!("{base}/authorize"))
        .query(&[
            ("client_id", "cli-app"),
            ("scope", "read:jira-user offline_access"),
            ("redirect_uri", redirect),
            ("response_type", "code"),
            ("state", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    let code = reqwest::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let tokens: Value = http
        .post(format!("{base}/oauth/token"))
        .json(
            &json!({"grant_type": "authorization_code", "client_id": "cli-app",
                      "client_secret": "cli-secret", "code": code, "redirect_uri": redirect}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    let me: Value = http
        .get(format!("{base}/ex/jira/cli-cloud/rest/api/3/myself"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["emailAddress"], "admin@example.com");
    let wrong = http
        .get(format!("{base}/ex/jira/other-cloud/rest/api/3/myself"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(terminate(child).success());
}

#[test]
fn a_malformed_oauth_client_is_a_usage_error() {
    for bad in [
        vec!["--oauth-client", "no-secret"],
        vec!["--cloud-id", "a/b"],
    ] {
        let out = jsmctl().arg("emulator").args(&bad).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(bad[0]), "{stderr}");
    }
}
