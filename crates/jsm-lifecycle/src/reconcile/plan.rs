//! Reactions to situations, as plan items: each carries its situation, the matching rule that decided, and a
//! reason. Memberships are additive or authoritative per target (from the mapping); a full reconcile also
//! removes from authoritative targets the members nobody desires there and reports (or deactivates) orphans.
//! Pure: everything it needs is already read, so a 100,000-person plan is a matter of memory, not calls.

use std::collections::{BTreeMap, HashMap, HashSet};

use jsm_sources::{DesiredPerson, Kind, MembershipMode};
use serde::Serialize;

use super::matching::Rule;
use super::observe::{AccountKind, Observed, TargetKind, TargetView};
use super::policy::{
    DeletedReaction, LinkedReaction, OrphanReaction, ReconcilePolicy, UnlinkedReaction,
    UnmatchedReaction,
};
use super::situation::{Case, Situation};
use crate::error::{Error, Result};
use crate::ops::AGENT_SEAT_COST;
use crate::plan::{AccountRef, Action, Deactivation, Draft, ManualCheck, PlanKind, Precondition};

/// At most this many notes of one kind; the rest are counted.
const NOTES_PER_KIND: usize = 20;

/// What a reconcile plans from.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// The source's people (mapping already applied).
    pub people: &'a [DesiredPerson],
    /// Every source identity's situation.
    pub cases: &'a [Case],
    /// The site.
    pub observed: &'a Observed,
    /// Reactions.
    pub policy: &'a ReconcilePolicy,
    /// The source's name, for links.
    pub source: &'a str,
    /// The snapshot and the observation are both complete: remove from authoritative targets whoever nobody
    /// desires there, and look for orphans. Otherwise only the cases' own accounts are planned for.
    pub full: bool,
}

/// Counts of one reconcile, for people and the JSON output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Source identities per situation.
    pub situations: BTreeMap<Situation, usize>,
    /// Accounts in managed targets no source person explains (full runs only).
    pub orphans: usize,
    /// Emails of disputed people (the first few).
    pub disputed: Vec<String>,
    /// People in the snapshot.
    pub people: usize,
    /// Accounts the reconcile manages (the deletion guard's scope).
    pub scope: u32,
}

/// The draft and its summary.
#[derive(Debug)]
pub struct Built {
    /// The plan being built (not finished: no policy, no hash).
    pub draft: Draft,
    /// The counts.
    pub summary: Summary,
}

struct Notes {
    kinds: BTreeMap<&'static str, (Vec<String>, usize)>,
}

impl Notes {
    fn add(&mut self, kind: &'static str, note: String) {
        let entry = self.kinds.entry(kind).or_default();
        if entry.0.len() < NOTES_PER_KIND {
            entry.0.push(note);
        } else {
            entry.1 += 1;
        }
    }

    fn flush(self, draft: &mut Draft) {
        for (kind, (notes, more)) in self.kinds {
            for n in notes {
                draft.note(n);
            }
            if more > 0 {
                draft.note(format!("… and {more} more {kind} notes"));
            }
        }
    }
}

struct Builder<'a> {
    inputs: Inputs<'a>,
    draft: Draft,
    notes: Notes,
    /// Accounts desired in each target.
    desired: Vec<HashSet<u32>>,
    /// (target, account) removals already planned.
    removed: HashSet<(usize, u32)>,
    /// Accounts no reconcile item may remove or deactivate (disputed candidates, the caller).
    protected: HashSet<u32>,
    /// The case of each account.
    case_of: HashMap<u32, usize>,
}

/// The one-line summary of a reconcile plan from this source (how its plans are found again, see
/// [`crate::Engine::unfinished_reconciles`]).
pub fn summary_of(source: &str) -> String {
    format!("reconcile from {source}")
}

/// Builds the reconcile's draft: one case at a time, then (full runs) the authoritative removals and orphans.
pub fn build(inputs: Inputs<'_>) -> Result<Built> {
    let o = inputs.observed;
    let mut b = Builder {
        inputs,
        draft: Draft::new(PlanKind::Batch, summary_of(inputs.source)),
        notes: Notes {
            kinds: BTreeMap::new(),
        },
        desired: vec![HashSet::new(); o.targets.len()],
        removed: HashSet::new(),
        protected: o.me.into_iter().collect(),
        case_of: HashMap::with_capacity(inputs.cases.len()),
    };
    let mut summary = Summary {
        people: inputs.people.len(),
        ..Summary::default()
    };
    let mut wanted_targets: Vec<Vec<usize>> = Vec::with_capacity(inputs.cases.len());
    for (c, case) in inputs.cases.iter().enumerate() {
        *summary.situations.entry(case.situation).or_default() += 1;
        for a in case.account.iter().chain(&case.candidates) {
            b.case_of.insert(*a, c);
        }
        if case.situation == Situation::Disputed {
            // Every candidate of a dispute is left alone.
            b.protected.extend(case.candidates.iter().copied());
            if let Some(p) = case.person
                && summary.disputed.len() < NOTES_PER_KIND
            {
                summary.disputed.push(inputs.people[p].email.clone());
            }
        }
        let targets = match (case.person, case.situation) {
            (Some(p), Situation::Linked | Situation::Unlinked | Situation::Unmatched) => {
                b.person_targets(&inputs.people[p])?
            }
            _ => Vec::new(),
        };
        if let (Some(a), Situation::Linked | Situation::Unlinked) = (case.account, case.situation) {
            for t in &targets {
                b.desired[*t].insert(a);
            }
        }
        wanted_targets.push(targets);
    }
    for (case, targets) in inputs.cases.iter().zip(&wanted_targets) {
        b.plan_case(case, targets);
    }
    if inputs.full {
        b.authoritative();
        summary.orphans = b.orphans();
    }
    summary.scope = b.scope();
    b.draft.scope(summary.scope);
    b.notes.flush(&mut b.draft);
    Ok(Built {
        draft: b.draft,
        summary,
    })
}

impl<'a> Builder<'a> {
    fn o(&self) -> &'a Observed {
        self.inputs.observed
    }

    fn label(&self, a: u32) -> String {
        let acc = self.o().account(a);
        acc.email.clone().unwrap_or_else(|| acc.account_id.clone())
    }

    /// Target indexes a person should be in: desks, organizations, groups, and for an agent the JSM access
    /// group (when no other access group already holds the account, which the caller checks).
    fn person_targets(&self, p: &DesiredPerson) -> Result<Vec<usize>> {
        let o = self.o();
        let mut out = Vec::new();
        let lists = [
            (TargetKind::ServiceDesk, &p.service_desks),
            (TargetKind::Organization, &p.organizations),
            (TargetKind::Group, &p.groups),
        ];
        for (kind, names) in lists {
            for name in names {
                let t = o.target(kind, name).ok_or_else(|| Error::InvalidInput {
                    field: format!("source person {}", p.email),
                    detail: format!("names the {} {name:?}, which was not read", kind.label()),
                })?;
                if !out.contains(&t) {
                    out.push(t);
                }
            }
        }
        if p.kind == Kind::Agent
            && let Some(t) = o
                .access_groups
                .first()
                .and_then(|g| o.target(TargetKind::Group, g))
            && !out
                .iter()
                .any(|t| o.targets[*t].kind == TargetKind::Group && o.targets[*t].grants_jsm)
        {
            out.push(t);
        }
        Ok(out)
    }

    fn push(
        &mut self,
        action: Action,
        target: String,
        reason: String,
        pre: Precondition,
        situation: Situation,
        rule: Option<Rule>,
    ) -> String {
        let key = self.draft.push(action, target, reason, pre);
        if let Some(item) = self.draft.last() {
            item.situation = Some(situation.as_str().to_string());
            item.rule = rule.map(|r| r.as_str().to_string());
        }
        key
    }

    fn depends(&mut self, on: &str) {
        if let Some(item) = self.draft.last() {
            item.depends_on.push(on.to_string());
        }
    }

    fn seat(&mut self) {
        if let Some(item) = self.draft.last() {
            item.cost = Some(AGENT_SEAT_COST.into());
        }
    }

    fn plan_case(&mut self, case: &Case, targets: &[usize]) {
        let policy = self.inputs.policy;
        match case.situation {
            Situation::Linked | Situation::Unlinked => {
                let (Some(p), Some(a)) = (case.person, case.account) else {
                    return;
                };
                let person = &self.inputs.people[p];
                if case.situation == Situation::Unlinked {
                    if policy.unlinked == UnlinkedReaction::Report {
                        self.notes.add(
                            "unlinked",
                            format!(
                                "{} matches account {} ({}); not linked (reconcile.unlinked = \"report\")",
                                person.email,
                                self.o().account(a).account_id,
                                case.why
                            ),
                        );
                        return;
                    }
                    self.link(
                        case,
                        AccountRef::Id(self.o().account(a).account_id.clone()),
                        None,
                    );
                } else if policy.linked == LinkedReaction::Report {
                    self.notes.add(
                        "linked",
                        format!(
                            "{} is linked; memberships not updated (reconcile.linked = \"report\")",
                            person.email
                        ),
                    );
                    return;
                }
                self.update(case, person, a, targets);
            }
            Situation::Unmatched => {
                let Some(p) = case.person else { return };
                let person = &self.inputs.people[p];
                if policy.unmatched == UnmatchedReaction::Report {
                    self.notes.add(
                        "unmatched",
                        format!(
                            "{} has no account; none created (reconcile.unmatched = \"report\")",
                            person.email
                        ),
                    );
                    return;
                }
                self.create(case, person, targets);
            }
            Situation::Deleted => {
                let Some(a) = case.account else { return };
                if policy.deleted == DeletedReaction::Report {
                    self.notes.add(
                        "deleted",
                        format!(
                            "{} ({}): {}; not deactivated (reconcile.deleted = \"report\")",
                            self.label(a),
                            case.source_id,
                            case.why
                        ),
                    );
                    return;
                }
                if !case.linked {
                    self.link(
                        case,
                        AccountRef::Id(self.o().account(a).account_id.clone()),
                        None,
                    );
                }
                self.deactivate(a, Situation::Deleted, case.rule, &case.why);
            }
            Situation::Disputed => {
                let email = case
                    .person
                    .map(|p| self.inputs.people[p].email.clone())
                    .unwrap_or_else(|| case.source_id.clone());
                self.notes.add(
                    "disputed",
                    format!("disputed, not acted on: {email}: {}", case.why),
                );
            }
            Situation::Orphan | Situation::Ignored => {}
        }
        if !self.inputs.full
            && let Some(a) = case.account
            && matches!(case.situation, Situation::Linked | Situation::Unlinked)
        {
            self.authoritative_for(a);
        }
    }

    fn link(&mut self, case: &Case, account: AccountRef, scim: Option<AccountRef>) -> String {
        let who = case
            .person
            .map(|p| self.inputs.people[p].email.clone())
            .unwrap_or_else(|| case.source_id.clone());
        let shown = match &account {
            AccountRef::Id(id) => id.clone(),
            AccountRef::FromItem(k) => format!("the account {k} makes"),
        };
        let reason = match case.rule {
            Some(r) if r != Rule::Link => format!("matched by the {} rule: link it", r.as_str()),
            _ => "created for this person: link it".to_string(),
        };
        let scim = scim.or_else(|| {
            case.account
                .and_then(|a| self.o().account(a).scim.as_ref())
                .map(|s| AccountRef::Id(s.id.clone()))
        });
        self.push(
            Action::Link {
                source: self.inputs.source.to_string(),
                source_id: case.source_id.clone(),
                account,
                scim,
            },
            format!("link {who} ({}) to {shown}", case.source_id),
            reason,
            Precondition::None,
            case.situation,
            case.rule,
        )
    }

    /// Brings a matched account to what the source says: reactivation, then the missing memberships.
    fn update(&mut self, case: &Case, person: &DesiredPerson, a: u32, targets: &[usize]) {
        let acc = self.o().account(a).clone();
        let who = self.label(a);
        let situation = case.situation;
        let rule = case.rule;
        if !person
            .email
            .eq_ignore_ascii_case(acc.email.as_deref().unwrap_or(&person.email))
        {
            self.notes.add(
                "email",
                format!(
                    "{}: the source's email is now {}; the link keeps account {} (its email stays {})",
                    case.source_id,
                    person.email,
                    acc.account_id,
                    acc.email.as_deref().unwrap_or("hidden")
                ),
            );
        }
        let mut after: Option<String> = None;
        if !acc.active {
            match self.reactivation(&acc) {
                Some((via, scim_id, pre)) => {
                    after = Some(self.push(
                        Action::Reactivate {
                            account_id: acc.account_id.clone(),
                            via,
                            scim_id,
                        },
                        format!("account {who}"),
                        "the source says active; the account is deactivated".into(),
                        pre,
                        situation,
                        rule,
                    ));
                }
                None => {
                    self.notes.add(
                        "inactive",
                        format!(
                            "{who} is deactivated but active at the source: reactivate it in Atlassian \
                             administration (no configured API can); memberships follow on the next reconcile"
                        ),
                    );
                    return;
                }
            }
        }
        let pre = |after: &Option<String>| match after {
            Some(_) => Precondition::AccountExists {
                account_id: acc.account_id.clone(),
            },
            None => Precondition::AccountActive {
                account_id: acc.account_id.clone(),
            },
        };
        let has_access = self
            .o()
            .targets
            .iter()
            .any(|t| t.kind == TargetKind::Group && t.grants_jsm && t.members.contains(&a));
        for &t in targets {
            let view = &self.o().targets[t];
            if view.members.contains(&a) {
                continue;
            }
            if view.kind == TargetKind::Group && view.grants_jsm && has_access {
                continue;
            }
            if view.kind == TargetKind::Group && acc.kind == AccountKind::Customer {
                self.notes.add(
                    "customer-groups",
                    format!(
                        "{who} is a portal-only customer, which cannot be in Jira groups: {} not planned",
                        view.label()
                    ),
                );
                continue;
            }
            let (action, shown, item_pre) = self.add_action(
                view,
                AccountRef::Id(acc.account_id.clone()),
                acc.scim.as_ref().map(|s| s.id.clone()),
                pre(&after),
            );
            let seat = view.grants_jsm;
            let reason = if seat && person.kind == Kind::Agent {
                "the source says agent: grant Jira Service Management".to_string()
            } else {
                format!("the source lists {}", view.label())
            };
            self.push(
                action,
                format!("{who} {shown}"),
                reason,
                item_pre,
                situation,
                rule,
            );
            if let Some(k) = &after {
                self.depends(k);
            }
            if seat {
                self.seat();
            }
        }
    }

    /// The add action for a target: SCIM for a SCIM-synced group when the account has a SCIM user.
    fn add_action(
        &self,
        view: &TargetView,
        account: AccountRef,
        scim_user: Option<String>,
        pre: Precondition,
    ) -> (Action, String, Precondition) {
        match view.kind {
            TargetKind::ServiceDesk => (
                Action::AddToDesk {
                    desk_id: view.id.clone(),
                    desk_key: view.name.clone(),
                    account,
                },
                format!("on desk {}", view.name),
                pre,
            ),
            TargetKind::Organization => (
                Action::AddToOrganization {
                    organization_id: view.id.clone(),
                    organization: view.name.clone(),
                    account,
                },
                format!("in organization {}", view.name),
                pre,
            ),
            TargetKind::Group => match (&view.scim_group, scim_user) {
                (Some((group_id, name)), Some(scim_id)) => (
                    Action::ScimAddToGroup {
                        group_id: group_id.clone(),
                        group: name.clone(),
                        user: AccountRef::Id(scim_id),
                    },
                    format!("in SCIM group {name}"),
                    pre,
                ),
                _ => (
                    Action::AddToGroup {
                        group: view.name.clone(),
                        account,
                    },
                    format!("in group {}", view.name),
                    pre,
                ),
            },
        }
    }

    /// How an inactive account is reactivated, if any configured API can.
    fn reactivation(
        &self,
        acc: &super::observe::SiteAccount,
    ) -> Option<(Deactivation, Option<String>, Precondition)> {
        match (&acc.scim, acc.kind) {
            (Some(s), _) => Some((
                Deactivation::Scim,
                Some(s.id.clone()),
                Precondition::ScimLinked {
                    scim_id: s.id.clone(),
                    account_id: acc.account_id.clone(),
                },
            )),
            (None, AccountKind::Atlassian) if self.o().admin => Some((
                Deactivation::AdminSuspend,
                None,
                Precondition::AccountExists {
                    account_id: acc.account_id.clone(),
                },
            )),
            _ => None,
        }
    }

    /// Creates a customer or provisions an agent, links it, and adds its memberships.
    fn create(&mut self, case: &Case, person: &DesiredPerson, targets: &[usize]) {
        let name = person
            .display_name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| person.email.clone());
        let email = person.email.clone();
        let situation = Situation::Unmatched;
        let (created, scim_user) = match person.kind {
            Kind::Customer => {
                let k = self.push(
                    Action::CreateCustomer {
                        email: email.clone(),
                        display_name: name.clone(),
                    },
                    format!("customer {email} ({name})"),
                    "in the source, no account: create a portal customer".into(),
                    Precondition::None,
                    situation,
                    None,
                );
                (k, None)
            }
            Kind::Agent if self.o().scim => {
                let k = self.push(
                    Action::ScimCreateUser {
                        email: email.clone(),
                        display_name: name.clone(),
                    },
                    format!("SCIM user {email} ({name})"),
                    "in the source as an agent, no account: provision it through SCIM".into(),
                    Precondition::None,
                    situation,
                    None,
                );
                (k.clone(), Some(k))
            }
            Kind::Agent => {
                let groups = self.o().access_groups.clone();
                self.push(
                    Action::Manual {
                        instruction: format!(
                            "invite {email} to Jira Service Management in Atlassian Administration (no SCIM \
                             directory is configured, and agents cannot be created through the REST API)"
                        ),
                        verify: ManualCheck::InGroup {
                            email: email.clone(),
                            groups,
                        },
                    },
                    format!("agent {email} ({name})"),
                    "in the source as an agent, no account, no SCIM directory".into(),
                    Precondition::None,
                    situation,
                    None,
                );
                self.seat();
                self.notes.add(
                    "invite",
                    format!(
                        "{email}: desks, organizations and groups follow on the reconcile after the invite is accepted"
                    ),
                );
                return;
            }
        };
        self.link(
            case,
            AccountRef::FromItem(created.clone()),
            scim_user.map(AccountRef::FromItem),
        );
        self.depends(&created);
        for &t in targets {
            let view = self.o().targets[t].clone();
            if view.kind == TargetKind::Group && person.kind == Kind::Customer {
                self.notes.add(
                    "customer-groups",
                    format!(
                        "{email} is a portal-only customer, which cannot be in Jira groups: {} not planned",
                        view.label()
                    ),
                );
                continue;
            }
            let (action, shown) = match (&view.kind, &view.scim_group, person.kind) {
                (TargetKind::Group, Some((group_id, group)), Kind::Agent) => (
                    Action::ScimAddToGroup {
                        group_id: group_id.clone(),
                        group: group.clone(),
                        user: AccountRef::FromItem(created.clone()),
                    },
                    format!("in SCIM group {group}"),
                ),
                _ => {
                    let (a, s, _) = self.add_action(
                        &view,
                        AccountRef::FromItem(created.clone()),
                        None,
                        Precondition::None,
                    );
                    (a, s)
                }
            };
            let reason = if view.grants_jsm {
                "the source says agent: grant Jira Service Management".to_string()
            } else {
                format!("the source lists {}", view.label())
            };
            self.push(
                action,
                format!("{email} {shown}"),
                reason,
                Precondition::None,
                situation,
                None,
            );
            self.depends(&created);
            if view.grants_jsm {
                self.seat();
            }
        }
    }

    /// Deactivates an account, or (a portal-only customer, which no API deactivates) removes it from the
    /// managed desks and organizations it is in.
    fn deactivate(&mut self, a: u32, situation: Situation, rule: Option<Rule>, why: &str) {
        if self.protected.contains(&a) {
            self.notes.add(
                "protected",
                format!(
                    "{} is not deactivated: {}",
                    self.label(a),
                    protected_why(self.o(), a)
                ),
            );
            return;
        }
        let acc = self.o().account(a).clone();
        let who = self.label(a);
        if acc.kind == AccountKind::Customer {
            let targets: Vec<usize> = (0..self.o().targets.len())
                .filter(|t| {
                    let v = &self.o().targets[*t];
                    v.explicit && v.kind != TargetKind::Group && v.members.contains(&a)
                })
                .collect();
            for t in targets {
                self.remove(
                    t,
                    a,
                    situation,
                    rule,
                    format!("{why}: a portal-only customer loses its access"),
                );
            }
            return;
        }
        let scim_active = acc.scim.as_ref().is_some_and(|s| s.active);
        if !acc.active && !scim_active {
            return;
        }
        let (via, scim_id, pre, reason) = match (&acc.scim, acc.kind) {
            (Some(s), _) => (
                Deactivation::Scim,
                Some(s.id.clone()),
                Precondition::ScimLinked {
                    scim_id: s.id.clone(),
                    account_id: acc.account_id.clone(),
                },
                format!("{why}: deactivate through SCIM"),
            ),
            (None, AccountKind::Atlassian) if self.o().admin => (
                Deactivation::AdminSuspend,
                None,
                Precondition::AccountExists {
                    account_id: acc.account_id.clone(),
                },
                format!("{why}: suspend through the admin API (not managed by SCIM)"),
            ),
            _ => {
                self.push(
                    Action::Manual {
                        instruction: format!(
                            "deactivate {who} in Atlassian Administration (no SCIM record and no admin API key \
                             is configured)"
                        ),
                        verify: ManualCheck::Inactive {
                            account_id: acc.account_id.clone(),
                        },
                    },
                    format!("account {who}"),
                    format!("{why}: no configured API can deactivate it"),
                    Precondition::None,
                    situation,
                    rule,
                );
                return;
            }
        };
        self.push(
            Action::Deactivate {
                account_id: acc.account_id.clone(),
                via,
                scim_id,
            },
            format!("account {who}"),
            reason,
            pre,
            situation,
            rule,
        );
    }

    /// Plans one removal from a target, once, unless the desk refuses removals.
    fn remove(
        &mut self,
        t: usize,
        a: u32,
        situation: Situation,
        rule: Option<Rule>,
        reason: String,
    ) {
        if !self.removed.insert((t, a)) || self.protected.contains(&a) {
            return;
        }
        let view = self.o().targets[t].clone();
        let acc = self.o().account(a).clone();
        let who = self.label(a);
        if view.open {
            self.notes.add(
                "open-desk",
                format!(
                    "{who} stays on desk {}: it is open to every customer, and JSM removes customers only from \
                     restricted desks",
                    view.name
                ),
            );
            return;
        }
        let exists = Precondition::AccountExists {
            account_id: acc.account_id.clone(),
        };
        let (action, target, pre) = match view.kind {
            TargetKind::ServiceDesk => (
                Action::RemoveFromDesk {
                    desk_id: view.id.clone(),
                    desk_key: view.name.clone(),
                    account_id: acc.account_id.clone(),
                },
                format!("{who} on desk {}", view.name),
                exists,
            ),
            TargetKind::Organization => (
                Action::RemoveFromOrganization {
                    organization_id: view.id.clone(),
                    organization: view.name.clone(),
                    account_id: acc.account_id.clone(),
                },
                format!("{who} in organization {}", view.name),
                exists,
            ),
            TargetKind::Group => match (&view.scim_group, &acc.scim) {
                (Some((group_id, name)), Some(s)) => (
                    Action::ScimRemoveFromGroup {
                        group_id: group_id.clone(),
                        group: name.clone(),
                        scim_id: s.id.clone(),
                    },
                    format!("{who} in SCIM group {name}"),
                    Precondition::ScimLinked {
                        scim_id: s.id.clone(),
                        account_id: acc.account_id.clone(),
                    },
                ),
                _ => (
                    Action::RemoveFromGroup {
                        group: view.name.clone(),
                        account_id: acc.account_id.clone(),
                    },
                    format!("{who} in group {}", view.name),
                    exists,
                ),
            },
        };
        self.push(action, target, reason, pre, situation, rule);
    }

    /// The situation and rule a removal of this account is filed under.
    fn filed_under(&self, a: u32) -> (Situation, Option<Rule>) {
        match self.case_of.get(&a).map(|c| &self.inputs.cases[*c]) {
            Some(c) if c.situation != Situation::Ignored => (c.situation, c.rule),
            _ => (Situation::Orphan, None),
        }
    }

    /// Removals from authoritative targets of one account (partial runs: only the cases' own accounts).
    fn authoritative_for(&mut self, a: u32) {
        let targets: Vec<usize> = (0..self.o().targets.len())
            .filter(|t| {
                let v = &self.o().targets[*t];
                v.explicit
                    && v.mode == MembershipMode::Authoritative
                    && v.members.contains(&a)
                    && !self.desired[*t].contains(&a)
            })
            .collect();
        for t in targets {
            let (situation, rule) = self.filed_under(a);
            let label = self.o().targets[t].label();
            self.remove(
                t,
                a,
                situation,
                rule,
                format!("{label} is authoritative and the source does not list this account there"),
            );
        }
    }

    /// Full runs: from every authoritative target, the members nobody desires there.
    fn authoritative(&mut self) {
        for t in 0..self.o().targets.len() {
            let view = &self.o().targets[t];
            if !view.explicit || view.mode != MembershipMode::Authoritative {
                continue;
            }
            let mut extra: Vec<u32> = view
                .members
                .iter()
                .copied()
                .filter(|m| !self.desired[t].contains(m))
                .collect();
            extra.sort_unstable();
            let label = view.label();
            for m in extra {
                if self.protected.contains(&m) {
                    continue;
                }
                let (situation, rule) = self.filed_under(m);
                self.remove(
                    t,
                    m,
                    situation,
                    rule,
                    format!(
                        "{label} is authoritative and the source does not list this account there"
                    ),
                );
            }
        }
    }

    /// Full runs: active accounts in managed targets that no source identity explains.
    fn orphans(&mut self) -> usize {
        let o = self.inputs.observed;
        let mut orphans: Vec<u32> = o
            .targets
            .iter()
            .filter(|t| t.explicit)
            .flat_map(|t| t.members.iter().copied())
            .collect::<HashSet<u32>>()
            .into_iter()
            .filter(|a| {
                let acc = o.account(*a);
                acc.active
                    && acc.kind != AccountKind::App
                    && !self.protected.contains(a)
                    && self
                        .case_of
                        .get(a)
                        .is_none_or(|c| self.inputs.cases[*c].situation == Situation::Ignored)
            })
            .collect();
        orphans.sort_unstable();
        for &a in &orphans {
            match self.inputs.policy.orphan {
                OrphanReaction::Report => {
                    let in_targets: Vec<String> = o
                        .targets
                        .iter()
                        .filter(|t| t.explicit && t.members.contains(&a))
                        .map(TargetView::label)
                        .collect();
                    self.notes.add(
                        "orphan",
                        format!(
                            "orphan: {} is in {} but no source person explains it",
                            self.label(a),
                            in_targets.join(", ")
                        ),
                    );
                }
                OrphanReaction::Deactivate => {
                    self.deactivate(a, Situation::Orphan, None, "no source person explains it");
                }
            }
        }
        orphans.len()
    }

    /// Distinct accounts the reconcile manages: those of the source's identities and the members of the
    /// managed targets.
    fn scope(&self) -> u32 {
        let mut accounts: HashSet<u32> = self
            .inputs
            .cases
            .iter()
            .filter(|c| c.situation != Situation::Ignored)
            .filter_map(|c| c.account)
            .collect();
        for t in self.o().targets.iter().filter(|t| t.explicit) {
            accounts.extend(t.members.iter().copied());
        }
        u32::try_from(accounts.len()).unwrap_or(u32::MAX)
    }
}

fn protected_why(o: &Observed, a: u32) -> &'static str {
    if o.me == Some(a) {
        "jsmctl runs as this account"
    } else {
        "it is a candidate of a disputed person"
    }
}
