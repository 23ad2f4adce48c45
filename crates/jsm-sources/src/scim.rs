//! The SCIM 2.0 source: people from an upstream directory that speaks SCIM (an IdP, another provisioning hub).
//!
//! `/Users` and `/Groups` are read with `startIndex`/`count` paging until `startIndex` passes `totalResults` or a
//! page is empty; a server that ignores `count` is followed by what it returned, one that ignores `startIndex`
//! (a page of items already seen) or whose total does not add up fails with [`Error::Truncated`] rather than
//! hand the engine a short list. Group memberships come from the Groups' `members` (nested groups flattened) and
//! the Users' `groups`.
//!
//! Incremental reads filter `meta.lastModified ge "WATERMARK"` where the ServiceProviderConfig says
//! `filter.supported` (`ge`, not `gt`: a change in the watermark's own second is read again rather than lost);
//! members of groups changed since are read too. Elsewhere a full read is returned, marked `complete`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use crate::error::{Error, Result, chain};
use crate::file::check_email;
use crate::mapping::ScimSettings;
use crate::membership::{GroupNode, resolve};
use crate::model::{DesiredPerson, Kind, Skipped, Snapshot};

/// Above this many members of changed groups to read one by one, an incremental read reads all users instead.
const MAX_SINGLE_READS: usize = 100;
/// Hard cap on pages per listing, so a server that never ends cannot keep a read going forever.
const MAX_PAGES: usize = 100_000;

/// Reads people and groups from a SCIM 2.0 server.
#[derive(Debug, Clone)]
pub struct ScimSource {
    base: Url,
    token: Option<SecretString>,
    settings: ScimSettings,
    http: reqwest::Client,
}

#[derive(Deserialize)]
struct ListResponse {
    #[serde(rename = "totalResults")]
    total_results: u64,
    #[serde(rename = "Resources", alias = "resources", default)]
    resources: Vec<Value>,
}

#[derive(Deserialize)]
struct ProviderConfig {
    #[serde(default)]
    filter: Option<Supported>,
}

#[derive(Deserialize)]
struct Supported {
    #[serde(default)]
    supported: bool,
}

#[derive(Deserialize)]
struct ScimUser {
    id: String,
    #[serde(rename = "userName", default)]
    user_name: Option<String>,
    #[serde(rename = "externalId", default)]
    external_id: Option<String>,
    #[serde(rename = "displayName", default)]
    display_name: Option<String>,
    #[serde(default)]
    name: Option<ScimName>,
    #[serde(default)]
    emails: Vec<ScimEmail>,
    #[serde(default, deserialize_with = "lenient_bool")]
    active: Option<bool>,
    #[serde(default)]
    groups: Vec<ScimRef>,
    #[serde(default)]
    meta: Option<ScimMeta>,
}

#[derive(Deserialize)]
struct ScimName {
    #[serde(default)]
    formatted: Option<String>,
    #[serde(rename = "givenName", default)]
    given_name: Option<String>,
    #[serde(rename = "familyName", default)]
    family_name: Option<String>,
}

#[derive(Deserialize)]
struct ScimEmail {
    #[serde(default)]
    value: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    primary: Option<bool>,
}

#[derive(Deserialize)]
struct ScimRef {
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    display: Option<String>,
}

#[derive(Deserialize)]
struct ScimMeta {
    #[serde(rename = "lastModified", default)]
    last_modified: Option<String>,
}

#[derive(Deserialize)]
struct ScimGroup {
    id: String,
    #[serde(rename = "displayName", default)]
    display_name: Option<String>,
    #[serde(default)]
    members: Vec<ScimRef>,
    #[serde(default)]
    meta: Option<ScimMeta>,
}

/// Accepts `true`/`false` as JSON booleans or strings (some IdPs send `"True"`).
fn lenient_bool<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<bool>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(b)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(other) => Err(serde::de::Error::custom(format!(
            "expected a boolean, found {other}"
        ))),
    }
}

/// The latest of the timestamps seen, kept with its original spelling.
#[derive(Default)]
struct Latest(Option<(DateTime<FixedOffset>, String)>);

impl Latest {
    fn see(&mut self, ts: Option<&str>) {
        let Some(ts) = ts else { return };
        let Ok(parsed) = DateTime::parse_from_rfc3339(ts) else {
            return;
        };
        if self.0.as_ref().is_none_or(|(max, _)| parsed > *max) {
            self.0 = Some((parsed, ts.to_owned()));
        }
    }
}

impl ScimSource {
    /// A source for the SCIM base URL (the one `/Users` hangs off), with an optional bearer token.
    pub fn new(base: &str, token: Option<SecretString>, settings: ScimSettings) -> Result<Self> {
        let spec_err = |reason: String| Error::SourceSpec {
            spec: format!("scim:{base}"),
            reason,
        };
        let mut url = Url::parse(base).map_err(|e| spec_err(format!("not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(spec_err("the SCIM URL must be http:// or https://".into()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(spec_err(
                "put no credentials in the URL: the token comes from JSMCTL_SOURCE_SCIM_TOKEN"
                    .into(),
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(spec_err(
                "the SCIM base URL takes no query or fragment".into(),
            ));
        }
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(settings.timeout_seconds.max(1)))
            .connect_timeout(Duration::from_secs(settings.timeout_seconds.clamp(1, 10)))
            .build()
            .map_err(|e| Error::ScimUnreachable {
                url: base.to_owned(),
                message: chain(&e),
            })?;
        Ok(Self {
            base: url,
            token,
            settings,
            http,
        })
    }

    /// The base URL (with a trailing `/`).
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// Reads users and groups; `since` (a watermark from an earlier read) asks only for what changed, where the
    /// server can filter on `meta.lastModified`.
    pub async fn read(&self, since: Option<&str>) -> Result<Snapshot> {
        let since = match since {
            None => None,
            Some(w) => match DateTime::parse_from_rfc3339(w) {
                Ok(parsed) if self.filter_supported().await? => Some((w, parsed)),
                Ok(_) => None,
                Err(e) => {
                    return Err(Error::Watermark {
                        watermark: w.to_owned(),
                        reason: format!("a SCIM watermark is an RFC 3339 meta.lastModified: {e}"),
                    });
                }
            },
        };
        let changed = since.map(|(w, _)| format!("meta.lastModified ge \"{w}\""));
        let filter = match (&self.settings.filter, changed) {
            (Some(f), Some(c)) => Some(format!("({f}) and {c}")),
            (Some(f), None) => Some(f.clone()),
            (None, c) => c,
        };
        let mut latest = Latest::default();

        let user_values = self.list("Users", filter.as_deref()).await?;
        let mut users = Vec::with_capacity(user_values.len());
        for (i, v) in user_values.into_iter().enumerate() {
            users.push(self.decode_user(v, &format!("Users (item {})", i + 1))?);
        }

        let mut nodes = Vec::new();
        let mut changed_groups = Vec::new();
        if self.settings.read_groups {
            for (i, v) in self.list("Groups", None).await?.into_iter().enumerate() {
                let g: ScimGroup = self.decode_value(v, &format!("Groups (item {})", i + 1))?;
                let last = g.meta.as_ref().and_then(|m| m.last_modified.clone());
                latest.see(last.as_deref());
                if let (Some((_, since)), Some(last)) = (since, last.as_deref())
                    && DateTime::parse_from_rfc3339(last).is_ok_and(|l| l >= since)
                {
                    changed_groups.push(g.id.clone());
                }
                nodes.push(GroupNode {
                    key: g.id.clone(),
                    name: g.display_name.clone().unwrap_or_else(|| g.id.clone()),
                    members: g.members.iter().filter_map(|m| m.value.clone()).collect(),
                });
            }
        }
        let memberships = resolve(&nodes, true);

        let mut complete = since.is_none();
        if since.is_some() && !changed_groups.is_empty() {
            // Members of a changed group may be unchanged themselves: read them too.
            let have: HashSet<String> = users.iter().map(|(u, _)| u.id.clone()).collect();
            let by_key: HashMap<&str, &GroupNode> =
                nodes.iter().map(|n| (n.key.as_str(), n)).collect();
            let mut extra: Vec<String> = Vec::new();
            let mut stack: Vec<&str> = changed_groups.iter().map(String::as_str).collect();
            let mut visited = HashSet::new();
            while let Some(key) = stack.pop() {
                if !visited.insert(key) {
                    continue;
                }
                let Some(node) = by_key.get(key) else {
                    continue;
                };
                for m in &node.members {
                    if by_key.contains_key(m.as_str()) {
                        stack.push(m);
                    } else if !have.contains(m) && !extra.contains(m) {
                        extra.push(m.clone());
                    }
                }
            }
            if extra.len() > MAX_SINGLE_READS {
                // Cheaper to page through every user once than to read this many one by one.
                users.clear();
                for (i, v) in self
                    .list("Users", self.settings.filter.as_deref())
                    .await?
                    .into_iter()
                    .enumerate()
                {
                    users.push(self.decode_user(v, &format!("Users (item {})", i + 1))?);
                }
                complete = true;
            } else {
                for id in extra {
                    if let Some(v) = self.get_user(&id).await? {
                        users.push(self.decode_user(v, &format!("Users/{id}"))?);
                    }
                }
            }
        }

        let mut people = Vec::with_capacity(users.len());
        let mut skipped = Vec::new();
        for (user, raw) in users {
            latest.see(user.meta.as_ref().and_then(|m| m.last_modified.as_deref()));
            let mut groups: Vec<String> = memberships.get(&user.id).cloned().unwrap_or_default();
            for g in &user.groups {
                if let Some(name) = g.display.clone().or_else(|| {
                    g.value
                        .as_ref()
                        .and_then(|v| nodes.iter().find(|n| &n.key == v).map(|n| n.name.clone()))
                }) && !groups.contains(&name)
                {
                    groups.push(name);
                }
            }
            groups.sort();
            match person_from(user, raw, groups) {
                Ok(p) => people.push(p),
                Err(s) => skipped.push(s),
            }
        }
        Ok(Snapshot {
            people,
            watermark: latest.0.map(|(_, s)| s),
            complete,
            skipped,
        })
    }

    /// Whether the server's ServiceProviderConfig says it supports filters (404: it has none, so no).
    pub async fn filter_supported(&self) -> Result<bool> {
        let url = self.url("ServiceProviderConfig", &[])?;
        match self.get::<ProviderConfig>(url).await {
            Ok(c) => Ok(c.filter.is_some_and(|f| f.supported)),
            Err(Error::ScimStatus { status: 404, .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn decode_user(&self, v: Value, what: &str) -> Result<(ScimUser, Value)> {
        let user: ScimUser = self.decode_value(v.clone(), what)?;
        Ok((user, v))
    }

    fn decode_value<T: DeserializeOwned>(&self, v: Value, what: &str) -> Result<T> {
        serde_path_to_error::deserialize(v).map_err(|e| Error::ScimDecode {
            url: format!("{}{what}", self.base),
            path: e.path().to_string(),
            message: e.inner().to_string(),
        })
    }

    fn url(&self, path: &str, query: &[(&str, String)]) -> Result<Url> {
        let mut url = self.base.join(path).map_err(|e| Error::SourceSpec {
            spec: format!("scim:{}", self.base),
            reason: format!("cannot form the {path} URL: {e}"),
        })?;
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        Ok(url)
    }

    async fn get_user(&self, id: &str) -> Result<Option<Value>> {
        let url = self.url(&format!("Users/{}", percent_path(id)), &[])?;
        match self.get::<Value>(url).await {
            Ok(v) => Ok(Some(v)),
            // Deleted between the group read and now: the next full read settles it.
            Err(Error::ScimStatus { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every resource of a listing, paged; fails rather than return fewer than the server said it has.
    async fn list(&self, resource: &str, filter: Option<&str>) -> Result<Vec<Value>> {
        let count = self.settings.page_size.max(1);
        let mut start: u64 = 1;
        let mut seen: HashSet<String> = HashSet::new();
        let mut out = Vec::new();
        let mut total = 0;
        for _ in 0..MAX_PAGES {
            let mut query = vec![
                ("startIndex", start.to_string()),
                ("count", count.to_string()),
            ];
            if let Some(f) = filter {
                query.push(("filter", f.to_owned()));
            }
            let url = self.url(resource, &query)?;
            let shown = url.to_string();
            let page: ListResponse = self.get(url).await?;
            total = page.total_results;
            let n = page.resources.len() as u64;
            if n == 0 {
                break;
            }
            let mut new = 0;
            for (i, item) in page.resources.into_iter().enumerate() {
                let Some(id) = item.get("id").and_then(Value::as_str).map(str::to_owned) else {
                    return Err(Error::ScimDecode {
                        url: shown,
                        path: format!("Resources[{i}].id"),
                        message: "missing or not a string".into(),
                    });
                };
                if seen.insert(id) {
                    out.push(item);
                    new += 1;
                }
            }
            if new == 0 {
                return Err(Error::Truncated {
                    url: shown,
                    reason: format!(
                        "the page at startIndex {start} holds only resources already read (does the server ignore startIndex?)"
                    ),
                });
            }
            start += n;
            if start > total {
                break;
            }
        }
        if (out.len() as u64) < total {
            return Err(Error::Truncated {
                url: self.url(resource, &[])?.to_string(),
                reason: format!(
                    "the server reported totalResults {total} but returned {} distinct resources",
                    out.len()
                ),
            });
        }
        Ok(out)
    }

    async fn get<T: DeserializeOwned>(&self, url: Url) -> Result<T> {
        let shown = url.to_string();
        let mut req = self
            .http
            .get(url)
            .header("Accept", "application/scim+json, application/json");
        if let Some(token) = &self.token {
            req = req.bearer_auth(token.expose_secret());
        }
        let resp = req.send().await.map_err(|e| Error::ScimUnreachable {
            url: shown.clone(),
            message: chain(&e),
        })?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(|e| Error::ScimUnreachable {
            url: shown.clone(),
            message: chain(&e),
        })?;
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(Error::ScimAuth {
                url: shown,
                status: status.as_u16(),
            });
        }
        if !status.is_success() {
            return Err(Error::ScimStatus {
                url: shown,
                status: status.as_u16(),
                detail: error_detail(&body),
            });
        }
        let de = &mut serde_json::Deserializer::from_slice(&body);
        serde_path_to_error::deserialize(de).map_err(|e| Error::ScimDecode {
            url: shown,
            path: e.path().to_string(),
            message: e.inner().to_string(),
        })
    }
}

/// Escapes a SCIM id for use as one path segment.
fn percent_path(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// The SCIM error `detail` (or `scimType`), else the body's first 200 characters.
fn error_detail(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<Value>(body)
        && let Some(d) = v
            .get("detail")
            .or_else(|| v.get("scimType"))
            .and_then(Value::as_str)
    {
        return d.to_owned();
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        "(empty body)".into()
    } else {
        text.chars().take(200).collect()
    }
}

fn person_from(
    user: ScimUser,
    raw: Value,
    groups: Vec<String>,
) -> std::result::Result<DesiredPerson, Skipped> {
    let email = user
        .emails
        .iter()
        .find(|e| e.primary == Some(true))
        .or_else(|| user.emails.first())
        .and_then(|e| e.value.clone())
        .or_else(|| {
            user.user_name
                .clone()
                .filter(|u| check_email(u.trim()).is_ok())
        });
    let Some(email) = email.map(|e| e.trim().to_owned()) else {
        return Err(Skipped {
            source_id: user.id,
            reason: "no email (emails and userName hold none)".into(),
        });
    };
    if let Err(why) = check_email(&email) {
        return Err(Skipped {
            source_id: user.id,
            reason: format!("invalid email `{email}`: {why}"),
        });
    }
    let display_name = user
        .display_name
        .filter(|d| !d.trim().is_empty())
        .or_else(|| {
            user.name
                .as_ref()
                .and_then(|n| n.formatted.clone())
                .filter(|d| !d.trim().is_empty())
        })
        .or_else(|| {
            let n = user.name.as_ref()?;
            let joined = [n.given_name.as_deref(), n.family_name.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            (!joined.trim().is_empty()).then_some(joined)
        });
    let mut attributes = BTreeMap::new();
    flatten("", &raw, &mut attributes);
    attributes.remove("groups");
    if !groups.is_empty() {
        attributes.insert("groups".to_owned(), groups.clone());
    }
    Ok(DesiredPerson {
        source_id: user.id,
        email,
        display_name,
        external_id: user.external_id.filter(|e| !e.is_empty()),
        kind: Kind::Customer,
        active: user.active.unwrap_or(true),
        service_desks: Vec::new(),
        organizations: Vec::new(),
        groups: Vec::new(),
        source_groups: groups,
        attributes,
    })
}

/// Flattens a SCIM resource into attribute name → values: `name.givenName`, `emails` (the `value`s), extension
/// attributes as `urn:…:User:department`. `schemas` and `meta` are left out.
fn flatten(prefix: &str, v: &Value, out: &mut BTreeMap<String, Vec<String>>) {
    flatten_into(prefix, false, v, out);
}

/// `urn_root`: `prefix` is an extension schema URN, whose attributes join it with `:`.
fn flatten_into(prefix: &str, urn_root: bool, v: &Value, out: &mut BTreeMap<String, Vec<String>>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                if prefix.is_empty() && (k == "schemas" || k == "meta") {
                    continue;
                }
                let (key, urn) = if prefix.is_empty() || k.starts_with("urn:") {
                    (k.clone(), k.starts_with("urn:"))
                } else if urn_root {
                    (format!("{prefix}:{k}"), false)
                } else {
                    (format!("{prefix}.{k}"), false)
                };
                flatten_into(&key, urn, v, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                match item.get("value") {
                    Some(inner) if item.is_object() => flatten_into(prefix, false, inner, out),
                    _ => flatten_into(prefix, false, item, out),
                }
            }
        }
        Value::Null => {}
        Value::String(s) => out.entry(prefix.to_owned()).or_default().push(s.clone()),
        other => out
            .entry(prefix.to_owned())
            .or_default()
            .push(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flatten_names_nested_and_extension_attributes() {
        let raw = serde_json::json!({
            "schemas": ["x"], "id": "1", "userName": "a@example.test", "active": true,
            "name": {"givenName": "A", "familyName": "B"},
            "emails": [{"value": "a@example.test", "primary": true}, {"value": "a2@example.test"}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "IT", "manager": {"value": "9"}},
            "meta": {"lastModified": "2026-01-01T00:00:00Z"}
        });
        let mut out = BTreeMap::new();
        flatten("", &raw, &mut out);
        assert_eq!(out["name.givenName"], vec!["A"]);
        assert_eq!(out["emails"], vec!["a@example.test", "a2@example.test"]);
        assert_eq!(out["active"], vec!["true"]);
        assert_eq!(
            out["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"],
            vec!["IT"]
        );
        assert_eq!(
            out["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"],
            vec!["9"]
        );
        assert!(!out.contains_key("schemas") && !out.contains_key("meta.lastModified"));
    }

    #[test]
    fn person_prefers_primary_email_and_falls_back_on_names() {
        let raw = serde_json::json!({
            "id": "7", "userName": "login7",
            "emails": [{"value": "other@example.test"}, {"value": "main@example.test", "primary": "True"}],
            "name": {"givenName": "Ada", "familyName": "Lovelace"}, "active": "false"
        });
        let user: ScimUser = serde_json::from_value(raw.clone()).unwrap();
        let p = person_from(user, raw, vec!["G".into()]).unwrap();
        assert_eq!(p.email, "main@example.test");
        assert_eq!(p.display_name.as_deref(), Some("Ada Lovelace"));
        assert!(!p.active);
        assert_eq!(p.source_id, "7");
        assert_eq!(p.source_groups, vec!["G"]);

        let raw = serde_json::json!({"id": "8", "userName": "no-email"});
        let user: ScimUser = serde_json::from_value(raw.clone()).unwrap();
        let s = person_from(user, raw, vec![]).unwrap_err();
        assert_eq!(s.source_id, "8");
    }

    #[test]
    fn latest_compares_instants_not_strings() {
        let mut l = Latest::default();
        l.see(Some("2026-01-01T10:00:00+02:00"));
        l.see(Some("2026-01-01T09:00:00Z"));
        l.see(Some("garbage"));
        assert_eq!(l.0.unwrap().1, "2026-01-01T09:00:00Z");
    }

    #[test]
    fn urls_with_credentials_are_refused_and_debug_hides_the_token() {
        let err = ScimSource::new(
            "https://u:p@idp.example.test/scim/v2",
            None,
            ScimSettings::default(),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("no credentials in the URL"),
            "{err}"
        );
        let s = ScimSource::new(
            "https://idp.example.test/scim/v2",
            Some(SecretString::from("tok-very-secret")),
            ScimSettings::default(),
        )
        .unwrap();
        assert_eq!(s.base_url().as_str(), "https://idp.example.test/scim/v2/");
        assert!(!format!("{s:?}").contains("tok-very-secret"));
    }
}
