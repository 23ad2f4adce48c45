//! Synchronization situations, as midPoint names them: from the links, the matching verdict, the scoping filter
//! and whether the source still has the person. Situations are about links only; what to do about each is the
//! policy's `[reconcile]` reaction.

use std::collections::HashSet;

use jsm_sources::DesiredPerson;
use jsm_store::Link;
use serde::Serialize;

use super::matching::{LinkIndex, Matched, Rule, Verdict};
use super::observe::Observed;

/// A synchronization situation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Situation {
    /// Source person and account linked (the account is brought to what the source says).
    Linked,
    /// An account found by a matching rule, not linked yet.
    Unlinked,
    /// In the source, no account.
    Unmatched,
    /// A managed account whose person left the source or its scope, or is disabled there.
    Deleted,
    /// Several candidate accounts.
    Disputed,
    /// An active account in a managed target that no source person explains.
    Orphan,
    /// Out of scope and never managed: nothing to do.
    Ignored,
}

impl Situation {
    /// The situation as plans and traces name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Situation::Linked => "linked",
            Situation::Unlinked => "unlinked",
            Situation::Unmatched => "unmatched",
            Situation::Deleted => "deleted",
            Situation::Disputed => "disputed",
            Situation::Orphan => "orphan",
            Situation::Ignored => "ignored",
        }
    }
}

/// One source identity's situation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Case {
    /// The person's index in the snapshot (none for a link whose person left the source).
    pub person: Option<usize>,
    /// The source id.
    pub source_id: String,
    /// The account decided on.
    pub account: Option<u32>,
    /// The situation.
    pub situation: Situation,
    /// The rule that decided the account.
    pub rule: Option<Rule>,
    /// Whether a link to `account` exists already.
    pub linked: bool,
    /// For a disputed case: every candidate account (none of which is acted on).
    pub candidates: Vec<u32>,
    /// Why, in one line.
    pub why: String,
}

/// The situation of every person of the snapshot and, for a complete one, of every linked identity it no
/// longer has. `in_scope[i]` is the scoping verdict of `people[i]`.
pub fn classify(
    people: &[DesiredPerson],
    in_scope: &[bool],
    matches: &[Matched],
    o: &Observed,
    links: &LinkIndex,
    complete: bool,
) -> Vec<Case> {
    let mut cases = Vec::with_capacity(people.len());
    for (i, (p, m)) in people.iter().zip(matches).enumerate() {
        let wanted = in_scope.get(i).copied().unwrap_or(true) && p.active;
        let leaving = if !p.active {
            "disabled at the source"
        } else {
            "out of scope"
        };
        let (situation, why) = match (&m.verdict, wanted) {
            (Verdict::Disputed { why, .. }, _) => (Situation::Disputed, why.clone()),
            (Verdict::Linked { .. }, true) => (Situation::Linked, "linked".to_string()),
            (Verdict::Matched { rule, .. }, true) => (
                Situation::Unlinked,
                format!("found by the {} rule, not linked yet", rule.as_str()),
            ),
            (Verdict::Unmatched, true) => (Situation::Unmatched, "no account matches".to_string()),
            (Verdict::Linked { .. }, false) => {
                (Situation::Deleted, format!("linked, and {leaving}"))
            }
            // A disabled person whose account a rule found is managed from now on: deactivated and linked.
            (Verdict::Matched { rule, .. }, false) if !p.active => (
                Situation::Deleted,
                format!(
                    "disabled at the source; found by the {} rule",
                    rule.as_str()
                ),
            ),
            (Verdict::Matched { .. }, false) => (
                Situation::Ignored,
                "out of scope and not linked: jsmctl does not manage the account".to_string(),
            ),
            (Verdict::Unmatched, false) => (Situation::Ignored, format!("{leaving}; no account")),
        };
        cases.push(Case {
            person: Some(i),
            source_id: p.source_id.clone(),
            account: m.verdict.account(),
            situation,
            rule: m.verdict.rule(),
            linked: matches!(m.verdict, Verdict::Linked { .. }),
            candidates: match &m.verdict {
                Verdict::Disputed { candidates, .. } => candidates.clone(),
                _ => Vec::new(),
            },
            why,
        });
    }
    if complete {
        let present: HashSet<&str> = people.iter().map(|p| p.source_id.as_str()).collect();
        let mut departed: Vec<_> = links
            .iter()
            .filter(|l| !present.contains(l.source_id.as_str()))
            .collect();
        departed.sort_by(|a, b| a.source_id.cmp(&b.source_id));
        cases.extend(departed.into_iter().map(|l| departed_case(l, o)));
    }
    cases
}

/// The situation of a linked identity the source no longer has: its account is deleted (deactivated or removed
/// per policy), or ignored when the site no longer has the account either.
pub fn departed_case(l: &Link, o: &Observed) -> Case {
    let account = o.account_index(&l.account_id);
    Case {
        person: None,
        source_id: l.source_id.clone(),
        account,
        situation: if account.is_some() {
            Situation::Deleted
        } else {
            Situation::Ignored
        },
        rule: Some(Rule::Link),
        linked: true,
        candidates: Vec::new(),
        why: if account.is_some() {
            "linked, and no longer in the source".to_string()
        } else {
            format!(
                "no longer in the source, and the linked account {} no longer exists",
                l.account_id
            )
        },
    }
}
