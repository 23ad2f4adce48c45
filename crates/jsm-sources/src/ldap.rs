//! The LDAP / Active Directory source.
//!
//! Users and groups are read with the RFC 2696 paged results control, page after page until the server's cookie
//! is empty, so a directory larger than the server's size limit comes back whole; a search the server still cuts
//! (`sizeLimitExceeded`) fails with [`Error::Truncated`] instead of returning part of the directory. AD's ranged
//! retrieval of large `member` attributes (`member;range=0-1499`) is followed to the end.
//!
//! Mapping: `mail` → email, `displayName` then `cn` → display name, `entryUUID` (OpenLDAP) or `objectGUID`
//! (AD, binary, shown as a GUID string) → source id and external id; disabled when `userAccountControl` has bit
//! 0x2 or a configured `disabled_when` rule holds; groups via the groups' `member` and the users' `memberOf`,
//! nested groups flattened. Incremental reads add `(modifyTimestamp>=W)` (OpenLDAP) or `(uSNChanged>=N)` (AD) to
//! the user filter, and read the members of groups changed since as well; the watermark is the maximum seen.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::time::Duration;

use ldap3::controls::{Control, ControlType, PagedResults};
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, Scope, SearchEntry, SearchResult};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, chain};
use crate::file::check_email;
use crate::mapping::{LdapMembership, LdapSettings};
use crate::membership::{GroupNode, resolve};
use crate::model::{DesiredPerson, Kind, Skipped, Snapshot};

/// Hard cap on pages per search, so a server that never ends cannot keep a read going forever.
const MAX_PAGES: usize = 100_000;
/// Active Directory's capability OID, announced in the root DSE's `supportedCapabilities`.
const AD_CAPABILITY: &str = "1.2.840.113556.1.4.800";
/// Above this many members of changed groups to read one by one, an incremental read reads all users instead.
const MAX_SINGLE_READS: usize = 100;
/// `userAccountControl` ACCOUNTDISABLE.
const UAC_DISABLED: u64 = 0x2;

/// Which directory the server is; decides the default filters, id attribute and watermark attribute.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LdapFlavor {
    /// Ask the server's root DSE (the default).
    #[default]
    Auto,
    /// OpenLDAP (and other RFC 4512 directories): `entryUUID`, `modifyTimestamp`.
    #[serde(rename = "openldap")]
    OpenLdap,
    /// Microsoft Active Directory: `objectGUID`, `uSNChanged`, `userAccountControl`.
    ActiveDirectory,
}

/// Reads people and groups from an LDAP directory or Active Directory.
#[derive(Debug, Clone)]
pub struct LdapSource {
    url: String,
    base_dn: String,
    bind_dn: Option<String>,
    password: Option<SecretString>,
    settings: LdapSettings,
}

/// The flavor-resolved names and filters of one read.
struct Plan {
    flavor: LdapFlavor,
    user_filter: String,
    group_filter: String,
    id_attribute: String,
    watermark_attribute: &'static str,
}

impl LdapSource {
    /// A source for `url` (`ldap://host:port` or `ldaps://…`, no path) under `base_dn`; `bind` is the bind DN and
    /// password (none: an anonymous read).
    pub fn new(
        url: &str,
        base_dn: &str,
        bind: Option<(String, SecretString)>,
        settings: LdapSettings,
    ) -> Result<Self> {
        let spec = || format!("{url}/{base_dn}");
        let parsed = url::Url::parse(url).map_err(|e| Error::SourceSpec {
            spec: spec(),
            reason: format!("not a URL: {e}"),
        })?;
        if !matches!(parsed.scheme(), "ldap" | "ldaps")
            || parsed.host_str().is_none_or(str::is_empty)
        {
            return Err(Error::SourceSpec {
                spec: spec(),
                reason: "expected ldap://HOST:PORT or ldaps://HOST:PORT".into(),
            });
        }
        if base_dn.trim().is_empty() {
            return Err(Error::SourceSpec {
                spec: spec(),
                reason: "the base DN is empty".into(),
            });
        }
        let (bind_dn, password) = match bind {
            Some((dn, pw)) => {
                if pw.expose_secret().is_empty() {
                    // An empty password makes a "successful" unauthenticated bind (RFC 4513 §5.1.2).
                    return Err(Error::MissingEnv {
                        name: "JSMCTL_LDAP_PASSWORD",
                        why: "the LDAP bind DN needs a non-empty password (an empty one binds anonymously)",
                    });
                }
                (Some(dn), Some(pw))
            }
            None => (None, None),
        };
        Ok(Self {
            url: url.trim_end_matches('/').to_owned(),
            base_dn: base_dn.to_owned(),
            bind_dn,
            password,
            settings,
        })
    }

    /// The server URL, without the base DN.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The base DN searched.
    pub fn base_dn(&self) -> &str {
        &self.base_dn
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(self.settings.timeout_seconds.max(1))
    }

    /// Runs one LDAP operation under the configured timeout, mapping connection failures.
    async fn op<T>(&self, fut: impl Future<Output = ldap3::result::Result<T>>) -> Result<T> {
        match tokio::time::timeout(self.timeout(), fut).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(Error::LdapUnreachable {
                url: self.url.clone(),
                message: chain(&e),
            }),
            Err(_) => Err(Error::LdapUnreachable {
                url: self.url.clone(),
                message: format!("no answer within {}s", self.timeout().as_secs()),
            }),
        }
    }

    /// Connects and binds (anonymously when no bind DN is set).
    async fn connect(&self) -> Result<Ldap> {
        let conn_settings = LdapConnSettings::new()
            .set_conn_timeout(self.timeout())
            .set_starttls(self.settings.starttls);
        let (conn, mut ldap) = self
            .op(LdapConnAsync::with_settings(conn_settings, &self.url))
            .await?;
        let url = self.url.clone();
        tokio::spawn(async move {
            if let Err(e) = conn.drive().await {
                tracing::debug!(url, error = %e, "LDAP connection ended");
            }
        });
        if let (Some(dn), Some(pw)) = (&self.bind_dn, &self.password) {
            let res = self.op(ldap.simple_bind(dn, pw.expose_secret())).await?;
            if res.rc != 0 {
                return Err(Error::LdapBind {
                    url: self.url.clone(),
                    bind_dn: dn.clone(),
                    rc: res.rc,
                    text: result_text(res.rc, &res.text),
                });
            }
        }
        Ok(ldap)
    }

    /// Reads users and groups; `since` (a watermark from an earlier read) asks only for users changed since.
    pub async fn read(&self, since: Option<&str>) -> Result<Snapshot> {
        let mut ldap = self.connect().await?;
        let result = self.read_with(&mut ldap, since).await;
        let _ = tokio::time::timeout(Duration::from_secs(2), ldap.unbind()).await;
        result
    }

    async fn flavor(&self, ldap: &mut Ldap) -> Result<LdapFlavor> {
        if self.settings.flavor != LdapFlavor::Auto {
            return Ok(self.settings.flavor);
        }
        let SearchResult(entries, res) = self
            .op(ldap.search(
                "",
                Scope::Base,
                "(objectClass=*)",
                vec!["supportedCapabilities"],
            ))
            .await?;
        if res.rc != 0 {
            // A root DSE hidden by ACLs: assume the standard directory.
            return Ok(LdapFlavor::OpenLdap);
        }
        let is_ad = entries.into_iter().map(SearchEntry::construct).any(|e| {
            e.attrs.iter().any(|(k, v)| {
                k.eq_ignore_ascii_case("supportedCapabilities")
                    && v.iter().any(|c| c == AD_CAPABILITY)
            })
        });
        Ok(if is_ad {
            LdapFlavor::ActiveDirectory
        } else {
            LdapFlavor::OpenLdap
        })
    }

    fn plan(&self, flavor: LdapFlavor) -> Plan {
        let ad = flavor == LdapFlavor::ActiveDirectory;
        let user_filter = self.settings.user_filter.clone().unwrap_or_else(|| {
            if ad {
                "(&(objectCategory=person)(objectClass=user))".into()
            } else {
                "(objectClass=inetOrgPerson)".into()
            }
        });
        let group_filter = self
            .settings
            .group_filter
            .clone()
            .unwrap_or_else(|| "(|(objectClass=groupOfNames)(objectClass=group))".into());
        Plan {
            flavor,
            user_filter: parenthesize(&user_filter),
            group_filter: parenthesize(&group_filter),
            id_attribute: self.settings.id_attribute.clone().unwrap_or_else(|| {
                if ad {
                    "objectGUID".into()
                } else {
                    "entryUUID".into()
                }
            }),
            watermark_attribute: if ad { "uSNChanged" } else { "modifyTimestamp" },
        }
    }

    async fn read_with(&self, ldap: &mut Ldap, since: Option<&str>) -> Result<Snapshot> {
        let plan = self.plan(self.flavor(ldap).await?);
        let since = since.map(|w| check_watermark(plan.flavor, w)).transpose()?;
        let s = &self.settings;

        let mut user_attrs: Vec<String> = vec![
            "*".into(),
            plan.id_attribute.clone(),
            plan.watermark_attribute.into(),
            s.member_of_attribute.clone(),
            "userAccountControl".into(),
        ];
        user_attrs.extend(s.disabled_when.iter().map(|r| r.attribute.clone()));
        let user_filter = match &since {
            Some(w) => format!("(&{}({}>={w}))", plan.user_filter, plan.watermark_attribute),
            None => plan.user_filter.clone(),
        };
        let mut users = self
            .paged_search(
                ldap,
                &self.base_dn,
                Scope::Subtree,
                &user_filter,
                &user_attrs,
            )
            .await?;

        let group_base = s
            .group_base_dn
            .clone()
            .unwrap_or_else(|| self.base_dn.clone());
        let group_attrs: Vec<String> = vec![
            s.group_name_attribute.clone(),
            s.member_attribute.clone(),
            plan.watermark_attribute.into(),
        ];
        let mut groups = Vec::new();
        let mut group_names: HashMap<String, String> = HashMap::new();
        if s.membership != LdapMembership::MemberOf || since.is_some() {
            groups = self
                .paged_search(
                    ldap,
                    &group_base,
                    Scope::Subtree,
                    &plan.group_filter,
                    &group_attrs,
                )
                .await?;
            for g in &mut groups {
                self.complete_ranges(ldap, g, &s.member_attribute).await?;
                let name =
                    first(g, &s.group_name_attribute).unwrap_or_else(|| first_rdn_value(&g.dn));
                group_names.insert(normalize_dn(&g.dn), name);
            }
        }
        let nodes: Vec<GroupNode> = groups
            .iter()
            .map(|g| GroupNode {
                key: normalize_dn(&g.dn),
                name: group_names
                    .get(&normalize_dn(&g.dn))
                    .cloned()
                    .unwrap_or_default(),
                members: values(g, &s.member_attribute)
                    .iter()
                    .map(|m| normalize_dn(m))
                    .collect(),
            })
            .collect();
        let resolved = resolve(&nodes, s.nested_groups);

        let mut complete = since.is_none();
        if let Some(w) = &since {
            // Members of groups changed since the watermark may be unchanged themselves: read them too.
            let have: HashSet<String> = users.iter().map(|u| normalize_dn(&u.dn)).collect();
            let changed: Vec<&GroupNode> = nodes
                .iter()
                .zip(&groups)
                .filter(|(_, g)| {
                    first(g, plan.watermark_attribute)
                        .is_some_and(|v| watermark_ge(plan.flavor, &v, w))
                })
                .map(|(n, _)| n)
                .collect();
            let mut extra: Vec<String> = Vec::new();
            for node in changed {
                for (member, names) in &resolved {
                    if names.contains(&node.name)
                        && !have.contains(member)
                        && !extra.contains(member)
                    {
                        extra.push(member.clone());
                    }
                }
            }
            if extra.len() > MAX_SINGLE_READS {
                // Cheaper to page through every user once than to read this many one by one.
                users = self
                    .paged_search(
                        ldap,
                        &self.base_dn,
                        Scope::Subtree,
                        &plan.user_filter,
                        &user_attrs,
                    )
                    .await?;
                complete = true;
            } else {
                for dn in extra {
                    let found = self
                        .search_one(ldap, &dn, &plan.user_filter, &user_attrs)
                        .await?;
                    users.extend(found);
                }
            }
        }

        let mut latest: Option<String> = None;
        for e in users.iter().chain(groups.iter()) {
            if let Some(v) = first(e, plan.watermark_attribute)
                && latest
                    .as_deref()
                    .is_none_or(|l| !watermark_ge(plan.flavor, l, &v))
            {
                latest = Some(v);
            }
        }

        let mut people = Vec::with_capacity(users.len());
        let mut skipped = Vec::new();
        for user in users {
            let mut names: Vec<String> = Vec::new();
            if s.membership != LdapMembership::MemberOf
                && let Some(direct) = resolved.get(&normalize_dn(&user.dn))
            {
                names.extend(direct.iter().cloned());
            }
            if s.membership != LdapMembership::Member {
                for dn in values(&user, &s.member_of_attribute) {
                    let key = normalize_dn(&dn);
                    let name = group_names
                        .get(&key)
                        .cloned()
                        .unwrap_or_else(|| first_rdn_value(&dn));
                    names.push(name);
                }
            }
            names.sort();
            names.dedup();
            match person_from_entry(&user, &plan, s, names) {
                Ok(p) => people.push(p),
                Err(skip) => skipped.push(skip),
            }
        }
        Ok(Snapshot {
            people,
            watermark: latest,
            complete,
            skipped,
        })
    }

    /// A subtree search, paged with RFC 2696 until the server's cookie is empty.
    async fn paged_search(
        &self,
        ldap: &mut Ldap,
        base: &str,
        scope: Scope,
        filter: &str,
        attrs: &[String],
    ) -> Result<Vec<SearchEntry>> {
        let page_size = i32::try_from(self.settings.page_size.max(1)).unwrap_or(i32::MAX);
        let mut cookie: Vec<u8> = Vec::new();
        let mut out = Vec::new();
        for _ in 0..MAX_PAGES {
            let control = PagedResults {
                size: page_size,
                cookie: std::mem::take(&mut cookie),
            };
            let SearchResult(entries, res) = self
                .op(ldap
                    .with_controls(control)
                    .search(base, scope, filter, attrs.to_vec()))
                .await?;
            out.extend(entries.into_iter().map(SearchEntry::construct));
            match res.rc {
                0 => {}
                4 => {
                    return Err(Error::Truncated {
                        url: format!("{} search `{filter}` under `{base}`", self.url),
                        reason: format!(
                            "the server's size limit cut the search at {} entries although it was paged \
                             (page size {page_size}); lower [ldap] page_size or raise the server's limit for paged searches",
                            out.len()
                        ),
                    });
                }
                rc => {
                    return Err(Error::LdapSearch {
                        url: self.url.clone(),
                        base: base.to_owned(),
                        filter: filter.to_owned(),
                        rc,
                        text: result_text(rc, &res.text),
                    });
                }
            }
            let next = res.ctrls.iter().find_map(|c| match c {
                Control(Some(ControlType::PagedResults), raw) if raw.val.is_some() => {
                    Some(raw.parse::<PagedResults>().cookie)
                }
                _ => None,
            });
            match next {
                Some(c) if !c.is_empty() => cookie = c,
                // No control: the server did not page, and returned everything with success.
                _ => return Ok(out),
            }
        }
        Err(Error::Truncated {
            url: format!("{} search `{filter}` under `{base}`", self.url),
            reason: format!("still paging after {MAX_PAGES} pages"),
        })
    }

    /// The entry at `dn` if it matches `filter` (a base search; a vanished entry is none).
    async fn search_one(
        &self,
        ldap: &mut Ldap,
        dn: &str,
        filter: &str,
        attrs: &[String],
    ) -> Result<Vec<SearchEntry>> {
        let SearchResult(entries, res) = self
            .op(ldap.search(dn, Scope::Base, filter, attrs.to_vec()))
            .await?;
        match res.rc {
            0 | 32 => Ok(entries.into_iter().map(SearchEntry::construct).collect()),
            rc => Err(Error::LdapSearch {
                url: self.url.clone(),
                base: dn.to_owned(),
                filter: filter.to_owned(),
                rc,
                text: result_text(rc, &res.text),
            }),
        }
    }

    /// Follows AD's ranged retrieval (`member;range=0-1499`) until the last range (`…-*`), merging the values
    /// under the plain attribute name.
    async fn complete_ranges(
        &self,
        ldap: &mut Ldap,
        entry: &mut SearchEntry,
        attr: &str,
    ) -> Result<()> {
        let Some(mut key) = entry
            .attrs
            .keys()
            .find(|k| range_of(k, attr).is_some())
            .cloned()
        else {
            return Ok(());
        };
        let mut all: Vec<String> = entry.attrs.remove(attr).unwrap_or_default();
        for _ in 0..MAX_PAGES {
            let values = entry.attrs.remove(&key).unwrap_or_default();
            let got = values.len();
            all.extend(values);
            let Some((_, end)) = range_of(&key, attr) else {
                break;
            };
            let Some(end) = end else { break };
            if got == 0 {
                break;
            }
            let ask = format!("{attr};range={}-*", end + 1);
            let SearchResult(entries, res) = self
                .op(ldap.search(
                    &entry.dn,
                    Scope::Base,
                    "(objectClass=*)",
                    vec![ask.as_str()],
                ))
                .await?;
            if res.rc != 0 {
                return Err(Error::LdapSearch {
                    url: self.url.clone(),
                    base: entry.dn.clone(),
                    filter: format!("ranged retrieval of {ask}"),
                    rc: res.rc,
                    text: result_text(res.rc, &res.text),
                });
            }
            let Some(next) = entries.into_iter().map(SearchEntry::construct).next() else {
                break;
            };
            let Some(next_key) = next
                .attrs
                .keys()
                .find(|k| range_of(k, attr).is_some())
                .cloned()
            else {
                break;
            };
            entry.attrs.extend(next.attrs);
            key = next_key;
        }
        entry.attrs.insert(attr.to_owned(), all);
        Ok(())
    }
}

/// `member;range=0-1499` → `(0, Some(1499))`, `member;range=1500-*` → `(1500, None)`; other names → none.
fn range_of(key: &str, attr: &str) -> Option<(u64, Option<u64>)> {
    let (name, opts) = key.split_once(';')?;
    if !name.eq_ignore_ascii_case(attr) {
        return None;
    }
    let range = opts.split(';').find_map(|o| o.strip_prefix("range="))?;
    let (lo, hi) = range.split_once('-')?;
    let lo = lo.parse().ok()?;
    let hi = if hi == "*" {
        None
    } else {
        Some(hi.parse().ok()?)
    };
    Some((lo, hi))
}

fn parenthesize(filter: &str) -> String {
    let f = filter.trim();
    if f.starts_with('(') {
        f.to_owned()
    } else {
        format!("({f})")
    }
}

/// Validates an incremental watermark (it goes into a filter): generalized time for OpenLDAP, digits for AD.
fn check_watermark(flavor: LdapFlavor, w: &str) -> Result<String> {
    let ok = match flavor {
        LdapFlavor::ActiveDirectory => {
            !w.is_empty() && w.len() <= 20 && w.bytes().all(|b| b.is_ascii_digit())
        }
        _ => is_generalized_time(w),
    };
    if ok {
        Ok(w.to_owned())
    } else {
        Err(Error::Watermark {
            watermark: w.to_owned(),
            reason: match flavor {
                LdapFlavor::ActiveDirectory => "an AD watermark is a uSNChanged number".into(),
                _ => "an LDAP watermark is a modifyTimestamp like 20260101120000Z".into(),
            },
        })
    }
}

fn is_generalized_time(w: &str) -> bool {
    let Some(body) = w.strip_suffix('Z') else {
        return false;
    };
    let (digits, fraction) = match body.split_once('.') {
        Some((d, f)) => (d, Some(f)),
        None => (body, None),
    };
    digits.len() == 14
        && digits.bytes().all(|b| b.is_ascii_digit())
        && fraction.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

/// `a >= b` for two watermarks of the flavor (numbers for AD, generalized times otherwise).
fn watermark_ge(flavor: LdapFlavor, a: &str, b: &str) -> bool {
    match flavor {
        LdapFlavor::ActiveDirectory => match (a.parse::<u64>(), b.parse::<u64>()) {
            (Ok(a), Ok(b)) => a >= b,
            _ => a >= b,
        },
        // Same-format generalized times (YYYYmmddHHMMSS[.f]Z) order as strings once the `Z` is set aside.
        _ => a.trim_end_matches('Z') >= b.trim_end_matches('Z'),
    }
}

fn result_text(rc: u32, text: &str) -> String {
    let name = match rc {
        4 => "sizeLimitExceeded",
        32 => "noSuchObject",
        34 => "invalidDNSyntax",
        48 => "inappropriateAuthentication",
        49 => "invalidCredentials",
        50 => "insufficientAccessRights",
        51 => "busy",
        52 => "unavailable",
        53 => "unwillingToPerform",
        87 => "filterError",
        _ => "error",
    };
    let text = text.trim();
    if text.is_empty() {
        name.to_owned()
    } else {
        format!("{name}: {text}")
    }
}

/// DN comparison key: lowercase, no spaces around `,` and `=`.
fn normalize_dn(dn: &str) -> String {
    dn.split(',')
        .map(|rdn| rdn.split('=').map(str::trim).collect::<Vec<_>>().join("="))
        .collect::<Vec<_>>()
        .join(",")
        .to_lowercase()
}

/// `cn=IT Staff,ou=groups,…` → `IT Staff`.
fn first_rdn_value(dn: &str) -> String {
    dn.split(',')
        .next()
        .and_then(|rdn| rdn.split_once('='))
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_else(|| dn.to_owned())
}

/// An attribute's string values (attribute names compared ignoring ASCII case).
fn values(e: &SearchEntry, attr: &str) -> Vec<String> {
    e.attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(attr))
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

fn first(e: &SearchEntry, attr: &str) -> Option<String> {
    values(e, attr).into_iter().find(|v| !v.trim().is_empty())
}

/// The entry's stable id: `objectGUID` (16 bytes, shown in the registry format) or a string attribute.
fn id_of(e: &SearchEntry, attr: &str) -> Option<String> {
    if let Some((_, v)) = e
        .bin_attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(attr))
        && let Some(bytes) = v.first()
    {
        return Some(guid_string(bytes).unwrap_or_else(|| hex(bytes)));
    }
    let v = first(e, attr)?;
    // A GUID whose bytes happen to be valid UTF-8 lands among the string attributes.
    if attr.eq_ignore_ascii_case("objectGUID") && v.len() == 16 {
        return guid_string(v.as_bytes());
    }
    Some(v)
}

/// AD's `objectGUID` bytes → `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (the first three fields little-endian).
pub fn guid_string(b: &[u8]) -> Option<String> {
    let b: &[u8; 16] = b.try_into().ok()?;
    Some(format!(
        "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        b[3],
        b[2],
        b[1],
        b[0],
        b[5],
        b[4],
        b[7],
        b[6],
        b[8],
        b[9],
        b[10],
        b[11],
        b[12],
        b[13],
        b[14],
        b[15]
    ))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn person_from_entry(
    e: &SearchEntry,
    plan: &Plan,
    s: &LdapSettings,
    source_groups: Vec<String>,
) -> std::result::Result<DesiredPerson, Skipped> {
    let Some(id) = id_of(e, &plan.id_attribute) else {
        return Err(Skipped {
            source_id: e.dn.clone(),
            reason: format!("no {} (the stable id)", plan.id_attribute),
        });
    };
    let Some(email) = first(e, &s.email_attribute).map(|m| m.trim().to_owned()) else {
        return Err(Skipped {
            source_id: id,
            reason: format!("no {} (the email attribute)", s.email_attribute),
        });
    };
    if let Err(why) = check_email(&email) {
        return Err(Skipped {
            source_id: id,
            reason: format!("invalid email `{email}`: {why}"),
        });
    }
    let display_name = s.display_name_attributes.iter().find_map(|a| first(e, a));
    let uac_disabled = first(e, "userAccountControl")
        .and_then(|v| v.trim().parse::<i64>().ok())
        .is_some_and(|uac| (uac as u64) & UAC_DISABLED != 0);
    let rule_disabled = s.disabled_when.iter().any(|rule| {
        let vals = values(e, &rule.attribute);
        match &rule.value {
            None => vals.iter().any(|v| !v.trim().is_empty()),
            Some(want) => vals
                .iter()
                .any(|v| v.trim().eq_ignore_ascii_case(want.trim())),
        }
    });
    let mut attributes: BTreeMap<String, Vec<String>> = e
        .attrs
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    attributes.insert("dn".into(), vec![e.dn.clone()]);
    if e.bin_attrs
        .keys()
        .any(|k| k.eq_ignore_ascii_case(&plan.id_attribute))
    {
        attributes.insert(plan.id_attribute.clone(), vec![id.clone()]);
    }
    Ok(DesiredPerson {
        source_id: id.clone(),
        email,
        display_name,
        external_id: Some(id),
        kind: Kind::Customer,
        active: !(uac_disabled || rule_disabled),
        service_desks: Vec::new(),
        organizations: Vec::new(),
        groups: Vec::new(),
        source_groups,
        attributes,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::mapping::DisabledRule;

    fn entry(dn: &str, attrs: &[(&str, &[&str])], bin: &[(&str, Vec<u8>)]) -> SearchEntry {
        SearchEntry {
            dn: dn.into(),
            attrs: attrs
                .iter()
                .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
                .collect(),
            bin_attrs: bin
                .iter()
                .cloned()
                .map(|(k, v)| (k.to_string(), vec![v]))
                .collect::<HashMap<_, _>>(),
        }
    }

    fn ad_plan() -> Plan {
        Plan {
            flavor: LdapFlavor::ActiveDirectory,
            user_filter: String::new(),
            group_filter: String::new(),
            id_attribute: "objectGUID".into(),
            watermark_attribute: "uSNChanged",
        }
    }

    #[test]
    fn guid_bytes_read_like_windows_shows_them() {
        let bytes = [
            0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
            0xee, 0xff,
        ];
        assert_eq!(
            guid_string(&bytes).unwrap(),
            "00112233-4455-6677-8899-aabbccddeeff"
        );
        assert_eq!(guid_string(&bytes[..3]), None);
    }

    #[test]
    fn active_directory_entry_maps_guid_uac_and_groups() {
        let guid = vec![
            0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
            0xee, 0xff,
        ];
        let e = entry(
            "CN=Jane Doe,OU=Staff,DC=corp,DC=test",
            &[
                ("mail", &["jane@corp.test"]),
                ("cn", &["Jane Doe"]),
                ("userAccountControl", &["514"]),
            ],
            &[("objectGUID", guid)],
        );
        let p = person_from_entry(
            &e,
            &ad_plan(),
            &LdapSettings::default(),
            vec!["IT Staff".into()],
        )
        .unwrap();
        assert_eq!(p.source_id, "00112233-4455-6677-8899-aabbccddeeff");
        assert_eq!(
            p.external_id.as_deref(),
            Some("00112233-4455-6677-8899-aabbccddeeff")
        );
        assert_eq!(p.display_name.as_deref(), Some("Jane Doe"));
        assert!(!p.active, "514 = NORMAL_ACCOUNT | ACCOUNTDISABLE");
        assert_eq!(
            p.attributes["dn"],
            vec!["CN=Jane Doe,OU=Staff,DC=corp,DC=test"]
        );
        assert_eq!(
            p.attributes["objectGUID"],
            vec!["00112233-4455-6677-8899-aabbccddeeff"]
        );

        let e = entry(
            "CN=x",
            &[("mail", &["x@corp.test"]), ("userAccountControl", &["512"])],
            &[("objectGUID", vec![1; 16])],
        );
        assert!(
            person_from_entry(&e, &ad_plan(), &LdapSettings::default(), vec![])
                .unwrap()
                .active
        );
    }

    #[test]
    fn disabled_rules_and_skips() {
        let mut plan = ad_plan();
        plan.id_attribute = "entryUUID".into();
        let s = LdapSettings {
            disabled_when: vec![
                DisabledRule {
                    attribute: "employeeType".into(),
                    value: Some("Disabled".into()),
                },
                DisabledRule {
                    attribute: "pwdAccountLockedTime".into(),
                    value: None,
                },
            ],
            ..LdapSettings::default()
        };
        let e = entry(
            "uid=a",
            &[
                ("entryUUID", &["u-1"]),
                ("mail", &["a@x.test"]),
                ("employeeType", &["disabled"]),
            ],
            &[],
        );
        assert!(!person_from_entry(&e, &plan, &s, vec![]).unwrap().active);
        let e = entry(
            "uid=b",
            &[
                ("entryUUID", &["u-2"]),
                ("mail", &["b@x.test"]),
                ("pwdAccountLockedTime", &["000001010000Z"]),
            ],
            &[],
        );
        assert!(!person_from_entry(&e, &plan, &s, vec![]).unwrap().active);
        let e = entry(
            "uid=c",
            &[
                ("entryUUID", &["u-3"]),
                ("mail", &["c@x.test"]),
                ("employeeType", &["staff"]),
            ],
            &[],
        );
        assert!(person_from_entry(&e, &plan, &s, vec![]).unwrap().active);
        let e = entry("uid=d", &[("entryUUID", &["u-4"])], &[]);
        assert_eq!(
            person_from_entry(&e, &plan, &s, vec![])
                .unwrap_err()
                .source_id,
            "u-4"
        );
        let e = entry("uid=e", &[("mail", &["e@x.test"])], &[]);
        assert_eq!(
            person_from_entry(&e, &plan, &s, vec![])
                .unwrap_err()
                .source_id,
            "uid=e"
        );
    }

    #[test]
    fn watermarks_are_validated_and_ordered() {
        assert!(check_watermark(LdapFlavor::OpenLdap, "20261201090000Z").is_ok());
        assert!(check_watermark(LdapFlavor::OpenLdap, "20261201090000.123Z").is_ok());
        assert!(check_watermark(LdapFlavor::OpenLdap, "2026)(uid=*").is_err());
        assert!(check_watermark(LdapFlavor::ActiveDirectory, "123456").is_ok());
        assert!(check_watermark(LdapFlavor::ActiveDirectory, "12a").is_err());
        assert!(watermark_ge(LdapFlavor::ActiveDirectory, "100", "99"));
        assert!(watermark_ge(
            LdapFlavor::OpenLdap,
            "20261201090001Z",
            "20261201090000Z"
        ));
        assert!(!watermark_ge(
            LdapFlavor::OpenLdap,
            "20261201085959Z",
            "20261201090000Z"
        ));
    }

    #[test]
    fn ranges_and_dns() {
        assert_eq!(
            range_of("member;range=0-1499", "member"),
            Some((0, Some(1499)))
        );
        assert_eq!(
            range_of("Member;range=1500-*", "member"),
            Some((1500, None))
        );
        assert_eq!(range_of("member", "member"), None);
        assert_eq!(range_of("memberOf;range=0-1", "member"), None);
        assert_eq!(
            normalize_dn("CN=IT Staff, OU=Groups ,DC=Example"),
            "cn=it staff,ou=groups,dc=example"
        );
        assert_eq!(first_rdn_value("cn=IT Staff,ou=groups"), "IT Staff");
        assert_eq!(parenthesize("objectClass=person"), "(objectClass=person)");
    }

    #[test]
    fn empty_password_is_refused_and_debug_hides_the_password() {
        let err = LdapSource::new(
            "ldap://127.0.0.1:389",
            "dc=x",
            Some(("cn=r,dc=x".into(), SecretString::from(""))),
            LdapSettings::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("JSMCTL_LDAP_PASSWORD"), "{err}");
        let s = LdapSource::new(
            "ldap://127.0.0.1:389",
            "dc=x",
            Some(("cn=r,dc=x".into(), SecretString::from("hunter2-secret"))),
            LdapSettings::default(),
        )
        .unwrap();
        assert!(!format!("{s:?}").contains("hunter2-secret"));
    }
}
