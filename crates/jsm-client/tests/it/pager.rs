//! One wiremock test per paging trap: the pager ends only on the server's end signal, survives silent and
//! hidden caps, and fails with `Truncated` (never silently short) on the 1000 ceiling, a moving total,
//! duplicates across pages, or a stalled page.

use futures::TryStreamExt;
use jsm_client::{Error, Event, GroupRef, TruncationReason};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{self, catch_all, customer_json, user_json};

fn users(range: std::ops::Range<usize>) -> Vec<Value> {
    range
        .map(|i| user_json(&format!("u{i:05}"), None))
        .collect()
}

fn ids(items: &[jsm_proto::jira::UserDetails]) -> Vec<String> {
    items.iter().map(|u| u.account_id.clone()).collect()
}

async fn mount_page(server: &MockServer, p: &str, param: &str, at: u64, body: Value) {
    Mock::given(method("GET"))
        .and(path(p.to_string()))
        .and(query_param(param, at.to_string()))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

fn page_bean(
    start: u64,
    max: u64,
    total: Option<u64>,
    is_last: Option<bool>,
    values: Vec<Value>,
) -> Value {
    let mut v = json!({"startAt": start, "maxResults": max, "values": values});
    if let Some(t) = total {
        v["total"] = json!(t);
    }
    if let Some(l) = is_last {
        v["isLast"] = json!(l);
    }
    v
}

#[tokio::test(start_paused = true)]
async fn page_bean_follows_is_last_not_short_pages() {
    let server = MockServer::start().await;
    let p = "/rest/api/3/group/member";
    // A short page that is not the last one, then the real last page.
    mount_page(
        &server,
        p,
        "startAt",
        0,
        page_bean(0, 50, Some(5), Some(false), users(0..2)),
    )
    .await;
    mount_page(
        &server,
        p,
        "startAt",
        2,
        page_bean(2, 50, Some(5), Some(true), users(2..5)),
    )
    .await;
    catch_all(&server).await;
    let (client, _) = common::client(&server);
    let all = client
        .groups()
        .members(&GroupRef::id("g1"))
        .include_inactive(true)
        .all()
        .await
        .unwrap();
    assert_eq!(
        ids(&all),
        vec!["u00000", "u00001", "u00002", "u00003", "u00004"]
    );
}

#[tokio::test(start_paused = true)]
async fn jira_silent_cap_advances_by_what_was_served() {
    let server = MockServer::start().await;
    let p = "/rest/api/3/group/member";
    // We ask for 50; the server silently serves 2 per page (and says maxResults 2).
    for start in [0u64, 2, 4] {
        let last = start == 4;
        mount_page(
            &server,
            p,
            "startAt",
            start,
            page_bean(
                start,
                2,
                Some(6),
                Some(last),
                users(start as usize..start as usize + 2),
            ),
        )
        .await;
    }
    catch_all(&server).await;
    let (client, rec) = common::client(&server);
    let all = client
        .groups()
        .members(&GroupRef::id("g1"))
        .pager()
        .page_size(50)
        .all()
        .await
        .unwrap();
    assert_eq!(all.len(), 6);
    assert_eq!(
        rec.count(|e| matches!(
            e,
            Event::PageCapped {
                asked: 50,
                served: 2,
                ..
            }
        )),
        1
    );
}

#[tokio::test(start_paused = true)]
async fn jsm_hidden_cap_continues_until_is_last_page() {
    let server = MockServer::start().await;
    let p = "/rest/servicedeskapi/servicedesk/5/customer";
    // limit=50 asked and echoed, but only 3 served per page: size < limit and isLastPage=false.
    for (start, last) in [(0u64, false), (3, false), (6, true)] {
        let values: Vec<Value> = (start..start + 3)
            .map(|i| customer_json(&format!("qm:{i}")))
            .collect();
        let body = json!({"size": 3, "start": start, "limit": 50, "isLastPage": last, "values": values, "_links": {}});
        Mock::given(method("GET"))
            .and(path(p))
            .and(query_param("start", start.to_string()))
            .and(wiremock::matchers::header("X-ExperimentalApi", "opt-in"))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .mount(&server)
            .await;
    }
    catch_all(&server).await;
    let (client, rec) = common::client(&server);
    let all: Vec<_> = client
        .customers()
        .list("5")
        .pager()
        .into_stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 9);
    assert_eq!(rec.count(|e| matches!(e, Event::PageCapped { .. })), 1);
}

#[tokio::test(start_paused = true)]
async fn user_search_stops_at_the_1000_ceiling_with_truncated() {
    let server = MockServer::start().await;
    let p = "/rest/api/3/user/search";
    for start in (0..1000u64).step_by(100) {
        mount_page(
            &server,
            p,
            "startAt",
            start,
            Value::Array(users(start as usize..start as usize + 100)),
        )
        .await;
    }
    mount_page(&server, p, "startAt", 1000, json!([])).await;
    catch_all(&server).await;
    let (client, _) = common::client(&server);
    let mut stream = client.users().search("a").into_stream();
    let mut seen = 0;
    let err = loop {
        match stream.try_next().await {
            Ok(Some(_)) => seen += 1,
            Ok(None) => panic!("a listing at the ceiling must not end silently"),
            Err(e) => break e,
        }
    };
    assert_eq!(seen, 1000, "every item served was yielded");
    assert!(
        matches!(
            err,
            Error::Truncated {
                reason: TruncationReason::Ceiling { limit: 1000 },
                yielded: 1000
            }
        ),
        "{err:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn exhaustive_search_lists_everyone_and_matches_locally() {
    let server = MockServer::start().await;
    let mut all = users(0..1500);
    all[1200]["displayName"] = json!("Zed Ahmed");
    all[1400]["active"] = json!(false);
    all[1400]["displayName"] = json!("Zed Inactive");
    mount_page(
        &server,
        "/rest/api/3/users/search",
        "startAt",
        0,
        Value::Array(all[..1000].to_vec()),
    )
    .await;
    mount_page(
        &server,
        "/rest/api/3/users/search",
        "startAt",
        1000,
        Value::Array(all[1000..].to_vec()),
    )
    .await;
    mount_page(
        &server,
        "/rest/api/3/users/search",
        "startAt",
        1500,
        json!([]),
    )
    .await;
    catch_all(&server).await;
    let (client, _) = common::client(&server);
    let found = client.users().search_exhaustive("ahm").all().await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].display_name, "Zed Ahmed");
}

#[tokio::test(start_paused = true)]
async fn a_total_that_keeps_moving_ends_truncated_without_duplicates() {
    let server = MockServer::start().await;
    let p = "/rest/api/3/group/member";
    // Page 2 always reports a different total than page 1: every pass is inconsistent.
    mount_page(
        &server,
        p,
        "startAt",
        0,
        page_bean(0, 2, Some(4), Some(false), users(0..2)),
    )
    .await;
    mount_page(
        &server,
        p,
        "startAt",
        2,
        page_bean(2, 2, Some(5), Some(false), users(2..4)),
    )
    .await;
    catch_all(&server).await;
    let (client, rec) = common::client(&server);
    let mut stream = client
        .groups()
        .members(&GroupRef::id("g1"))
        .pager()
        .page_size(2)
        .into_stream();
    let mut got = Vec::new();
    let err = loop {
        match stream.try_next().await {
            Ok(Some(u)) => got.push(u.account_id),
            Ok(None) => panic!("must not end silently"),
            Err(e) => break e,
        }
    };
    assert!(
        matches!(
            err,
            Error::Truncated {
                reason: TruncationReason::MovingTotal { first: 4, now: 5 },
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        got,
        vec!["u00000", "u00001", "u00002", "u00003"],
        "each item once"
    );
    assert_eq!(rec.count(|e| matches!(e, Event::PagerRestarted { .. })), 2);
}

#[tokio::test(start_paused = true)]
async fn a_total_that_moved_once_is_recovered_by_a_restart() {
    let server = MockServer::start().await;
    let p = "/rest/api/3/group/member";
    // First pass: an insert between page 1 and 2 (total 4 → 5) shifts u00002 into page 1's range.
    Mock::given(method("GET"))
        .and(path(p))
        .and(query_param("startAt", "0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page_bean(
            0,
            2,
            Some(4),
            Some(false),
            users(0..2),
        )))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(p))
        .and(query_param("startAt", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page_bean(
            2,
            2,
            Some(5),
            Some(false),
            users(3..5),
        )))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    // Second pass sees the settled list of five.
    mount_page(
        &server,
        p,
        "startAt",
        0,
        page_bean(0, 2, Some(5), Some(false), users(0..2)),
    )
    .await;
    mount_page(
        &server,
        p,
        "startAt",
        2,
        page_bean(2, 2, Some(5), Some(false), users(2..4)),
    )
    .await;
    mount_page(
        &server,
        p,
        "startAt",
        4,
        page_bean(4, 2, Some(5), Some(true), users(4..5)),
    )
    .await;
    catch_all(&server).await;
    let (client, _) = common::client(&server);
    let mut got = ids(&client
        .groups()
        .members(&GroupRef::id("g1"))
        .pager()
        .page_size(2)
        .all()
        .await
        .unwrap());
    got.sort();
    assert_eq!(got, vec!["u00000", "u00001", "u00002", "u00003", "u00004"]);
}

#[tokio::test(start_paused = true)]
async fn duplicates_across_pages_are_never_yielded_twice() {
    let server = MockServer::start().await;
    let p = "/rest/servicedeskapi/organization";
    // The server ignores `start` (the startAt/start mix-up): every page is the first one.
    let body = json!({"size": 2, "start": 0, "limit": 2, "isLastPage": false, "_links": {},
        "values": [{"id": "1", "name": "A"}, {"id": "2", "name": "B"}]});
    Mock::given(method("GET"))
        .and(path(p))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&server)
        .await;
    catch_all(&server).await;
    let (client, _) = common::client(&server);
    let mut stream = client
        .organizations()
        .list()
        .page_size(2)
        .max_restarts(0)
        .into_stream();
    let mut got = Vec::new();
    let err = loop {
        match stream.try_next().await {
            Ok(Some(o)) => got.push(o.id),
            Ok(None) => panic!("must not end silently"),
            Err(e) => break e,
        }
    };
    assert_eq!(got, vec!["1", "2"]);
    assert!(
        matches!(
            err,
            Error::Truncated {
                reason: TruncationReason::OffsetMismatch { asked: 2, got: 0 },
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn duplicate_items_with_a_correct_offset_are_detected() {
    let server = MockServer::start().await;
    let p = "/rest/api/3/group/member";
    mount_page(
        &server,
        p,
        "startAt",
        0,
        page_bean(0, 2, None, Some(false), users(0..2)),
    )
    .await;
    mount_page(
        &server,
        p,
        "startAt",
        2,
        page_bean(2, 2, None, Some(true), users(1..3)),
    )
    .await;
    catch_all(&server).await;
    let (client, _) = common::client(&server);
    let result: Result<Vec<_>, _> = client
        .groups()
        .members(&GroupRef::id("g1"))
        .pager()
        .page_size(2)
        .max_restarts(0)
        .into_stream()
        .try_collect()
        .await;
    match result {
        Err(Error::Truncated {
            reason: TruncationReason::Duplicate { key },
            yielded,
        }) => {
            assert_eq!(key, "u00001");
            assert_eq!(yielded, 3, "u00000, u00001 and the new u00002, each once");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn an_empty_page_that_is_not_the_last_is_stalled() {
    let server = MockServer::start().await;
    let p = "/rest/api/3/group/member";
    mount_page(
        &server,
        p,
        "startAt",
        0,
        page_bean(0, 2, Some(10), Some(false), users(0..2)),
    )
    .await;
    mount_page(
        &server,
        p,
        "startAt",
        2,
        page_bean(2, 2, Some(10), Some(false), vec![]),
    )
    .await;
    catch_all(&server).await;
    let (client, _) = common::client(&server);
    let err = client
        .groups()
        .members(&GroupRef::id("g1"))
        .pager()
        .page_size(2)
        .max_restarts(0)
        .all()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Truncated {
                reason: TruncationReason::Stalled { offset: 2 },
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn bare_arrays_end_on_an_empty_page_not_a_short_one() {
    let server = MockServer::start().await;
    let p = "/rest/api/3/users/search";
    mount_page(&server, p, "startAt", 0, Value::Array(users(0..3))).await;
    mount_page(&server, p, "startAt", 3, Value::Array(users(3..4))).await;
    mount_page(&server, p, "startAt", 4, json!([])).await;
    catch_all(&server).await;
    let (client, _) = common::client(&server);
    assert_eq!(
        client
            .users()
            .list()
            .page_size(1000)
            .all()
            .await
            .unwrap()
            .len(),
        4
    );
}

#[tokio::test(start_paused = true)]
async fn scim_pages_by_start_index_and_total_results() {
    let server = MockServer::start().await;
    let user = |i: u64| json!({"id": format!("s{i}"), "userName": format!("u{i}@example.com"), "schemas": []});
    for (start, n) in [(1u64, 2u64), (3, 2), (5, 1)] {
        let body = json!({"schemas": [], "totalResults": 5, "startIndex": start, "itemsPerPage": 2,
            "Resources": (start..start + n).map(user).collect::<Vec<_>>()});
        Mock::given(method("GET"))
            .and(path("/scim/directory/d1/Users"))
            .and(query_param("startIndex", start.to_string()))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .mount(&server)
            .await;
    }
    catch_all(&server).await;
    let rec = std::sync::Arc::new(common::Recorder::default());
    let client = common::builder(&server, &rec)
        .scim("d1", "scim-key")
        .build()
        .unwrap();
    let all = client.scim().users().all().await.unwrap();
    assert_eq!(
        all.iter()
            .map(|u| u.id.clone().unwrap_or_default())
            .collect::<Vec<_>>(),
        vec!["s1", "s2", "s3", "s4", "s5"]
    );
}

#[tokio::test(start_paused = true)]
async fn admin_cursor_pages_follow_links_next() {
    let server = MockServer::start().await;
    let user =
        |id: &str| json!({"account_id": id, "name": id, "email": format!("{id}@example.com")});
    Mock::given(method("GET"))
        .and(path("/admin/v1/orgs/o1/users"))
        .and(wiremock::matchers::query_param_is_missing("cursor"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [user("a"), user("b")], "links": {"next": format!("{}/admin/v1/orgs/o1/users?cursor=c2", server.uri())}})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/admin/v1/orgs/o1/users"))
        .and(query_param("cursor", "c2"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"data": [user("c")], "links": {}})),
        )
        .mount(&server)
        .await;
    catch_all(&server).await;
    let rec = std::sync::Arc::new(common::Recorder::default());
    let client = common::builder(&server, &rec)
        .org_admin("o1", "admin-key")
        .build()
        .unwrap();
    let all = client.admin().users().unwrap().all().await.unwrap();
    assert_eq!(
        all.iter()
            .map(|u| u.account_id.as_str())
            .collect::<Vec<_>>(),
        vec!["a", "b", "c"]
    );
}
