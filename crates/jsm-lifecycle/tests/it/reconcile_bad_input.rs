//! Bad input to a reconcile: each a clear error naming what is wrong, and nothing planned, stored or sent.

use jsm_lifecycle::ErrorKind;
use jsm_testkit::Surfaces;

use crate::reconcile::{empty_site, file, mapping, policy, try_plan};
use crate::support::{Backend, World};

async fn refused(w: &World, spec: &str, m: &str) -> (ErrorKind, String) {
    let before = w.site().accounts.len();
    let err = try_plan(w, spec, &mapping(m), false).await.unwrap_err();
    assert!(
        w.engine.store.plans(None).await.unwrap().is_empty(),
        "nothing stored: {err}"
    );
    assert_eq!(w.site().accounts.len(), before, "nothing sent: {err}");
    assert!(w.engine.links(None).await.unwrap().is_empty());
    (err.kind(), err.to_string())
}

#[tokio::test]
async fn bad_rows_columns_targets_and_sources_are_refused_with_nothing_planned() {
    let w = empty_site(Surfaces::ALL, policy(20.0), Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let good = "ann@acme.example,Ann,E1,customer,true,HR,,";

    let spec = file(
        dir.path(),
        "bad.csv",
        &[good, "not-an-email,Bob,E2,customer,true,HR,,"],
    );
    let (kind, e) = refused(&w, &spec, "").await;
    assert_eq!(kind, ErrorKind::Refused);
    assert!(e.contains("line 3") && e.contains("email"), "{e}");

    let path = dir.path().join("cols.csv");
    std::fs::write(
        &path,
        "email,display_name,departement\nann@acme.example,Ann,IT\n",
    )
    .unwrap();
    let (_, e) = refused(&w, &format!("file:{}", path.display()), "").await;
    assert!(e.contains("unknown column `departement`"), "{e}");

    let spec = file(dir.path(), "ok.csv", &[good]);
    let (kind, e) = refused(
        &w,
        &spec,
        "[[groups]]\nsource = \"Staff\"\nservice_desks = [\"NOPE\"]\n",
    )
    .await;
    assert_eq!(kind, ErrorKind::Refused);
    assert!(
        e.contains("mapping.toml groups[0].service_desks")
            && e.contains("\"NOPE\"")
            && e.contains("does not exist"),
        "{e}"
    );

    let (_, e) = refused(
        &w,
        &spec,
        "[[groups]]\nsource = \"Staff\"\njira_groups = [\"no-such-group\"]\n",
    )
    .await;
    assert!(
        e.contains("groups[0].jira_groups") && e.contains("Jira group \"no-such-group\""),
        "{e}"
    );

    let (_, e) = refused(
        &w,
        &spec,
        "[targets.\"organization:Nobody Inc\"]\nmode = \"authoritative\"\n",
    )
    .await;
    assert!(e.contains("organization \"Nobody Inc\""), "{e}");

    let spec = file(
        dir.path(),
        "desk.csv",
        &["ann@acme.example,Ann,E1,customer,true,HR;PAYROLL,,"],
    );
    let (_, e) = refused(&w, &spec, "").await;
    assert!(
        e.contains("source person ann@acme.example") && e.contains("\"PAYROLL\""),
        "{e}"
    );

    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (kind, e) = refused(&w, &format!("scim:http://127.0.0.1:{closed}/v2"), "").await;
    assert_eq!(kind, ErrorKind::Failed);
    assert!(e.contains("cannot reach the SCIM server"), "{e}");
    let (kind, e) = refused(
        &w,
        &format!("ldap://127.0.0.1:{closed}/dc=example,dc=test"),
        "",
    )
    .await;
    assert_eq!(kind, ErrorKind::Failed);
    assert!(e.contains("cannot reach the LDAP server"), "{e}");

    let (kind, e) = refused(
        &w,
        &format!("file:{}", dir.path().join("missing.csv").display()),
        "",
    )
    .await;
    assert_eq!(kind, ErrorKind::Refused);
    assert!(
        e.contains("missing.csv") && e.contains("cannot read"),
        "{e}"
    );
}
