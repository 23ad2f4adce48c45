//! A running emulator: bound to a loopback port and served on a tokio task, with the URLs and credentials a
//! client needs to reach it. Tests, `jsmctl emulator` and `jsmctl demo` share it instead of each wiring a
//! listener, a shutdown channel and the connection details by hand.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use tokio::net::{TcpListener, ToSocketAddrs};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::site::Redacted;
use crate::{Emulator, EmulatorBuilder};

/// Names of the environment variables jsmctl reads to reach a site, in the order [`RunningEmulator::env_vars`]
/// gives them.
pub mod env {
    /// The site URL (`https://example.atlassian.net`; the emulator's base URL).
    pub const SITE: &str = "ATLASSIAN_SITE";
    /// Email of the account whose API token authenticates (Basic auth).
    pub const EMAIL: &str = "ATLASSIAN_EMAIL";
    /// API token of that account.
    pub const API_TOKEN: &str = "ATLASSIAN_API_TOKEN";
    /// The API gateway (`https://api.atlassian.com`; the emulator serves it on its base URL too).
    pub const API_URL: &str = "ATLASSIAN_API_URL";
    /// The SCIM directory base, `{api}/scim/directory/{directoryId}`.
    pub const SCIM_URL: &str = "ATLASSIAN_SCIM_URL";
    /// The SCIM directory's API key (Bearer).
    pub const SCIM_TOKEN: &str = "ATLASSIAN_SCIM_TOKEN";
    /// The organization id of the admin API.
    pub const ORG_ID: &str = "ATLASSIAN_ORG_ID";
    /// The organization admin API key (Bearer).
    pub const ADMIN_API_KEY: &str = "ATLASSIAN_ADMIN_API_KEY";
}

/// An emulator serving on a local port. Dropping it signals the server to stop (the port closes as soon as the
/// server task next runs); [`RunningEmulator::stop`] stops it and waits until it has.
pub struct RunningEmulator {
    /// Handle on the emulator's state, for set-up and for assertions that look behind the API.
    pub emu: Emulator,
    addr: SocketAddr,
    base_url: String,
    scim_url: String,
    admin_token: Redacted,
    scim_token: Redacted,
    org_api_key: Redacted,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<io::Result<()>>>,
}

impl EmulatorBuilder {
    /// Builds the emulator, binds `addr` (`"127.0.0.1:0"` picks a free port) and serves it on a tokio task.
    pub async fn spawn(self, addr: impl ToSocketAddrs) -> io::Result<RunningEmulator> {
        let listener = TcpListener::bind(addr).await?;
        self.build().spawn_on(listener)
    }
}

impl Emulator {
    /// Serves this emulator on an already bound `listener` on a tokio task; fails outside a tokio runtime.
    pub fn spawn_on(self, listener: TcpListener) -> io::Result<RunningEmulator> {
        let runtime = tokio::runtime::Handle::try_current().map_err(io::Error::other)?;
        let addr = listener.local_addr()?;
        let base_url = format!("http://{}", connectable(addr));
        // Links name an address a client can connect to, also when listening on every interface.
        self.set_base_url(&base_url);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = runtime.spawn(crate::serve(listener, self.clone(), async {
            let _ = stopped.await;
        }));
        let config = self.config();
        let scim_url = format!("{base_url}/scim/directory/{}", config.identity.directory_id);
        Ok(RunningEmulator {
            admin_token: Redacted::new(config.admin.token.clone()),
            scim_token: Redacted::new(config.identity.scim_token.clone()),
            org_api_key: Redacted::new(config.identity.org_api_key.clone()),
            emu: self,
            addr,
            base_url,
            scim_url,
            stop: Some(stop),
            task: Some(task),
        })
    }
}

/// The loopback address of the same family when `addr` is unspecified (`0.0.0.0`, `::`), else `addr`.
fn connectable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), addr.port())
        }
        _ => addr,
    }
}

impl RunningEmulator {
    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`: the site, and also the gateway, SCIM, admin API and OAuth hosts.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `base_url()` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Email of the site administrator (Basic auth with [`Self::admin_token`]).
    pub fn admin_email(&self) -> &str {
        &self.emu.config().admin.email
    }

    /// API token of the site administrator; also the control plane's Bearer token.
    pub fn admin_token(&self) -> &Redacted {
        &self.admin_token
    }

    /// The SCIM directory base, `{base}/scim/directory/{directoryId}`.
    pub fn scim_url(&self) -> &str {
        &self.scim_url
    }

    /// The SCIM directory's id.
    pub fn directory_id(&self) -> &str {
        &self.emu.config().identity.directory_id
    }

    /// The SCIM directory's API key (Bearer).
    pub fn scim_token(&self) -> &Redacted {
        &self.scim_token
    }

    /// The organization id: the admin API is `{base}/admin/v1/orgs/{orgId}`.
    pub fn org_id(&self) -> &str {
        &self.emu.config().identity.org_id
    }

    /// The organization admin API key (Bearer).
    pub fn org_api_key(&self) -> &Redacted {
        &self.org_api_key
    }

    /// The site's cloud id: the gateway is `{base}/ex/jira/{cloudId}`.
    pub fn cloud_id(&self) -> &str {
        &self.emu.config().oauth.cloud_id
    }

    /// The connection variables jsmctl reads ([`env`]), pointing at this emulator. The values hold the tokens in
    /// clear: write them only where the tokens may go.
    pub fn env_vars(&self) -> Vec<(&'static str, String)> {
        vec![
            (env::SITE, self.base_url.clone()),
            (env::EMAIL, self.admin_email().to_string()),
            (env::API_TOKEN, self.admin_token.expose().to_string()),
            (env::API_URL, self.base_url.clone()),
            (env::SCIM_URL, self.scim_url.clone()),
            (env::SCIM_TOKEN, self.scim_token.expose().to_string()),
            (env::ORG_ID, self.org_id().to_string()),
            (env::ADMIN_API_KEY, self.org_api_key.expose().to_string()),
        ]
    }

    /// Stops accepting connections, lets requests in flight finish, and waits for the server task; the error is
    /// the server's own, or the task's when it panicked or was cancelled.
    pub async fn stop(mut self) -> io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await.map_err(io::Error::other)?,
            None => Ok(()),
        }
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl fmt::Debug for RunningEmulator {
    // The state handle is left out: its configuration holds the tokens in clear.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningEmulator")
            .field("addr", &self.addr)
            .field("base_url", &self.base_url)
            .field("admin_email", &self.admin_email())
            .field("admin_token", &self.admin_token)
            .field("scim_url", &self.scim_url)
            .field("scim_token", &self.scim_token)
            .field("org_id", &self.org_id())
            .field("org_api_key", &self.org_api_key)
            .field("cloud_id", &self.cloud_id())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unspecified_address_is_reached_on_loopback() {
        let any4: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        assert_eq!(connectable(any4).to_string(), "127.0.0.1:8080");
        let any6: SocketAddr = "[::]:8080".parse().unwrap();
        assert_eq!(connectable(any6).to_string(), "[::1]:8080");
        let lo: SocketAddr = "127.0.0.2:1".parse().unwrap();
        assert_eq!(connectable(lo), lo);
    }

    #[test]
    fn spawn_on_outside_a_runtime_is_an_error_not_a_panic() {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        // Registering with tokio needs a runtime too, so build one only for the conversion.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .unwrap();
        let listener = rt
            .block_on(async { TcpListener::from_std(std_listener) })
            .unwrap();
        let emu = Emulator::builder().seed(crate::Seed::Empty).build();
        assert!(emu.spawn_on(listener).is_err());
    }
}
