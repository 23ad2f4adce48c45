//! jsm-serve integration tests: the real service on a loopback port in front of a real emulator, with the store
//! on SQLite or on the CI PostgreSQL (a fresh schema per test).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod support;

mod api;
mod page;
mod reconcile;
mod webhooks;
mod workers;
