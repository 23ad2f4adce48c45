//! One person's reconcile, for a webhook about one account (`user_created`, `user_updated`, `user_deleted`).
//! The source is read in full (it is not Atlassian); the site only about that account and what the source
//! people linked to it or matching it need (a targeted read, see [`super::targeted`]). The plan is built from
//! that incomplete read, so it acts for those people as a full run would, and for nobody else.

use std::collections::HashSet;

use jsm_sources::{DesiredPerson, Target};
use jsm_store::{Link, Watermark};

use super::matching::carried_account_ids;
use super::observe::{Lookups, Observed, SiteAccount, fold};
use super::situation::departed_case;
use super::{Inputs, Prepared, Reconciliation, Request, classify_people, lookups, mode_of, plan};
use crate::engine::Engine;
use crate::error::{Error, Result};

/// The source identities a one-person reconcile is about.
#[derive(Debug, Default)]
struct Candidates {
    /// Indexes of the source people linked to the account, or with no link of their own and matching it.
    people: Vec<usize>,
    /// Links to the account whose source identity the source no longer has.
    departed: Vec<Link>,
    /// Why some people were left out, for the plan's notes.
    notes: Vec<String>,
}

impl Engine {
    /// Plans the reconcile of the one account `account_id`: the people of the source linked to it (or, with no
    /// link of their own, matching it by email, SCIM `externalId` or a carried account id) are planned for as
    /// a full run would (a person gone from the source or its scope loses the account per policy, under the
    /// deletion guard and approvals), from a read of that account and what those people need only. An account
    /// nobody in the source is linked to or matches gets an empty plan whose notes say so. Nothing is written.
    pub async fn plan_reconcile_person(
        &self,
        req: &Request<'_>,
        account_id: &str,
    ) -> Result<Reconciliation> {
        let account_id = account_id.trim();
        if account_id.is_empty() {
            return Err(Error::InvalidInput {
                field: "account_id".into(),
                detail: "is empty".into(),
            });
        }
        let before = self.calls_sent();
        let src = self.read_source(req, None).await?;
        let account = self.identify(account_id).await?;
        let who = candidates(&src, account_id, account.as_ref(), self.caps.scim);
        let hidden = account.as_ref().is_some_and(|a| a.email.is_none());
        let (built, mut notes) = self
            .plan_candidates(req, &src, account_id, account, who)
            .await?;
        if built.draft.items().is_empty() && hidden {
            notes.push(format!(
                "account {account_id} hides its email and no source person is linked to it or carries its id: \
                 whose email it is, the next full reconcile finds (one person's would read every account)"
            ));
        }
        let read = format!("one person: account {account_id}");
        let calls = self.calls_sent().saturating_sub(before);
        let (plan, summary) =
            self.seal_reconcile(built, calls, &read, notes, &src.snapshot.skipped)?;
        Ok(Reconciliation {
            plan,
            summary,
            complete: false,
            read,
            watermark: self.kept_watermark(&src.name).await?,
            source: src.name,
            skipped: src.snapshot.skipped,
        })
    }

    /// Reads what the candidates need and plans for them alone, from that incomplete read; with nobody to plan
    /// for, an empty plan whose notes say so.
    async fn plan_candidates(
        &self,
        req: &Request<'_>,
        src: &Prepared,
        account_id: &str,
        account: Option<SiteAccount>,
        mut who: Candidates,
    ) -> Result<(plan::Built, Vec<String>)> {
        let mut notes = std::mem::take(&mut who.notes);
        let people: Vec<DesiredPerson> =
            who.people.iter().map(|i| src.people[*i].clone()).collect();
        let in_scope: Vec<bool> = who.people.iter().map(|i| src.in_scope[*i]).collect();
        let observed = if people.is_empty() && who.departed.is_empty() {
            notes.push(format!(
                "account {account_id} is not linked to or matched by anyone in {}: nothing to do",
                src.name
            ));
            Observed::default()
        } else {
            self.observe_candidates(req, src, account, &who).await?
        };
        let (_, mut cases) = classify_people(&people, &in_scope, &observed, &src.links, false);
        cases.extend(who.departed.iter().map(|l| departed_case(l, &observed)));
        let built = plan::build(Inputs {
            people: &people,
            cases: &cases,
            observed: &observed,
            policy: &self.policy.reconcile,
            source: &src.name,
            full: false,
        })?;
        Ok((built, notes))
    }

    /// The account as the site shows it, with its SCIM record when its email finds one; none when the site
    /// does not have it.
    async fn identify(&self, account_id: &str) -> Result<Option<SiteAccount>> {
        let Some(mut a) = self.account_by_id(account_id).await? else {
            return Ok(None);
        };
        self.attach_scim_record(&mut a).await?;
        Ok(Some(a))
    }

    /// The targeted read for the candidates: the managed targets, the account already identified, what the
    /// candidates' own lookups find, and the memberships of those accounts only.
    async fn observe_candidates(
        &self,
        req: &Request<'_>,
        src: &Prepared,
        account: Option<SiteAccount>,
        who: &Candidates,
    ) -> Result<Observed> {
        let before = self.calls_sent();
        let modes = |t: &Target| mode_of(req.mapping, t);
        let mut o = self.observe_targets(&src.wanted, &modes).await?;
        let lookups = candidate_lookups(src, who, account.as_ref());
        if let Some(a) = account {
            o.add_account(a);
        }
        self.look_up(&mut o, &lookups).await?;
        self.finish_targeted(&mut o, before).await?;
        Ok(o)
    }

    /// The source's watermark where the last applied run left it (a one-person run moves nothing).
    async fn kept_watermark(&self, name: &str) -> Result<Watermark> {
        let stored = self.store.watermark(name).await?;
        Ok(stored.unwrap_or_else(|| Watermark {
            source: name.to_string(),
            watermark: None,
            full_at: None,
            updated_at: self.client.clock().now(),
        }))
    }
}

/// The people linked to the account, and those with no link of their own whom a matching rule would tie to
/// it; a person linked to another account is left to a full run (reading that account is reading another
/// person), with a note.
fn candidates(
    src: &Prepared,
    account_id: &str,
    account: Option<&SiteAccount>,
    scim: bool,
) -> Candidates {
    let owners = src.links.owners(account_id);
    let mut who = Candidates::default();
    for (i, p) in src.people.iter().enumerate() {
        if owners.contains(&p.source_id) {
            who.people.push(i);
        } else if account.is_some_and(|a| matches_account(p, a, scim)) {
            match src.links.get(&p.source_id) {
                None => who.people.push(i),
                Some(l) => who.notes.push(format!(
                    "{} matches account {account_id} but is linked to {}: left to a full reconcile",
                    p.email, l.account_id
                )),
            }
        }
    }
    let present: HashSet<&str> = who
        .people
        .iter()
        .map(|i| src.people[*i].source_id.as_str())
        .collect();
    who.departed = owners
        .iter()
        .filter(|s| !present.contains(s.as_str()))
        .filter_map(|s| src.links.get(s).cloned())
        .collect();
    who
}

/// Whether a matching rule finds this account for the person: its email, its SCIM `externalId`, or an account
/// id the person carries.
fn matches_account(p: &DesiredPerson, a: &SiteAccount, scim: bool) -> bool {
    let email = a
        .email
        .as_deref()
        .is_some_and(|e| fold(e) == fold(&p.email));
    let ext = a.scim.as_ref().and_then(|s| s.external_id.as_ref());
    let external = scim && p.external_id.is_some() && ext == p.external_id.as_ref();
    email || external || carried_account_ids(p).contains(&a.account_id.as_str())
}

/// What the candidates need asked besides the account: for one linked to it while it exists (the link
/// decides) only its email when the account hides its own (a search for it tells the desks what to look the
/// account up by), the usual lookups (email, external id, account ids) for the others; never the admin API's
/// list of every user.
fn candidate_lookups(src: &Prepared, who: &Candidates, account: Option<&SiteAccount>) -> Lookups {
    let linked_here = |p: &DesiredPerson| {
        account.is_some_and(|a| {
            src.links
                .get(&p.source_id)
                .is_some_and(|l| l.account_id == a.account_id)
        })
    };
    let (linked, others): (Vec<&DesiredPerson>, Vec<&DesiredPerson>) = who
        .people
        .iter()
        .map(|i| &src.people[*i])
        .partition(|p| linked_here(p));
    let mut l = lookups(others, &src.links);
    if account.is_some_and(|a| a.email.is_none()) {
        l.emails.extend(linked.iter().map(|p| p.email.clone()));
    }
    l.admin_scan = false;
    if let Some(a) = account {
        l.account_ids.retain(|id| *id != a.account_id);
    }
    l
}
