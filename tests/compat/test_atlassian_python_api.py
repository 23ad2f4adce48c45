"""atlassian-python-api 5.0.5, unchanged, against the emulator.

The client is what many Jira/JSM admins already run against Atlassian Cloud;
if it works against the emulator unchanged, the emulator speaks the same
dialect (paths, Cloud/Server branch by "atlassian.net" in the URL, deprecated
``fullName``, DELETE with JSON bodies, 429 + Retry-After).

Every test asserts on data the client returns, and where a call changes state,
a second call (through the client or the control plane) checks the change.
"""

from __future__ import annotations

import time
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from atlassian import Jira, ServiceDesk
from requests import HTTPError

from conftest import AGENTS_GROUP, ADMIN_EMAIL, DemoFacts, ids_of

# The Cloud code path of add/remove_user_from_group is chosen by this substring.
CLOUD_PREFIX = "/atlassian.net"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def jira(base_url: str, admin_token: str) -> Jira:
    client = Jira(
        url=base_url + CLOUD_PREFIX,
        username=ADMIN_EMAIL,
        password=admin_token,
        cloud=True,
        timeout=15,
    )
    yield client
    client.close()


@pytest.fixture
def sd(base_url: str, admin_token: str) -> ServiceDesk:
    client = ServiceDesk(
        url=base_url + CLOUD_PREFIX,
        username=ADMIN_EMAIL,
        password=admin_token,
        cloud=True,
        timeout=15,
    )
    yield client
    client.close()


def status_of(excinfo: pytest.ExceptionInfo) -> int | None:
    response = getattr(excinfo.value, "response", None)
    return None if response is None else response.status_code


# --------------------------------------------------------------------------
# Jira: users
# --------------------------------------------------------------------------


def test_user_by_account_id(jira: Jira, demo: DemoFacts) -> None:
    agent = demo.agent
    user = jira.user(account_id=agent.account_id)
    assert isinstance(user, dict), user
    assert user["accountId"] == agent.account_id
    assert user["displayName"] == agent.display_name
    assert user["accountType"] == "atlassian"
    assert user["active"] is True
    assert parse_qs(urlsplit(user["self"]).query)["accountId"] == [agent.account_id]
    assert user.get("emailAddress") == agent.email


def test_user_with_expand_groups_lists_agent_group(jira: Jira, demo: DemoFacts) -> None:
    user = jira.user(account_id=demo.agent.account_id, expand="groups,applicationRoles")
    names = [g["name"] for g in user["groups"]["items"]]
    assert AGENTS_GROUP in names
    assert user["groups"]["size"] == len(names)


def test_user_with_hidden_email_omits_email(jira: Jira, demo: DemoFacts) -> None:
    hidden = demo.agent_hidden_email
    if hidden is None:
        pytest.fail("demo seed should contain at least one agent with a hidden email")
    user = jira.user(account_id=hidden.account_id)
    assert user["accountId"] == hidden.account_id
    # Real Cloud omits the field (clients guard with .get); never the real address.
    assert user.get("emailAddress") in (None, "")
    assert hidden.email is None or hidden.email not in str(user)


def test_user_unknown_account_raises_404_with_jira_message(jira: Jira) -> None:
    with pytest.raises(HTTPError) as excinfo:
        jira.user(account_id="5b10ac8d82e05b22cc7d4eff")
    assert status_of(excinfo) == 404
    # The client joins errorMessages; an empty text means the body was not an ErrorCollection.
    assert str(excinfo.value) not in ("", "Unknown error")


def test_myself_is_the_admin(jira: Jira, demo: DemoFacts) -> None:
    me = jira.myself()
    assert me["accountId"] == demo.admin_id
    assert me["emailAddress"] == ADMIN_EMAIL


def test_user_find_by_user_string_query(jira: Jira, demo: DemoFacts) -> None:
    agent = demo.agent
    prefix = agent.display_name.split()[0]
    found = jira.user_find_by_user_string(query=prefix)
    assert isinstance(found, list), found
    assert agent.account_id in ids_of(found)
    for user in found:
        words = [w.lower() for w in user["displayName"].split()]
        email = (user.get("emailAddress") or "").lower()
        assert any(w.startswith(prefix.lower()) for w in words) or email.startswith(prefix.lower()), user
        assert user["active"] is True


def test_user_find_by_user_string_by_email(jira: Jira, demo: DemoFacts) -> None:
    found = jira.user_find_by_user_string(query=demo.agent.email)
    assert ids_of(found) == [demo.agent.account_id]


def test_user_find_by_user_string_account_id_is_exact(jira: Jira, demo: DemoFacts) -> None:
    found = jira.user_find_by_user_string(account_id=demo.other_agent.account_id)
    assert ids_of(found) == [demo.other_agent.account_id]


def test_user_find_by_user_string_paging(jira: Jira, demo: DemoFacts) -> None:
    # Customers are plentiful in the demo seed; two pages must not overlap.
    first = jira.user_find_by_user_string(query="a", start=0, limit=5)
    second = jira.user_find_by_user_string(query="a", start=5, limit=5)
    assert len(first) == 5
    assert second and not set(ids_of(first)) & set(ids_of(second))


def test_get_user_groups(jira: Jira, demo: DemoFacts) -> None:
    groups = jira.get_user_groups(account_id=demo.agent.account_id)
    assert AGENTS_GROUP in [g["name"] for g in groups]
    expected = {g.name for g in demo.state.groups if demo.agent.account_id in g.member_ids}
    assert {g["name"] for g in groups} == expected


# --------------------------------------------------------------------------
# Jira: groups
# --------------------------------------------------------------------------


def test_get_all_users_from_group_matches_state(jira: Jira, demo: DemoFacts) -> None:
    page = jira.get_all_users_from_group(AGENTS_GROUP, include_inactive_users=False, limit=50)
    expected_active = {
        aid for aid in demo.state.group(AGENTS_GROUP).member_ids if demo.state.account(aid).active
    }
    assert set(ids_of(page["values"])) == expected_active
    assert page["total"] == len(expected_active)
    assert page["isLast"] is True
    assert page["startAt"] == 0
    for user in page["values"]:
        assert user["displayName"] == demo.state.account(user["accountId"]).display_name


def test_get_all_users_from_group_pages(jira: Jira, demo: DemoFacts) -> None:
    first = jira.get_all_users_from_group(AGENTS_GROUP, start=0, limit=5)
    assert len(first["values"]) == 5
    assert first["isLast"] is False
    assert first["maxResults"] == 5
    assert "nextPage" in first and "startAt=5" in first["nextPage"]
    second = jira.get_all_users_from_group(AGENTS_GROUP, start=5, limit=5)
    assert second["startAt"] == 5
    assert not set(ids_of(first["values"])) & set(ids_of(second["values"]))


def test_next_page_url_is_followable_verbatim(jira: Jira, base_url: str, demo: DemoFacts) -> None:
    # Jira._get_paged follows nextPage as an absolute URL with no extra params,
    # so it must keep the caller's host, prefix and API version.
    first = jira.get_all_users_from_group(AGENTS_GROUP, start=0, limit=7)
    assert first["nextPage"].startswith(base_url + CLOUD_PREFIX + "/rest/api/2/group/member?")
    seen = ids_of(first["values"])
    page = first
    while not page["isLast"]:
        page = jira.get(page["nextPage"], absolute=True)
        seen += ids_of(page["values"])
    assert len(seen) == len(set(seen)) == page["total"]
    assert set(seen) == set(demo.state.group(AGENTS_GROUP).member_ids)


def test_jsm_next_link_is_followable(sd: ServiceDesk, base_url: str, demo: DemoFacts) -> None:
    desk = demo.closed_desk
    page = sd.get_customers(desk.desk_id, limit=50)
    seen = ids_of(page["values"])
    while not page["isLastPage"]:
        nxt = page["_links"]["next"]
        assert nxt.startswith(base_url + CLOUD_PREFIX + "/rest/servicedeskapi/"), nxt
        page = sd.get(nxt, absolute=True, headers=sd.experimental_headers)
        seen += ids_of(page["values"])
    assert len(seen) == len(set(seen))
    assert set(seen) == set(desk.customer_ids)


def test_get_all_users_from_unknown_group_raises_404(jira: Jira) -> None:
    with pytest.raises(HTTPError) as excinfo:
        jira.get_all_users_from_group("no-such-group-" + uuid.uuid4().hex)
    assert status_of(excinfo) == 404


def test_create_group(jira: Jira, fresh) -> None:
    name = unique("compat-group")
    group = jira.create_group(name)
    assert group["name"] == name
    assert group.get("groupId")
    # Second look, through another endpoint: the group picker finds it.
    picked = jira.get_groups(query=name)
    assert [g["name"] for g in picked["groups"]] == [name]
    # And it is empty.
    members = jira.get_all_users_from_group(name)
    assert members["values"] == [] and members["total"] == 0


def test_create_group_twice_is_400(jira: Jira, fresh) -> None:
    name = unique("compat-dup")
    jira.create_group(name)
    with pytest.raises(HTTPError) as excinfo:
        jira.create_group(name)
    assert status_of(excinfo) == 400


def test_add_user_to_group_cloud_form(jira: Jira, demo: DemoFacts, fresh) -> None:
    name = unique("compat-add")
    jira.create_group(name)
    group = jira.add_user_to_group(group_name=name, account_id=demo.agent.account_id)
    assert group["name"] == name
    members = jira.get_all_users_from_group(name)
    assert ids_of(members["values"]) == [demo.agent.account_id]
    assert name in [g["name"] for g in jira.get_user_groups(account_id=demo.agent.account_id)]
    # The control plane agrees.
    assert demo.agent.account_id in fresh.state().group(name).member_ids


def test_add_user_to_group_twice_is_400(jira: Jira, demo: DemoFacts, fresh) -> None:
    name = unique("compat-add2")
    jira.create_group(name)
    jira.add_user_to_group(group_name=name, account_id=demo.agent.account_id)
    with pytest.raises(HTTPError) as excinfo:
        jira.add_user_to_group(group_name=name, account_id=demo.agent.account_id)
    assert status_of(excinfo) == 400
    assert "already a member" in str(excinfo.value)


def test_remove_user_from_group(jira: Jira, demo: DemoFacts, fresh) -> None:
    name = unique("compat-rm")
    jira.create_group(name)
    jira.add_user_to_group(group_name=name, account_id=demo.agent.account_id)
    jira.add_user_to_group(group_name=name, account_id=demo.other_agent.account_id)
    mark = fresh.log_mark()
    jira.remove_user_from_group(group_name=name, account_id=demo.agent.account_id)
    members = jira.get_all_users_from_group(name)
    assert ids_of(members["values"]) == [demo.other_agent.account_id]
    assert name not in [g["name"] for g in jira.get_user_groups(account_id=demo.agent.account_id)]
    # The client took its Cloud branch ("atlassian.net" in the URL): accountId, not username.
    delete = [e for e in fresh.requests_log(mark) if e["method"] == "DELETE"]
    assert len(delete) == 1 and delete[0]["status"] == 200, delete
    assert delete[0]["path"] == CLOUD_PREFIX + "/rest/api/2/group/user"
    query = parse_qs(delete[0]["query"])
    assert query["accountId"] == [demo.agent.account_id] and "username" not in query


def test_remove_user_from_seeded_group(jira: Jira, demo: DemoFacts, fresh) -> None:
    before = jira.get_all_users_from_group(AGENTS_GROUP)["total"]
    jira.remove_user_from_group(group_name=AGENTS_GROUP, account_id=demo.other_agent.account_id)
    after = jira.get_all_users_from_group(AGENTS_GROUP)
    assert after["total"] == before - 1
    assert demo.other_agent.account_id not in ids_of(after["values"])


def test_remove_group(jira: Jira, fresh) -> None:
    name = unique("compat-del")
    jira.create_group(name)
    jira.remove_group(name)
    assert jira.get_groups(query=name)["groups"] == []


# --------------------------------------------------------------------------
# ServiceDesk: desks and customers
# --------------------------------------------------------------------------


def test_get_service_desks(sd: ServiceDesk, demo: DemoFacts) -> None:
    desks = sd.get_service_desks()
    assert isinstance(desks, list)
    assert sorted(d["id"] for d in desks) == sorted(d.desk_id for d in demo.state.desks)
    for desk in desks:
        known = demo.state.desk(desk["id"])
        if known.project_key:
            assert desk["projectKey"] == known.project_key
        assert desk["projectName"]
        assert desk["_links"]["self"].endswith(f"/servicedesk/{desk['id']}")


def test_get_service_desks_follows_pages(sd: ServiceDesk, demo: DemoFacts) -> None:
    # limit=1 forces the client's isLastPage loop across every desk.
    desks = sd.get_service_desks(limit=1)
    assert sorted(d["id"] for d in desks) == sorted(d.desk_id for d in demo.state.desks)


def test_get_service_desk_by_id(sd: ServiceDesk, demo: DemoFacts) -> None:
    desk = sd.get_service_desk_by_id(demo.closed_desk.desk_id)
    assert desk["id"] == demo.closed_desk.desk_id


def test_get_info(sd: ServiceDesk) -> None:
    info = sd.get_info()
    assert info["version"]
    assert info["isLicensedForUse"] is True


def test_create_customer_with_deprecated_full_name(sd: ServiceDesk, jira: Jira, fresh) -> None:
    email = f"{unique('cust')}@customers.example.com"
    customer = sd.create_customer("Compat Customer", email)
    assert customer["displayName"] == "Compat Customer"
    assert customer["emailAddress"] == email
    assert customer["accountId"]
    assert customer["active"] is True
    # Second look: the new account is a Jira user of type "customer".
    user = jira.user(account_id=customer["accountId"])
    assert user["accountType"] == "customer"
    assert user["displayName"] == "Compat Customer"
    assert any(a.account_id == customer["accountId"] for a in fresh.state().customers())


def test_create_customer_duplicate_email_is_400(sd: ServiceDesk, fresh) -> None:
    email = f"{unique('dup')}@customers.example.com"
    sd.create_customer("First", email)
    with pytest.raises(HTTPError) as excinfo:
        sd.create_customer("Second", email)
    assert status_of(excinfo) == 400
    assert str(excinfo.value)  # ServiceDesk.raise_for_status reads errorMessage


def test_get_customers_page_and_query(sd: ServiceDesk, demo: DemoFacts) -> None:
    desk = demo.closed_desk
    page = sd.get_customers(desk.desk_id, start=0, limit=10)
    expected_total = len(desk.customer_ids)
    assert page["start"] == 0
    assert page["limit"] == 10
    assert page["size"] == len(page["values"]) == min(10, expected_total)
    assert page["isLastPage"] is (expected_total <= 10)
    assert set(ids_of(page["values"])) <= set(desk.customer_ids)
    if desk.customer_ids:
        member = demo.state.account(desk.customer_ids[0])
        hit = sd.get_customers(desk.desk_id, query=member.display_name)
        assert member.account_id in ids_of(hit["values"])


def test_add_get_remove_customers_on_closed_desk(sd: ServiceDesk, demo: DemoFacts, fresh) -> None:
    desk = demo.closed_desk.desk_id
    customer = demo.customer
    assert sd.add_customers(desk, list_of_accountids=[customer.account_id]) is None
    found = sd.get_customers(desk, query=customer.display_name)
    assert customer.account_id in ids_of(found["values"])
    assert customer.account_id in fresh.state().desk(desk).customer_ids

    assert sd.remove_customers(desk, list_of_accountids=[customer.account_id]) is None
    found = sd.get_customers(desk, query=customer.display_name)
    assert customer.account_id not in ids_of(found["values"])
    assert customer.account_id not in fresh.state().desk(desk).customer_ids


def test_add_customers_is_idempotent(sd: ServiceDesk, demo: DemoFacts, fresh) -> None:
    desk = demo.closed_desk.desk_id
    aid = demo.customer.account_id
    sd.add_customers(desk, list_of_accountids=[aid])
    sd.add_customers(desk, list_of_accountids=[aid])  # 204 again, no error
    assert fresh.state().desk(desk).customer_ids.count(aid) == 1


def test_remove_customers_from_open_desk_is_400(sd: ServiceDesk, demo: DemoFacts, fresh) -> None:
    desk = demo.open_desk.desk_id
    with pytest.raises(HTTPError) as excinfo:
        sd.remove_customers(desk, list_of_accountids=[demo.customer.account_id])
    assert status_of(excinfo) == 400


def test_add_unknown_customer_is_400(sd: ServiceDesk, demo: DemoFacts, fresh) -> None:
    with pytest.raises(HTTPError) as excinfo:
        sd.add_customers(demo.closed_desk.desk_id, list_of_accountids=["qm:no-such-account"])
    assert status_of(excinfo) == 400


# --------------------------------------------------------------------------
# ServiceDesk: organizations
# --------------------------------------------------------------------------


def test_get_organisations_matches_state(sd: ServiceDesk, demo: DemoFacts) -> None:
    page = sd.get_organisations()
    got = {o["id"]: o["name"] for o in page["values"]}
    assert got == {o.org_id: o.name for o in demo.state.organizations}
    assert page["isLastPage"] is True


def test_organization_lifecycle(sd: ServiceDesk, demo: DemoFacts, fresh) -> None:
    name = unique("Compat Org")
    org = sd.create_organization(name)
    assert org["name"] == name
    org_id = org["id"]
    assert isinstance(org_id, str) and org_id.isdigit()

    fetched = sd.get_organization(org_id)
    assert fetched["id"] == org_id and fetched["name"] == name
    assert org_id in [o["id"] for o in sd.get_organisations()["values"]]

    # Members
    c1, c2 = demo.customer.account_id, demo.other_customer.account_id
    sd.add_users_to_organization(org_id, account_list=[c1, c2])
    users = sd.get_users_in_organization(org_id)
    assert set(ids_of(users["values"])) == {c1, c2}
    assert users["size"] == 2
    sd.remove_users_from_organization(org_id, account_list=[c1])
    assert ids_of(sd.get_users_in_organization(org_id)["values"]) == [c2]

    # Desk association (the client sends organizationId as given: an int here)
    desk = demo.closed_desk.desk_id
    sd.add_organization(desk, int(org_id))
    assert org_id in [o["id"] for o in sd.get_organisations(desk)["values"]]
    sd.remove_organization(desk, int(org_id))
    assert org_id not in [o["id"] for o in sd.get_organisations(desk)["values"]]

    # Delete
    sd.delete_organization(org_id)
    with pytest.raises(HTTPError) as excinfo:
        sd.get_organization(org_id)
    assert status_of(excinfo) == 404
    assert org_id not in [o["id"] for o in sd.get_organisations()["values"]]


def test_create_organization_same_name_returns_existing(sd: ServiceDesk, fresh) -> None:
    name = unique("Compat Same")
    first = sd.create_organization(name)
    second = sd.create_organization(name)
    assert second["id"] == first["id"]
    assert [o["name"] for o in sd.get_organisations()["values"]].count(name) == 1


def test_get_users_in_seeded_organization(sd: ServiceDesk, demo: DemoFacts) -> None:
    org = demo.organization
    page = sd.get_users_in_organization(org.org_id, limit=50)
    assert set(ids_of(page["values"])) <= set(org.member_ids)
    assert page["size"] == min(50, len(org.member_ids))


def test_organization_desk_link_is_visible_in_state(sd: ServiceDesk, demo: DemoFacts, fresh) -> None:
    org = sd.create_organization(unique("Compat Link"))
    desk = demo.open_desk.desk_id
    sd.add_organization(desk, int(org["id"]))
    assert org["id"] in fresh.state().desk(desk).organization_ids


def test_delete_organization_detaches_it_from_desks(sd: ServiceDesk, demo: DemoFacts, fresh) -> None:
    # "deleted even if still associated with desks": the desk must stop listing it.
    org = sd.create_organization(unique("Compat Gone"))
    desk = demo.open_desk.desk_id
    sd.add_organization(desk, int(org["id"]))
    assert org["id"] in [o["id"] for o in sd.get_organisations(desk)["values"]]
    sd.delete_organization(org["id"])
    assert org["id"] not in [o["id"] for o in sd.get_organisations(desk)["values"]]
    assert org["id"] not in fresh.state().desk(desk).organization_ids


def test_unknown_organization_error_message(sd: ServiceDesk) -> None:
    with pytest.raises(HTTPError) as excinfo:
        sd.get_organization("987654321")
    assert status_of(excinfo) == 404
    assert str(excinfo.value)  # from the JSM errorMessage field


# --------------------------------------------------------------------------
# Transport: authentication and 429 + Retry-After
# --------------------------------------------------------------------------


def test_bad_token_is_401(base_url: str) -> None:
    client = Jira(url=base_url + CLOUD_PREFIX, username=ADMIN_EMAIL, password="wrong", cloud=True)
    with pytest.raises(HTTPError) as excinfo:
        client.myself()
    assert status_of(excinfo) == 401
    # The client only reads a 401 body whose Content-Type is exactly
    # "application/json;charset=UTF-8" (as Atlassian sends); otherwise it says
    # "Unauthorized (401)". Seeing the server's message proves the header matches.
    assert excinfo.value.response.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert "authenticated" in str(excinfo.value)


def _user_gets(entries: list[dict]) -> list[dict]:
    return [
        e for e in entries
        if e["method"] == "GET" and e["path"] == CLOUD_PREFIX + "/rest/api/2/user"
    ]


def test_429_with_retry_after_is_retried_once(jira: Jira, demo: DemoFacts, fresh) -> None:
    # The rule names the v3 path; the emulator normalises /rest/api/2 and the prefix.
    fresh.set_faults(
        [{"method": "GET", "path": "/rest/api/3/user", "status": 429, "retryAfter": 1, "times": 1}]
    )
    mark = fresh.log_mark()
    started = time.monotonic()
    user = jira.user(account_id=demo.agent.account_id)
    elapsed = time.monotonic() - started

    assert user["accountId"] == demo.agent.account_id
    assert user["displayName"] == demo.agent.display_name
    assert elapsed >= 0.9, "the client should have slept for Retry-After: 1"

    calls = _user_gets(fresh.requests_log(mark))
    assert [e["status"] for e in calls] == [429, 200], calls
    assert all(parse_qs(e["query"])["accountId"] == [demo.agent.account_id] for e in calls)
    # times=1 means the rule is spent: a further call succeeds at once.
    mark = fresh.log_mark()
    assert jira.user(account_id=demo.agent.account_id)["accountId"] == demo.agent.account_id
    assert [e["status"] for e in _user_gets(fresh.requests_log(mark))] == [200]


def test_two_429s_exhaust_the_single_retry(jira: Jira, demo: DemoFacts, fresh) -> None:
    # atlassian-python-api retries a Retry-After 429 once only; the second 429 surfaces.
    fresh.set_faults(
        [{"method": "GET", "path": "/rest/api/3/user", "status": 429, "retryAfter": 1, "times": 2}]
    )
    mark = fresh.log_mark()
    with pytest.raises(HTTPError) as excinfo:
        jira.user(account_id=demo.agent.account_id)
    assert status_of(excinfo) == 429
    assert excinfo.value.response.headers.get("Retry-After") == "1"
    assert [e["status"] for e in _user_gets(fresh.requests_log(mark))] == [429, 429]
