//! The file source on real files: formats, the watermark, and bad input that plans nothing.

use jsm_sources::{Error, Kind, Source};

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    format!("file:{}", path.display())
}

fn no_env(_: &str) -> Option<String> {
    None
}

#[tokio::test]
async fn csv_file_reads_with_hash_watermark_and_unchanged_incremental() {
    let dir = tempfile::tempdir().unwrap();
    let text = "\u{feff}email,display_name,kind,groups\r\nada@example.test,\"Lovelace, Ada\",agent,jira-admins; helpdesk\r\n\
                bob@example.test,Bob,,\r\n";
    let spec = write(&dir, "people.csv", text.as_bytes());
    let source = Source::parse(&spec, &no_env).unwrap();
    let snap = source.read(None).await.unwrap();
    assert!(snap.complete);
    assert_eq!(snap.people.len(), 2);
    assert_eq!(
        snap.people[0].display_name.as_deref(),
        Some("Lovelace, Ada")
    );
    assert_eq!(snap.people[0].kind, Kind::Agent);
    assert_eq!(snap.people[0].groups, vec!["jira-admins", "helpdesk"]);
    let watermark = snap.watermark.clone().unwrap();
    assert_eq!(watermark.len(), 64);

    let again = source.read(Some(&watermark)).await.unwrap();
    assert!(
        !again.complete && again.people.is_empty(),
        "unchanged file: nothing to do"
    );
    assert_eq!(again.watermark.as_deref(), Some(watermark.as_str()));

    std::fs::write(dir.path().join("people.csv"), "email\ncid@example.test\n").unwrap();
    let changed = source.read(Some(&watermark)).await.unwrap();
    assert!(changed.complete, "a changed file is read whole");
    assert_eq!(changed.people.len(), 1);
    assert_ne!(changed.watermark.unwrap(), watermark);
}

#[tokio::test]
async fn json_file_and_sniffed_format() {
    let dir = tempfile::tempdir().unwrap();
    let text =
        br#"[{"email": "ada@example.test", "organizations": ["Acme"], "external_id": "E-1"}]"#;
    for name in ["people.json", "people.export"] {
        let snap = Source::parse(&write(&dir, name, text), &no_env)
            .unwrap()
            .read(None)
            .await
            .unwrap();
        assert_eq!(snap.people[0].organizations, vec!["Acme"]);
        assert_eq!(snap.people[0].source_id, "E-1");
    }
}

#[tokio::test]
async fn csv_bad_row_names_its_line_and_nothing_is_returned() {
    let dir = tempfile::tempdir().unwrap();
    let text = "email,kind\nok@example.test,agent\nbroken,customer\nfine@example.test,\"multi\nline\"\nx@example.test,boss\n";
    let err = Source::parse(&write(&dir, "p.csv", text.as_bytes()), &no_env)
        .unwrap()
        .read(None)
        .await
        .unwrap_err();
    let msg = err.to_string();
    let Error::BadRows { errors, .. } = &err else {
        panic!("{msg}")
    };
    assert_eq!(errors.len(), 3, "{msg}");
    assert!(
        msg.contains("line 3, column `email`: invalid email `broken`"),
        "{msg}"
    );
    assert!(msg.contains("line 4, column `kind`"), "{msg}");
    assert!(
        msg.contains("line 6, column `kind`: unknown kind `boss`"),
        "{msg}"
    );
}

#[tokio::test]
async fn unknown_column_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write(&dir, "p.csv", b"email,department\na@example.test,IT\n");
    let err = Source::parse(&spec, &no_env)
        .unwrap()
        .read(None)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("unknown column `department`"),
        "{err}"
    );
}

#[tokio::test]
async fn json_bad_field_is_named_by_path() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write(
        &dir,
        "p.json",
        br#"[{"email": "a@example.test"}, {"email": "b@example.test", "kind": "admin"}]"#,
    );
    let err = Source::parse(&spec, &no_env)
        .unwrap()
        .read(None)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("[1].kind: unknown kind `admin`"),
        "{err}"
    );
}

#[tokio::test]
async fn missing_file_is_a_clear_error() {
    let err = Source::parse("file:/nonexistent/people.csv", &no_env)
        .unwrap()
        .read(None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
    assert!(err.to_string().contains("/nonexistent/people.csv"), "{err}");
}
