use std::collections::BTreeSet;

use super::AccountKey;

/// Slot of a group in the site; slots of deleted groups stay empty so keys never shift.
pub type GroupKey = u32;

/// A Jira group and its direct members.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub group_id: String,
    pub name: String,
    pub members: BTreeSet<AccountKey>,
}

impl Group {
    /// An empty group.
    pub fn new(group_id: String, name: String) -> Self {
        Self {
            group_id,
            name,
            members: BTreeSet::new(),
        }
    }
}
