//! `jsm-sources`: where jsmctl's desired state comes from, and nothing about Atlassian.
//!
//! A [`Source`] is one of three readers, each returning a [`Snapshot`] of [`DesiredPerson`]s:
//!
//! - [`FileSource`]: a CSV or JSON file (`file:PATH`); a bad row fails the whole read, naming every bad line;
//! - [`ScimSource`]: an upstream SCIM 2.0 directory (`scim:URL`), paged, incremental on `meta.lastModified`;
//! - [`LdapSource`]: OpenLDAP or Active Directory (`ldap://HOST:PORT/BASE_DN`), read with the RFC 2696 paged
//!   results control so the server's size limit never cuts it, incremental on `modifyTimestamp`/`uSNChanged`.
//!
//! A [`Mapping`] (TOML) turns source groups into service desks, organizations, Jira groups and agent vs customer,
//! says per target whether memberships are additive or authoritative, and scopes people in or out with a
//! per-clause trace.
//!
//! ```no_run
//! # async fn demo() -> jsm_sources::Result<()> {
//! let env = |name: &str| std::env::var(name).ok();
//! let mapping = jsm_sources::Mapping::load("mapping.toml")?;
//! let source = jsm_sources::Source::parse_with("file:people.csv", &mapping, &env)?;
//! let mut snapshot = source.read(None).await?;
//! for person in &mut snapshot.people {
//!     mapping.apply(person);
//! }
//! # Ok(()) }
//! ```

#![deny(missing_docs)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::todo)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod configured;
pub mod error;
pub mod file;
pub mod ldap;
pub mod mapping;
mod membership;
pub mod model;
pub mod scim;
pub mod source;

pub use configured::{Opened, SourceConfig};
pub use error::{Error, Result, RowError};
pub use file::FileSource;
pub use ldap::{LdapFlavor, LdapSource};
pub use mapping::{
    Clause, ClauseTrace, GroupRule, LdapSettings, Mapping, MembershipMode, Op, Reference,
    ScimSettings, ScopeGroup, ScopeGroupTrace, ScopeTrace, Target,
};
pub use model::{DesiredPerson, Kind, Skipped, Snapshot};
pub use scim::ScimSource;
pub use source::Source;
