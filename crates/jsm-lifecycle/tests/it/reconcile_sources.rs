//! The three kinds of identity source a reconcile scenario is written into: a CSV file, a real scim2-server and a
//! real slapd (jsm-testkit's harness). A scenario says which people the source lists, with their source groups;
//! [`Desired::set`] makes the source say exactly that, the way each kind does (a rewritten file; SCIM users and
//! groups created, replaced and deleted; LDAP entries added, modified and deleted), and the same mapping turns
//! the groups into desks, organizations and agents.

use std::collections::{BTreeMap, BTreeSet};

use jsm_lifecycle::reconcile::{Reconciliation, Request};
use jsm_lifecycle::{Engine, Quiet};
use jsm_sources::source::{ENV_LDAP_BIND_DN, ENV_LDAP_PASSWORD, ENV_SCIM_TOKEN};
use jsm_sources::{DesiredPerson, Mapping, Source};
use jsm_testkit::servers::slapd::{READER_DN, READER_PW, person_dn};
use jsm_testkit::servers::{Ldif, ScimServer, Slapd};
use serde_json::json;

use crate::reconcile::file;
use crate::support::World;

/// Which kind of source a scenario runs from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    File,
    Scim,
    Ldap,
}

/// One person as a scenario wants the source to list them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// Stable at the source: the file's external_id, the SCIM userName and externalId, the LDAP uid.
    pub key: String,
    pub email: String,
    pub name: String,
    pub active: bool,
    /// Source groups, which the mapping gives a meaning.
    pub groups: Vec<String>,
}

/// An active person with this key, email and source groups, named after the key.
pub fn person(key: &str, email: &str, groups: &[&str]) -> Person {
    Person {
        key: key.into(),
        email: email.into(),
        name: format!("Person {key}"),
        active: true,
        groups: groups.iter().map(|g| g.to_string()).collect(),
    }
}

impl Person {
    /// The same person with another email.
    pub fn with_email(mut self, email: &str) -> Self {
        self.email = email.into();
        self
    }

    /// The same person in these source groups only.
    pub fn in_groups(mut self, groups: &[&str]) -> Self {
        self.groups = groups.iter().map(|g| g.to_string()).collect();
        self
    }

    /// The same person, disabled at the source.
    pub fn disabled(mut self) -> Self {
        self.active = false;
        self
    }
}

/// A source of one kind, its mapping, and what was last written into it.
pub struct Desired {
    backing: Backing,
    mapping: Mapping,
    written: BTreeMap<String, Person>,
    groups: BTreeMap<String, Vec<String>>,
}

enum Backing {
    File(tempfile::TempDir),
    Scim {
        server: ScimServer,
        users: BTreeMap<String, String>,
        groups: BTreeMap<String, String>,
    },
    Ldap(Slapd),
}

/// How one write changes the source: people new, changed and gone, and every group's members (keys) now.
struct Changes<'a> {
    added: Vec<&'a Person>,
    changed: Vec<&'a Person>,
    removed: Vec<String>,
    groups: Vec<Group>,
}

/// A group's members now, and whether that is news to the source.
struct Group {
    name: String,
    members: Vec<String>,
    change: GroupChange,
}

#[derive(PartialEq, Eq)]
enum GroupChange {
    New,
    Members,
    None,
}

impl Desired {
    /// An empty source of `kind` with the mapping `toml` (plus what the kind needs: LDAP marks a person disabled
    /// by `employeeType`); none, with a notice, when the server's variables are unset.
    pub async fn start(kind: SourceKind, scenario: &str, toml: &str) -> Option<Self> {
        let test = format!("{scenario} from {kind:?}");
        let (backing, settings) = match kind {
            SourceKind::File => (Backing::File(tempfile::tempdir().unwrap()), ""),
            SourceKind::Scim => (
                Backing::Scim {
                    server: ScimServer::start(&test).await?,
                    users: BTreeMap::new(),
                    groups: BTreeMap::new(),
                },
                "",
            ),
            SourceKind::Ldap => (
                Backing::Ldap(Slapd::start(&test).await?),
                "[ldap]\ndisabled_when = [{ attribute = \"employeeType\", value = \"disabled\" }]\n",
            ),
        };
        let mapping =
            Mapping::from_toml(&format!("version = 1\n{toml}\n{settings}"), "mapping.toml")
                .unwrap();
        Some(Self {
            backing,
            mapping,
            written: BTreeMap::new(),
            groups: BTreeMap::new(),
        })
    }

    /// Makes the source list exactly `people`.
    pub async fn set(&mut self, people: &[Person]) {
        let changes = self.changes(people);
        match &mut self.backing {
            Backing::File(dir) => {
                let rows: Vec<String> = people.iter().map(|p| row(&self.mapping, p)).collect();
                let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
                file(dir.path(), "people.csv", &rows);
            }
            Backing::Scim {
                server,
                users,
                groups,
            } => write_scim(server, users, groups, &changes).await,
            Backing::Ldap(slapd) => write_ldap(slapd, &changes),
        }
        self.groups = changes
            .groups
            .into_iter()
            .map(|g| (g.name, g.members))
            .collect();
        self.written = people.iter().map(|p| (p.key.clone(), p.clone())).collect();
    }

    fn changes<'a>(&self, people: &'a [Person]) -> Changes<'a> {
        let (added, changed) = people
            .iter()
            .filter(|p| self.written.get(&p.key) != Some(*p))
            .partition(|p| !self.written.contains_key(&p.key));
        let keys: BTreeSet<&str> = people.iter().map(|p| p.key.as_str()).collect();
        let names: BTreeSet<&String> = self
            .groups
            .keys()
            .chain(people.iter().flat_map(|p| &p.groups))
            .collect();
        let groups = names
            .into_iter()
            .map(|name| {
                let members: Vec<String> = people
                    .iter()
                    .filter(|p| p.groups.contains(name))
                    .map(|p| p.key.clone())
                    .collect();
                let change = match self.groups.get(name) {
                    None => GroupChange::New,
                    Some(before) if *before != members => GroupChange::Members,
                    Some(_) => GroupChange::None,
                };
                Group {
                    name: name.clone(),
                    members,
                    change,
                }
            })
            .collect();
        Changes {
            added,
            changed,
            removed: self
                .written
                .keys()
                .filter(|k| !keys.contains(k.as_str()))
                .cloned()
                .collect(),
            groups,
        }
    }

    /// The source as jsmctl opens it, with its secrets in the environment.
    pub fn source(&self) -> Source {
        let spec = match &self.backing {
            Backing::File(dir) => format!("file:{}", dir.path().join("people.csv").display()),
            Backing::Scim { server, .. } => server.spec(),
            Backing::Ldap(slapd) => slapd.spec(),
        };
        let env = |name: &str| {
            let value = match name {
                ENV_SCIM_TOKEN => jsm_testkit::servers::scim::TOKEN,
                ENV_LDAP_BIND_DN => READER_DN,
                ENV_LDAP_PASSWORD => READER_PW,
                _ => return None,
            };
            Some(value.to_string())
        };
        Source::parse_with(&spec, &self.mapping, &env).unwrap()
    }

    /// Plans a full reconcile with `engine`.
    pub async fn plan_on(&self, engine: &Engine) -> Reconciliation {
        let source = self.source();
        engine
            .plan_reconcile(&Request::new(&source, &self.mapping, "mapping.toml"))
            .await
            .unwrap()
    }

    /// Plans a full reconcile on the world's engine.
    pub async fn plan(&self, w: &World) -> Reconciliation {
        self.plan_on(&w.engine).await
    }

    /// Plans, stores and applies (which must complete), and keeps the watermark.
    pub async fn run(&self, w: &World) -> Reconciliation {
        let r = self.plan(w).await;
        apply(w, &r).await;
        w.engine.save_watermark(&r.watermark).await.unwrap();
        r
    }
}

/// Stores and applies a planned reconcile; the apply must complete.
pub async fn apply(w: &World, r: &Reconciliation) {
    w.engine.submit(&r.plan).await.unwrap();
    let report = w.engine.apply(&r.plan, &Quiet).await.unwrap();
    assert!(report.complete(), "{report:#?}");
}

/// A file row with the desks, organizations, Jira groups and kind the mapping makes of the person's groups.
fn row(mapping: &Mapping, p: &Person) -> String {
    let mut d = DesiredPerson {
        source_groups: p.groups.clone(),
        ..DesiredPerson::default()
    };
    mapping.apply(&mut d);
    format!(
        "{},{},{},{},{},{},{},{}",
        p.email,
        p.name,
        p.key,
        d.kind.as_str(),
        p.active,
        d.service_desks.join(";"),
        d.organizations.join(";"),
        d.groups.join(";")
    )
}

/// Users created or replaced (PUT), groups created or replaced, then the people gone deleted.
async fn write_scim(
    server: &ScimServer,
    users: &mut BTreeMap<String, String>,
    groups: &mut BTreeMap<String, String>,
    changes: &Changes<'_>,
) {
    for p in changes.added.iter().chain(&changes.changed) {
        let body = json!({
            "userName": p.key,
            "externalId": p.key,
            "displayName": p.name,
            "emails": [{ "value": p.email, "type": "work", "primary": true }],
            "active": p.active,
        });
        match users.get(&p.key) {
            Some(id) => server.replace_user(id, body).await,
            None => {
                let id = server.add_user(body).await;
                users.insert(p.key.clone(), id);
            }
        }
    }
    for g in &changes.groups {
        let ids: Vec<&str> = g.members.iter().map(|k| users[k].as_str()).collect();
        match g.change {
            GroupChange::New => {
                let id = server.add_group(&g.name, &ids).await;
                groups.insert(g.name.clone(), id);
            }
            GroupChange::Members => server.replace_group(&groups[&g.name], &g.name, &ids).await,
            GroupChange::None => {}
        }
    }
    for key in &changes.removed {
        let id = users.remove(key).unwrap();
        server.delete(&format!("Users/{id}")).await;
    }
}

/// One ldapadd run: people added or modified, groups added or given their members, the people gone deleted.
fn write_ldap(slapd: &Slapd, changes: &Changes<'_>) {
    let mut l = Ldif::new();
    let status = |p: &Person| if p.active { "staff" } else { "disabled" };
    for p in &changes.added {
        l.add_person(
            &p.key,
            &[
                ("cn", &p.name),
                ("sn", &p.key),
                ("displayName", &p.name),
                ("mail", &p.email),
                ("employeeType", status(p)),
            ],
        );
    }
    for p in &changes.changed {
        l.replace(
            &person_dn(&p.key),
            &[
                ("cn", &[&p.name]),
                ("displayName", &[&p.name]),
                ("mail", &[&p.email]),
                ("employeeType", &[status(p)]),
            ],
        );
    }
    for g in &changes.groups {
        let dns: Vec<String> = g.members.iter().map(|k| person_dn(k)).collect();
        match g.change {
            GroupChange::New => l.add_group(&g.name, &dns),
            GroupChange::Members => l.replace_members(&g.name, &dns),
            GroupChange::None => &mut l,
        };
    }
    for key in &changes.removed {
        l.delete(&person_dn(key));
    }
    slapd.apply(&l);
}
