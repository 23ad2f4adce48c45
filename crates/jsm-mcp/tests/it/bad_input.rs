//! Bad input, driven by each tool's own input schema: every property missing (when required), of the wrong type,
//! and over its limit (maxLength, maximum, maxItems), plus unknown and oversized arguments: each answers a tool
//! error naming the argument, never a protocol error, and the server keeps serving.

use serde_json::{Map, Value, json};

use crate::support::*;

/// Arguments every tool accepts.
fn valid(tool: &str) -> Value {
    match tool {
        "find_user" => json!({"query": "someone@example.com", "limit": 5}),
        "get_user" => json!({"account_id": "712020:abc"}),
        "list_group_members" => json!({"group": "g", "limit": 5, "include_inactive": true}),
        "list_customers" => json!({"service_desk": "HR", "query": "a", "limit": 5}),
        "explain_access" | "plan_offboard" | "plan_restore" => {
            json!({"who": "someone@example.com"})
        }
        "seat_report" => json!({
            "products": ["jira-servicedesk"], "group": "g", "inactive_days": 30, "reclaimable_only": true,
            "limit": 5
        }),
        "credential_status" => json!({"warn_days": 30}),
        "plan_reconcile" => json!({"source": "hr", "incremental": true}),
        "plan_provision_customer" => {
            json!({"email": "a@example.com", "name": "A", "service_desks": ["HR"], "organizations": ["O"]})
        }
        "plan_provision_agent" => json!({"email": "a@example.com", "name": "A"}),
        "show_plan" | "apply_plan" | "plan_status" => json!({"plan_id": "abcdef"}),
        "audit_search" => {
            json!({"plan_id": "abcdef", "actor": "a", "kind": "plan", "text": "t", "limit": 5})
        }
        other => panic!("no valid arguments for {other}"),
    }
}

fn types(schema: &Value) -> Vec<String> {
    match &schema["type"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

fn wrong_type(schema: &Value) -> Value {
    let t = types(schema);
    if t.contains(&"string".to_string()) {
        json!(12345)
    } else if t.contains(&"array".to_string()) {
        json!("not-a-list")
    } else {
        json!("not-a-number-or-bool")
    }
}

fn oversized(schema: &Value) -> Option<Value> {
    if let Some(max) = schema["maxLength"].as_u64() {
        return Some(json!("a".repeat(max as usize + 1)));
    }
    if let Some(max) = schema["maximum"].as_u64() {
        return Some(json!(max + 1));
    }
    if let Some(max) = schema["maxItems"].as_u64() {
        return Some(json!(vec!["X"; max as usize + 1]));
    }
    None
}

#[tokio::test]
async fn every_tool_names_the_bad_argument_and_never_fails_the_protocol() {
    let w = World::new().await;
    let client = w.client("bot").await;
    let mut checked = 0;
    for tool in tools(&client).await {
        let name = tool.name.to_string();
        let schema = Value::Object(tool.input_schema.as_ref().clone());
        let props: Map<String, Value> = schema["properties"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let required: Vec<String> = schema["required"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let base = valid(&name);
        for (prop, prop_schema) in &props {
            let mut cases: Vec<(&str, Value)> = Vec::new();
            if required.contains(prop) {
                let mut a = base.clone();
                a.as_object_mut().unwrap().remove(prop);
                cases.push(("missing", a));
            }
            let mut a = base.clone();
            a[prop] = wrong_type(prop_schema);
            cases.push(("mistyped", a));
            if let Some(big) = oversized(prop_schema) {
                let mut a = base.clone();
                a[prop] = big;
                cases.push(("over its limit", a));
            }
            let mut a = base.clone();
            a[prop] = json!("z".repeat(20_000));
            cases.push(("oversized", a));
            for (what, args) in cases {
                let r = call(&client, &name, args.clone()).await;
                let e = err(&r);
                assert_eq!(e["code"], "invalid_argument", "{name} {prop} {what}: {e:?}");
                assert_eq!(e["argument"], prop.as_str(), "{name} {prop} {what}: {e:?}");
                let text = r.content[0].as_text().unwrap().text.clone();
                assert!(
                    text.contains(prop.as_str()),
                    "the text names it too: {text}"
                );
                checked += 1;
            }
        }
        let mut unknown = base.clone();
        unknown["surprise"] = json!(1);
        let e = err(&call(&client, &name, unknown).await);
        assert_eq!(e["argument"], "surprise", "{name}: {e:?}");
        if !required.is_empty() {
            let e = err(&call(&client, &name, Value::Null).await);
            assert_eq!(
                e["code"], "invalid_argument",
                "{name} without arguments: {e:?}"
            );
            assert!(
                required.contains(&e["argument"].as_str().unwrap().to_string()),
                "{name}: {e:?}"
            );
        }
    }
    eprintln!(
        "bad input: {checked} bad calls over {} tools, each a tool error naming the argument",
        ALL_TOOLS.len()
    );
    assert!(checked > 80, "{checked} bad calls checked");
    assert_eq!(tools(&client).await.len(), ALL_TOOLS.len(), "still serving");
}
