//! The one integration-test binary of jsm-client: wiremock tests per rule and per handler, plus tests against the
//! real emulator (through jsm-testkit).

mod access;
mod common;
mod emulator;
mod handlers;
mod identity;
mod pager;
mod retry;
mod secrets;
