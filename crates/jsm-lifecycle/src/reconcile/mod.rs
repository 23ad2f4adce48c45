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
pub mod person;
pub mod plan;
pub mod policy;
pub mod resume;
pub mod situation;
pub mod targeted;
pub mod trace;

use std::collections::HashSet;

use jsm_sources::{
    DesiredPerson, Kind, Mapping, MembershipMode, Skipped, Snapshot, Source, Target,
};
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
    /// Where the read ended: save it with [`Engine::save_watermark`] once the plan is applied (a one-person
    /// reconcile's is where the last applied run left it, so saving it moves nothing).
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

/// Matches these people against an observation, settles colliding claims, and classifies every source
/// identity: the first steps of every plan, full or partial.
pub fn classify_people(
    people: &[DesiredPerson],
    in_scope: &[bool],
    observed: &Observed,
    links: &LinkIndex,
    complete: bool,
) -> (Vec<Matched>, Vec<Case>) {
    let mut matches: Vec<Matched> = people
        .iter()
        .map(|p| matching::match_person(p, observed, links))
        .collect();
    matching::resolve_claims(people, &mut matches, observed, links);
    let cases = situation::classify(people, in_scope, &matches, observed, links, complete);
    (matches, cases)
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
    let full = complete && observed.complete;
    let (_, cases) = classify_people(people, in_scope, observed, links, full);
    plan::build(Inputs {
        people,
        cases: &cases,
        observed,
        policy,
        source,
        full,
    })
}

/// A source read and made ready to plan from: the mapping applied to its people, their scoping verdicts, the
/// targets the mapping and the people name, and the source's links.
struct Prepared {
    /// The name links and the watermark are kept under.
    name: String,
    /// The people (mapping applied), taken out of `snapshot`.
    people: Vec<DesiredPerson>,
    /// The scoping verdict of each person.
    in_scope: Vec<bool>,
    /// Every target the mapping and the people name (so a partial plan removes what a full one would).
    wanted: Wanted,
    /// The source's identity links.
    links: LinkIndex,
    /// The rest of the read: watermark, completeness, skipped entries.
    snapshot: Snapshot,
}

impl Engine {
    /// Reads the source (from the watermark `since`, or in full) and prepares it to plan from.
    async fn read_source(&self, req: &Request<'_>, since: Option<&str>) -> Result<Prepared> {
        let name = source_name(req.source);
        let mut snapshot = req.source.read(since).await?;
        let mut people = std::mem::take(&mut snapshot.people);
        let in_scope = prepare(req.mapping, &mut people);
        let wanted = wanted(req.mapping, req.mapping_origin, &people, &in_scope);
        let links = LinkIndex::new(self.store.links(Some(&name)).await?);
        Ok(Prepared {
            name,
            people,
            in_scope,
            wanted,
            links,
            snapshot,
        })
    }

    /// Finishes a reconcile's draft: what the reads cost, the summary line, `notes`, the entries the source
    /// skipped; then the policy and the seal.
    fn seal_reconcile(
        &self,
        built: plan::Built,
        calls: u32,
        read: &str,
        notes: Vec<String>,
        skipped: &[Skipped],
    ) -> Result<(Plan, Summary)> {
        let mut draft = built.draft;
        draft.observed(calls);
        draft.note(summary_line(&built.summary, read));
        for n in notes {
            draft.note(n);
        }
        for s in skipped.iter().take(20) {
            draft.note(format!(
                "skipped at the source: {}: {}",
                s.source_id, s.reason
            ));
        }
        if skipped.len() > 20 {
            draft.note(format!(
                "… and {} more entries skipped at the source",
                skipped.len() - 20
            ));
        }
        Ok((self.finish_draft(draft)?, built.summary))
    }

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
        let src = self.read_source(req, start.since.as_deref()).await?;
        let complete = src.snapshot.complete;
        let modes = |t: &Target| mode_of(req.mapping, t);
        let observed = if !complete && src.people.is_empty() {
            // Nothing changed at the source: nothing to ask the site.
            Observed::default()
        } else if complete || src.people.len() > TARGETED_READ_LIMIT {
            let emails: Vec<&str> = src.people.iter().map(|p| p.email.as_str()).collect();
            self.observe_site(&src.wanted, &modes, &emails).await?
        } else {
            self.observe_people(&src.wanted, &modes, &lookups(&src.people, &src.links))
                .await?
        };
        let built = plan_in_memory(
            &src.people,
            &src.in_scope,
            &observed,
            &src.links,
            &self.policy.reconcile,
            &name,
            complete,
        )?;
        let notes = if complete {
            Vec::new()
        } else {
            vec![format!(
                "{}: {} changed people read; people who left the source are found by the next full run",
                start.why,
                src.people.len()
            )]
        };
        let skipped = src.snapshot.skipped;
        let (plan, summary) =
            self.seal_reconcile(built, observed.calls, &start.why, notes, &skipped)?;
        Ok(Reconciliation {
            plan,
            summary,
            complete,
            read: start.why,
            watermark: Watermark {
                source: name.clone(),
                watermark: src.snapshot.watermark,
                full_at: complete.then_some(now),
                updated_at: now,
            },
            source: name,
            skipped,
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
pub fn lookups<'p>(
    people: impl IntoIterator<Item = &'p DesiredPerson>,
    links: &LinkIndex,
) -> Lookups {
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
    l.admin_scan = true;
    l.account_ids.sort();
    l.account_ids.dedup();
    l
}
