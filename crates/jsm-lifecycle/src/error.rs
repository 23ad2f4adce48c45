//! The engine's errors, each saying whether it is the user's input (refused), a failure, or a wait for a human.

use thiserror::Error;

/// Result of the engine.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How a caller should treat an error (the CLI maps it to its exit code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad input or a refused request: nothing was written.
    Refused,
    /// Something failed while talking to Atlassian or the store.
    Failed,
    /// The plan waits for a human approval.
    AwaitingApproval,
}

/// Everything the engine can fail with.
#[derive(Debug, Error)]
pub enum Error {
    /// The Atlassian client failed.
    #[error(transparent)]
    Client(#[from] jsm_client::Error),
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] jsm_store::Error),
    /// An account, desk, group or organization that does not exist.
    #[error("{what} not found")]
    NotFound {
        /// What was looked for.
        what: String,
    },
    /// An email search found only accounts that hide their email, and no credential that can see it is set.
    #[error(
        "the account for {email} hides its email; set ATLASSIAN_SCIM_URL and ATLASSIAN_SCIM_TOKEN (SCIM \
         directory) or ATLASSIAN_ORG_ID and ATLASSIAN_ADMIN_API_KEY (organization admin API) to resolve it, or \
         pass the account id"
    )]
    EmailHidden {
        /// The email asked for.
        email: String,
    },
    /// An argument that cannot be used.
    #[error("{field}: {detail}")]
    InvalidInput {
        /// The argument.
        field: String,
        /// Why.
        detail: String,
    },
    /// A plan file that cannot be read as a plan.
    #[error("plan file {origin}: {detail}")]
    BadPlanFile {
        /// Path or id.
        origin: String,
        /// What is wrong, with its JSON path.
        detail: String,
    },
    /// The plan's content does not match its hash: it was edited after it was made.
    #[error(
        "plan {plan_id} was edited after it was made (hash {recorded} recorded, content hashes to {actual}); \
         plan again"
    )]
    HashMismatch {
        /// The plan.
        plan_id: String,
        /// The hash in the plan.
        recorded: String,
        /// The hash of its content.
        actual: String,
    },
    /// A policy or config file that does not fit.
    #[error("{path}: {detail}")]
    BadConfig {
        /// The file.
        path: String,
        /// What is wrong, with the key and line.
        detail: String,
    },
    /// An item's precondition no longer holds.
    #[error("the site changed since the plan: plan again (item {item_key}, {target}: {detail})")]
    SiteChanged {
        /// The item.
        item_key: String,
        /// Its target.
        target: String,
        /// What no longer holds.
        detail: String,
    },
    /// The plan needs a human approval that it does not have.
    #[error("plan {plan_id} needs an approval: jsmctl approvals approve {plan_id}")]
    AwaitingApproval {
        /// The plan.
        plan_id: String,
    },
    /// The requester tried to approve their own plan under `distinct_approver`.
    #[error(
        "{approver} requested plan {plan_id} and cannot approve it (policy: distinct_approver = true)"
    )]
    SelfApproval {
        /// The plan.
        plan_id: String,
        /// Who tried.
        approver: String,
    },
    /// The plan cannot be applied or approved in its state.
    #[error("plan {plan_id} is {state}")]
    PlanState {
        /// The plan.
        plan_id: String,
        /// Its state (rejected, applied, …).
        state: String,
    },
    /// A value could not be encoded.
    #[error("cannot encode: {0}")]
    Encode(String),
    /// The source of desired state could not be read (a bad row, an unreachable server, a refused bind).
    #[error(transparent)]
    Source(#[from] jsm_sources::Error),
}

/// Bad input in the source or mapping is refused; a source that cannot be read or refuses us is a failure.
fn source_kind(e: &jsm_sources::Error) -> ErrorKind {
    use jsm_sources::Error as S;
    match e {
        S::Io { .. }
        | S::BadRows { .. }
        | S::UnknownColumn { .. }
        | S::MissingColumn { .. }
        | S::Format { .. }
        | S::SourceSpec { .. }
        | S::MissingEnv { .. }
        | S::Mapping { .. }
        | S::Watermark { .. } => ErrorKind::Refused,
        _ => ErrorKind::Failed,
    }
}

impl Error {
    /// How a caller should treat it.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NotFound { .. }
            | Error::EmailHidden { .. }
            | Error::InvalidInput { .. }
            | Error::BadPlanFile { .. }
            | Error::HashMismatch { .. }
            | Error::BadConfig { .. }
            | Error::SelfApproval { .. }
            | Error::PlanState { .. } => ErrorKind::Refused,
            Error::AwaitingApproval { .. } => ErrorKind::AwaitingApproval,
            Error::Client(_) | Error::Store(_) | Error::SiteChanged { .. } | Error::Encode(_) => {
                ErrorKind::Failed
            }
            Error::Source(e) => source_kind(e),
        }
    }

    pub(crate) fn encode(e: serde_json::Error) -> Self {
        Error::Encode(e.to_string())
    }

    pub(crate) fn not_found(what: impl Into<String>) -> Self {
        Error::NotFound { what: what.into() }
    }
}
