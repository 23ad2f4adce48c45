//! `jsmctl trace`: provision-on-demand's view for one person, without changing anything. What the source says,
//! each scoping clause and its result, each matching rule with its candidates, the situation, the actions a
//! reconcile would plan with their reasons, and what each Atlassian surface says about the candidates now.
//! Only this person's accounts are read, so it is quick on a large site.

use jsm_sources::{DesiredPerson, ScopeTrace, Target};
use serde::Serialize;

use super::matching::Verdict;
use super::observe::{EmailFrom, Observed, ScimRecord};
use super::situation::{self, Situation};
use super::{Inputs, Request, classify_people, lookups, mode_of, plan};
use crate::engine::Engine;
use crate::error::{Error, Result};

/// One rule tried, with its candidates by account id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleStep {
    /// `link`, `external_id`, `email`, `account_id`.
    pub rule: &'static str,
    /// The value looked for.
    pub value: Option<String>,
    /// Account ids found.
    pub candidates: Vec<String>,
    /// Why not tried, or what is odd.
    pub note: Option<String>,
}

/// One planned action for the person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionStep {
    /// Action name.
    pub action: String,
    /// `+`, `~` or `-`.
    pub sign: String,
    /// What it changes.
    pub target: String,
    /// Why.
    pub reason: String,
    /// Whether the policy wants an approval for it.
    pub needs_approval: bool,
    /// The rule asking.
    pub approval_rule: Option<String>,
}

/// What the site says about one candidate account now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SiteView {
    /// Account id.
    pub account_id: String,
    /// Jira: display name.
    pub display_name: String,
    /// Jira: active.
    pub active: bool,
    /// Jira: account type.
    pub account_type: super::observe::AccountKind,
    /// The email and which surface showed it.
    pub email: Option<String>,
    /// `profile`, `scim`, `admin` or `hidden`.
    pub email_from: EmailFrom,
    /// SCIM: the record managing the account.
    pub scim: Option<ScimRecord>,
    /// JSM and Jira: the managed desks, organizations and groups it is in.
    pub memberships: Vec<String>,
}

/// The whole trace.
#[derive(Debug, Clone, Serialize)]
pub struct PersonTrace {
    /// The source, as links name it.
    pub source: String,
    /// What the source says (after the mapping), or none when only a link remembers the identity.
    pub person: Option<DesiredPerson>,
    /// Every scoping clause and its result.
    pub scope: Option<ScopeTrace>,
    /// Every matching rule in precedence order.
    pub matching: Vec<RuleStep>,
    /// The decision: `linked`, `matched`, `unmatched` or `disputed`, with why.
    pub verdict: String,
    /// The situation.
    pub situation: Situation,
    /// Why.
    pub why: String,
    /// What a reconcile would do for this person.
    pub actions: Vec<ActionStep>,
    /// What else it would say.
    pub notes: Vec<String>,
    /// What each surface says about the candidates now.
    pub site: Vec<SiteView>,
    /// API calls the trace made.
    pub calls: u32,
}

fn site_view(o: &Observed, i: u32) -> SiteView {
    let a = o.account(i);
    SiteView {
        account_id: a.account_id.clone(),
        display_name: a.display_name.clone(),
        active: a.active,
        account_type: a.kind,
        email: a.email.clone(),
        email_from: a.email_from,
        scim: a.scim.clone(),
        memberships: o
            .targets
            .iter()
            .filter(|t| t.members.contains(&i))
            .map(|t| t.label())
            .collect(),
    }
}

impl Engine {
    /// Traces one person, named by email or source id, through a reconcile from `req` (read-only).
    pub async fn trace(&self, req: &Request<'_>, who: &str) -> Result<PersonTrace> {
        let mut src = self.read_source(req, None).await?;
        let wanted_who = who.trim();
        let found = src
            .people
            .iter()
            .position(|p| p.source_id == wanted_who || p.email.eq_ignore_ascii_case(wanted_who));
        let Some(index) = found else {
            return self.trace_departed(req, &src, wanted_who).await;
        };
        let person = src.people.swap_remove(index);
        let name = src.name;
        let scope = req.mapping.in_scope(&person);
        let in_scope = vec![scope.in_scope];
        let one = std::slice::from_ref(&person);
        let modes = |t: &Target| mode_of(req.mapping, t);
        let o = self
            .observe_people(&src.wanted, &modes, &lookups(one, &src.links))
            .await?;
        let (matches, cases) = classify_people(one, &in_scope, &o, &src.links, false);
        let built = plan::build(Inputs {
            people: one,
            cases: &cases,
            observed: &o,
            policy: &self.policy.reconcile,
            source: &name,
            full: false,
        })?;
        let plan = self.finish_draft(built.draft)?;
        let m = &matches[0];
        let mut candidates: Vec<u32> = m.tries.iter().flat_map(|t| t.candidates.clone()).collect();
        candidates.sort_unstable();
        candidates.dedup();
        let case = &cases[0];
        Ok(PersonTrace {
            source: name,
            scope: Some(scope),
            matching: m
                .tries
                .iter()
                .map(|t| RuleStep {
                    rule: t.rule.as_str(),
                    value: t.value.clone(),
                    candidates: t
                        .candidates
                        .iter()
                        .map(|c| o.account(*c).account_id.clone())
                        .collect(),
                    note: t.note.clone(),
                })
                .collect(),
            verdict: verdict_text(&m.verdict, &o),
            situation: case.situation,
            why: case.why.clone(),
            actions: plan
                .items
                .iter()
                .map(|i| ActionStep {
                    action: i.action.name().into(),
                    sign: i.action.sign().symbol().to_string(),
                    target: i.target.clone(),
                    reason: i.reason.clone(),
                    needs_approval: i.needs_approval,
                    approval_rule: i.approval_rule.clone(),
                })
                .collect(),
            notes: plan.notes.clone(),
            site: candidates.iter().map(|c| site_view(&o, *c)).collect(),
            calls: o.calls,
            person: Some(person),
        })
    }

    /// The trace of an identity the source no longer has but a link remembers.
    async fn trace_departed(
        &self,
        req: &Request<'_>,
        src: &super::Prepared,
        who: &str,
    ) -> Result<PersonTrace> {
        let name = src.name.as_str();
        let Some(link) = src.links.get(who).cloned() else {
            return Err(Error::not_found(format!(
                "a person with email or source id {who} in {name} (and no link remembers one)"
            )));
        };
        let modes = |t: &Target| mode_of(req.mapping, t);
        let lookups = super::Lookups {
            account_ids: vec![link.account_id.clone()],
            ..super::Lookups::default()
        };
        let o = self.observe_people(&src.wanted, &modes, &lookups).await?;
        let account = o.account_index(&link.account_id);
        let cases = vec![situation::departed_case(&link, &o)];
        let built = plan::build(Inputs {
            people: &[],
            cases: &cases,
            observed: &o,
            policy: &self.policy.reconcile,
            source: name,
            full: false,
        })?;
        let mut draft = built.draft;
        if account.is_none() {
            draft.note(format!(
                "the linked account {} no longer exists",
                link.account_id
            ));
        }
        let plan = self.finish_draft(draft)?;
        Ok(PersonTrace {
            source: name.to_string(),
            person: None,
            scope: None,
            matching: vec![RuleStep {
                rule: "link",
                value: Some(link.account_id.clone()),
                candidates: account
                    .map(|a| o.account(a).account_id.clone())
                    .into_iter()
                    .collect(),
                note: None,
            }],
            verdict: "linked".into(),
            situation: cases[0].situation,
            why: cases[0].why.clone(),
            actions: plan
                .items
                .iter()
                .map(|i| ActionStep {
                    action: i.action.name().into(),
                    sign: i.action.sign().symbol().to_string(),
                    target: i.target.clone(),
                    reason: i.reason.clone(),
                    needs_approval: i.needs_approval,
                    approval_rule: i.approval_rule.clone(),
                })
                .collect(),
            notes: plan.notes,
            site: account.map(|a| site_view(&o, a)).into_iter().collect(),
            calls: o.calls,
        })
    }
}

fn verdict_text(v: &Verdict, o: &Observed) -> String {
    match v {
        Verdict::Linked { account } => format!("linked to {}", o.account(*account).account_id),
        Verdict::Matched { account, rule } => format!(
            "matched {} by the {} rule",
            o.account(*account).account_id,
            rule.as_str()
        ),
        Verdict::Unmatched => "no account matches".into(),
        Verdict::Disputed { why, .. } => format!("disputed: {why}"),
    }
}
