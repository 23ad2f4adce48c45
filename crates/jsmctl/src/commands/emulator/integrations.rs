//! Flags of `jsmctl emulator` for OAuth 2.0 (3LO), scoped API tokens and webhooks.

use std::fmt;

use jsm_emulator::EmulatorBuilder;
use jsm_emulator::oauth;
use jsm_emulator::site::Redacted;
use jsm_emulator::webhooks::WebhookConfig;

/// `--oauth-client` unless given: the emulator's default app id and secret.
pub const DEFAULT_OAUTH_CLIENT: &str = "jsmctl-emulator-app:jsmctl-emulator-secret";

/// The OAuth, gateway and webhook flags.
#[derive(Debug, Clone, clap::Args)]
pub struct IntegrationArgs {
    /// Cloud id of the site: OAuth access tokens and scoped API tokens work only through the gateway
    /// `{base}/ex/jira/{ID}/rest/...`.
    #[arg(
        long,
        value_name = "ID",
        default_value = oauth::DEFAULT_CLOUD_ID,
        env = "JSMCTL_EMULATOR_CLOUD_ID",
        value_parser = parse_cloud_id
    )]
    pub cloud_id: String,
    /// The registered OAuth 2.0 (3LO) app as CLIENT_ID:SECRET; every redirect URI is accepted for it.
    /// Consent at `{base}/authorize`, tokens at `{base}/oauth/token`.
    #[arg(
        long,
        value_name = "ID:SECRET",
        default_value = DEFAULT_OAUTH_CLIENT,
        env = "JSMCTL_EMULATOR_OAUTH_CLIENT",
        hide_env_values = true,
        value_parser = parse_client
    )]
    pub oauth_client: OAuthClient,
    /// Email of the account that consents at `/authorize` [default: the --admin-email].
    #[arg(long, value_name = "EMAIL", env = "JSMCTL_EMULATOR_OAUTH_USER")]
    pub oauth_user: Option<String>,
    /// Deliver webhooks to any host; by default only loopback targets (127.0.0.1, ::1, localhost) can be
    /// registered.
    #[arg(long)]
    pub webhook_allow_any_host: bool,
}

/// An OAuth app's client id and secret; `Debug` hides the secret.
#[derive(Clone)]
pub struct OAuthClient {
    pub id: String,
    pub secret: Redacted,
}

impl fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClient")
            .field("id", &self.id)
            .field("secret", &self.secret)
            .finish()
    }
}

fn parse_client(value: &str) -> Result<OAuthClient, String> {
    let (id, secret) = value
        .split_once(':')
        .ok_or("expected CLIENT_ID:SECRET, e.g. my-app:my-secret")?;
    if id.trim().is_empty() || secret.is_empty() {
        return Err(
            "both the client id and the secret must be non-empty (CLIENT_ID:SECRET)".into(),
        );
    }
    Ok(OAuthClient {
        id: id.trim().to_string(),
        secret: Redacted::new(secret),
    })
}

fn parse_cloud_id(value: &str) -> Result<String, String> {
    let ok = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(value.to_string())
    } else {
        Err("a cloud id is one URL path segment: letters, digits, '-', '_' or '.'".into())
    }
}

impl IntegrationArgs {
    /// Applies the flags to an emulator builder.
    pub fn apply(&self, builder: EmulatorBuilder) -> EmulatorBuilder {
        let mut builder = builder
            .cloud_id(&self.cloud_id)
            .oauth_client(&self.oauth_client.id, self.oauth_client.secret.expose())
            .webhooks(WebhookConfig {
                allow_any_host: self.webhook_allow_any_host,
                ..WebhookConfig::default()
            });
        if let Some(user) = &self.oauth_user {
            builder = builder.oauth_user(user);
        }
        builder
    }

    /// One line for stderr naming the OAuth endpoints.
    pub fn banner(&self, base: &str) -> String {
        format!(
            "jsmctl emulator: OAuth app {} consents at {base}/authorize, tokens at {base}/oauth/token; gateway {base}/ex/jira/{}",
            self.oauth_client.id, self.cloud_id
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_flag() {
        let c = parse_client("app:s:e:c").expect("valid");
        assert_eq!((c.id.as_str(), c.secret.expose()), ("app", "s:e:c"));
        assert!(!format!("{c:?}").contains("s:e:c"));
        assert!(parse_client("no-secret").is_err());
        assert!(parse_client(":x").is_err());
        assert!(parse_client("x:").is_err());
        let d = parse_client(DEFAULT_OAUTH_CLIENT).expect("default parses");
        assert_eq!(d.id, oauth::DEFAULT_CLIENT_ID);
        assert_eq!(d.secret.expose(), oauth::DEFAULT_CLIENT_SECRET);
    }

    #[test]
    fn cloud_id_flag() {
        assert!(parse_cloud_id(oauth::DEFAULT_CLOUD_ID).is_ok());
        assert!(parse_cloud_id("a/b").is_err());
        assert!(parse_cloud_id("").is_err());
    }
}
