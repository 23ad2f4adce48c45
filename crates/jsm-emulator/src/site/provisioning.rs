//! How the directory drives accounts: a SCIM record's primary email, name and `active` flag are pushed to its
//! Atlassian account, and suspension through the admin or user management API reaches the SCIM record, so one
//! deactivation shows on every surface (Jira `active:false`, API tokens refused, SCIM `active:false`).

use serde_json::{Map, Value};

use super::{AccountKey, DirectoryUser, Site, UserEventKind};

/// The primary email of SCIM attributes, else the first one.
pub fn primary_email(attributes: &Map<String, Value>) -> Option<&str> {
    let emails = attributes.get("emails")?.as_array()?;
    emails
        .iter()
        .find(|e| e.get("primary").and_then(Value::as_bool) == Some(true))
        .or_else(|| emails.first())
        .and_then(|e| e.get("value"))
        .and_then(Value::as_str)
}

/// The name a SCIM user shows as: `displayName`, `name.formatted`, given and family names, else `userName`.
pub fn display_name(user: &DirectoryUser) -> String {
    let text = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let name = user.attributes.get("name");
    text(user.attributes.get("displayName"))
        .or_else(|| text(name.and_then(|n| n.get("formatted"))))
        .or_else(|| {
            let parts: Vec<String> = ["givenName", "familyName"]
                .iter()
                .filter_map(|k| text(name.and_then(|n| n.get(*k))))
                .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        })
        .unwrap_or_else(|| user.user_name.clone())
}

impl Site {
    /// Pushes record `idx`'s email, name and activity to its account; records `user_updated` when they changed.
    /// The caller checked that the email is free.
    pub fn sync_account(&mut self, idx: usize) {
        let Some(user) = self.directory.users.get(idx) else {
            return;
        };
        let key = user.account;
        let email = primary_email(&user.attributes).map(str::to_string);
        let name = display_name(user);
        let active = !user.deleted && user.active.unwrap_or(true);
        let before = self.account(key).clone();
        if let Some(email) = email
            && !email.eq_ignore_ascii_case(&before.email)
        {
            self.set_email(key, &email);
        }
        let account = self.account_mut(key);
        account.display_name = name;
        account.active = active;
        if active {
            account.site_access = true;
        }
        if *self.account(key) != before {
            self.record_user_event(UserEventKind::Updated, key);
        }
    }

    /// Suspends or restores an account on every surface: the account, and its SCIM record (a restore also
    /// brings back a record deleted through SCIM). Returns whether anything changed.
    pub fn set_managed_active(&mut self, key: AccountKey, active: bool, now: i64) -> bool {
        let mut changed = self.account(key).active != active;
        if let Some(idx) = self.directory.user_of_account(key) {
            let user = &mut self.directory.users[idx];
            if user.active != Some(active) || (active && user.deleted) {
                user.active = Some(active);
                if active {
                    user.deleted = false;
                }
                user.last_modified = now;
                changed = true;
            }
        }
        self.account_mut(key).active = active;
        if changed {
            self.record_user_event(UserEventKind::Updated, key);
        }
        changed
    }
}
