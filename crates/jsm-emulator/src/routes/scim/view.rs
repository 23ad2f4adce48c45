//! Directory records as SCIM resources: users with `groups`, `meta` and both extensions, groups with their
//! members, and the writable part of each as a document PATCH works on.

use serde_json::{Map, Value, json};

use super::schema::{ATLASSIAN, ENTERPRISE, GROUP, USER, USER_ATTRS};
use crate::clock::iso_utc;
use crate::site::{AccountKey, DirectoryGroup, DirectoryUser, Site};

/// `{base}/scim/directory/{directoryId}`.
pub fn scim_base(base: &str, directory_id: &str) -> String {
    format!("{base}/scim/directory/{directory_id}")
}

/// The writable attributes of a user record (what PATCH and PUT replace).
pub fn user_doc(user: &DirectoryUser) -> Map<String, Value> {
    let mut doc = user.attributes.clone();
    doc.insert("userName".into(), json!(user.user_name));
    if let Some(id) = &user.external_id {
        doc.insert("externalId".into(), json!(id));
    }
    if let Some(active) = user.active {
        doc.insert("active".into(), json!(active));
    }
    doc
}

/// A user record as a SCIM resource.
pub fn user(site: &Site, scim: &str, user: &DirectoryUser) -> Value {
    let mut out = Map::new();
    out.insert("schemas".into(), json!([USER, ENTERPRISE, ATLASSIAN]));
    out.insert("id".into(), json!(user.id));
    if let Some(id) = &user.external_id {
        out.insert("externalId".into(), json!(id));
    }
    out.insert("userName".into(), json!(user.user_name));
    for attr in USER_ATTRS {
        if let Some(v) = user.attributes.get(attr.name) {
            out.insert(attr.name.into(), v.clone());
        }
    }
    if let Some(active) = user.active {
        out.insert("active".into(), json!(active));
    }
    let groups: Vec<Value> = site
        .directory
        .live_groups()
        .filter(|(_, g)| {
            site.group(g.group)
                .is_some_and(|jira| jira.members.contains(&user.account))
        })
        .filter_map(|(_, g)| {
            let name = &site.group(g.group)?.name;
            Some(json!({
                "value": g.id,
                "$ref": format!("{scim}/Groups/{}", g.id),
                "display": name,
                "type": "direct",
            }))
        })
        .collect();
    out.insert("groups".into(), Value::Array(groups));
    out.insert(
        "meta".into(),
        json!({
            "resourceType": "User",
            "created": iso_utc(user.created),
            "lastModified": iso_utc(user.last_modified),
            "location": format!("{scim}/Users/{}", user.id),
        }),
    );
    if let Some(ext) = user.attributes.get(ENTERPRISE) {
        out.insert(ENTERPRISE.into(), ext.clone());
    }
    out.insert(
        ATLASSIAN.into(),
        json!({ "atlassianAccountId": site.account(user.account).account_id }),
    );
    Value::Object(out)
}

/// Members of a SCIM group: members of its Jira group that have a live SCIM record, in SCIM id order.
pub fn members(site: &Site, scim: &str, group: &DirectoryGroup) -> Vec<Value> {
    let Some(jira) = site.group(group.group) else {
        return Vec::new();
    };
    jira.members
        .iter()
        .filter_map(|k| member(site, scim, group, *k))
        .collect()
}

fn member(site: &Site, scim: &str, group: &DirectoryGroup, key: AccountKey) -> Option<Value> {
    let idx = site.directory.user_of_account(key)?;
    let user = site.directory.users.get(idx).filter(|u| !u.deleted)?;
    let display = group
        .displays
        .get(&key)
        .cloned()
        .unwrap_or_else(|| user.user_name.clone());
    Some(json!({
        "value": user.id,
        "$ref": format!("{scim}/Users/{}", user.id),
        "type": "User",
        "display": display,
    }))
}

/// The writable attributes of a group: `displayName`, `externalId`, members with echoed `display` values.
pub fn group_doc(site: &Site, group: &DirectoryGroup) -> Map<String, Value> {
    let mut doc = Map::new();
    let name = site
        .group(group.group)
        .map(|g| g.name.clone())
        .unwrap_or_default();
    doc.insert("displayName".into(), json!(name));
    if let Some(id) = &group.external_id {
        doc.insert("externalId".into(), json!(id));
    }
    let members: Vec<Value> = site
        .group(group.group)
        .map(|jira| {
            jira.members
                .iter()
                .filter_map(|k| {
                    let idx = site.directory.user_of_account(*k)?;
                    let user = site.directory.users.get(idx).filter(|u| !u.deleted)?;
                    let mut m = json!({ "value": user.id });
                    if let Some(d) = group.displays.get(k) {
                        m["display"] = json!(d);
                    }
                    Some(m)
                })
                .collect()
        })
        .unwrap_or_default();
    if !members.is_empty() {
        doc.insert("members".into(), Value::Array(members));
    }
    doc
}

/// A group record as a SCIM resource.
pub fn group(site: &Site, scim: &str, group: &DirectoryGroup) -> Value {
    let name = site
        .group(group.group)
        .map(|g| g.name.clone())
        .unwrap_or_default();
    let mut out = json!({
        "schemas": [GROUP],
        "id": group.id,
        "displayName": name,
        "members": members(site, scim, group),
        "meta": {
            "resourceType": "Group",
            "created": iso_utc(group.created),
            "lastModified": iso_utc(group.last_modified),
            "location": format!("{scim}/Groups/{}", group.id),
        },
    });
    if let Some(id) = &group.external_id {
        out["externalId"] = json!(id);
    }
    out
}
