//! Reconcile from real identity servers nobody here wrote: PyPI `scim2-server` (from `JSMCTL_SCIM2_SERVER`) and
//! Debian's OpenLDAP `slapd` (from `JSMCTL_SLAPD`, data loaded with `ldapadd`) with a size limit below the
//! number of users, so only paged searches can read them all. Both started here on free loopback ports and
//! stopped by pid; skipped with a notice where the variables are unset (.ci/run sets them).

use std::fmt::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use jsm_lifecycle::plan::Action;
use jsm_lifecycle::reconcile::{Request, Situation};
use jsm_lifecycle::{Error, Quiet};
use jsm_sources::{Mapping, Source};
use jsm_testkit::Surfaces;
use serde_json::{Value, json};

use crate::reconcile::{actions, empty_site, policy};
use crate::support::{Backend, World, accounts_with_email, in_desk};

const SCIM_TOKEN: &str = "reconcile-scim-token-81c2";
const SUFFIX: &str = "dc=example,dc=test";
const ADMIN_DN: &str = "cn=admin,dc=example,dc=test";
const ADMIN_PW: &str = "admin-pw-3f1e";
const READER_DN: &str = "cn=reader,dc=example,dc=test";
const READER_PW: &str = "reader-pw-90ad";
/// More users than slapd's size limit (100).
const LDAP_USERS: usize = 140;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

fn notice(message: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "NOTICE: {message}");
}

fn executable(var: &str, test: &str) -> Option<PathBuf> {
    match std::env::var_os(var).filter(|v| !v.is_empty()) {
        Some(p) => Some(PathBuf::from(p)),
        None => {
            notice(&format!(
                "{test} skipped: {var} is not set (.ci/run sets it)"
            ));
            None
        }
    }
}

/// A child killed by its pid when dropped.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Polls until `addr` accepts a connection, for at most `limit`.
async fn listening(addr: &str, limit: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

struct Scim {
    _guard: Guard,
    base: String,
    http: reqwest::Client,
}

impl Scim {
    async fn start(test: &str) -> Option<Self> {
        let exe = executable("JSMCTL_SCIM2_SERVER", test)?;
        for _ in 0..3 {
            let port = free_port();
            let child = Command::new(&exe)
                .args(["--hostname", "127.0.0.1", "--port", &port.to_string()])
                .args(["--bearer-token", SCIM_TOKEN])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let guard = Guard(child);
            let base = format!("http://127.0.0.1:{port}/v2");
            let http = reqwest::Client::new();
            let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
            while tokio::time::Instant::now() < deadline {
                let up = http
                    .get(format!("{base}/ServiceProviderConfig"))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                if up {
                    return Some(Self {
                        _guard: guard,
                        base,
                        http,
                    });
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        panic!("scim2-server did not answer on three ports");
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self
            .http
            .request(method, format!("{}/{path}", self.base))
            .bearer_auth(SCIM_TOKEN)
            .header("Content-Type", "application/scim+json");
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        assert!(status.is_success(), "{path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    async fn user(&self, n: usize, active: bool) -> String {
        let v = self
            .send(
                reqwest::Method::POST,
                "Users",
                Some(json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "userName": format!("person{n}"),
                    "externalId": format!("hr-{n}"),
                    "displayName": format!("Person {n}"),
                    "emails": [{"value": format!("person{n}@corp.example"), "type": "work", "primary": true}],
                    "active": active,
                })),
            )
            .await;
        v["id"].as_str().unwrap().to_string()
    }

    async fn group(&self, name: &str, members: &[&String]) {
        let members: Vec<Value> = members.iter().map(|m| json!({ "value": m })).collect();
        self.send(
            reqwest::Method::POST,
            "Groups",
            Some(json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": name,
                "members": members,
            })),
        )
        .await;
    }
}

async fn plan(
    w: &World,
    spec: &str,
    m: &Mapping,
    env: &dyn Fn(&str) -> Option<String>,
) -> jsm_lifecycle::Result<jsm_lifecycle::reconcile::Reconciliation> {
    let source = Source::parse_with(spec, m, env)?;
    w.engine
        .plan_reconcile(&Request::new(&source, m, "mapping.toml"))
        .await
}

async fn apply(w: &World, plan: &jsm_lifecycle::Plan) {
    w.engine.submit(plan).await.unwrap();
    let report = w.engine.apply(plan, &Quiet).await.unwrap();
    assert!(report.complete(), "{report:#?}");
}

const MAPPING: &str = r#"version = 1
[[groups]]
source = "Agents"
kind = "agent"
jira_groups = ["it-support"]

[[groups]]
source = "Customers"
service_desks = ["HR"]

[targets."service_desk:HR"]
mode = "authoritative"
"#;

#[tokio::test]
async fn reconcile_from_a_real_scim_server_follows_email_changes_and_deletions() {
    let Some(scim) =
        Scim::start("reconcile_from_a_real_scim_server_follows_email_changes_and_deletions").await
    else {
        return;
    };
    let mut ids = Vec::new();
    for n in 0..6 {
        ids.push(scim.user(n, n != 5).await);
    }
    scim.group("Agents", &[&ids[0], &ids[1]]).await;
    scim.group("Customers", &[&ids[2], &ids[3], &ids[4], &ids[5]])
        .await;
    let w = empty_site(Surfaces::ALL, policy(100.0), Backend::Sqlite).await;
    let m = Mapping::from_toml(MAPPING, "mapping.toml").unwrap();
    let spec = format!("scim:{}", scim.base);
    let env = |name: &str| (name == "JSMCTL_SOURCE_SCIM_TOKEN").then(|| SCIM_TOKEN.to_string());

    let r = plan(&w, &spec, &m, &env).await.unwrap();
    let names = actions(&r);
    assert_eq!(
        names.iter().filter(|a| **a == "scim_create_user").count(),
        2,
        "{names:?}"
    );
    assert_eq!(
        names.iter().filter(|a| **a == "create_customer").count(),
        3,
        "person5 is disabled"
    );
    apply(&w, &r.plan).await;
    {
        let site = w.site();
        for n in 0..5 {
            assert_eq!(
                accounts_with_email(&site, &format!("person{n}@corp.example")),
                1
            );
        }
        assert!(in_desk(&site, "HR", "person2@corp.example"));
        let agent = site.find_by_email("person0@corp.example").unwrap();
        assert!(site.is_member_of(agent, "it-support"));
    }
    assert!(plan(&w, &spec, &m, &env).await.unwrap().plan.is_empty());

    // person2's email changes at the IdP; person4 is deleted there.
    scim.send(
        reqwest::Method::PATCH,
        &format!("Users/{}", ids[2]),
        Some(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "emails", "value": [
                {"value": "person2.new@corp.example", "type": "work", "primary": true}
            ]}],
        })),
    )
    .await;
    scim.send(reqwest::Method::DELETE, &format!("Users/{}", ids[4]), None)
        .await;
    let r = plan(&w, &spec, &m, &env).await.unwrap();
    assert_eq!(actions(&r), ["remove_from_desk"], "{:#?}", r.plan.items);
    assert_eq!(r.plan.items[0].situation.as_deref(), Some("deleted"));
    assert!(r.plan.items[0].target.contains("person4@corp.example"));
    assert_eq!(r.summary.situations.get(&Situation::Linked), Some(&4));
    apply(&w, &r.plan).await;
    let site = w.site();
    assert!(site.find_by_email("person2.new@corp.example").is_none());
    assert!(
        in_desk(&site, "HR", "person2@corp.example"),
        "the link kept person2's account"
    );
    assert!(!in_desk(&site, "HR", "person4@corp.example"));
}

struct Slapd {
    _guard: Guard,
    _dir: tempfile::TempDir,
    url: String,
}

fn slapd_conf(dir: &Path) -> String {
    let d = dir.display();
    let mut c = String::new();
    for s in ["core", "cosine", "inetorgperson", "nis"] {
        writeln!(c, "include /etc/ldap/schema/{s}.schema").unwrap();
    }
    writeln!(c, "pidfile {d}/slapd.pid\nargsfile {d}/slapd.args").unwrap();
    writeln!(
        c,
        "modulepath /usr/lib/ldap\nmoduleload back_mdb\nmoduleload memberof"
    )
    .unwrap();
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
    for n in 0..LDAP_USERS {
        writeln!(
            l,
            "dn: uid=u{n:03},ou=people,{SUFFIX}\nobjectClass: inetOrgPerson\nuid: u{n:03}\ncn: User {n:03}\nsn: {n:03}\nmail: u{n:03}@corp.example\nemployeeType: {}\n",
            if n == 7 { "disabled" } else { "staff" }
        )
        .unwrap();
    }
    let members = |range: std::ops::Range<usize>| -> String {
        range
            .map(|n| format!("member: uid=u{n:03},ou=people,{SUFFIX}\n"))
            .collect()
    };
    writeln!(
        l,
        "dn: cn=Agents,ou=groups,{SUFFIX}\nobjectClass: groupOfNames\ncn: Agents\n{}",
        members(0..3)
    )
    .unwrap();
    writeln!(
        l,
        "dn: cn=Customers,ou=groups,{SUFFIX}\nobjectClass: groupOfNames\ncn: Customers\n{}",
        members(3..LDAP_USERS)
    )
    .unwrap();
    l
}

impl Slapd {
    async fn start(test: &str) -> Option<Self> {
        let slapd = executable("JSMCTL_SLAPD", test)?;
        let ldapadd = std::env::var_os("JSMCTL_LDAPADD")
            .map(PathBuf::from)
            .unwrap_or_else(|| "ldapadd".into());
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("db")).unwrap();
        let conf = dir.path().join("slapd.conf");
        std::fs::write(&conf, slapd_conf(dir.path())).unwrap();
        for _ in 0..3 {
            let port = free_port();
            let url = format!("ldap://127.0.0.1:{port}");
            let child = Command::new(&slapd)
                .args(["-h", &format!("{url}/"), "-f"])
                .arg(&conf)
                .args(["-d", "0"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let mut guard = Guard(child);
            if !listening(&format!("127.0.0.1:{port}"), Duration::from_secs(20)).await {
                if matches!(guard.0.try_wait(), Ok(Some(_))) {
                    continue;
                }
                panic!("slapd did not listen within 20 s");
            }
            let data = dir.path().join("data.ldif");
            std::fs::write(&data, ldif()).unwrap();
            let out = Command::new(&ldapadd)
                .args(["-x", "-H", &url, "-D", ADMIN_DN, "-w", ADMIN_PW, "-f"])
                .arg(&data)
                .stdin(Stdio::null())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "ldapadd: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            return Some(Self {
                _guard: guard,
                _dir: dir,
                url,
            });
        }
        panic!("slapd could not start on a free port");
    }
}

const LDAP_MAPPING: &str = r#"version = 1
[[groups]]
source = "Agents"
kind = "agent"

[[groups]]
source = "Customers"
service_desks = ["HR", "ITSD"]

[ldap]
page_size = 40
disabled_when = [{ attribute = "employeeType", value = "disabled" }]
"#;

#[tokio::test]
async fn reconcile_from_a_real_slapd_past_its_size_limit_and_refuse_a_bad_bind() {
    let Some(slapd) =
        Slapd::start("reconcile_from_a_real_slapd_past_its_size_limit_and_refuse_a_bad_bind").await
    else {
        return;
    };
    let w = empty_site(Surfaces::ALL, policy(100.0), Backend::Sqlite).await;
    let m = Mapping::from_toml(LDAP_MAPPING, "mapping.toml").unwrap();
    let spec = format!("{}/{SUFFIX}", slapd.url);

    let wrong = |name: &str| match name {
        "JSMCTL_LDAP_BIND_DN" => Some(READER_DN.to_string()),
        "JSMCTL_LDAP_PASSWORD" => Some("not-the-password".to_string()),
        _ => None,
    };
    let err = plan(&w, &spec, &m, &wrong).await.unwrap_err();
    assert!(
        matches!(err, Error::Source(jsm_sources::Error::LdapBind { .. })),
        "{err}"
    );
    let shown = err.to_string();
    assert!(
        shown.contains("bind as")
            && shown.contains(READER_DN)
            && !shown.contains("not-the-password"),
        "{shown}"
    );
    assert!(
        w.engine.store.plans(None).await.unwrap().is_empty(),
        "nothing planned"
    );

    let env = |name: &str| match name {
        "JSMCTL_LDAP_BIND_DN" => Some(READER_DN.to_string()),
        "JSMCTL_LDAP_PASSWORD" => Some(READER_PW.to_string()),
        _ => None,
    };
    let r = plan(&w, &spec, &m, &env).await.unwrap();
    assert_eq!(
        r.summary.people, LDAP_USERS,
        "every entry, past the size limit of 100"
    );
    let creates = r
        .plan
        .items
        .iter()
        .filter(|i| matches!(i.action, Action::CreateCustomer { .. }))
        .count();
    assert_eq!(creates, LDAP_USERS - 3 - 1, "three agents, one disabled");
    assert_eq!(
        actions(&r)
            .iter()
            .filter(|a| **a == "scim_create_user")
            .count(),
        3
    );
    apply(&w, &r.plan).await;
    {
        let site = w.site();
        assert!(in_desk(
            &site,
            "ITSD",
            &format!("u{:03}@corp.example", LDAP_USERS - 1)
        ));
        assert!(site.find_by_email("u007@corp.example").is_none());
    }
    let again = plan(&w, &spec, &m, &env).await.unwrap();
    assert!(again.plan.is_empty(), "{:#?}", again.plan.items);
    let links = w.engine.links(Some(&again.source)).await.unwrap();
    assert_eq!(links.len(), LDAP_USERS - 1);
    assert!(
        links.iter().all(|l| l.source_id.len() == 36),
        "LDAP links key on entryUUID"
    );
}
