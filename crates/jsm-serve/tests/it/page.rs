//! The approvals page over plain HTTP (the browser tests in tests/browser drive it in Chromium): login with a
//! double-submit CSRF cookie, session cookie flags, CSRF on every form post, escaping of Atlassian text, CSP.

use jsm_testkit::TestEmulator;
use reqwest::StatusCode;

use crate::api::agent_plan;
use crate::support::{Db, Svc, config, operator};

fn cookie_value(resp: &reqwest::Response, name: &str) -> Option<(String, String)> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| {
            let value = v
                .split(';')
                .next()
                .unwrap()
                .split_once('=')
                .unwrap()
                .1
                .to_string();
            (value, v.to_string())
        })
}

/// Logs in through the form; returns the session cookie value and the page's CSRF token.
async fn login(svc: &Svc, token: &str) -> (String, String) {
    let form = svc
        .http
        .get(format!("{}/login", svc.base))
        .send()
        .await
        .unwrap();
    let (nonce, _) = cookie_value(&form, "jsmctl_login").expect("login cookie");
    let html = form.text().await.unwrap();
    assert!(html.contains(&format!("name=\"csrf\" value=\"{nonce}\"")));
    let resp = svc
        .http
        .post(format!("{}/login", svc.base))
        .header("cookie", format!("jsmctl_login={nonce}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(crate::support::form(&[
            ("token", token),
            ("csrf", nonce.as_str()),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (session, raw) = cookie_value(&resp, "jsmctl_session").expect("session cookie");
    assert!(raw.contains("HttpOnly"), "{raw}");
    assert!(raw.contains("SameSite=Strict"), "{raw}");
    let page = svc
        .http
        .get(format!("{}/ui", svc.base))
        .header("cookie", format!("jsmctl_session={session}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    (session, csrf)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_csrf_and_escaping() {
    let emu = TestEmulator::start().await;
    let db = Db::sqlite().await;
    let mut cfg = config(&emu, "w1");
    cfg.run_worker = false;
    let svc = Svc::start(&db.store, &emu, Default::default(), cfg).await;
    let bob = operator(&db.store, "bob").await;

    let anon = svc
        .http
        .get(format!("{}/ui", svc.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), StatusCode::SEE_OTHER);
    assert_eq!(anon.headers()["location"], "/login");
    let no_csrf = svc
        .http
        .post(format!("{}/login", svc.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(crate::support::form(&[("token", bob.as_str())]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        no_csrf.status(),
        StatusCode::FORBIDDEN,
        "login needs its CSRF token too"
    );
    assert!(cookie_value(&no_csrf, "jsmctl_session").is_none());

    let (session, csrf) = login(&svc, &bob).await;
    let id = agent_plan(
        &svc,
        "alice",
        "x.agent@example.com",
        "Eve <script>window.__x=1</script> & \"co\"",
    )
    .await;
    let page = svc
        .http
        .get(format!("{}/ui/plans/{id}", svc.base))
        .header("cookie", format!("jsmctl_session={session}"))
        .send()
        .await
        .unwrap();
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Eve &lt;script&gt;window.__x=1&lt;/script&gt; &amp; &quot;co&quot;"),
        "{html}"
    );
    assert!(!html.contains("<script"), "no script element on the page");

    for body in [vec![], vec![("csrf", "wrong")]] {
        let resp = svc
            .http
            .post(format!("{}/ui/plans/{id}/approve", svc.base))
            .header("cookie", format!("jsmctl_session={session}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(crate::support::form(&body))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{body:?}");
    }
    let api = svc
        .http
        .post(format!("{}/api/v1/plans/{id}/approve", svc.base))
        .header("cookie", format!("jsmctl_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        api.status(),
        StatusCode::FORBIDDEN,
        "API writes with a cookie need X-CSRF-Token"
    );
    assert!(
        db.store.approvals(&id).await.unwrap().is_empty(),
        "no forged approval"
    );

    let ok = svc
        .http
        .post(format!("{}/ui/plans/{id}/approve", svc.base))
        .header("cookie", format!("jsmctl_session={session}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(crate::support::form(&[("csrf", csrf.as_str())]))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    assert!(ok.text().await.unwrap().contains("Approved by bob"));
    assert_eq!(db.store.approvals(&id).await.unwrap()[0].approver, "bob");

    let out = svc
        .http
        .post(format!("{}/logout", svc.base))
        .header("cookie", format!("jsmctl_session={session}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(crate::support::form(&[("csrf", csrf.as_str())]))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let after = svc
        .http
        .get(format!("{}/ui", svc.base))
        .header("cookie", format!("jsmctl_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), StatusCode::SEE_OTHER, "the session ended");
    let dump = format!("{:?}", db.store.tables_dump().await.unwrap());
    assert!(
        !dump.contains(&session) && !dump.contains(&bob),
        "only hashes are stored"
    );
    svc.stop().await;
    db.cleanup().await;
}
