//! A source as a config names it: a spec and an optional mapping file, opened into what a reconcile reads. The
//! CLI, the service and the MCP server open sources the same way, so a spec means the same everywhere.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::mapping::Mapping;
use crate::source::Source;

/// One named identity source (`[[sources]]` in the serve and MCP configs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// The name jobs, webhooks and agents use (`hr`).
    pub name: String,
    /// The source spec, as `jsmctl reconcile --source` takes it (`file:PATH`, `scim:URL`, `ldap://…`); secrets
    /// come from the environment.
    pub spec: String,
    /// The mapping file, if any.
    pub mapping: Option<PathBuf>,
}

impl SourceConfig {
    /// Opens the source with its mapping; secrets come from `env`.
    pub fn open(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<Opened> {
        open(&self.spec, self.mapping.as_deref(), env)
    }
}

/// A source with its mapping, ready to read.
#[derive(Debug, Clone)]
pub struct Opened {
    /// The source.
    pub source: Source,
    /// Its mapping (the default one without a file).
    pub mapping: Mapping,
    /// Where the mapping came from, for errors: its path, or `(no mapping file)`.
    pub origin: String,
}

/// Loads the mapping (if a path is given) and parses the spec with its `[scim]` and `[ldap]` settings.
pub fn open(
    spec: &str,
    mapping: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Opened> {
    let (mapping, origin) = match mapping {
        Some(path) => (Mapping::load(path)?, path.display().to_string()),
        None => (Mapping::default(), "(no mapping file)".to_string()),
    };
    let source = Source::parse_with(spec, &mapping, env)?;
    Ok(Opened {
        source,
        mapping,
        origin,
    })
}
