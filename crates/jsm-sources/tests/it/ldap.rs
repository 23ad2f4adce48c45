//! The LDAP source against a real OpenLDAP `slapd` (Debian's package), started by jsm-testkit's harness from
//! `JSMCTL_SLAPD` on a free loopback port (memberof overlay, a size limit of 100), so a read of the 250 users
//! loaded with `ldapadd` proves paging.

use std::collections::HashMap;
use std::time::Duration;

use jsm_sources::mapping::{DisabledRule, LdapMembership, LdapSettings};
use jsm_sources::{Error, LdapFlavor, LdapSource, Source};
use jsm_testkit::servers::slapd::{READER_DN, READER_PW, SIZE_LIMIT, SUFFIX, group_dn, person_dn};
use jsm_testkit::servers::{Ldif, Slapd, closed_port};
use ldap3::{LdapConnAsync, Scope, SearchResult};
use secrecy::SecretString;

const USERS: usize = 250;

/// 250 users (every other with a displayName, five disabled, IT or Sales), one without mail, and four groups:
/// one nested in another, one with more members than the size limit.
fn directory() -> Ldif {
    let mut l = Ldif::new();
    for n in 0..USERS {
        let (uid, cn, sn) = (
            format!("user{n:03}"),
            format!("User {n:03}"),
            format!("{n:03}"),
        );
        let (mail, display) = (format!("{uid}@example.test"), format!("Display {n:03}"));
        let mut attrs = vec![
            ("cn", cn.as_str()),
            ("sn", sn.as_str()),
            ("mail", mail.as_str()),
        ];
        if n % 2 == 0 {
            attrs.push(("displayName", display.as_str()));
        }
        attrs.push((
            "employeeType",
            if n % 50 == 7 { "disabled" } else { "staff" },
        ));
        attrs.push(("departmentNumber", if n < 100 { "IT" } else { "Sales" }));
        l.add_person(&uid, &attrs);
    }
    // An entry the source cannot use: no mail.
    l.add_person("nomail", &[("cn", "No Mail"), ("sn", "x")]);
    let members = |range: std::ops::Range<usize>| -> Vec<String> {
        range.map(|n| person_dn(&format!("user{n:03}"))).collect()
    };
    l.add_group("IT Staff", &members(0..10));
    l.add_group("EU-Sub", &members(20..25));
    let mut eu = members(10..20);
    eu.push(group_dn("EU-Sub"));
    l.add_group("Customers-EU", &eu);
    // A group with more members than the size limit: its values all come back (limits count entries).
    l.add_group("Everyone", &members(0..USERS));
    l
}

/// slapd with [`directory`] loaded, or none (a printed notice) when the variables are unset.
async fn slapd(test: &str) -> Option<Slapd> {
    let slapd = Slapd::start(test).await?;
    slapd.apply(&directory());
    Some(slapd)
}

fn source(slapd: &Slapd, settings: LdapSettings) -> LdapSource {
    LdapSource::new(
        slapd.url(),
        SUFFIX,
        Some((READER_DN.into(), SecretString::from(READER_PW))),
        settings,
    )
    .unwrap()
}

fn settings() -> LdapSettings {
    LdapSettings {
        page_size: 40,
        disabled_when: vec![DisabledRule {
            attribute: "employeeType".into(),
            value: Some("disabled".into()),
        }],
        ..LdapSettings::default()
    }
}

#[tokio::test]
async fn ldap_reads_the_whole_directory_past_the_size_limit() {
    let Some(slapd) = slapd("ldap_reads_the_whole_directory_past_the_size_limit").await else {
        return;
    };

    // The limit is real: an unpaged search as the reader stops at 100 with sizeLimitExceeded.
    let (conn, mut ldap) = LdapConnAsync::new(slapd.url()).await.unwrap();
    ldap3::drive!(conn);
    ldap.simple_bind(READER_DN, READER_PW)
        .await
        .unwrap()
        .success()
        .unwrap();
    let SearchResult(entries, res) = ldap
        .search(
            SUFFIX,
            Scope::Subtree,
            "(objectClass=inetOrgPerson)",
            vec!["mail"],
        )
        .await
        .unwrap();
    assert_eq!(res.rc, 4, "sizeLimitExceeded");
    assert_eq!(entries.len(), SIZE_LIMIT);

    let snap = source(&slapd, settings()).read(None).await.unwrap();
    assert!(snap.complete);
    assert_eq!(
        snap.people.len(),
        USERS,
        "all 250 users through RFC 2696 paging"
    );
    assert_eq!(snap.skipped.len(), 1, "{:?}", snap.skipped);
    assert!(
        snap.skipped[0].reason.contains("mail"),
        "{:?}",
        snap.skipped
    );
    let by_email: HashMap<&str, _> = snap.people.iter().map(|p| (p.email.as_str(), p)).collect();

    let u0 = by_email["user000@example.test"];
    assert_eq!(u0.display_name.as_deref(), Some("Display 000"));
    assert_eq!(
        by_email["user001@example.test"].display_name.as_deref(),
        Some("User 001"),
        "cn when no displayName"
    );
    assert_eq!(u0.source_id.len(), 36, "entryUUID: {}", u0.source_id);
    assert_eq!(u0.external_id.as_deref(), Some(u0.source_id.as_str()));
    assert_eq!(u0.attributes["departmentNumber"], vec!["IT"]);
    assert_eq!(
        u0.attributes["dn"],
        vec![format!("uid=user000,ou=people,{SUFFIX}")]
    );

    // Disabled via employeeType=disabled: users 7, 57, 107, 157, 207.
    let disabled: Vec<&str> = snap
        .people
        .iter()
        .filter(|p| !p.active)
        .map(|p| p.email.as_str())
        .collect();
    assert_eq!(disabled.len(), 5, "{disabled:?}");
    assert!(disabled.contains(&"user057@example.test"));

    // Groups: member and memberOf merged, the nested EU-Sub counted in Customers-EU.
    assert_eq!(u0.source_groups, vec!["Everyone", "IT Staff"]);
    assert_eq!(
        by_email["user012@example.test"].source_groups,
        vec!["Customers-EU", "Everyone"]
    );
    assert_eq!(
        by_email["user022@example.test"].source_groups,
        vec!["Customers-EU", "EU-Sub", "Everyone"]
    );
    assert_eq!(
        by_email["user200@example.test"].source_groups,
        vec!["Everyone"]
    );

    let w = snap.watermark.clone().expect("max modifyTimestamp");
    assert!(w.ends_with('Z') && w.len() == 15, "{w}");

    // memberOf alone (the overlay's values) gives the direct groups.
    let member_of = source(
        &slapd,
        LdapSettings {
            membership: LdapMembership::MemberOf,
            ..settings()
        },
    )
    .read(None)
    .await
    .unwrap();
    let p = member_of
        .people
        .iter()
        .find(|p| p.email == "user022@example.test")
        .unwrap();
    assert_eq!(p.source_groups, vec!["EU-Sub", "Everyone"]);

    // The default page size (500) is above the server's limit: paging still has to bring back everyone.
    let default_pages = source(
        &slapd,
        LdapSettings {
            flavor: LdapFlavor::OpenLdap,
            ..LdapSettings::default()
        },
    )
    .read(None)
    .await
    .unwrap();
    assert_eq!(default_pages.people.len(), USERS);
}

#[tokio::test]
async fn ldap_incremental_reads_changes_since_the_watermark() {
    let Some(slapd) = slapd("ldap_incremental_reads_changes_since_the_watermark").await else {
        return;
    };
    let source = source(&slapd, settings());
    let full = source.read(None).await.unwrap();
    let w = full.watermark.clone().unwrap();

    // modifyTimestamp has one-second resolution: let the clock pass the watermark's second.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    slapd.apply(Ldif::new().replace(&person_dn("user042"), &[("displayName", &["Changed 42"])]));

    // The watermark's own second is read again (`>=`): the load ended in it, and the memberof overlay touched
    // the users when "Everyone" was added, so most come back this once; the change is among them.
    let inc = source.read(Some(&w)).await.unwrap();
    let p = inc
        .people
        .iter()
        .find(|p| p.email == "user042@example.test")
        .expect("the changed user");
    assert_eq!(p.display_name.as_deref(), Some("Changed 42"));
    let w2 = inc.watermark.clone().unwrap();
    assert!(w2 > w, "{w2} > {w}");

    // From the new watermark: only what changed in its second (user 42), nothing else.
    let again = source.read(Some(&w2)).await.unwrap();
    assert!(!again.complete);
    let emails: Vec<&str> = again.people.iter().map(|p| p.email.as_str()).collect();
    assert_eq!(emails, vec!["user042@example.test"]);

    // A member added to a group later: read although only the group (and the overlay's memberOf) changed.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    slapd.apply(Ldif::new().add_values(&group_dn("IT Staff"), "member", &[&person_dn("user150")]));
    let after_group = source.read(Some(&w2)).await.unwrap();
    assert!(!after_group.complete);
    let mut emails: Vec<String> = after_group.people.iter().map(|p| p.email.clone()).collect();
    emails.sort();
    // User 42 (changed in w2's second), and every member of the changed group: its old members 0-9 and 150.
    let mut expected: Vec<String> = (0..10)
        .chain([42, 150])
        .map(|n| format!("user{n:03}@example.test"))
        .collect();
    expected.sort();
    assert_eq!(emails, expected);
    let p150 = after_group
        .people
        .iter()
        .find(|p| p.email == "user150@example.test")
        .unwrap();
    assert_eq!(p150.source_groups, vec!["Everyone", "IT Staff"]);

    let err = source
        .read(Some("20260101000000Z)(uid=*"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Watermark { .. }), "{err}");
}

#[tokio::test]
async fn ldap_bad_password_names_the_bind_dn_never_the_password() {
    let Some(slapd) = slapd("ldap_bad_password_names_the_bind_dn_never_the_password").await else {
        return;
    };
    let wrong = "not-the-password-4410";
    let env = |name: &str| match name {
        "JSMCTL_LDAP_BIND_DN" => Some(READER_DN.to_owned()),
        "JSMCTL_LDAP_PASSWORD" => Some(wrong.to_owned()),
        _ => None,
    };
    let source = Source::parse(&slapd.spec(), &env).unwrap();
    let err = source.read(None).await.unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::LdapBind { rc: 49, .. }), "{msg}");
    assert!(
        msg.contains(READER_DN) && msg.contains("invalidCredentials"),
        "{msg}"
    );
    assert!(
        !msg.contains(wrong)
            && !format!("{err:?}").contains(wrong)
            && !format!("{source:?}").contains(wrong)
    );

    let missing_base = LdapSource::new(
        slapd.url(),
        "ou=nowhere,dc=example,dc=test",
        Some((READER_DN.into(), SecretString::from(READER_PW))),
        settings(),
    )
    .unwrap();
    let err = missing_base.read(None).await.unwrap_err();
    assert!(matches!(err, Error::LdapSearch { rc: 32, .. }), "{err}");
}

#[tokio::test]
async fn ldap_unreachable_server_is_a_clear_error() {
    let url = format!("ldap://127.0.0.1:{}", closed_port());
    let source = LdapSource::new(&url, SUFFIX, None, LdapSettings::default()).unwrap();
    let err = source.read(None).await.unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::LdapUnreachable { .. }), "{msg}");
    assert!(
        msg.contains(&url) && msg.to_lowercase().contains("refused"),
        "{msg}"
    );
}
