//! The config file: named profiles of connection settings under the XDG config directory, versioned and
//! strict (`deny_unknown_fields`), lowest in precedence (file < environment < flags).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::CliError;

/// Version of the config file format.
pub const CONFIG_VERSION: u32 = 1;

/// The config file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Must be [`CONFIG_VERSION`].
    pub version: u32,
    /// Profile used when `--profile` is not given.
    pub default_profile: Option<String>,
    /// Named profiles.
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

/// One site's settings; every field can also come from the environment or a flag.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// `ATLASSIAN_SITE`.
    pub site: Option<String>,
    /// `ATLASSIAN_EMAIL`.
    pub email: Option<String>,
    /// `ATLASSIAN_API_TOKEN`; allowed in the file only when the file is private (mode 0600).
    pub api_token: Option<String>,
    /// `ATLASSIAN_API_URL`.
    pub api_url: Option<String>,
    /// `ATLASSIAN_SCIM_URL`.
    pub scim_url: Option<String>,
    /// `ATLASSIAN_SCIM_TOKEN`; private files only.
    pub scim_token: Option<String>,
    /// `ATLASSIAN_ORG_ID`.
    pub org_id: Option<String>,
    /// `ATLASSIAN_ADMIN_API_KEY`; private files only.
    pub admin_api_key: Option<String>,
    /// `JSMCTL_STATE`.
    pub state: Option<String>,
    /// `JSMCTL_POLICY`.
    pub policy: Option<String>,
    /// `JSMCTL_ACTOR`.
    pub actor: Option<String>,
}

impl Profile {
    fn has_secret(&self) -> bool {
        self.api_token.is_some() || self.scim_token.is_some() || self.admin_api_key.is_some()
    }
}

/// `$XDG_CONFIG_HOME/jsmctl/config.toml` or `~/.config/jsmctl/config.toml`.
pub fn default_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("jsmctl").join("config.toml"))
}

/// Reads the config file; a missing default file is an empty config, a missing explicit one an error.
pub fn load(explicit: Option<&Path>) -> Result<ConfigFile, CliError> {
    let (path, required) = match explicit {
        Some(p) => (p.to_path_buf(), true),
        None => match default_path() {
            Some(p) => (p, false),
            None => return Ok(ConfigFile::default()),
        },
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
            return Ok(ConfigFile::default());
        }
        Err(e) => return Err(CliError::usage(format!("config {}: {e}", path.display()))),
    };
    parse(&text, &path)
}

/// Parses config text; errors name the file, the key and the line.
pub fn parse(text: &str, path: &Path) -> Result<ConfigFile, CliError> {
    let shown = path.display();
    let config: ConfigFile = toml::from_str(text)
        .map_err(|e| CliError::usage(format!("config {shown}: {}", e.to_string().trim_end())))?;
    if config.version != CONFIG_VERSION {
        return Err(CliError::usage(format!(
            "config {shown}: version = {} is not supported (this jsmctl reads version {CONFIG_VERSION})",
            config.version
        )));
    }
    if config.profiles.values().any(Profile::has_secret) && !private(path) {
        return Err(CliError::usage(format!(
            "config {shown} holds a token but other users can read it: chmod 600 {shown}"
        )));
    }
    Ok(config)
}

#[cfg(unix)]
fn private(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 == 0)
}

#[cfg(not(unix))]
fn private(_path: &Path) -> bool {
    true
}

impl ConfigFile {
    /// The profile to use: the named one (which must exist), else the default one, else none.
    pub fn profile(&self, name: Option<&str>) -> Result<Profile, CliError> {
        match name.or(self.default_profile.as_deref()) {
            Some(n) => self.profiles.get(n).cloned().ok_or_else(|| {
                let known: Vec<&str> = self.profiles.keys().map(String::as_str).collect();
                CliError::usage(format!(
                    "profile {n:?} is not in the config (profiles: {})",
                    if known.is_empty() {
                        "none".into()
                    } else {
                        known.join(", ")
                    }
                ))
            }),
            None => Ok(Profile::default()),
        }
    }
}
