//! The mapping file from disk, applied to people read from a source.

use jsm_sources::{Error, Kind, Mapping, MembershipMode, Target};

#[test]
fn mapping_file_loads_and_applies() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mapping.toml");
    std::fs::write(
        &path,
        r#"
version = 1

[[groups]]
source = "IT Staff"
kind = "agent"
jira_groups = ["jira-servicemanagement-users"]

[[groups]]
source = "Customers-EU"
service_desks = ["HR"]
organizations = ["Acme EU"]

[targets."group:jira-servicemanagement-users"]
mode = "authoritative"

[[scope]]
clauses = [{ attribute = "source_groups", op = "present" }]

[ldap]
user_filter = "(objectClass=inetOrgPerson)"
page_size = 50
disabled_when = [{ attribute = "employeeType", value = "disabled" }]

[scim]
page_size = 10
"#,
    )
    .unwrap();
    let m = Mapping::load(&path).unwrap();
    assert_eq!(m.ldap.page_size, 50);
    assert_eq!(m.scim.page_size, 10);
    assert_eq!(
        m.mode(&Target::Group("jira-servicemanagement-users".into())),
        MembershipMode::Authoritative
    );
    let mut p = jsm_sources::DesiredPerson {
        source_id: "1".into(),
        email: "a@example.test".into(),
        active: true,
        source_groups: vec!["IT Staff".into()],
        ..Default::default()
    };
    assert!(m.in_scope(&p).in_scope);
    m.apply(&mut p);
    assert_eq!(p.kind, Kind::Agent);
    assert_eq!(p.groups, vec!["jira-servicemanagement-users"]);
    p.source_groups.clear();
    assert!(!m.in_scope(&p).in_scope);
}

#[test]
fn unknown_key_names_key_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mapping.toml");
    std::fs::write(
        &path,
        "version = 1\n\n[[groups]]\nsource = \"IT\"\nservice_desk = [\"HR\"]\n",
    )
    .unwrap();
    let err = Mapping::load(&path).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::Mapping { .. }), "{msg}");
    assert!(
        msg.contains("mapping.toml") && msg.contains("line 5") && msg.contains("service_desk"),
        "{msg}"
    );
}
