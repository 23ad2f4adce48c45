//! Matching a source person to an Atlassian account, in precedence order: the identity link (used first ever
//! after a first match or create, so an email changed at the source keeps the account), then the SCIM
//! `externalId`, the email, and an account id the source carries. A person whose rules find two accounts, or
//! whose account another person already holds, is disputed and never acted on.

use std::collections::HashMap;

use jsm_sources::DesiredPerson;
use jsm_store::Link;
use serde::Serialize;

use super::observe::Observed;

/// A matching rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// The identity link in jsmctl's store.
    Link,
    /// The SCIM record's `externalId` equals the person's external id.
    ExternalId,
    /// The account's email (shown, or resolved through SCIM or the admin API) equals the person's.
    Email,
    /// The person carries the account id itself (`external_id`, or an `account_id`/`accountId` attribute).
    AccountId,
}

impl Rule {
    /// The rule as plans and traces name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Link => "link",
            Rule::ExternalId => "external_id",
            Rule::Email => "email",
            Rule::AccountId => "account_id",
        }
    }
}

/// The identity links of one source, by source id and by account.
#[derive(Debug, Clone, Default)]
pub struct LinkIndex {
    by_source_id: HashMap<String, Link>,
    by_account: HashMap<String, Vec<String>>,
}

impl LinkIndex {
    /// Indexes the links of one source.
    pub fn new(links: Vec<Link>) -> Self {
        let mut index = LinkIndex::default();
        for l in links {
            index
                .by_account
                .entry(l.account_id.clone())
                .or_default()
                .push(l.source_id.clone());
            index.by_source_id.insert(l.source_id.clone(), l);
        }
        index
    }

    /// The link of a source identity.
    pub fn get(&self, source_id: &str) -> Option<&Link> {
        self.by_source_id.get(source_id)
    }

    /// The source identities linked to an account.
    pub fn owners(&self, account_id: &str) -> &[String] {
        self.by_account.get(account_id).map_or(&[], Vec::as_slice)
    }

    /// Every link.
    pub fn iter(&self) -> impl Iterator<Item = &Link> {
        self.by_source_id.values()
    }

    /// How many links.
    pub fn len(&self) -> usize {
        self.by_source_id.len()
    }

    /// No links yet.
    pub fn is_empty(&self) -> bool {
        self.by_source_id.is_empty()
    }
}

/// One rule tried for a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleTry {
    /// The rule.
    pub rule: Rule,
    /// The value it looked for (none: the person has none, or the rule could not run).
    pub value: Option<String>,
    /// Account indexes it found.
    pub candidates: Vec<u32>,
    /// Why it was not tried, or what is odd about its result.
    pub note: Option<String>,
}

/// What matching decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// The link names an account that exists.
    Linked {
        /// The account.
        account: u32,
    },
    /// A rule found exactly one account, and nobody else holds it.
    Matched {
        /// The account.
        account: u32,
        /// The first rule that found it.
        rule: Rule,
    },
    /// No rule found an account.
    Unmatched,
    /// Several accounts, or an account another person holds.
    Disputed {
        /// The accounts.
        candidates: Vec<u32>,
        /// Why.
        why: String,
    },
}

impl Verdict {
    /// The account decided on, for `Linked` and `Matched`.
    pub fn account(&self) -> Option<u32> {
        match self {
            Verdict::Linked { account } | Verdict::Matched { account, .. } => Some(*account),
            _ => None,
        }
    }

    /// The rule that decided, for `Linked` and `Matched`.
    pub fn rule(&self) -> Option<Rule> {
        match self {
            Verdict::Linked { .. } => Some(Rule::Link),
            Verdict::Matched { rule, .. } => Some(*rule),
            _ => None,
        }
    }
}

/// Every rule tried for a person, and the verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Matched {
    /// In precedence order.
    pub tries: Vec<RuleTry>,
    /// What they decided.
    pub verdict: Verdict,
}

/// The account ids a person carries for the `account_id` rule.
pub(super) fn carried_account_ids(p: &DesiredPerson) -> Vec<&str> {
    let mut out: Vec<&str> = p
        .attributes
        .iter()
        .filter(|(k, _)| {
            k.eq_ignore_ascii_case("account_id") || k.eq_ignore_ascii_case("accountId")
        })
        .flat_map(|(_, v)| v.iter().map(String::as_str))
        .collect();
    if let Some(ext) = &p.external_id {
        out.push(ext);
    }
    out
}

/// Tries every rule for one person. The link decides when its account exists; otherwise every account the
/// other rules find counts, and more than one is a dispute (the first rule that found the one account is
/// the rule that decided).
pub fn match_person(p: &DesiredPerson, o: &Observed, links: &LinkIndex) -> Matched {
    let mut tries = Vec::with_capacity(4);
    let link = links.get(&p.source_id);
    let mut linked = None;
    tries.push(match link {
        Some(l) => match o.account_index(&l.account_id) {
            Some(i) => {
                linked = Some(i);
                RuleTry {
                    rule: Rule::Link,
                    value: Some(l.account_id.clone()),
                    candidates: vec![i],
                    note: None,
                }
            }
            None => RuleTry {
                rule: Rule::Link,
                value: Some(l.account_id.clone()),
                candidates: Vec::new(),
                note: Some(format!(
                    "the linked account {} no longer exists on the site",
                    l.account_id
                )),
            },
        },
        None => RuleTry {
            rule: Rule::Link,
            value: None,
            candidates: Vec::new(),
            note: Some(format!("no link for source id {}", p.source_id)),
        },
    });
    tries.push(match (&p.external_id, o.scim) {
        (Some(ext), true) => RuleTry {
            rule: Rule::ExternalId,
            value: Some(ext.clone()),
            candidates: o.by_external_id(ext).to_vec(),
            note: None,
        },
        (Some(ext), false) => RuleTry {
            rule: Rule::ExternalId,
            value: Some(ext.clone()),
            candidates: Vec::new(),
            note: Some("not tried: no SCIM directory is configured".into()),
        },
        (None, _) => RuleTry {
            rule: Rule::ExternalId,
            value: None,
            candidates: Vec::new(),
            note: Some("the source gives no external id".into()),
        },
    });
    let by_email = o.by_email(&p.email);
    let email_note = by_email
        .iter()
        .any(|i| o.found_by_search(&p.email, *i))
        .then(|| {
            "found by user/search, which matches hidden emails but does not show them".to_string()
        });
    tries.push(RuleTry {
        rule: Rule::Email,
        value: Some(p.email.clone()),
        candidates: by_email,
        note: email_note,
    });
    let carried = carried_account_ids(p);
    let mut by_id: Vec<u32> = carried
        .iter()
        .filter_map(|id| o.account_index(id))
        .collect();
    by_id.dedup();
    tries.push(RuleTry {
        rule: Rule::AccountId,
        value: carried.first().map(|s| s.to_string()),
        candidates: by_id,
        note: carried
            .is_empty()
            .then(|| "the source gives no account id".to_string()),
    });
    if let Some(account) = linked {
        return Matched {
            tries,
            verdict: Verdict::Linked { account },
        };
    }
    let mut found: Vec<(u32, Rule)> = Vec::new();
    for t in &tries[1..] {
        for c in &t.candidates {
            if !found.iter().any(|(a, _)| a == c) {
                found.push((*c, t.rule));
            }
        }
    }
    let verdict = match found.as_slice() {
        [] => Verdict::Unmatched,
        [(account, rule)] => Verdict::Matched {
            account: *account,
            rule: *rule,
        },
        many => Verdict::Disputed {
            candidates: many.iter().map(|(a, _)| *a).collect(),
            why: format!(
                "the matching rules find {} accounts: {}",
                many.len(),
                many.iter()
                    .map(|(a, r)| format!("{} ({})", o.account(*a).account_id, r.as_str()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
    };
    Matched { tries, verdict }
}

/// Turns matches that collide into disputes: an account found for a person while it is linked to another
/// source identity, or found for two people at once.
pub fn resolve_claims(
    people: &[DesiredPerson],
    matches: &mut [Matched],
    o: &Observed,
    links: &LinkIndex,
) {
    let mut claims: HashMap<u32, Vec<usize>> = HashMap::new();
    for (i, m) in matches.iter().enumerate() {
        if let Verdict::Matched { account, .. } = m.verdict {
            claims.entry(account).or_default().push(i);
        }
    }
    for (account, claimants) in claims {
        let account_id = &o.account(account).account_id;
        let owners = links.owners(account_id);
        for &i in &claimants {
            let other_owner = owners.iter().find(|s| **s != people[i].source_id);
            let why = if let Some(owner) = other_owner {
                Some(format!(
                    "account {account_id} is already linked to source id {owner}"
                ))
            } else if claimants.len() > 1 {
                Some(format!(
                    "account {account_id} is also the match of {}",
                    claimants
                        .iter()
                        .filter(|j| **j != i)
                        .map(|j| people[*j].email.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            } else {
                None
            };
            if let Some(why) = why {
                matches[i].verdict = Verdict::Disputed {
                    candidates: vec![account],
                    why,
                };
            }
        }
    }
}
