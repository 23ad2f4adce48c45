//! The mapping file (TOML, `version = 1`): what source groups mean in JSM, how each managed target's
//! memberships are kept, who is in scope, and the LDAP/SCIM reading settings.
//!
//! ```toml
//! version = 1
//!
//! [[groups]]
//! source = "IT Staff"
//! kind = "agent"
//! jira_groups = ["jira-servicemanagement-users"]
//!
//! [[groups]]
//! source = "Customers-EU"
//! service_desks = ["HR"]
//! organizations = ["Acme EU"]
//!
//! [targets."group:jira-servicemanagement-users"]
//! mode = "authoritative"          # default "additive"
//!
//! [[scope]]                        # clauses ANDed within a group, groups ORed
//! name = "staff"
//! clauses = [
//!   { attribute = "department", op = "eq", value = "IT" },
//!   { attribute = "mail", op = "present" },
//! ]
//!
//! [ldap]
//! user_filter = "(objectClass=inetOrgPerson)"
//! disabled_when = [{ attribute = "employeeType", value = "disabled" }]
//!
//! [scim]
//! filter = 'userType eq "Employee"'
//! ```
//!
//! Every table refuses unknown keys, and every error names the key and its line.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};
use crate::ldap::LdapFlavor;
use crate::model::{DesiredPerson, Kind, push_unique};

/// A parsed mapping file. `Mapping::default()` maps nothing, keeps everyone in scope and uses default settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// The file format version; only `1` exists.
    #[serde(deserialize_with = "version_one")]
    pub version: u32,
    /// What each source group means.
    #[serde(default)]
    pub groups: Vec<GroupRule>,
    /// Per-target membership settings, keyed `group:NAME`, `service_desk:KEY` or `organization:NAME`.
    #[serde(default)]
    pub targets: BTreeMap<Target, TargetSettings>,
    /// Scoping filter: a person is in scope when every clause of at least one group holds. Empty: everyone.
    #[serde(default)]
    pub scope: Vec<ScopeGroup>,
    /// How to read an LDAP/AD source.
    #[serde(default)]
    pub ldap: LdapSettings,
    /// How to read a SCIM source.
    #[serde(default)]
    pub scim: ScimSettings,
}

impl Default for Mapping {
    fn default() -> Self {
        Self {
            version: 1,
            groups: Vec::new(),
            targets: BTreeMap::new(),
            scope: Vec::new(),
            ldap: LdapSettings::default(),
            scim: ScimSettings::default(),
        }
    }
}

fn version_one<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<u32, D::Error> {
    let v = u32::deserialize(d)?;
    if v == 1 {
        Ok(v)
    } else {
        Err(serde::de::Error::custom(format!(
            "unsupported mapping version {v}: this jsmctl reads version = 1"
        )))
    }
}

/// What one source group means in JSM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupRule {
    /// The group's name at the source (compared ignoring ASCII case).
    #[serde(deserialize_with = "non_empty")]
    pub source: String,
    /// Members become agents (`agent`) or stay customers; agent wins when rules disagree.
    #[serde(default)]
    pub kind: Option<Kind>,
    /// Service desks (project keys) members are customers of.
    #[serde(default)]
    pub service_desks: Vec<String>,
    /// JSM organizations members belong to.
    #[serde(default)]
    pub organizations: Vec<String>,
    /// Jira groups members belong to.
    #[serde(default)]
    pub jira_groups: Vec<String>,
}

fn non_empty<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    let s = String::deserialize(d)?;
    if s.trim().is_empty() {
        Err(serde::de::Error::custom("must not be empty"))
    } else {
        Ok(s)
    }
}

/// A managed membership target in JSM.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    /// A Jira group, by name.
    Group(String),
    /// A JSM service desk, by project key (or id).
    ServiceDesk(String),
    /// A JSM organization, by name.
    Organization(String),
}

impl Target {
    /// Parses `group:NAME`, `service_desk:KEY` or `organization:NAME`.
    pub fn parse(s: &str) -> std::result::Result<Self, String> {
        let (prefix, name) = s.split_once(':').ok_or_else(|| {
            format!("target `{s}` must be `group:NAME`, `service_desk:KEY` or `organization:NAME`")
        })?;
        if name.trim().is_empty() {
            return Err(format!("target `{s}` has an empty name"));
        }
        let name = name.to_owned();
        match prefix {
            "group" => Ok(Target::Group(name)),
            "service_desk" => Ok(Target::ServiceDesk(name)),
            "organization" => Ok(Target::Organization(name)),
            other => Err(format!(
                "unknown target kind `{other}` in `{s}` (expected group, service_desk or organization)"
            )),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Group(n) => write!(f, "group:{n}"),
            Target::ServiceDesk(n) => write!(f, "service_desk:{n}"),
            Target::Organization(n) => write!(f, "organization:{n}"),
        }
    }
}

impl Serialize for Target {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Target {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Target::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Settings of one managed target.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetSettings {
    /// Additive (default) or authoritative memberships.
    #[serde(default)]
    pub mode: MembershipMode,
}

/// How the engine keeps a target's memberships.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MembershipMode {
    /// Only adds the members the source lists (the default).
    #[default]
    Additive,
    /// Also removes members the source does not list.
    Authoritative,
}

/// One scoping group: its clauses are ANDed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeGroup {
    /// A name to show in traces.
    #[serde(default)]
    pub name: Option<String>,
    /// The clauses, all of which must hold.
    #[serde(deserialize_with = "at_least_one_clause")]
    pub clauses: Vec<Clause>,
}

fn at_least_one_clause<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Vec<Clause>, D::Error> {
    let clauses = Vec::<Clause>::deserialize(d)?;
    if clauses.is_empty() {
        Err(serde::de::Error::custom(
            "a scope group needs at least one clause (an empty group would admit everyone)",
        ))
    } else {
        Ok(clauses)
    }
}

/// One scoping clause on an attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, try_from = "RawClause")]
pub struct Clause {
    /// The attribute: a raw source attribute (names compared ignoring ASCII case), else one of `email`,
    /// `display_name`, `external_id`, `source_id`, `kind`, `active`, `source_groups`, `service_desks`,
    /// `organizations`, `groups`.
    pub attribute: String,
    /// The comparison.
    pub op: Op,
    /// The value compared with (none for `present`/`absent`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Compare values case-sensitively (default: ignoring case).
    #[serde(default)]
    pub case_sensitive: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClause {
    attribute: String,
    op: Op,
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    case_sensitive: bool,
}

impl TryFrom<RawClause> for Clause {
    type Error = String;
    fn try_from(r: RawClause) -> std::result::Result<Self, String> {
        if r.attribute.trim().is_empty() {
            return Err("`attribute` must not be empty".into());
        }
        match (r.op.needs_value(), &r.value) {
            (true, None) => return Err(format!("op `{}` needs a `value`", r.op.as_str())),
            (false, Some(_)) => return Err(format!("op `{}` takes no `value`", r.op.as_str())),
            _ => {}
        }
        Ok(Clause {
            attribute: r.attribute,
            op: r.op,
            value: r.value,
            case_sensitive: r.case_sensitive,
        })
    }
}

/// A scoping comparison; on a multi-valued attribute `eq`, `contains` and `starts_with` hold when any value
/// does, and `ne` when no value equals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Some value equals.
    Eq,
    /// No value equals (an absent attribute qualifies).
    Ne,
    /// Some value contains the text.
    Contains,
    /// Some value starts with the text.
    StartsWith,
    /// The attribute has a non-empty value.
    Present,
    /// The attribute has no non-empty value.
    Absent,
}

impl Op {
    /// The mapping-file name of the op.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::Contains => "contains",
            Op::StartsWith => "starts_with",
            Op::Present => "present",
            Op::Absent => "absent",
        }
    }

    fn needs_value(self) -> bool {
        !matches!(self, Op::Present | Op::Absent)
    }
}

/// Which LDAP attribute says which group a user is in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LdapMembership {
    /// Groups' `member` values.
    Member,
    /// Users' `memberOf` values.
    MemberOf,
    /// Both, merged (the default).
    #[default]
    Both,
}

/// A rule that marks an LDAP user disabled: the attribute present (no `value`) or holding `value`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisabledRule {
    /// The attribute, e.g. `employeeType` or `pwdAccountLockedTime`.
    pub attribute: String,
    /// The value that means disabled (compared ignoring case); none: presence means disabled.
    #[serde(default)]
    pub value: Option<String>,
}

/// The `[ldap]` section: filters, attribute names, paging. Unset fields take the flavor's defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LdapSettings {
    /// `openldap`, `active_directory`, or `auto` (the default: asks the root DSE).
    pub flavor: LdapFlavor,
    /// User filter; default `(objectClass=inetOrgPerson)`, on AD `(&(objectCategory=person)(objectClass=user))`.
    pub user_filter: Option<String>,
    /// Group filter; default `(|(objectClass=groupOfNames)(objectClass=group))`.
    pub group_filter: Option<String>,
    /// Base DN for groups, when not the source's base DN.
    pub group_base_dn: Option<String>,
    /// The email attribute (default `mail`).
    pub email_attribute: String,
    /// Display name attributes, first present wins (default `displayName`, `cn`).
    pub display_name_attributes: Vec<String>,
    /// The stable id attribute; default `entryUUID`, on AD `objectGUID`.
    pub id_attribute: Option<String>,
    /// The group name attribute (default `cn`).
    pub group_name_attribute: String,
    /// Group member attribute (default `member`).
    pub member_attribute: String,
    /// User membership attribute (default `memberOf`).
    pub member_of_attribute: String,
    /// Which membership attributes to use (default both).
    pub membership: LdapMembership,
    /// Count members of nested groups as members of the outer group (default true).
    pub nested_groups: bool,
    /// Extra rules that mark a user disabled (AD's `userAccountControl` bit 0x2 always does).
    pub disabled_when: Vec<DisabledRule>,
    /// Page size of the RFC 2696 paged searches (default 500; AD's MaxPageSize is 1000).
    pub page_size: u32,
    /// Upgrade `ldap://` with StartTLS.
    pub starttls: bool,
    /// Connection and per-operation timeout in seconds (default 30).
    pub timeout_seconds: u64,
}

impl Default for LdapSettings {
    fn default() -> Self {
        Self {
            flavor: LdapFlavor::Auto,
            user_filter: None,
            group_filter: None,
            group_base_dn: None,
            email_attribute: "mail".into(),
            display_name_attributes: vec!["displayName".into(), "cn".into()],
            id_attribute: None,
            group_name_attribute: "cn".into(),
            member_attribute: "member".into(),
            member_of_attribute: "memberOf".into(),
            membership: LdapMembership::Both,
            nested_groups: true,
            disabled_when: Vec::new(),
            page_size: 500,
            starttls: false,
            timeout_seconds: 30,
        }
    }
}

/// The `[scim]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScimSettings {
    /// A SCIM filter for `/Users`, e.g. `userType eq "Employee"`.
    pub filter: Option<String>,
    /// `count` asked per page (default 100).
    pub page_size: u32,
    /// Read `/Groups` for memberships (default true).
    pub read_groups: bool,
    /// Per-request timeout in seconds (default 30).
    pub timeout_seconds: u64,
}

impl Default for ScimSettings {
    fn default() -> Self {
        Self {
            filter: None,
            page_size: 100,
            read_groups: true,
            timeout_seconds: 30,
        }
    }
}

/// A list of a group rule: its key, its names, and the kind of target they name.
type ListRef<'a> = (&'static str, &'a Vec<String>, fn(String) -> Target);

/// A target name the mapping uses, and where, so the engine can check it exists in JSM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reference {
    /// The target named.
    pub target: Target,
    /// The mapping key naming it, e.g. `groups[2].service_desks`.
    pub key: String,
}

/// Why a person is in or out of scope, clause by clause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScopeTrace {
    /// The verdict.
    pub in_scope: bool,
    /// Each scope group's result; empty when the mapping has no scope (everyone is in).
    pub groups: Vec<ScopeGroupTrace>,
}

/// One scope group's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScopeGroupTrace {
    /// The group's name, else `scope[i]`.
    pub name: String,
    /// True when every clause held.
    pub matched: bool,
    /// Each clause's result.
    pub clauses: Vec<ClauseTrace>,
}

/// One clause's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClauseTrace {
    /// The attribute looked at.
    pub attribute: String,
    /// The comparison.
    pub op: Op,
    /// The value compared with.
    pub value: Option<String>,
    /// What the person has for the attribute.
    pub actual: Vec<String>,
    /// Whether the clause held.
    pub matched: bool,
}

impl fmt::Display for ScopeTrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.groups.is_empty() {
            return write!(f, "in scope (the mapping has no scoping filter)");
        }
        write!(
            f,
            "{}",
            if self.in_scope {
                "in scope"
            } else {
                "out of scope"
            }
        )?;
        for g in &self.groups {
            write!(f, "\n  {} {}", if g.matched { "✓" } else { "✗" }, g.name)?;
            for c in &g.clauses {
                let value = c
                    .value
                    .as_deref()
                    .map(|v| format!(" {v:?}"))
                    .unwrap_or_default();
                write!(
                    f,
                    "\n    {} {} {}{value} (has {:?})",
                    if c.matched { "✓" } else { "✗" },
                    c.attribute,
                    c.op.as_str(),
                    c.actual
                )?;
            }
        }
        Ok(())
    }
}

impl Mapping {
    /// Reads and parses a mapping file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text, &path.display().to_string())
    }

    /// Parses mapping TOML; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self> {
        toml::from_str(text).map_err(|e| Error::Mapping {
            origin: origin.to_owned(),
            message: e.to_string(),
        })
    }

    /// The group rules whose source group the person is in.
    pub fn rules_for<'a>(&'a self, person: &DesiredPerson) -> Vec<&'a GroupRule> {
        self.groups
            .iter()
            .filter(|r| {
                person
                    .source_groups
                    .iter()
                    .any(|g| g.eq_ignore_ascii_case(r.source.trim()))
            })
            .collect()
    }

    /// Adds the desks, organizations, Jira groups and kind that the person's source groups mean.
    pub fn apply(&self, person: &mut DesiredPerson) {
        let rules: Vec<GroupRule> = self.rules_for(person).into_iter().cloned().collect();
        for rule in rules {
            for d in &rule.service_desks {
                push_unique(&mut person.service_desks, d);
            }
            for o in &rule.organizations {
                push_unique(&mut person.organizations, o);
            }
            for g in &rule.jira_groups {
                push_unique(&mut person.groups, g);
            }
            if let Some(kind) = rule.kind {
                person.kind = person.kind.max(kind);
            }
        }
    }

    /// The membership mode of a target (additive unless the mapping says otherwise).
    pub fn mode(&self, target: &Target) -> MembershipMode {
        self.targets.get(target).map(|t| t.mode).unwrap_or_default()
    }

    /// Every target the mapping names, with the key naming it, for the engine to check against the site.
    pub fn references(&self) -> Vec<Reference> {
        let mut out = Vec::new();
        for (i, rule) in self.groups.iter().enumerate() {
            let lists: [ListRef<'_>; 3] = [
                ("service_desks", &rule.service_desks, Target::ServiceDesk),
                ("organizations", &rule.organizations, Target::Organization),
                ("jira_groups", &rule.jira_groups, Target::Group),
            ];
            for (key, names, make) in lists {
                for name in names {
                    out.push(Reference {
                        target: make(name.clone()),
                        key: format!("groups[{i}].{key}"),
                    });
                }
            }
        }
        for target in self.targets.keys() {
            out.push(Reference {
                target: target.clone(),
                key: format!("targets.\"{target}\""),
            });
        }
        out
    }

    /// Evaluates the scoping filter for a person, clause by clause (every clause, for the trace).
    pub fn in_scope(&self, person: &DesiredPerson) -> ScopeTrace {
        let groups: Vec<ScopeGroupTrace> = self
            .scope
            .iter()
            .enumerate()
            .map(|(i, g)| {
                let clauses: Vec<ClauseTrace> =
                    g.clauses.iter().map(|c| evaluate(c, person)).collect();
                ScopeGroupTrace {
                    name: g.name.clone().unwrap_or_else(|| format!("scope[{i}]")),
                    matched: clauses.iter().all(|c| c.matched),
                    clauses,
                }
            })
            .collect();
        ScopeTrace {
            in_scope: groups.is_empty() || groups.iter().any(|g| g.matched),
            groups,
        }
    }
}

/// The values a person has for an attribute name: raw attributes first, then the built-in fields.
fn attribute_values(person: &DesiredPerson, name: &str) -> Vec<String> {
    if let Some((_, v)) = person
        .attributes
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
    {
        return v.clone();
    }
    let one = |v: Option<&String>| v.into_iter().cloned().collect::<Vec<_>>();
    match name.to_ascii_lowercase().as_str() {
        "email" => vec![person.email.clone()],
        "display_name" => one(person.display_name.as_ref()),
        "external_id" => one(person.external_id.as_ref()),
        "source_id" => vec![person.source_id.clone()],
        "kind" => vec![person.kind.as_str().to_owned()],
        "active" => vec![person.active.to_string()],
        "source_groups" => person.source_groups.clone(),
        "service_desks" => person.service_desks.clone(),
        "organizations" => person.organizations.clone(),
        "groups" => person.groups.clone(),
        _ => Vec::new(),
    }
}

fn evaluate(clause: &Clause, person: &DesiredPerson) -> ClauseTrace {
    let actual = attribute_values(person, &clause.attribute);
    let fold = |s: &str| {
        if clause.case_sensitive {
            s.to_owned()
        } else {
            s.to_lowercase()
        }
    };
    let wanted = clause.value.as_deref().map(fold).unwrap_or_default();
    let present: Vec<String> = actual
        .iter()
        .filter(|v| !v.trim().is_empty())
        .map(|v| fold(v))
        .collect();
    let matched = match clause.op {
        Op::Eq => present.contains(&wanted),
        Op::Ne => !present.contains(&wanted),
        Op::Contains => present.iter().any(|v| v.contains(&wanted)),
        Op::StartsWith => present.iter().any(|v| v.starts_with(&wanted)),
        Op::Present => !present.is_empty(),
        Op::Absent => present.is_empty(),
    };
    ClauseTrace {
        attribute: clause.attribute.clone(),
        op: clause.op,
        value: clause.value.clone(),
        actual,
        matched,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        Mapping::from_toml(text, "mapping.toml")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn errors_name_the_key_and_line() {
        let e = err("version = 1\n\n[[groups]]\nsource = \"IT\"\nkinds = \"agent\"\n");
        assert!(e.contains("line 5") && e.contains("kinds"), "{e}");
        let e = err("version = 2\n");
        assert!(
            e.contains("line 1") && e.contains("unsupported mapping version 2"),
            "{e}"
        );
        let e = err("groups = []\n");
        assert!(e.contains("version"), "{e}");
        let e = err("version = 1\n[targets.\"team:x\"]\nmode = \"authoritative\"\n");
        assert!(e.contains("unknown target kind `team`"), "{e}");
        let e = err("version = 1\n[targets.\"group:x\"]\nmode = \"strict\"\n");
        assert!(e.contains("line 3") && e.contains("strict"), "{e}");
        let e = err(
            "version = 1\n[[scope]]\nclauses = [{ attribute = \"a\", op = \"present\", value = \"x\" }]\n",
        );
        assert!(
            e.contains("line 3") && e.contains("takes no `value`"),
            "{e}"
        );
        let e = err("version = 1\n[[scope]]\nclauses = [{ attribute = \"a\", op = \"eq\" }]\n");
        assert!(e.contains("needs a `value`"), "{e}");
        let e = err("version = 1\n[[scope]]\nclauses = []\n");
        assert!(e.contains("at least one clause"), "{e}");
        let e = err("version = 1\n[ldap]\npage_sise = 10\n");
        assert!(e.contains("line 3") && e.contains("page_sise"), "{e}");
    }

    const SAMPLE: &str = r#"
version = 1

[[groups]]
source = "IT Staff"
kind = "agent"
jira_groups = ["jira-servicemanagement-users"]

[[groups]]
source = "customers-eu"
service_desks = ["HR"]
organizations = ["Acme EU"]

[[groups]]
source = "Everyone"
kind = "customer"
service_desks = ["HR", "IT"]

[targets."group:jira-servicemanagement-users"]
mode = "authoritative"

[targets."service_desk:HR"]

[[scope]]
name = "IT department"
clauses = [
  { attribute = "department", op = "eq", value = "it" },
  { attribute = "mail", op = "present" },
]

[[scope]]
[[scope.clauses]]
attribute = "source_groups"
op = "starts_with"
value = "Customers-"
"#;

    fn person(groups: &[&str]) -> DesiredPerson {
        DesiredPerson {
            source_id: "1".into(),
            email: "a@example.test".into(),
            active: true,
            source_groups: groups.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn apply_maps_groups_and_agent_wins() {
        let m = Mapping::from_toml(SAMPLE, "m").unwrap();
        let mut p = person(&["it staff", "Customers-EU", "Everyone"]);
        m.apply(&mut p);
        assert_eq!(p.kind, Kind::Agent);
        assert_eq!(p.groups, vec!["jira-servicemanagement-users"]);
        assert_eq!(p.service_desks, vec!["HR", "IT"]);
        assert_eq!(p.organizations, vec!["Acme EU"]);
        let mut q = person(&["Everyone"]);
        m.apply(&mut q);
        assert_eq!(q.kind, Kind::Customer);
        assert_eq!(m.rules_for(&q).len(), 1);
    }

    #[test]
    fn modes_and_references() {
        let m = Mapping::from_toml(SAMPLE, "m").unwrap();
        assert_eq!(
            m.mode(&Target::Group("jira-servicemanagement-users".into())),
            MembershipMode::Authoritative
        );
        assert_eq!(
            m.mode(&Target::ServiceDesk("HR".into())),
            MembershipMode::Additive
        );
        assert_eq!(
            m.mode(&Target::Organization("nope".into())),
            MembershipMode::Additive
        );
        let refs = m.references();
        assert!(refs.contains(&Reference {
            target: Target::ServiceDesk("IT".into()),
            key: "groups[2].service_desks".into()
        }));
        assert!(refs.contains(&Reference {
            target: Target::Group("jira-servicemanagement-users".into()),
            key: "targets.\"group:jira-servicemanagement-users\"".into()
        }));
    }

    #[test]
    fn scope_ands_clauses_and_ors_groups_with_a_trace() {
        let m = Mapping::from_toml(SAMPLE, "m").unwrap();
        let mut p = person(&[]);
        p.attributes.insert("Department".into(), vec!["IT".into()]);
        p.attributes
            .insert("mail".into(), vec!["a@example.test".into()]);
        let t = m.in_scope(&p);
        assert!(t.in_scope);
        assert_eq!(t.groups[0].name, "IT department");
        assert!(t.groups[0].matched && !t.groups[1].matched);

        let mut q = person(&["customers-eu"]);
        q.attributes
            .insert("department".into(), vec!["Sales".into()]);
        let t = m.in_scope(&q);
        assert!(t.in_scope, "{t}");
        assert_eq!(t.groups[0].clauses[0].actual, vec!["Sales"]);
        assert!(!t.groups[0].clauses[0].matched && !t.groups[0].clauses[1].matched);
        assert_eq!(t.groups[1].name, "scope[1]");

        let r = person(&["Other"]);
        let t = m.in_scope(&r);
        assert!(!t.in_scope);
        assert!(t.to_string().starts_with("out of scope"), "{t}");
        assert!(Mapping::default().in_scope(&r).in_scope);
    }

    #[test]
    fn ops() {
        let mut p = person(&[]);
        p.attributes
            .insert("title".into(), vec!["Senior Engineer".into(), "".into()]);
        let c = |op: Op, value: Option<&str>, cs: bool| Clause {
            attribute: "title".into(),
            op,
            value: value.map(str::to_owned),
            case_sensitive: cs,
        };
        assert!(evaluate(&c(Op::Eq, Some("senior engineer"), false), &p).matched);
        assert!(!evaluate(&c(Op::Eq, Some("senior engineer"), true), &p).matched);
        assert!(evaluate(&c(Op::Ne, Some("intern"), false), &p).matched);
        assert!(evaluate(&c(Op::Contains, Some("ENGIN"), false), &p).matched);
        assert!(evaluate(&c(Op::StartsWith, Some("senior"), false), &p).matched);
        assert!(!evaluate(&c(Op::StartsWith, Some("engineer"), false), &p).matched);
        assert!(evaluate(&c(Op::Present, None, false), &p).matched);
        assert!(!evaluate(&c(Op::Absent, None, false), &p).matched);
        let mut missing = c(Op::Absent, None, false);
        missing.attribute = "manager".into();
        assert!(evaluate(&missing, &p).matched);
        let mut builtin = c(Op::Eq, Some("true"), false);
        builtin.attribute = "active".into();
        assert!(evaluate(&builtin, &p).matched);
    }
}
