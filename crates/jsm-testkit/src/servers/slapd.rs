//! Debian's OpenLDAP `slapd` from `JSMCTL_SLAPD`, with a config written here: the mdb backend, the
//! cosine/inetorgperson/nis schemas, the memberof overlay, and a size limit of [`SIZE_LIMIT`] entries for everyone
//! but the rootdn (paged searches may go past it in total, like Active Directory), so only a paged read sees a
//! larger directory whole. Seeded with [`Ldif`] change records through `ldapadd` from `JSMCTL_LDAPADD`.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::process::{ChildGuard, executable_from_env, listening, must, start_on_free_port};

/// The directory's suffix.
pub const SUFFIX: &str = "dc=example,dc=test";
/// The rootdn, which seeds the directory.
pub const ADMIN_DN: &str = "cn=admin,dc=example,dc=test";
/// The rootdn's password.
pub const ADMIN_PW: &str = "testkit-admin-pw-51c9";
/// A plain reader, bound to by the sources (and held to the size limit).
pub const READER_DN: &str = "cn=reader,dc=example,dc=test";
/// The reader's password.
pub const READER_PW: &str = "testkit-reader-pw-7e2a";
/// The most entries one unpaged search returns to anyone but the rootdn.
pub const SIZE_LIMIT: usize = 100;
const SCHEMA_DIR: &str = "/etc/ldap/schema";
const MODULE_DIR: &str = "/usr/lib/ldap";
const START_LIMIT: Duration = Duration::from_secs(20);

/// The DN of the person with this `uid` (under `ou=people`).
pub fn person_dn(uid: &str) -> String {
    format!("uid={uid},ou=people,{SUFFIX}")
}

/// The DN of the group with this `cn` (under `ou=groups`).
pub fn group_dn(name: &str) -> String {
    format!("cn={name},ou=groups,{SUFFIX}")
}

/// A running slapd holding the suffix, `ou=people`, `ou=groups` and the reader; dropping it stops the process.
#[derive(Debug)]
pub struct Slapd {
    _guard: ChildGuard,
    dir: tempfile::TempDir,
    url: String,
    ldapadd: PathBuf,
}

impl Slapd {
    /// Starts slapd and loads the skeleton, or prints a notice and returns none when `JSMCTL_SLAPD` or
    /// `JSMCTL_LDAPADD` is unset.
    pub async fn start(test: &str) -> Option<Self> {
        let slapd = executable_from_env("JSMCTL_SLAPD", test)?;
        let ldapadd = executable_from_env("JSMCTL_LDAPADD", test)?;
        let schema = Path::new(SCHEMA_DIR).join("inetorgperson.schema");
        assert!(
            schema.exists(),
            "JSMCTL_SLAPD is set but {} is missing (Debian's slapd package installs it)",
            schema.display()
        );
        let dir = must(tempfile::tempdir(), || "make a temp dir".into());
        must(std::fs::create_dir(dir.path().join("db")), || {
            "make slapd's db dir".into()
        });
        let conf = dir.path().join("slapd.conf");
        must(std::fs::write(&conf, config(dir.path())), || {
            format!("write {}", conf.display())
        });
        let spawn = |port: u16, log| {
            let mut command = Command::new(&slapd);
            // -d 0: stay in the foreground (no fork), so the pid held is slapd's.
            command
                .args(["-h", &format!("{}/", url(port)), "-f"])
                .arg(&conf)
                .args(["-d", "0"]);
            ChildGuard::spawn("slapd", &mut command, log)
        };
        let (guard, port) =
            start_on_free_port("slapd", dir.path(), START_LIMIT, spawn, listening).await;
        let server = Self {
            _guard: guard,
            dir,
            url: url(port),
            ldapadd,
        };
        server.apply(&skeleton());
        Some(server)
    }

    /// `ldap://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The source spec of the whole directory, `ldap://127.0.0.1:PORT/SUFFIX`.
    pub fn spec(&self) -> String {
        format!("{}/{SUFFIX}", self.url)
    }

    /// Sends the change records to the server as the rootdn, in one `ldapadd` run; fails the test with
    /// ldapadd's message when the server refuses one.
    pub fn apply(&self, ldif: &Ldif) {
        let mut child = must(
            Command::new(&self.ldapadd)
                .args(["-x", "-H", &self.url, "-D", ADMIN_DN, "-w", ADMIN_PW])
                .current_dir(self.dir.path())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn(),
            || format!("run {}", self.ldapadd.display()),
        );
        if let Some(mut stdin) = child.stdin.take() {
            must(stdin.write_all(ldif.0.as_bytes()), || {
                "write LDIF to ldapadd".into()
            });
        }
        let out = must(child.wait_with_output(), || "wait for ldapadd".into());
        assert!(
            out.status.success(),
            "ldapadd refused the LDIF: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            ldif.0
        );
    }
}

fn url(port: u16) -> String {
    format!("ldap://127.0.0.1:{port}")
}

fn config(dir: &Path) -> String {
    let d = dir.display();
    let mut c = String::new();
    for schema in ["core", "cosine", "inetorgperson", "nis"] {
        let _ = writeln!(c, "include {SCHEMA_DIR}/{schema}.schema");
    }
    let _ = writeln!(c, "pidfile {d}/slapd.pid\nargsfile {d}/slapd.args");
    let _ = writeln!(
        c,
        "modulepath {MODULE_DIR}\nmoduleload back_mdb\nmoduleload memberof"
    );
    let _ = writeln!(
        c,
        "sizelimit size.soft={SIZE_LIMIT} size.hard={SIZE_LIMIT} size.prtotal=unlimited"
    );
    let _ = writeln!(c, "database mdb\nmaxsize 104857600\nsuffix \"{SUFFIX}\"");
    let _ = writeln!(
        c,
        "rootdn \"{ADMIN_DN}\"\nrootpw {ADMIN_PW}\ndirectory {d}/db"
    );
    let _ = writeln!(c, "overlay memberof");
    let _ = writeln!(
        c,
        "access to attrs=userPassword by anonymous auth by * none\naccess to * by * read"
    );
    c
}

fn skeleton() -> Ldif {
    let mut l = Ldif::new();
    l.add(
        SUFFIX,
        &[
            ("objectClass", "dcObject"),
            ("objectClass", "organization"),
            ("dc", "example"),
            ("o", "Example"),
        ],
    );
    for ou in ["people", "groups"] {
        l.add(
            &format!("ou={ou},{SUFFIX}"),
            &[("objectClass", "organizationalUnit"), ("ou", ou)],
        );
    }
    l.add(
        READER_DN,
        &[
            ("objectClass", "organizationalRole"),
            ("objectClass", "simpleSecurityObject"),
            ("cn", "reader"),
            ("userPassword", READER_PW),
        ],
    );
    l
}

/// LDIF change records (adds, modifies, deletes), sent to a [`Slapd`] in one go with [`Slapd::apply`].
#[derive(Debug, Clone, Default)]
pub struct Ldif(String);

impl Ldif {
    /// No records yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the entry `dn` with these attribute values (an attribute repeated for several values).
    pub fn add(&mut self, dn: &str, attrs: &[(&str, &str)]) -> &mut Self {
        self.record(dn, "add");
        for (attr, value) in attrs {
            self.line(attr, value);
        }
        self.0.push('\n');
        self
    }

    /// Adds an `inetOrgPerson` under `ou=people` with its `uid` and these attributes (`cn` and `sn` required).
    pub fn add_person(&mut self, uid: &str, attrs: &[(&str, &str)]) -> &mut Self {
        let mut all = vec![("objectClass", "inetOrgPerson"), ("uid", uid)];
        all.extend_from_slice(attrs);
        self.add(&person_dn(uid), &all)
    }

    /// Adds a `groupOfNames` under `ou=groups` with these member DNs (people or groups).
    pub fn add_group(&mut self, name: &str, members: &[String]) -> &mut Self {
        let mut attrs = vec![("objectClass", "groupOfNames"), ("cn", name)];
        attrs.extend(members_or_placeholder(members).map(|m| ("member", m)));
        self.add(&group_dn(name), &attrs)
    }

    /// Replaces every value of each attribute of `dn` (an empty list removes the attribute).
    pub fn replace(&mut self, dn: &str, attrs: &[(&str, &[&str])]) -> &mut Self {
        self.record(dn, "modify");
        for (attr, values) in attrs {
            self.change("replace", attr, values.iter().copied());
        }
        self.0.push('\n');
        self
    }

    /// Replaces the members of the group `name` (a `groupOfNames` must keep one: none leaves the placeholder).
    pub fn replace_members(&mut self, name: &str, members: &[String]) -> &mut Self {
        self.record(&group_dn(name), "modify");
        self.change("replace", "member", members_or_placeholder(members));
        self.0.push('\n');
        self
    }

    /// Adds values to an attribute of `dn`.
    pub fn add_values(&mut self, dn: &str, attr: &str, values: &[&str]) -> &mut Self {
        self.record(dn, "modify");
        self.change("add", attr, values.iter().copied());
        self.0.push('\n');
        self
    }

    /// Deletes the entry `dn`.
    pub fn delete(&mut self, dn: &str) -> &mut Self {
        self.record(dn, "delete");
        self.0.push('\n');
        self
    }

    fn record(&mut self, dn: &str, changetype: &str) {
        self.line("dn", dn);
        self.line("changetype", changetype);
    }

    fn change<'a>(&mut self, op: &str, attr: &str, values: impl Iterator<Item = &'a str>) {
        self.line(op, attr);
        for value in values {
            self.line(attr, value);
        }
        self.0.push_str("-\n");
    }

    fn line(&mut self, attr: &str, value: &str) {
        // LDIF's SAFE-STRING; anything else would need base64, which no test here needs.
        let safe = value.is_ascii()
            && !value.starts_with([' ', ':', '<'])
            && !value.contains(['\n', '\r', '\0']);
        assert!(
            safe,
            "testkit: LDIF value of {attr} needs base64: {value:?}"
        );
        let _ = writeln!(self.0, "{attr}: {value}");
    }
}

/// A `groupOfNames` must have a member: an empty group holds the suffix entry, which is nobody.
fn members_or_placeholder(members: &[String]) -> impl Iterator<Item = &str> {
    let placeholder = members.is_empty().then_some(SUFFIX);
    members.iter().map(String::as_str).chain(placeholder)
}

#[cfg(test)]
mod tests {
    use std::panic::{AssertUnwindSafe, catch_unwind};

    use super::*;

    #[test]
    fn ldif_holds_one_change_record_per_call() {
        let mut l = Ldif::new();
        l.add_person("ann", &[("cn", "Ann"), ("sn", "A")])
            .replace(
                &person_dn("ann"),
                &[("mail", &["a@x.test"]), ("title", &[])],
            )
            .replace_members("Empty", &[])
            .delete(&person_dn("ann"));
        let expected = format!(
            "dn: uid=ann,ou=people,{SUFFIX}\nchangetype: add\nobjectClass: inetOrgPerson\nuid: ann\ncn: Ann\nsn: A\n\n\
             dn: uid=ann,ou=people,{SUFFIX}\nchangetype: modify\nreplace: mail\nmail: a@x.test\n-\nreplace: title\n-\n\n\
             dn: cn=Empty,ou=groups,{SUFFIX}\nchangetype: modify\nreplace: member\nmember: {SUFFIX}\n-\n\n\
             dn: uid=ann,ou=people,{SUFFIX}\nchangetype: delete\n\n"
        );
        assert_eq!(l.0, expected);
    }

    #[test]
    #[should_panic(expected = "needs base64")]
    fn a_value_ldif_cannot_hold_as_text_is_refused() {
        Ldif::new().add_person("x", &[("cn", " leading space")]);
    }

    #[tokio::test]
    async fn slapd_applies_changes_refuses_bad_ones_and_stops_when_dropped() {
        let Some(slapd) =
            Slapd::start("slapd_applies_changes_refuses_bad_ones_and_stops_when_dropped").await
        else {
            return;
        };
        let mut people = Ldif::new();
        people.add_person("ann", &[("cn", "Ann"), ("sn", "A"), ("mail", "ann@x.test")]);
        people.add_group("Staff", &[person_dn("ann")]);
        slapd.apply(&people);
        // The same entries again: the server has them now, so it refuses, and the test would fail.
        let again = catch_unwind(AssertUnwindSafe(|| slapd.apply(&people)));
        let message = again
            .err()
            .and_then(|e| e.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        assert!(message.contains("Already exists"), "{message}");
        let mut change = Ldif::new();
        change
            .replace(&person_dn("ann"), &[("mail", &["ann2@x.test"])])
            .replace_members("Staff", &[])
            .delete(&person_dn("ann"));
        slapd.apply(&change);

        let port: u16 = slapd.url().rsplit(':').next().unwrap().parse().unwrap();
        assert!(listening(port).await);
        drop(slapd);
        assert!(!listening(port).await, "the guard stopped slapd");
    }
}
