//! `jsm-lifecycle`: the engine of jsmctl. Operations observe the site and build a [`plan::Plan`]; policy marks
//! what needs a human; approvals are bound to the plan's hash; apply carries out exactly that plan through a
//! journal that survives crashes; every write and the reads that decided it go to a hash-chained audit log.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod apply;
pub mod approval;
pub mod audit;
pub mod credentials;
pub mod engine;
pub mod error;
pub mod observe;
pub mod ops;
pub mod plan;
pub mod policy;
pub mod reconcile;
pub mod seats;

pub use apply::{ApplyReport, ItemReport, Outcome, Progress, Quiet, RequestIds};
pub use engine::Engine;
pub use error::{Error, ErrorKind, Result};
pub use observe::{Capabilities, Observe, Person};
pub use ops::{AgentRequest, CustomerRequest};
pub use plan::{AgentRule, Plan, PlanKind, Relaxation, RequesterKind};
pub use policy::Policy;
