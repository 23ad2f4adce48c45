//! The agent overlay: a plan an agent requested needs a human for every deactivation, removal and seat grant
//! whatever its size; a relaxation is recorded in the plan; apply re-evaluates it; human plans keep their hash.

use jsm_lifecycle::plan::Action;
use jsm_lifecycle::policy::AGENT_RULE;
use jsm_lifecycle::{AgentRule, Error, Plan, Policy, Quiet, Relaxation, RequesterKind};
use jsm_testkit::Surfaces;

use crate::support::{Backend, World, hidden_scim_agent};

/// A policy under which offboarding one person needs no approval (the deletion guard allows 1000%).
fn lenient() -> Policy {
    let mut policy = Policy::default();
    // 1000%: one offboard counts its SCIM id as a second account in the guard, so 100% would not do.
    policy.deletion_guard.max_percent = 1000.0;
    policy.deletion_guard.max_count = 1000;
    policy.approval.agent_seat_grants = false;
    policy
}

fn as_agent(mut plan: Plan, policy: &Policy, relaxed: Vec<Relaxation>) -> Plan {
    plan.requested_by_agent(relaxed);
    policy.evaluate(&mut plan);
    plan.seal().unwrap()
}

#[tokio::test]
async fn an_agents_offboard_needs_a_human_for_each_removal_and_the_deactivation() {
    let w = World::new(Surfaces::ALL, lenient(), Backend::Sqlite).await;
    let (email, _, _) = hidden_scim_agent(&w.site());
    let human = w.engine.plan_offboard(&email).await.unwrap();
    assert!(!human.needs_approval(), "lenient policy: {human:?}");
    assert!(human.items.iter().any(|i| i.action.is_removal()));
    let json = serde_json::to_value(&human).unwrap();
    assert!(
        json.get("requester_kind").is_none() && json.get("agent_relaxed").is_none(),
        "a person's plan serializes as before, so its hash is unchanged"
    );
    assert_eq!(human.content_hash().unwrap(), human.hash);

    let agent = as_agent(human.clone(), &w.engine.policy, Vec::new());
    assert_ne!(agent.hash, human.hash);
    for item in &agent.items {
        let expected = item.action.is_removal();
        assert_eq!(item.needs_approval, expected, "{item:?}");
        if expected {
            assert_eq!(item.approval_rule.as_deref(), Some(AGENT_RULE));
        }
    }
    assert!(agent.approval_reasons.iter().any(|r| r == AGENT_RULE));
    let text = agent.to_json().unwrap();
    let back = Plan::from_json(&text, "agent.json").unwrap();
    assert_eq!(back.requester_kind, RequesterKind::Agent);

    w.engine.submit(&agent).await.unwrap();
    let refused = w.engine.apply(&agent, &Quiet).await.unwrap_err();
    assert!(
        matches!(refused, Error::AwaitingApproval { .. }),
        "{refused}"
    );
    w.engine.approve(&agent.id, "bob").await.unwrap();
    let report = w.engine.apply(&agent, &Quiet).await.unwrap();
    assert!(report.complete(), "{report:?}");
}

#[tokio::test]
async fn a_relaxed_rule_is_recorded_in_the_plan_and_only_that_rule_is_relaxed() {
    let w = World::new(Surfaces::ALL, lenient(), Backend::Sqlite).await;
    let (email, _, _) = hidden_scim_agent(&w.site());
    let plan = w.engine.plan_offboard(&email).await.unwrap();
    let relaxed = vec![Relaxation {
        rule: AgentRule::Removals,
        reason: "the helpdesk lead reviews group removals weekly".into(),
    }];
    let agent = as_agent(plan, &w.engine.policy, relaxed);
    for item in &agent.items {
        let deactivation = matches!(item.action, Action::Deactivate { .. });
        assert_eq!(item.needs_approval, deactivation, "{item:?}");
    }
    let json = serde_json::to_value(&agent).unwrap();
    assert_eq!(json["agent_relaxed"][0]["rule"], "removals");
    assert!(
        json["agent_relaxed"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("weekly")
    );
}

#[tokio::test]
async fn an_agents_plan_stripped_of_its_marks_is_refused_at_apply() {
    let w = World::new(Surfaces::ALL, lenient(), Backend::Sqlite).await;
    let (email, _, _) = hidden_scim_agent(&w.site());
    let plan = w.engine.plan_offboard(&email).await.unwrap();
    let mut forged = as_agent(plan, &w.engine.policy, Vec::new());
    for item in &mut forged.items {
        item.needs_approval = false;
        item.approval_rule = None;
    }
    forged.approval_reasons.clear();
    let forged = forged.seal().unwrap();
    w.engine.submit(&forged).await.unwrap();
    let err = w.engine.apply(&forged, &Quiet).await.unwrap_err();
    assert!(
        err.to_string().contains("approval marks do not match"),
        "{err}"
    );
}
