//! What a source says about people: the desired state the engine reconciles Atlassian towards.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Whether a person is a portal-only customer or a licensed agent.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A portal-only JSM customer (the default).
    #[default]
    Customer,
    /// A licensed agent.
    Agent,
}

impl Kind {
    /// The wire name, `customer` or `agent`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Customer => "customer",
            Kind::Agent => "agent",
        }
    }
}

/// One person as the source wants them to be.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesiredPerson {
    /// Stable id at the source: SCIM `id`, LDAP `entryUUID`/`objectGUID`; for files the external id, else the
    /// lowercased email.
    pub source_id: String,
    /// Email address as the source spells it (compare case-insensitively).
    pub email: String,
    /// Display name, when the source has one.
    pub display_name: Option<String>,
    /// External id (SCIM `externalId`, LDAP GUID/UUID, the file's `external_id` column).
    pub external_id: Option<String>,
    /// Customer or agent.
    pub kind: Kind,
    /// False when the source disables the person (SCIM `active: false`, AD account disabled, file `active`).
    pub active: bool,
    /// JSM service desks (project keys or ids) the person should be a customer of.
    pub service_desks: Vec<String>,
    /// JSM organizations the person should belong to.
    pub organizations: Vec<String>,
    /// Jira groups the person should belong to.
    pub groups: Vec<String>,
    /// Group names at the source, which the mapping turns into desks, organizations and groups.
    pub source_groups: Vec<String>,
    /// Raw attributes as the source gave them, for scoping clauses.
    pub attributes: BTreeMap<String, Vec<String>>,
}

/// A directory entry a source read but could not turn into a person (no usable email, say).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    /// The entry's id or DN at the source.
    pub source_id: String,
    /// Why it was skipped.
    pub reason: String,
}

/// Everything one read of a source returned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The people read, in source order.
    pub people: Vec<DesiredPerson>,
    /// Where an incremental read should start next time (file hash, max `meta.lastModified`, max
    /// `modifyTimestamp`/`uSNChanged`); `None` when the source gave nothing to remember.
    pub watermark: Option<String>,
    /// True for a full read; false for an incremental one, whose absent people are not deletions.
    pub complete: bool,
    /// Directory entries read but not usable as people (never filled by the file source, which fails instead).
    pub skipped: Vec<Skipped>,
}

/// Adds `value` to `list` unless an equal entry (ignoring ASCII case) is already there.
pub(crate) fn push_unique(list: &mut Vec<String>, value: &str) {
    if !list.iter().any(|v| v.eq_ignore_ascii_case(value)) {
        list.push(value.to_owned());
    }
}
