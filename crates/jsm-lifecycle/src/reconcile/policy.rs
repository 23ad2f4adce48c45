//! The `[reconcile]` section of the policy file: what a reconcile does in each synchronization situation,
//! when an incremental run must be a full one, and how long a run may hold the site's lock.
//!
//! ```toml
//! [reconcile]
//! linked = "update"          # or "report"
//! unlinked = "link"          # or "report"
//! unmatched = "create"       # or "report"
//! deleted = "deactivate"     # or "report"
//! disputed = "report"        # the only reaction: a person matching two accounts is never acted on
//! orphan = "report"          # or "deactivate"
//! full_every_hours = 24      # an --incremental run reads everything when the last full read is older
//! lock_minutes = 360         # the run lock's lease (a crashed run blocks others at most this long)
//! ```

use serde::Deserialize;

/// Reactions and run settings; the defaults are those of the situation table in the docs.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReconcilePolicy {
    /// Source person and account linked, both active.
    pub linked: LinkedReaction,
    /// An account found by a matching rule, not linked yet.
    pub unlinked: UnlinkedReaction,
    /// In the source, no account.
    pub unmatched: UnmatchedReaction,
    /// A linked account whose person left the source or its scope, or is disabled there.
    pub deleted: DeletedReaction,
    /// Several candidate accounts.
    pub disputed: DisputedReaction,
    /// An active account in a managed group or desk that no source person explains.
    pub orphan: OrphanReaction,
    /// An incremental run reads the whole source when its last full read is older than this (0: never).
    pub full_every_hours: u32,
    /// How long a run holds the site's lock before another run may take it over.
    pub lock_minutes: u32,
}

impl Default for ReconcilePolicy {
    fn default() -> Self {
        Self {
            linked: LinkedReaction::Update,
            unlinked: UnlinkedReaction::Link,
            unmatched: UnmatchedReaction::Create,
            deleted: DeletedReaction::Deactivate,
            disputed: DisputedReaction::Report,
            orphan: OrphanReaction::Report,
            full_every_hours: 24,
            lock_minutes: 360,
        }
    }
}

/// Reaction to `linked`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkedReaction {
    /// Bring memberships (and activation) to what the source says.
    Update,
    /// Only report the differences.
    Report,
}

/// Reaction to `unlinked`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnlinkedReaction {
    /// Link the account, then treat it as linked.
    Link,
    /// Only report the match.
    Report,
}

/// Reaction to `unmatched`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnmatchedReaction {
    /// Create a customer, or provision an agent.
    Create,
    /// Only report the missing account.
    Report,
}

/// Reaction to `deleted` (and out of scope).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeletedReaction {
    /// Deactivate the account (a portal-only customer: remove it from the managed desks and organizations).
    Deactivate,
    /// Only report it.
    Report,
}

/// Reaction to `disputed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisputedReaction {
    /// Report it; a person is never acted on while two accounts could be theirs.
    Report,
}

/// Reaction to `orphan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrphanReaction {
    /// Report it.
    Report,
    /// Deactivate it (a portal-only customer: remove it from the managed desks and organizations).
    Deactivate,
}

#[cfg(test)]
mod tests {
    use crate::policy::Policy;

    #[test]
    fn defaults_are_the_situation_table_and_unknown_keys_are_refused() {
        let p = Policy::from_toml("version = 1\n", "p.toml").unwrap();
        assert_eq!(p.reconcile, super::ReconcilePolicy::default());
        let p = Policy::from_toml(
            "version = 1\n[reconcile]\norphan = \"deactivate\"\nfull_every_hours = 0\n",
            "p.toml",
        )
        .unwrap();
        assert_eq!(p.reconcile.orphan, super::OrphanReaction::Deactivate);
        assert_eq!(p.reconcile.full_every_hours, 0);
        let e = Policy::from_toml("version = 1\n[reconcile]\norphans = \"report\"\n", "p.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("orphans") && e.contains("line 3"), "{e}");
        let e = Policy::from_toml("version = 1\n[reconcile]\ndisputed = \"link\"\n", "p.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("link"), "{e}");
    }
}
