//! jsm-emulator: a stateful, local Atlassian for the user-management slice — Jira platform REST v3 users and
//! groups, JSM customers, service desks and organizations, SCIM 2.0 provisioning, the organizations admin API and
//! the user management API — with Atlassian's paging, errors, auth, privacy and rate limits, plus injected faults
//! and a control plane under `/_emulator`.

mod app;
mod auth;
pub mod clock;
mod control;
mod emulator;
pub mod faults;
mod gate;
mod http;
pub mod identity;
pub mod ids;
pub mod limits;
pub mod log;
pub mod oauth;
mod route;
mod routes;
pub mod running;
mod scopes;
pub mod seed;
pub mod site;
pub mod webhooks;

pub use app::{app, serve};
pub use emulator::{Config, DEFAULT_MAX_BODY_BYTES, Emulator, EmulatorBuilder, Quirks};
pub use running::RunningEmulator;
pub use seed::Seed;
