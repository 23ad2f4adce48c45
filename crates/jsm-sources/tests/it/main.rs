//! The one integration-test binary of jsm-sources: the file source on real files, the SCIM source against a
//! real `scim2-server` (PyPI), the LDAP source against a real OpenLDAP `slapd`, and the mapping file from disk.
//! The servers are jsm-testkit's ([`jsm_testkit::servers`]): their tests find the executables through
//! `JSMCTL_SCIM2_SERVER`, `JSMCTL_SLAPD` and `JSMCTL_LDAPADD` (set by .ci/run) and are skipped with a printed
//! notice where those are unset.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests and benches fail loudly"
)]

mod file;
mod ldap;
mod mapping;
mod scim;
