//! Reconcile from a real slapd (jsm-testkit's harness) holding more users than its size limit, so only paged
//! searches read them all, and refusing a bad bind before anything is planned. The situations from each kind
//! of source are in reconcile_situations.

use jsm_lifecycle::plan::Action;
use jsm_lifecycle::reconcile::Request;
use jsm_lifecycle::{Error, Quiet};
use jsm_sources::source::{ENV_LDAP_BIND_DN, ENV_LDAP_PASSWORD};
use jsm_sources::{Mapping, Source};
use jsm_testkit::Surfaces;
use jsm_testkit::servers::slapd::{READER_DN, READER_PW, SIZE_LIMIT, person_dn};
use jsm_testkit::servers::{Ldif, Slapd};

use crate::reconcile::{actions, empty_site, policy};
use crate::support::{Backend, World, in_desk};

/// More users than slapd's size limit.
const LDAP_USERS: usize = SIZE_LIMIT + 40;

/// `LDAP_USERS` people, u007 disabled; u000-u002 agents, the rest customers.
fn directory() -> Ldif {
    let mut l = Ldif::new();
    for n in 0..LDAP_USERS {
        let (uid, cn, sn) = (
            format!("u{n:03}"),
            format!("User {n:03}"),
            format!("{n:03}"),
        );
        let mail = format!("{uid}@corp.example");
        let status = if n == 7 { "disabled" } else { "staff" };
        l.add_person(
            &uid,
            &[
                ("cn", &cn),
                ("sn", &sn),
                ("mail", &mail),
                ("employeeType", status),
            ],
        );
    }
    let members = |range: std::ops::Range<usize>| -> Vec<String> {
        range.map(|n| person_dn(&format!("u{n:03}"))).collect()
    };
    l.add_group("Agents", &members(0..3));
    l.add_group("Customers", &members(3..LDAP_USERS));
    l
}

const LDAP_MAPPING: &str = r#"version = 1
[[groups]]
source = "Agents"
kind = "agent"

[[groups]]
source = "Customers"
service_desks = ["HR", "ITSD"]

[ldap]
page_size = 40
disabled_when = [{ attribute = "employeeType", value = "disabled" }]
"#;

async fn plan(
    w: &World,
    spec: &str,
    m: &Mapping,
    env: &dyn Fn(&str) -> Option<String>,
) -> jsm_lifecycle::Result<jsm_lifecycle::reconcile::Reconciliation> {
    let source = Source::parse_with(spec, m, env)?;
    w.engine
        .plan_reconcile(&Request::new(&source, m, "mapping.toml"))
        .await
}

#[tokio::test]
async fn reconcile_from_a_real_slapd_past_its_size_limit_and_refuse_a_bad_bind() {
    let Some(slapd) =
        Slapd::start("reconcile_from_a_real_slapd_past_its_size_limit_and_refuse_a_bad_bind").await
    else {
        return;
    };
    slapd.apply(&directory());
    let w = empty_site(Surfaces::ALL, policy(100.0), Backend::Sqlite).await;
    let m = Mapping::from_toml(LDAP_MAPPING, "mapping.toml").unwrap();
    let spec = slapd.spec();

    let wrong = |name: &str| match name {
        ENV_LDAP_BIND_DN => Some(READER_DN.to_string()),
        ENV_LDAP_PASSWORD => Some("not-the-password".to_string()),
        _ => None,
    };
    let err = plan(&w, &spec, &m, &wrong).await.unwrap_err();
    assert!(
        matches!(err, Error::Source(jsm_sources::Error::LdapBind { .. })),
        "{err}"
    );
    let shown = err.to_string();
    assert!(
        shown.contains("bind as")
            && shown.contains(READER_DN)
            && !shown.contains("not-the-password"),
        "{shown}"
    );
    assert!(
        w.engine.store.plans(None).await.unwrap().is_empty(),
        "nothing planned"
    );

    let env = |name: &str| match name {
        ENV_LDAP_BIND_DN => Some(READER_DN.to_string()),
        ENV_LDAP_PASSWORD => Some(READER_PW.to_string()),
        _ => None,
    };
    let r = plan(&w, &spec, &m, &env).await.unwrap();
    assert_eq!(
        r.summary.people, LDAP_USERS,
        "every entry, past the size limit"
    );
    let creates = r
        .plan
        .items
        .iter()
        .filter(|i| matches!(i.action, Action::CreateCustomer { .. }))
        .count();
    assert_eq!(creates, LDAP_USERS - 3 - 1, "three agents, one disabled");
    assert_eq!(
        actions(&r)
            .iter()
            .filter(|a| **a == "scim_create_user")
            .count(),
        3
    );
    w.engine.submit(&r.plan).await.unwrap();
    let report = w.engine.apply(&r.plan, &Quiet).await.unwrap();
    assert!(report.complete(), "{report:#?}");
    {
        let site = w.site();
        assert!(in_desk(
            &site,
            "ITSD",
            &format!("u{:03}@corp.example", LDAP_USERS - 1)
        ));
        assert!(site.find_by_email("u007@corp.example").is_none());
    }
    let again = plan(&w, &spec, &m, &env).await.unwrap();
    assert!(again.plan.is_empty(), "{:#?}", again.plan.items);
    let links = w.engine.links(Some(&again.source)).await.unwrap();
    assert_eq!(links.len(), LDAP_USERS - 1);
    assert!(
        links.iter().all(|l| l.source_id.len() == 36),
        "LDAP links key on entryUUID"
    );
}
