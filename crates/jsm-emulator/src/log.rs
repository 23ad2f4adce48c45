//! The request log: the last requests the emulator answered, readable through the control plane so tests can
//! count calls and retries.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use serde::Serialize;

/// One answered request.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEntry {
    pub seq: u64,
    pub at: i64,
    pub method: String,
    pub path: String,
    pub query: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
}

impl LogEntry {
    /// Whether the request names `who` (an account id, email, display name, external or SCIM id) in its path
    /// or its decoded query, ignoring case: how a test tells that a read was about one person.
    pub fn names(&self, who: &str) -> bool {
        let who = who.to_lowercase();
        let in_query = form_urlencoded::parse(self.query.as_bytes())
            .any(|(_, v)| v.to_lowercase().contains(&who));
        in_query || self.path.to_lowercase().contains(&who)
    }

    /// Whether the answer to this `GET` holds no one's record but the caller's: `myself`, the list or one of
    /// the service desks, the unfiltered list of organizations (filtered by `accountId` it is that person's),
    /// application roles, group details, and SCIM groups read without their members. Every other read returns
    /// people.
    pub fn reads_no_person(&self) -> bool {
        if self.method != "GET" {
            return false;
        }
        let p = self.path.as_str();
        let query = |key: &str| {
            form_urlencoded::parse(self.query.as_bytes())
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.into_owned())
        };
        let desk = p
            .split_once("/rest/servicedeskapi/servicedesk")
            .is_some_and(|(_, rest)| {
                rest.is_empty() || rest.strip_prefix('/').is_some_and(|id| !id.contains('/'))
            });
        p.ends_with("/myself")
            || desk
            || (p.ends_with("/rest/servicedeskapi/organization") && query("accountId").is_none())
            || p.contains("/applicationrole")
            || p.ends_with("/group/bulk")
            || (p.ends_with("/Groups")
                && query("excludedAttributes")
                    .is_some_and(|v| v.split(',').any(|a| a.trim() == "members")))
    }
}

/// A bounded log; the oldest entries fall off.
#[derive(Debug)]
pub struct RequestLog {
    entries: Mutex<(u64, VecDeque<LogEntry>)>,
    capacity: usize,
}

impl RequestLog {
    /// A log keeping the last `capacity` requests.
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: Mutex::new((0, VecDeque::with_capacity(capacity.min(4096)))),
            capacity,
        }
    }

    /// Records a request, numbering it.
    pub fn push(&self, mut entry: LogEntry) {
        if self.capacity == 0 {
            return;
        }
        let mut guard = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        guard.0 += 1;
        entry.seq = guard.0;
        if guard.1.len() == self.capacity {
            guard.1.pop_front();
        }
        guard.1.push_back(entry);
    }

    /// Entries numbered above `since`, oldest first, at most `limit`.
    pub fn since(&self, since: u64, limit: usize) -> Vec<LogEntry> {
        let guard = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        guard
            .1
            .iter()
            .filter(|e| e.seq > since)
            .take(limit)
            .cloned()
            .collect()
    }

    /// Forgets every entry.
    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .1
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str, query: &str) -> LogEntry {
        LogEntry {
            seq: 0,
            at: 0,
            method: "GET".into(),
            path: path.into(),
            query: query.into(),
            status: 200,
            account_id: None,
        }
    }

    #[test]
    fn reads_of_people_are_told_from_reads_of_none() {
        for (path, query) in [
            ("/rest/api/3/myself", ""),
            ("/rest/servicedeskapi/servicedesk", "start=0"),
            ("/rest/servicedeskapi/servicedesk/4", ""),
            ("/rest/servicedeskapi/organization", "start=0&limit=50"),
            ("/rest/api/2/applicationrole/jira-servicedesk", ""),
            ("/rest/api/3/group/bulk", "groupName=it-support"),
            (
                "/scim/directory/d/Groups",
                "filter=displayName+eq+%22x%22&excludedAttributes=members",
            ),
        ] {
            assert!(get(path, query).reads_no_person(), "{path}?{query}");
        }
        for (path, query) in [
            ("/rest/servicedeskapi/servicedesk/4/customer", ""),
            ("/rest/servicedeskapi/organization", "accountId=a1"),
            ("/rest/servicedeskapi/organization/3/user", ""),
            ("/rest/api/3/group/member", "groupname=it-support"),
            ("/rest/api/3/users/search", "startAt=0"),
            ("/scim/directory/d/Groups", "filter=displayName+eq+%22x%22"),
            ("/scim/directory/d/Users", ""),
        ] {
            assert!(!get(path, query).reads_no_person(), "{path}?{query}");
        }
        let mut post = get("/rest/api/3/myself", "");
        post.method = "POST".into();
        assert!(!post.reads_no_person());
    }

    #[test]
    fn a_name_is_found_in_the_decoded_query_or_the_path() {
        let e = get(
            "/rest/servicedeskapi/servicedesk/4/customer",
            "query=Ann+Archer&start=0",
        );
        assert!(e.names("ann archer") && !e.names("Bob"));
        assert!(get("/rest/api/3/user", "accountId=557058%3Aab").names("557058:ab"));
        assert!(get("/scim/directory/d/Users/s-1", "").names("s-1"));
    }
}
