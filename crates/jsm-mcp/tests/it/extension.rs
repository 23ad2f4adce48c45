//! The extension point for the tools whose engine is not merged (seat_report, credential_status,
//! plan_reconcile): a registered engine tool is listed and served through the same pipeline (scope, audit, and
//! for a plan tool the agent overlay, caps and store); a built-in name cannot be registered over.

use std::sync::Arc;

use jsm_lifecycle::{Engine, Policy};
use jsm_mcp::extension::{EngineTool, Produced, RegisterError, ToolFuture};
use jsm_mcp::{Extensions, McpConfig, ToolError, ToolName};
use rmcp::model::JsonObject;
use serde_json::{Map, Value, json};

use crate::support::*;

struct FakeSeatReport;

impl EngineTool for FakeSeatReport {
    fn name(&self) -> ToolName {
        ToolName::SeatReport
    }
    fn description(&self) -> String {
        "Seats in use (test engine).".into()
    }
    fn input_schema(&self) -> Arc<JsonObject> {
        Arc::new(
            json!({"type": "object", "properties": {}, "additionalProperties": false})
                .as_object()
                .unwrap()
                .clone(),
        )
    }
    fn output_schema(&self) -> Arc<JsonObject> {
        Arc::new(json!({"type": "object", "properties": {"seats": {"type": "integer"}}, "required": ["seats"]}).as_object().unwrap().clone())
    }
    fn call<'a>(
        &'a self,
        _engine: &'a Engine,
        arguments: Option<&'a Map<String, Value>>,
    ) -> ToolFuture<'a> {
        Box::pin(async move {
            if arguments.is_some_and(|a| !a.is_empty()) {
                return Err(ToolError::argument("arguments", "seat_report takes none"));
            }
            Ok(Produced::Data(json!({"seats": 21})))
        })
    }
}

struct FakeReconcile;

impl EngineTool for FakeReconcile {
    fn name(&self) -> ToolName {
        ToolName::PlanReconcile
    }
    fn description(&self) -> String {
        "Plan a reconcile (test engine: offboards one person).".into()
    }
    fn input_schema(&self) -> Arc<JsonObject> {
        Arc::new(json!({"type": "object", "properties": {"who": {"type": "string"}}, "required": ["who"]}).as_object().unwrap().clone())
    }
    fn output_schema(&self) -> Arc<JsonObject> {
        Arc::new(json!({"type": "object"}).as_object().unwrap().clone())
    }
    fn call<'a>(
        &'a self,
        engine: &'a Engine,
        arguments: Option<&'a Map<String, Value>>,
    ) -> ToolFuture<'a> {
        Box::pin(async move {
            let who = arguments
                .and_then(|a| a.get("who"))
                .and_then(Value::as_str)
                .ok_or_else(|| ToolError::argument("who", "missing"))?;
            let plan = engine
                .plan_offboard(who)
                .await
                .map_err(|e| ToolError::new("failed", e.to_string()))?;
            Ok(Produced::Plan(Box::new(plan)))
        })
    }
}

#[tokio::test]
async fn a_registered_engine_tool_is_listed_and_served_through_the_same_guardrails() {
    let mut ext = Extensions::new();
    ext.register(Arc::new(FakeSeatReport)).unwrap();
    ext.register(Arc::new(FakeReconcile)).unwrap();
    assert!(matches!(
        ext.register(Arc::new(FakeSeatReport)),
        Err(RegisterError::Duplicate(_))
    ));

    // Read tools of an engine are on by default; its plan tool only when enabled.
    let w = World::with(
        McpConfig::from_toml("version = 1", "t.toml").unwrap(),
        Policy::default(),
        ext.clone(),
    )
    .await;
    let client = w.client("stdio").await;
    let names: Vec<String> = tools(&client)
        .await
        .iter()
        .map(|t| t.name.to_string())
        .collect();
    assert!(names.contains(&"seat_report".to_string()));
    assert!(!names.contains(&"plan_reconcile".to_string()));
    assert_eq!(
        ok(&call(&client, "seat_report", json!({})).await)["seats"],
        21
    );
    assert_eq!(
        err(&call(&client, "seat_report", json!({"x": 1})).await)["argument"],
        "arguments"
    );

    let mut config = full_config();
    config
        .tools
        .enabled
        .as_mut()
        .unwrap()
        .push("plan_reconcile".into());
    let w = World::with(config, Policy::default(), ext).await;
    let client = w.client("bot").await;
    let (email, _) = w.agent_person();
    let planned = ok(&call(&client, "plan_reconcile", json!({"who": email})).await);
    assert_eq!(
        planned["plan"]["requester_kind"], "agent",
        "the agent overlay applies"
    );
    assert_eq!(planned["status"], "awaiting_approval");
    let tiny = w.client("tiny").await;
    assert_eq!(
        err(&call(&tiny, "plan_reconcile", json!({"who": email})).await)["code"],
        "blast_radius"
    );
    let reader = w.client("reader").await;
    assert_eq!(
        err(&call(&reader, "plan_reconcile", json!({"who": email})).await)["code"],
        "insufficient_scope"
    );
    let audited = w.engine.store.audit_list(0, 1000).await.unwrap();
    assert!(
        audited
            .iter()
            .any(|r| r.draft.action == "plan_reconcile" && r.draft.kind == "mcp_call")
    );
}

#[test]
fn built_in_tools_cannot_be_registered_and_pending_ones_need_their_engine() {
    struct Impostor;
    impl EngineTool for Impostor {
        fn name(&self) -> ToolName {
            ToolName::ApplyPlan
        }
        fn description(&self) -> String {
            String::new()
        }
        fn input_schema(&self) -> Arc<JsonObject> {
            Arc::new(JsonObject::new())
        }
        fn output_schema(&self) -> Arc<JsonObject> {
            Arc::new(JsonObject::new())
        }
        fn call<'a>(&'a self, _: &'a Engine, _: Option<&'a Map<String, Value>>) -> ToolFuture<'a> {
            Box::pin(async { Ok(Produced::Data(Value::Null)) })
        }
    }
    let mut ext = Extensions::new();
    assert!(matches!(
        ext.register(Arc::new(Impostor)),
        Err(RegisterError::BuiltIn("apply_plan"))
    ));
    for pending in [
        ToolName::SeatReport,
        ToolName::CredentialStatus,
        ToolName::PlanReconcile,
    ] {
        assert!(!ext.available(pending));
    }
}

#[tokio::test]
async fn enabling_a_pending_tool_without_its_engine_is_a_config_error() {
    let w = World::new().await;
    let config = McpConfig::from_toml(
        "version = 1\n[tools]\nenabled = [\"find_user\", \"credential_status\"]",
        "t.toml",
    )
    .unwrap();
    let e = jsm_mcp::McpServer::new(w.engine.clone(), config, Extensions::new()).unwrap_err();
    assert!(
        e.to_string().contains("credential_status is not available"),
        "{e}"
    );
}
