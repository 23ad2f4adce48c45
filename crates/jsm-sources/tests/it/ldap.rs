//! The LDAP source against a real OpenLDAP `slapd` (Debian's package), started from `JSMCTL_SLAPD` on a free
//! loopback port with a config written here: mdb backend, the cosine/inetorgperson/nis schemas, the memberof
//! overlay, and `sizelimit 100`, so a read of the 250 users loaded with `ldapadd` proves paging.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use jsm_sources::mapping::{DisabledRule, LdapMembership, LdapSettings};
use jsm_sources::{Error, LdapFlavor, LdapSource, Source};
use ldap3::{LdapConnAsync, Mod, Scope, SearchResult};
use secrecy::SecretString;

use crate::common::{ChildGuard, closed_port, executable_from_env, wait_until};

const SUFFIX: &str = "dc=example,dc=test";
const ADMIN_DN: &str = "cn=admin,dc=example,dc=test";
const ADMIN_PW: &str = "admin-pw-51c9";
const READER_DN: &str = "cn=reader,dc=example,dc=test";
const READER_PW: &str = "reader-pw-7e2a";
const USERS: usize = 250;
const SCHEMA_DIR: &str = "/etc/ldap/schema";
const MODULE_DIR: &str = "/usr/lib/ldap";

struct Slapd {
    guard: ChildGuard,
    _dir: tempfile::TempDir,
    url: String,
}

fn slapd_conf(dir: &Path) -> String {
    let d = dir.display();
    let mut c = String::new();
    for schema in ["core", "cosine", "inetorgperson", "nis"] {
        writeln!(c, "include {SCHEMA_DIR}/{schema}.schema").unwrap();
    }
    writeln!(c, "pidfile {d}/slapd.pid\nargsfile {d}/slapd.args").unwrap();
    writeln!(
        c,
        "modulepath {MODULE_DIR}\nmoduleload back_mdb\nmoduleload memberof"
    )
    .unwrap();
    // A hard limit of 100 for everyone but the rootdn; paged searches may go past it in total (like AD).
    writeln!(
        c,
        "sizelimit size.soft=100 size.hard=100 size.prtotal=unlimited"
    )
    .unwrap();
    writeln!(c, "database mdb\nmaxsize 104857600\nsuffix \"{SUFFIX}\"").unwrap();
    writeln!(
        c,
        "rootdn \"{ADMIN_DN}\"\nrootpw {ADMIN_PW}\ndirectory {d}/db"
    )
    .unwrap();
    writeln!(c, "overlay memberof").unwrap();
    writeln!(
        c,
        "access to attrs=userPassword by anonymous auth by * none\naccess to * by * read"
    )
    .unwrap();
    c
}

fn ldif() -> String {
    let mut l = String::new();
    writeln!(
        l,
        "dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n"
    )
    .unwrap();
    writeln!(
        l,
        "dn: ou=people,{SUFFIX}\nobjectClass: organizationalUnit\nou: people\n"
    )
    .unwrap();
    writeln!(
        l,
        "dn: ou=groups,{SUFFIX}\nobjectClass: organizationalUnit\nou: groups\n"
    )
    .unwrap();
    writeln!(
        l,
        "dn: {READER_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: reader\nuserPassword: {READER_PW}\n"
    )
    .unwrap();
    for n in 0..USERS {
        writeln!(
            l,
            "dn: uid=user{n:03},ou=people,{SUFFIX}\nobjectClass: inetOrgPerson\nuid: user{n:03}\ncn: User {n:03}\nsn: {n:03}\nmail: user{n:03}@example.test"
        )
        .unwrap();
        if n % 2 == 0 {
            writeln!(l, "displayName: Display {n:03}").unwrap();
        }
        if n % 50 == 7 {
            writeln!(l, "employeeType: disabled").unwrap();
        } else {
            writeln!(l, "employeeType: staff").unwrap();
        }
        writeln!(
            l,
            "departmentNumber: {}\n",
            if n < 100 { "IT" } else { "Sales" }
        )
        .unwrap();
    }
    // An entry the source cannot use: no mail.
    writeln!(l, "dn: uid=nomail,ou=people,{SUFFIX}\nobjectClass: inetOrgPerson\nuid: nomail\ncn: No Mail\nsn: x\n").unwrap();
    let member = |n: usize| format!("member: uid=user{n:03},ou=people,{SUFFIX}\n");
    let group = |l: &mut String, name: &str, members: String| {
        writeln!(
            l,
            "dn: cn={name},ou=groups,{SUFFIX}\nobjectClass: groupOfNames\ncn: {name}\n{members}"
        )
        .unwrap();
    };
    group(&mut l, "IT Staff", (0..10).map(member).collect());
    group(&mut l, "EU-Sub", (20..25).map(member).collect());
    group(
        &mut l,
        "Customers-EU",
        (10..20).map(member).collect::<String>()
            + &format!("member: cn=EU-Sub,ou=groups,{SUFFIX}\n"),
    );
    // A group with more members than the size limit: its values all come back (limits count entries).
    group(&mut l, "Everyone", (0..USERS).map(member).collect());
    l
}

impl Slapd {
    /// Starts slapd and loads the directory, or prints a notice and returns none when JSMCTL_SLAPD is unset.
    async fn start(test: &str) -> Option<Self> {
        let slapd = executable_from_env("JSMCTL_SLAPD", test)?;
        if !Path::new(SCHEMA_DIR).join("inetorgperson.schema").exists() {
            crate::common::notice(&format!(
                "{test} skipped: {SCHEMA_DIR} has no inetorgperson.schema"
            ));
            return None;
        }
        let ldapadd = std::env::var_os("JSMCTL_LDAPADD")
            .map(PathBuf::from)
            .unwrap_or_else(|| "ldapadd".into());
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("db")).unwrap();
        let conf = dir.path().join("slapd.conf");
        std::fs::write(&conf, slapd_conf(dir.path())).unwrap();
        for _attempt in 0..3 {
            let port = crate::common::free_port();
            let url = format!("ldap://127.0.0.1:{port}");
            let log = dir.path().join(format!("slapd-{port}.log"));
            let out = std::fs::File::create(&log).unwrap();
            // -d 0: stay in the foreground (no fork), so the pid we hold is slapd's.
            let child = Command::new(&slapd)
                .args(["-h", &format!("{url}/"), "-f"])
                .arg(&conf)
                .args(["-d", "0"])
                .stdin(Stdio::null())
                .stdout(out.try_clone().unwrap())
                .stderr(out)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", slapd.display()));
            let mut guard = ChildGuard {
                name: "slapd",
                child,
                log,
            };
            let addr = format!("127.0.0.1:{port}");
            let up = wait_until(Duration::from_secs(20), || {
                let addr = addr.clone();
                async move { tokio::net::TcpStream::connect(&addr).await.is_ok() }
            })
            .await;
            if !up {
                if guard.exited() {
                    continue; // the port was taken in between: another one
                }
                panic!("slapd did not listen within 20s:\n{}", guard.log());
            }
            guard.assert_running();
            let ldif_path = dir.path().join("data.ldif");
            std::fs::write(&ldif_path, ldif()).unwrap();
            let out = Command::new(&ldapadd)
                .args(["-x", "-H", &url, "-D", ADMIN_DN, "-w", ADMIN_PW, "-f"])
                .arg(&ldif_path)
                .stdin(Stdio::null())
                .output()
                .unwrap_or_else(|e| {
                    panic!("cannot run {}: {e} (set JSMCTL_LDAPADD)", ldapadd.display())
                });
            assert!(
                out.status.success(),
                "ldapadd failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            return Some(Self {
                guard,
                _dir: dir,
                url,
            });
        }
        panic!("slapd could not start on a free port");
    }

    fn source(&self, settings: LdapSettings) -> LdapSource {
        LdapSource::new(
            &self.url,
            SUFFIX,
            Some((READER_DN.into(), SecretString::from(READER_PW))),
            settings,
        )
        .unwrap()
    }

    async fn admin(&self) -> ldap3::Ldap {
        let (conn, mut ldap) = LdapConnAsync::new(&self.url).await.unwrap();
        ldap3::drive!(conn);
        ldap.simple_bind(ADMIN_DN, ADMIN_PW)
            .await
            .unwrap()
            .success()
            .unwrap();
        ldap
    }
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
    let Some(slapd) = Slapd::start("ldap_reads_the_whole_directory_past_the_size_limit").await
    else {
        return;
    };

    // The limit is real: an unpaged search as the reader stops at 100 with sizeLimitExceeded.
    let (conn, mut ldap) = LdapConnAsync::new(&slapd.url).await.unwrap();
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
    assert_eq!(entries.len(), 100);

    let snap = slapd.source(settings()).read(None).await.unwrap();
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
    let member_of = slapd
        .source(LdapSettings {
            membership: LdapMembership::MemberOf,
            ..settings()
        })
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
    let default_pages = slapd
        .source(LdapSettings {
            flavor: LdapFlavor::OpenLdap,
            ..LdapSettings::default()
        })
        .read(None)
        .await
        .unwrap();
    assert_eq!(default_pages.people.len(), USERS);
}

#[tokio::test]
async fn ldap_incremental_reads_changes_since_the_watermark() {
    let Some(slapd) = Slapd::start("ldap_incremental_reads_changes_since_the_watermark").await
    else {
        return;
    };
    let source = slapd.source(settings());
    let full = source.read(None).await.unwrap();
    let w = full.watermark.clone().unwrap();

    // modifyTimestamp has one-second resolution: let the clock pass the watermark's second.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let mut admin = slapd.admin().await;
    let dn = format!("uid=user042,ou=people,{SUFFIX}");
    admin
        .modify(
            &dn,
            vec![Mod::Replace(
                "displayName",
                std::collections::HashSet::from(["Changed 42"]),
            )],
        )
        .await
        .unwrap()
        .success()
        .unwrap();

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
    let member = format!("uid=user150,ou=people,{SUFFIX}");
    admin
        .modify(
            &format!("cn=IT Staff,ou=groups,{SUFFIX}"),
            vec![Mod::Add(
                "member",
                std::collections::HashSet::from([member.as_str()]),
            )],
        )
        .await
        .unwrap()
        .success()
        .unwrap();
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
    let Some(slapd) = Slapd::start("ldap_bad_password_names_the_bind_dn_never_the_password").await
    else {
        return;
    };
    let wrong = "not-the-password-4410";
    let env = |name: &str| match name {
        "JSMCTL_LDAP_BIND_DN" => Some(READER_DN.to_owned()),
        "JSMCTL_LDAP_PASSWORD" => Some(wrong.to_owned()),
        _ => None,
    };
    let source = Source::parse(&format!("{}/{SUFFIX}", slapd.url), &env).unwrap();
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

    let missing_base = slapd.source(settings());
    let missing_base = LdapSource::new(
        missing_base.url(),
        "ou=nowhere,dc=example,dc=test",
        Some((READER_DN.into(), SecretString::from(READER_PW))),
        settings(),
    )
    .unwrap();
    let err = missing_base.read(None).await.unwrap_err();
    assert!(matches!(err, Error::LdapSearch { rc: 32, .. }), "{err}");
    drop(slapd.guard);
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
