//! One handler per area, borrowed from the [`Client`](crate::Client): `client.users().get(id)`.

pub mod admin;
pub mod customers;
pub mod groups;
pub mod oauth;
pub mod organizations;
pub mod roles;
pub mod scim;
pub mod service_desks;
pub mod users;
pub mod webhooks;

/// The outcome of a change that is safe to repeat.
///
/// `AlreadyApplied` is reported only when the server's answer (or a read the call makes first) shows the state
/// already held. Where Atlassian answers the same either way (JSM's 204 for desk membership, for instance), the
/// call reports `Applied` and its documentation says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// This call made the change, or the server does not say whether it already held.
    Applied,
    /// The target state already held (e.g. already a member, already deleted).
    AlreadyApplied,
}

/// The outcome of a create that resolves duplicates to the existing object.
#[derive(Debug, Clone, PartialEq)]
pub enum Created<T> {
    /// A new object.
    New(T),
    /// The object already existed (or an earlier attempt of this call created it).
    Existing(T),
}

impl<T> Created<T> {
    /// The object, new or existing.
    pub fn into_inner(self) -> T {
        match self {
            Created::New(t) | Created::Existing(t) => t,
        }
    }

    /// The object, new or existing.
    pub fn get(&self) -> &T {
        match self {
            Created::New(t) | Created::Existing(t) => t,
        }
    }

    /// True when this call created it.
    pub fn is_new(&self) -> bool {
        matches!(self, Created::New(_))
    }
}

/// A Jira group, by id (preferred: names can change) or by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupRef {
    /// `groupId`.
    Id(String),
    /// `groupname`.
    Name(String),
}

impl GroupRef {
    /// By id.
    pub fn id(id: impl Into<String>) -> Self {
        GroupRef::Id(id.into())
    }

    /// By name.
    pub fn name(name: impl Into<String>) -> Self {
        GroupRef::Name(name.into())
    }

    pub(crate) fn apply(&self, req: crate::Request) -> crate::Request {
        match self {
            GroupRef::Id(id) => req.query("groupId", id),
            GroupRef::Name(name) => req.query("groupname", name),
        }
    }
}

/// The JSM `{"accountIds": [...]}` body for any list of account ids.
pub(crate) fn account_ids(ids: &[impl AsRef<str>]) -> jsm_proto::jsm::AccountIds {
    jsm_proto::jsm::AccountIds {
        account_ids: ids.iter().map(|id| id.as_ref().to_string()).collect(),
        usernames: Vec::new(),
    }
}
