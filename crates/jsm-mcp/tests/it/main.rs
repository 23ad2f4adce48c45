//! The MCP server end to end: real rmcp clients (in-process pipe and streamable HTTP) against the server over a
//! real emulator, real store; every guardrail proved by a test.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod bad_input;
mod credentials;
mod guardrails;
mod http;
mod reconcile;
mod seats;
mod support;
