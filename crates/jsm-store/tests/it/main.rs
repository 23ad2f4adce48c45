//! jsm-store integration tests: one suite, run on SQLite (a temp file) and on PostgreSQL (a fresh schema per
//! test in the database of `JSMCTL_TEST_POSTGRES_URL`; skipped with a notice when it is unset).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests and benches fail loudly"
)]

mod support;

mod approvals;
mod audit;
mod credentials;
mod jobs;
mod journal;
mod links;
mod open;
mod operators;
mod plans;
mod reconcile;
mod webhooks;
