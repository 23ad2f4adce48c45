//! The engine end to end: real client, real emulator over loopback HTTP, real stores; outcomes checked in the
//! emulator's own state.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod agent;
mod agent_overlay;
mod apply;
mod bad_input;
mod credentials;
mod customer;
mod offboard;
mod reconcile;
mod reconcile_bad_input;
mod reconcile_person;
mod reconcile_servers;
mod reconcile_situations;
mod reconcile_soak;
mod reconcile_sources;
mod seats;
mod secrets;
mod support;
