//! The one integration-test binary of jsm-client: wiremock tests per rule and per handler, plus tests against the
//! real emulator (through jsm-testkit).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests and benches fail loudly"
)]

mod access;
mod common;
mod emulator;
mod handlers;
mod identity;
mod pager;
mod retry;
mod secrets;
