//! Reconcile Atlassian with an identity source: read the desired state (a file, an upstream SCIM server, LDAP or
//! Active Directory), apply the mapping and its scoping filter, read the site the cheapest complete way, match
//! every person (link, `externalId`, email, account id), classify situations, and plan the reactions as one
//! reviewable plan that the engine's policy, approval and journaled apply then carry out.
//!
//! ```no_run
//! # async fn demo(engine: &jsm_lifecycle::Engine) -> jsm_lifecycle::Result<()> {
//! let env = |name: &str| std::env::var(name).ok();
//! let mapping = jsm_sources::Mapping::load("mapping.toml")?;
//! let source = jsm_sources::Source::parse_with("file:people.csv", &mapping, &env)?;
//! let request = jsm_lifecycle::reconcile::Request::new(&source, &mapping, "mapping.toml");
//! let reconciled = engine.plan_reconcile(&request).await?;
//! engine.submit(&reconciled.plan).await?;
//! # Ok(()) }
//! ```

pub mod incremental;
pub mod links;
pub mod matching;
pub mod observe;
pub mod plan;
pub mod policy;
pub mod situation;
pub mod trace;

use std::collections::HashSet;

use jsm_sources::{DesiredPerson, Kind, Mapping, MembershipMode, Skipped, Source, Target};
use jsm_store::Watermark;

pub use matching::{LinkIndex, Matched, Rule, RuleTry, Verdict};
pub use observe::{Lookups, Observed, TargetKind, Wanted};
pub use plan::{Inputs, Summary};
pub use policy::ReconcilePolicy;
pub use situation::{Case, Situation};
pub use trace::PersonTrace;

use crate::engine::Engine;
use crate::error::Result;
use crate::plan::Plan;

/// More changed people than this and an incremental run reads the whole site rather than asking about each.
pub const TARGETED_READ_LIMIT: usize = 100;

/// What to reconcile from.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The source of desired state.
    pub source: &'a Source,
    /// Its mapping.
    pub mapping: &'a Mapping,
    /// Where the mapping came from, for errors (`mapping.toml`, or `(none)`).
    pub mapping_origin: &'a str,
    /// Read only what changed since the last applied run (see [`incremental`]).
    pub incremental: bool,
}

impl<'a> Request<'a> {
    /// A full reconcile from `source` with `mapping`.
    pub fn new(source: &'a Source, mapping: &'a Mapping, mapping_origin: &'a str) -> Self {
        Self {
            source,
            mapping,
            mapping_origin,
            incremental: false,
        }
    }
}

/// A planned reconcile.
#[derive(Debug, Clone)]
pub struct Reconciliation {
    /// The plan (policy evaluated, sealed; not stored yet).
    pub plan: Plan,
    /// Counts per situation, orphans, disputes.
    pub summary: Summary,
    /// The name the source's links and watermark are kept under.
    pub source: String,
    /// Whether the source was read in full (absences are deletions).
    pub complete: bool,
    /// Why the read was full or incremental.
    pub read: String,
    /// Where the read ended: save it with [`Engine::save_watermark`] once the plan is applied.
    pub watermark: Watermark,
    /// Directory entries the source could not use.
    pub skipped: Vec<Skipped>,
}

/// The name a source's links and watermark are kept under: its spec without secrets, a file by its absolute
/// path (so the working directory does not matter).
pub fn source_name(source: &Source) -> String {
    match source {
        Source::File(f) => {
            let path = std::path::absolute(f.path()).unwrap_or_else(|_| f.path().to_path_buf());
            format!("file:{}", path.display())
        }
        other => other.to_string(),
    }
}

/// The mapping's mode for a target, matching names as the site does (ignoring case).
pub fn mode_of(mapping: &Mapping, target: &Target) -> MembershipMode {
    let (kind, name) = split(target);
    mapping
        .targets
        .iter()
        .find(|(t, _)| {
            let (k, n) = split(t);
            k == kind && n.eq_ignore_ascii_case(name)
        })
        .map(|(_, s)| s.mode)
        .unwrap_or_default()
}

fn split(t: &Target) -> (TargetKind, &str) {
    match t {
        Target::Group(n) => (TargetKind::Group, n),
        Target::ServiceDesk(n) => (TargetKind::ServiceDesk, n),
        Target::Organization(n) => (TargetKind::Organization, n),
    }
}

/// Applies the mapping to every person and evaluates the scoping filter.
pub fn prepare(mapping: &Mapping, people: &mut [DesiredPerson]) -> Vec<bool> {
    people
        .iter_mut()
        .map(|p| {
            mapping.apply(p);
            mapping.in_scope(p).in_scope
        })
        .collect()
}

/// The targets the mapping and these people name, each with where it was named.
pub fn wanted(
    mapping: &Mapping,
    mapping_origin: &str,
    people: &[DesiredPerson],
    in_scope: &[bool],
) -> Wanted {
    let mut w = Wanted::default();
    for r in mapping.references() {
        let (kind, name) = split(&r.target);
        w.add(kind, name, format!("{mapping_origin} {}", r.key));
    }
    for (i, p) in people.iter().enumerate() {
        let lists = [
            (TargetKind::ServiceDesk, &p.service_desks),
            (TargetKind::Organization, &p.organizations),
            (TargetKind::Group, &p.groups),
        ];
        for (kind, names) in lists {
            for n in names {
                w.add(kind, n, format!("source person {}", p.email));
            }
        }
        if p.kind == Kind::Agent && p.active && in_scope.get(i).copied().unwrap_or(true) {
            w.agents = true;
        }
    }
    w
}

/// Matches, classifies and plans, from a snapshot and an observation already in memory: the pure core of a
/// reconcile (what the planning benchmark times).
pub fn plan_in_memory(
    people: &[DesiredPerson],
    in_scope: &[bool],
    observed: &Observed,
    links: &LinkIndex,
    policy: &ReconcilePolicy,
    source: &str,
    complete: bool,
) -> Result<plan::Built> {
    let mut matches: Vec<Matched> = people
        .iter()
        .map(|p| matching::match_person(p, observed, links))
        .collect();
    matching::resolve_claims(people, &mut matches, observed, links);
    let full = complete && observed.complete;
    let cases = situation::classify(people, in_scope, &matches, observed, links, full);
    drop(matches);
    plan::build(Inputs {
        people,
        cases: &cases,
        observed,
        policy,
        source,
        full,
        only: None,
    })
}

impl Engine {
    /// Plans a reconcile: reads the source and the site, matches, classifies, plans the reactions, and lets
    /// the policy mark what needs approval. Nothing is written to the site or the store; a bad row, an unknown
    /// desk or group, or an unreachable source fails before anything is planned.
    pub async fn plan_reconcile(&self, req: &Request<'_>) -> Result<Reconciliation> {
        let name = source_name(req.source);
        let now = self.client.clock().now();
        let stored = if req.incremental {
            self.store.watermark(&name).await?
        } else {
            None
        };
        let start = incremental::start(
            req.incremental,
            stored.as_ref(),
            self.policy.reconcile.full_every_hours,
            now,
        );
        let snapshot = req.source.read(start.since.as_deref()).await?;
        let mut people = snapshot.people;
        let in_scope = prepare(req.mapping, &mut people);
        let wanted = wanted(req.mapping, req.mapping_origin, &people, &in_scope);
        let modes = |t: &Target| mode_of(req.mapping, t);
        let links = LinkIndex::new(self.store.links(Some(&name)).await?);
        let observed = if !snapshot.complete && people.is_empty() {
            // Nothing changed at the source: nothing to ask the site.
            Observed::default()
        } else if snapshot.complete || people.len() > TARGETED_READ_LIMIT {
            let emails: Vec<&str> = people.iter().map(|p| p.email.as_str()).collect();
            self.observe_site(&wanted, &modes, &emails).await?
        } else {
            self.observe_people(&wanted, &modes, &lookups(&people, &links))
                .await?
        };
        let built = plan_in_memory(
            &people,
            &in_scope,
            &observed,
            &links,
            &self.policy.reconcile,
            &name,
            snapshot.complete,
        )?;
        let mut draft = built.draft;
        draft.observed(observed.calls);
        draft.note(summary_line(&built.summary, &start.why));
        if !snapshot.complete {
            draft.note(format!(
                "{}: {} changed people read; people who left the source are found by the next full run",
                start.why,
                people.len()
            ));
        }
        for s in snapshot.skipped.iter().take(20) {
            draft.note(format!(
                "skipped at the source: {}: {}",
                s.source_id, s.reason
            ));
        }
        if snapshot.skipped.len() > 20 {
            draft.note(format!(
                "… and {} more entries skipped at the source",
                snapshot.skipped.len() - 20
            ));
        }
        let plan = self.finish_draft(draft)?;
        Ok(Reconciliation {
            plan,
            summary: built.summary,
            complete: snapshot.complete,
            read: start.why,
            watermark: Watermark {
                source: name.clone(),
                watermark: snapshot.watermark,
                full_at: snapshot.complete.then_some(now),
                updated_at: now,
            },
            source: name,
            skipped: snapshot.skipped,
        })
    }
}

/// One line for the plan's notes: who is in which situation.
fn summary_line(summary: &Summary, read: &str) -> String {
    let situations: Vec<String> = summary
        .situations
        .iter()
        .map(|(s, n)| format!("{n} {}", s.as_str()))
        .collect();
    format!(
        "reconcile of {} people ({read}): {}; {} orphans; {} accounts managed",
        summary.people,
        if situations.is_empty() {
            "nobody".to_string()
        } else {
            situations.join(", ")
        },
        summary.orphans,
        summary.scope
    )
}

/// Whether a value has the shape of an Atlassian account id (`557058:uuid`, `qm:…`, or 24 hex digits), so a
/// targeted read does not ask the site about every HR number.
pub fn looks_like_account_id(v: &str) -> bool {
    let hex24 = v.len() == 24 && v.bytes().all(|b| b.is_ascii_hexdigit());
    hex24 || (v.contains(':') && !v.contains('@') && !v.contains(char::is_whitespace))
}

/// What a targeted read asks about for these people.
pub fn lookups(people: &[DesiredPerson], links: &LinkIndex) -> Lookups {
    let mut l = Lookups::default();
    let mut seen = HashSet::new();
    for p in people {
        if seen.insert(p.email.to_lowercase()) {
            l.emails.push(p.email.clone());
        }
        if let Some(ext) = &p.external_id {
            l.external_ids.push(ext.clone());
            if looks_like_account_id(ext) {
                l.account_ids.push(ext.clone());
            }
        }
        if let Some(link) = links.get(&p.source_id) {
            l.account_ids.push(link.account_id.clone());
        }
        for (k, v) in &p.attributes {
            if k.eq_ignore_ascii_case("account_id") || k.eq_ignore_ascii_case("accountId") {
                l.account_ids.extend(v.iter().cloned());
            }
        }
    }
    l.account_ids.sort();
    l.account_ids.dedup();
    l
}
