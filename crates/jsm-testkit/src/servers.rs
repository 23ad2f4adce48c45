//! Real identity servers nobody here wrote, for the tests of the sources and of reconcile: PyPI `scim2-server`
//! ([`ScimServer`]) and Debian's OpenLDAP `slapd` ([`Slapd`]), each started on a free loopback port from the
//! executable an environment variable names, seeded over its own protocol, and stopped by its pid when dropped.
//!
//! A test is skipped, with a notice printed past the harness's output capture, only when a variable is unset
//! (`.ci/run` sets them all); when it is set and the server cannot start, the test fails with the server's log.

mod process;
pub mod scim;
pub mod slapd;

pub use process::closed_port;
pub use scim::ScimServer;
pub use slapd::{Ldif, Slapd};
