//! The extension point for the tools whose engine is not merged yet: `seat_report`, `credential_status` and
//! `plan_reconcile` ([`ToolName::is_pending`]). When an engine lands, it registers an [`EngineTool`] for its
//! name; the tool is then listed (if the config enables it, or by default for a read tool) and every call goes
//! through the same pipeline as the built-in tools: enabled check, scope, argument size, audit record, and for a
//! plan tool the agent overlay, the blast-radius caps, the store and the approval answer.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use jsm_lifecycle::{Engine, Plan};
use rmcp::model::JsonObject;
use serde_json::{Map, Value};

use crate::tools::{Access, ToolName, ToolResult};

/// What an engine tool produces.
#[derive(Debug, Clone)]
pub enum Produced {
    /// A read tool's structured result (it must fit the tool's output schema).
    Data(Value),
    /// A plan tool's unsealed or sealed plan; the server marks it as the agent's, evaluates policy, applies the
    /// caps, stores it and answers with the `PlanOutput` of the built-in plan tools.
    Plan(Box<Plan>),
}

/// The future an engine tool's call returns.
pub type ToolFuture<'a> = Pin<Box<dyn Future<Output = ToolResult<Produced>> + Send + 'a>>;

/// A tool served by an engine that lives outside this crate.
pub trait EngineTool: Send + Sync + 'static {
    /// Which pending tool this is.
    fn name(&self) -> ToolName;
    /// What the tool does, for the agent.
    fn description(&self) -> String;
    /// JSON Schema of the arguments (root type object).
    fn input_schema(&self) -> Arc<JsonObject>;
    /// JSON Schema of the structured result of a read tool (a plan tool's is the built-in plan output).
    fn output_schema(&self) -> Arc<JsonObject>;
    /// Runs the tool with the engine of the calling agent (its actor is `mcp:NAME`). Bad arguments answer a
    /// [`crate::tools::ToolError::argument`] naming the argument.
    fn call<'a>(
        &'a self,
        engine: &'a Engine,
        arguments: Option<&'a Map<String, Value>>,
    ) -> ToolFuture<'a>;
}

/// The registered engine tools.
#[derive(Clone, Default)]
pub struct Extensions {
    tools: BTreeMap<ToolName, Arc<dyn EngineTool>>,
}

impl std::fmt::Debug for Extensions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.tools.keys().map(|t| t.as_str()))
            .finish()
    }
}

/// Why a registration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegisterError {
    /// Only the pending tools can be registered; the built-in ones are served by this crate.
    #[error(
        "{0} is built in; only seat_report, credential_status and plan_reconcile can be registered"
    )]
    BuiltIn(&'static str),
    /// A tool of this name is already registered.
    #[error("{0} is already registered")]
    Duplicate(&'static str),
}

impl Extensions {
    /// No engine tools.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers an engine tool for one of the pending names.
    pub fn register(&mut self, tool: Arc<dyn EngineTool>) -> Result<&mut Self, RegisterError> {
        let name = tool.name();
        if !name.is_pending() {
            return Err(RegisterError::BuiltIn(name.as_str()));
        }
        if self.tools.contains_key(&name) {
            return Err(RegisterError::Duplicate(name.as_str()));
        }
        self.tools.insert(name, tool);
        Ok(self)
    }

    /// The tool registered for this name.
    pub fn get(&self, name: ToolName) -> Option<&Arc<dyn EngineTool>> {
        self.tools.get(&name)
    }

    /// Whether this tool can be served: built in, or pending and registered.
    pub fn available(&self, name: ToolName) -> bool {
        !name.is_pending() || self.tools.contains_key(&name)
    }

    /// Whether a registered tool makes plans.
    pub fn makes_plans(&self, name: ToolName) -> bool {
        self.tools.contains_key(&name) && name.access() == Access::Plan
    }
}
