//! Wire types of the Atlassian user-management surfaces, shared by the emulator (which writes them) and the
//! client (which reads them). Serde only, no I/O.

pub mod admin;
pub mod error;
pub mod jira;
pub mod jsm;
pub mod oauth;
pub mod page;
pub mod scim;
pub mod webhook;

pub use error::{ErrorCollection, I18nErrorMessage, JsmErrorResponse};
pub use page::{JsmPage, JsmPageLinks, PageBean};
