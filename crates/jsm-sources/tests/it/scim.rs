//! The SCIM source against a real SCIM server nobody here wrote: PyPI `scim2-server` (pinned in
//! tests/compat/requirements.txt), started by jsm-testkit's harness from `JSMCTL_SCIM2_SERVER`, seeded over SCIM.
//! Transport and decoding faults use a tiny raw-TCP responder.

use std::collections::HashMap;
use std::time::Duration;

use jsm_sources::mapping::ScimSettings;
use jsm_sources::{Error, Kind, Mapping, ScimSource, Source};
use jsm_testkit::servers::{ScimServer, closed_port};
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn source(server: &ScimServer, page_size: u32) -> ScimSource {
    let settings = ScimSettings {
        page_size,
        ..ScimSettings::default()
    };
    ScimSource::new(
        server.base(),
        Some(SecretString::from(server.token())),
        settings,
    )
    .unwrap()
}

/// User `n`: a work email (primary) after another one, a name but no displayName, an external id.
async fn user(server: &ScimServer, n: usize, active: bool) -> String {
    server
        .add_user(json!({
            "userName": format!("user{n:02}"),
            "externalId": format!("ext-{n:02}"),
            "name": {"givenName": "User", "familyName": format!("{n:02}")},
            "emails": [
                {"value": format!("alias{n:02}@example.test"), "type": "other"},
                {"value": format!("user{n:02}@example.test"), "type": "work", "primary": true}
            ],
            "active": active
        }))
        .await
}

/// What [`seed`] made: the users' ids in order, and the id of the group "IT Staff".
struct Seeded {
    users: Vec<String>,
    it_staff: String,
}

/// 23 users (one disabled, one without an email), three groups, one nested.
async fn seed(server: &ScimServer) -> Seeded {
    let mut users = Vec::new();
    for n in 0..22 {
        users.push(user(server, n, n != 3).await);
    }
    users.push(
        server
            .add_user(json!({"userName": "service-account"}))
            .await,
    );
    let it_staff = server.add_group("IT Staff", &[&users[0], &users[1]]).await;
    let sub = server.add_group("EU-Sub", &[&users[5]]).await;
    server.add_group("Customers-EU", &[&users[2], &sub]).await;
    Seeded { users, it_staff }
}

#[tokio::test]
async fn scim_reads_every_user_across_pages_with_groups() {
    let Some(server) = ScimServer::start("scim_reads_every_user_across_pages_with_groups").await
    else {
        return;
    };
    let ids = seed(&server).await.users;

    // count=4 against 23 users: six pages, so paging must work for the read to be whole.
    let snap = source(&server, 4).read(None).await.unwrap();
    assert!(snap.complete);
    assert_eq!(
        snap.people.len(),
        22,
        "every user with an email, across pages"
    );
    assert_eq!(snap.skipped.len(), 1);
    assert_eq!(snap.skipped[0].source_id, ids[22]);
    let by_email: HashMap<&str, _> = snap.people.iter().map(|p| (p.email.as_str(), p)).collect();

    let u0 = by_email["user00@example.test"];
    assert_eq!(u0.source_id, ids[0]);
    assert_eq!(u0.external_id.as_deref(), Some("ext-00"));
    assert_eq!(u0.display_name.as_deref(), Some("User 00"));
    assert_eq!(u0.source_groups, vec!["IT Staff"]);
    assert!(!by_email["user03@example.test"].active);
    assert_eq!(
        by_email["user05@example.test"].source_groups,
        vec!["Customers-EU", "EU-Sub"],
        "nested group"
    );
    assert_eq!(
        by_email["user02@example.test"].source_groups,
        vec!["Customers-EU"]
    );
    assert_eq!(u0.attributes["userName"], vec!["user00"]);

    let watermark = snap.watermark.clone().expect("max meta.lastModified");
    assert!(
        chrono::DateTime::parse_from_rfc3339(&watermark).is_ok(),
        "{watermark}"
    );

    let mapping = Mapping::from_toml(
        "version = 1\n[[groups]]\nsource = \"IT Staff\"\nkind = \"agent\"\njira_groups = [\"jira-servicemanagement-users\"]\n",
        "m",
    )
    .unwrap();
    let mut p = u0.clone();
    mapping.apply(&mut p);
    assert_eq!(p.kind, Kind::Agent);

    // A page size larger than the directory: one page, same people.
    let one_page = source(&server, 1000).read(None).await.unwrap();
    assert_eq!(one_page.people.len(), 22);
}

#[tokio::test]
async fn scim_incremental_reads_what_changed_since_the_watermark() {
    let Some(server) =
        ScimServer::start("scim_incremental_reads_what_changed_since_the_watermark").await
    else {
        return;
    };
    let Seeded {
        users: ids,
        it_staff,
    } = seed(&server).await;
    let source = source(&server, 5);
    let full = source.read(None).await.unwrap();
    let w = full.watermark.clone().unwrap();
    assert!(source.filter_supported().await.unwrap());

    server
        .patch(
            &format!("Users/{}", ids[9]),
            json!([{"op": "replace", "path": "displayName", "value": "Renamed Nine"}]),
        )
        .await;
    server
        .patch(
            &format!("Groups/{it_staff}"),
            json!([{"op": "add", "path": "members", "value": [{"value": ids[12]}]}]),
        )
        .await;

    let inc = source.read(Some(&w)).await.unwrap();
    assert!(!inc.complete);
    let emails: Vec<&str> = inc.people.iter().map(|p| p.email.as_str()).collect();
    assert!(emails.contains(&"user09@example.test"), "{emails:?}");
    assert!(
        emails.contains(&"user12@example.test"),
        "a member added to a changed group: {emails:?}"
    );
    assert!(inc.people.len() < full.people.len(), "{emails:?}");
    let nine = inc
        .people
        .iter()
        .find(|p| p.email == "user09@example.test")
        .unwrap();
    assert_eq!(nine.display_name.as_deref(), Some("Renamed Nine"));
    let twelve = inc
        .people
        .iter()
        .find(|p| p.email == "user12@example.test")
        .unwrap();
    assert_eq!(twelve.source_groups, vec!["IT Staff"]);
    assert!(inc.watermark.unwrap() > w);
}

#[tokio::test]
async fn scim_bad_token_is_a_401_that_never_shows_the_token() {
    let Some(server) =
        ScimServer::start("scim_bad_token_is_a_401_that_never_shows_the_token").await
    else {
        return;
    };
    let wrong = "wrong-token-9d2e1a";
    let source = ScimSource::new(
        server.base(),
        Some(SecretString::from(wrong)),
        ScimSettings::default(),
    )
    .unwrap();
    let err = source.read(None).await.unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::ScimAuth { status: 401, .. }), "{msg}");
    assert!(msg.contains(server.base()), "{msg}");
    assert!(
        !msg.contains(wrong) && !format!("{err:?}").contains(wrong),
        "{msg}"
    );

    let env = |name: &str| (name == "JSMCTL_SOURCE_SCIM_TOKEN").then(|| server.token().to_owned());
    let ok = Source::parse(&server.spec(), &env).unwrap();
    assert!(!format!("{ok:?}").contains(server.token()));
    assert!(ok.read(None).await.unwrap().people.is_empty());
}

#[tokio::test]
async fn scim_unreachable_server_names_the_url() {
    let base = format!("http://127.0.0.1:{}/scim/v2", closed_port());
    let token = "scim-test-token-3b7f0c";
    let err = ScimSource::new(
        &base,
        Some(SecretString::from(token)),
        ScimSettings::default(),
    )
    .unwrap()
    .read(None)
    .await
    .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::ScimUnreachable { .. }), "{msg}");
    assert!(msg.contains(&base), "{msg}");
    assert!(msg.to_lowercase().contains("refused"), "{msg}");
    assert!(!msg.contains(token));
}

/// Serves canned answers over raw TCP: `answer(path_and_query)` gives (status, content type, body).
async fn canned(answer: fn(&str) -> (u16, &'static str, String)) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v2", listener.local_addr().unwrap());
    tokio::spawn(async move {
        for _ in 0..200 {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let mut buf = vec![0u8; 8192];
            let n = tokio::time::timeout(Duration::from_secs(5), sock.read(&mut buf))
                .await
                .unwrap_or(Ok(0))
                .unwrap_or(0);
            let head = String::from_utf8_lossy(&buf[..n]).to_string();
            let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
            let (status, ctype, body) = answer(&path);
            let resp = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(resp.as_bytes()).await;
        }
    });
    base
}

#[tokio::test]
async fn scim_bad_json_names_the_url_and_path() {
    let base = canned(|_| (200, "text/html", "<html>login</html>".into())).await;
    let err = ScimSource::new(&base, None, ScimSettings::default())
        .unwrap()
        .read(None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ScimDecode { .. }), "{err}");
    assert!(err.to_string().contains(&base), "{err}");

    let base = canned(|_| {
        (
            200,
            "application/scim+json",
            r#"{"totalResults": 1, "Resources": [{"id": "1", "active": 7}]}"#.into(),
        )
    })
    .await;
    let err = ScimSource::new(&base, None, ScimSettings::default())
        .unwrap()
        .read(None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("active"), "{err}");
}

#[tokio::test]
async fn scim_server_that_ignores_start_index_is_truncated_not_trusted() {
    // Always the same first page of 2, while claiming 5: the read must fail rather than return 2.
    let base = canned(|_| {
        let page = json!({"totalResults": 5, "itemsPerPage": 2, "startIndex": 1, "Resources": [
            {"id": "a", "userName": "a@example.test"}, {"id": "b", "userName": "b@example.test"}]});
        (200, "application/scim+json", page.to_string())
    })
    .await;
    let settings = ScimSettings {
        page_size: 2,
        read_groups: false,
        ..ScimSettings::default()
    };
    let err = ScimSource::new(&base, None, settings)
        .unwrap()
        .read(None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Truncated { .. }), "{err}");

    // Claims 5 but ends with an empty page after 2.
    let base = canned(|path| {
        let body = if path.contains("startIndex=1&") {
            json!({"totalResults": 5, "Resources": [{"id": "a", "userName": "a@example.test"}, {"id": "b", "userName": "b@example.test"}]})
        } else {
            json!({"totalResults": 5, "Resources": []})
        };
        (200, "application/scim+json", body.to_string())
    })
    .await;
    let settings = ScimSettings {
        page_size: 2,
        read_groups: false,
        ..ScimSettings::default()
    };
    let err = ScimSource::new(&base, None, settings)
        .unwrap()
        .read(None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("totalResults 5"), "{err}");

    // Ignores count and returns everything at once: followed by what it returned.
    let base = canned(|_| {
        let all: Vec<Value> = (0..7)
            .map(|i| json!({"id": format!("u{i}"), "userName": format!("u{i}@example.test")}))
            .collect();
        (
            200,
            "application/scim+json",
            json!({"totalResults": 7, "Resources": all}).to_string(),
        )
    })
    .await;
    let settings = ScimSettings {
        page_size: 2,
        read_groups: false,
        ..ScimSettings::default()
    };
    let snap = ScimSource::new(&base, None, settings)
        .unwrap()
        .read(None)
        .await
        .unwrap();
    assert_eq!(snap.people.len(), 7);
}

#[tokio::test]
async fn scim_incremental_on_a_server_without_filters_is_a_full_read() {
    let base = canned(|path| {
        if path.contains("ServiceProviderConfig") {
            return (200, "application/scim+json", json!({"filter": {"supported": false}}).to_string());
        }
        assert!(!path.contains("filter="), "no filter sent to a server that has none: {path}");
        let users = json!({"totalResults": 1, "Resources": [{"id": "a", "userName": "a@example.test",
            "meta": {"lastModified": "2026-03-01T10:00:00Z"}}]});
        (200, "application/scim+json", users.to_string())
    })
    .await;
    let settings = ScimSettings {
        read_groups: false,
        ..ScimSettings::default()
    };
    let source = ScimSource::new(&base, None, settings).unwrap();
    let snap = source.read(Some("2026-01-01T00:00:00Z")).await.unwrap();
    assert!(
        snap.complete,
        "a full read, so the engine may treat absences as deletions"
    );
    assert_eq!(snap.people.len(), 1);
    assert_eq!(snap.watermark.as_deref(), Some("2026-03-01T10:00:00Z"));

    let err = source.read(Some("yesterday")).await.unwrap_err();
    assert!(matches!(err, Error::Watermark { .. }), "{err}");
}
