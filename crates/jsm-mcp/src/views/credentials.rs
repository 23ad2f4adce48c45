//! What `credential_status` returns: the engine's credential check, one entry per registered credential with
//! its state and expiry. There is no field for a secret or for where it is kept: the check never reads one
//! (the MCP server never asks it to verify), and these types could not carry it.

use jsm_lifecycle::credentials::{CheckReport, CredentialCheck};
use schemars::JsonSchema;
use serde::Serialize;

use super::wire_name;

/// One credential's state.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CredentialView {
    /// The name jsmctl knows it by.
    pub name: String,
    /// `api-token`, `scim-key`, `admin-key`, `oauth` or `ldap`.
    pub kind: String,
    /// The owning account's email or the team responsible.
    pub owner: Option<String>,
    /// `ok`, `expiring`, `expired`, `owner_inactive` or `rejected`.
    pub state: String,
    /// `fine`, `warn` or `dead`.
    pub severity: String,
    /// Whole days until expiry (negative once expired).
    pub days_left: Option<i64>,
    /// When it expires (RFC 3339), when known.
    pub expires_at: Option<String>,
    /// Where the expiry comes from (`atlassian`, `registered`, `rule: …`).
    pub expiry_source: Option<String>,
    /// Last use (RFC 3339), from Atlassian or jsmctl.
    pub last_used_at: Option<String>,
    /// One sentence.
    pub detail: String,
}

/// `credential_status`
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CredentialStatusOutput {
    /// The instant judged against (RFC 3339).
    pub checked_at: String,
    /// `atlassian` (the site's `serverTime`) or `local`.
    pub clock: String,
    /// The warning window in days.
    pub warn_days: u32,
    /// The worst severity: `fine`, `warn` (something expires within the window) or `dead`.
    pub worst: String,
    /// One entry per registered credential, by name.
    pub credentials: Vec<CredentialView>,
    /// Facts people should know (a listing that was unavailable, …).
    pub notes: Vec<String>,
}

impl CredentialStatusOutput {
    /// The view of a check.
    pub fn of(report: &CheckReport) -> Self {
        Self {
            checked_at: report.checked_at.to_rfc3339(),
            clock: report.clock.clone(),
            warn_days: report.warn_days,
            worst: wire_name(&report.worst),
            credentials: report.credentials.iter().map(credential).collect(),
            notes: report.notes.clone(),
        }
    }
}

fn credential(c: &CredentialCheck) -> CredentialView {
    CredentialView {
        name: c.name.clone(),
        kind: c.kind.clone(),
        owner: c.owner.clone(),
        state: wire_name(&c.state),
        severity: wire_name(&c.state.severity()),
        days_left: c.days_left,
        expires_at: c.expires_at.map(|t| t.to_rfc3339()),
        expiry_source: c.expiry_source.clone(),
        last_used_at: c.last_used_at.map(|t| t.to_rfc3339()),
        detail: c.detail.clone(),
    }
}
