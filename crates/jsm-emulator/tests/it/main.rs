//! Integration tests: a real emulator on a loopback port, driven over HTTP. One binary for the crate (each
//! extra test binary is another link on a 2-core machine); one module per area.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests and benches fail loudly"
)]

mod support;

mod admin;
mod auth_privacy;
mod bad_input;
mod control;
mod jira_groups;
mod jira_users;
mod jsm;
mod limits_faults;
mod oauth;
mod running;
mod scim;
mod seats;
mod webhooks;
