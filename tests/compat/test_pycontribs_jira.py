"""pycontribs/jira (the PyPI package ``jira``) 3.10.5, unchanged, against the emulator.

The second real third-party client of the suite.  It is built the way its
README tells Cloud users to build it, ``JIRA(server=..., basic_auth=(email,
token))``, with no options: the constructor's own ``GET /rest/api/2/serverInfo``
must succeed and say ``deploymentType: Cloud``, because the client picks its
Cloud or Server branch from that answer (``user()`` asks ``?accountId=`` on
Cloud and ``?username=`` elsewhere) and ``group_members()`` refuses to run
below version 6.

What the client sends was read from its installed source, not guessed:

* ``server_info``/``myself``/``user``/``search_users``/``group_members``/
  ``groups`` use ``/rest/api/2/...``; ``add_group``/``remove_group``/
  ``add_user_to_group``/``remove_user_from_group`` use ``/rest/api/latest/...``.
* ``search_users`` sends Python bools (``includeActive=True``,
  ``includeInactive=False``) and ``maxResults``, never ``startAt=0``.
* ``group_members`` reads the legacy ``GET /group?groupname=G&expand=users``,
  then pages with ``expand=users[end+1:end+50]`` while ``end-index < size-1``.
* ``groups`` is the group picker with ``maxResults=9999``.
* ``create_customer`` posts ``{"email","displayName"}`` to
  ``/rest/servicedeskapi/customer`` and raises unless the status is 201;
  ``service_desks`` reads the first page's ``values`` only.
* Its ``ResilientSession`` retries 429 and 503 up to 3 times, sleeping
  ``2 * max(int(Retry-After), 1) * U(0.5, 1)`` seconds (capped at 60).

Not covered because the client cannot work with Cloud at all: in 3.10.5 (and
on the project's main branch) ``add_user_to_group`` posts the Server body
``{"name": username}`` and ``remove_user_from_group`` sends
``?username=``; Cloud's GDPR strict mode refuses both.  One test pins that the
emulator refuses them too and changes nothing, instead of quietly accepting
a form that real Cloud rejects.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import OrderedDict
from urllib.parse import parse_qs

import pytest
import requests
from jira import JIRA, JIRAError
from jira.resources import Customer, ServiceDesk, User

from conftest import ADMIN_EMAIL, AGENTS_GROUP, HTTP_TIMEOUT_S, Control, DemoFacts


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def jira(base_url: str, admin_auth: tuple[str, str]) -> JIRA:
    # Defaults only: no options, no get_server_info=False, no timeout.
    client = JIRA(server=base_url, basic_auth=admin_auth)
    yield client
    client.close()


def calls(control: Control, mark: int, method: str, path: str) -> list[dict]:
    """Logged requests after ``mark`` with this method and exact path."""
    return [
        e for e in control.requests_log(mark) if e["method"] == method and e["path"] == path
    ]


def query_of(entry: dict) -> dict[str, list[str]]:
    return parse_qs(entry["query"], keep_blank_values=True)


# --------------------------------------------------------------------------
# Construction and server info
# --------------------------------------------------------------------------


def test_constructor_reads_server_info_and_takes_cloud_branch(
    base_url: str, admin_auth: tuple[str, str], control: Control, demo: DemoFacts
) -> None:
    mark = control.log_mark()
    client = JIRA(server=base_url, basic_auth=admin_auth)
    try:
        assert client.deploymentType == "Cloud"
        made = control.requests_log(mark)
        assert [(e["method"], e["path"], e["status"]) for e in made] == [
            ("GET", "/rest/api/2/serverInfo", 200)
        ]
        # The Cloud branch is visible in what the client sends next.
        mark = control.log_mark()
        client.user(demo.agent.account_id)
        sent = calls(control, mark, "GET", "/rest/api/2/user")
        assert len(sent) == 1, sent
        assert query_of(sent[0]) == {"accountId": [demo.agent.account_id]}
    finally:
        client.close()


def test_server_info(jira: JIRA, base_url: str) -> None:
    info = jira.server_info()
    assert info["deploymentType"] == "Cloud"
    numbers = info["versionNumbers"]
    assert isinstance(numbers, list) and len(numbers) == 3
    assert all(isinstance(n, int) for n in numbers)
    # group_members() raises NotImplementedError below (6, 0, 0).
    assert tuple(numbers) >= (6, 0, 0)
    assert info["version"].startswith(".".join(str(n) for n in numbers))
    assert info["baseUrl"] == base_url
    assert isinstance(info["buildNumber"], int)
    # A second call gives the same server (only serverTime may move).
    again = jira.server_info()
    assert {k: v for k, v in again.items() if k != "serverTime"} == {
        k: v for k, v in info.items() if k != "serverTime"
    }


# --------------------------------------------------------------------------
# Users
# --------------------------------------------------------------------------


def test_myself_is_the_admin(jira: JIRA, demo: DemoFacts) -> None:
    me = jira.myself()
    assert me["accountId"] == demo.admin_id
    assert me["emailAddress"] == ADMIN_EMAIL
    assert me["accountType"] == "atlassian"
    assert me["active"] is True
    assert me["displayName"] == demo.state.admin().display_name


def test_myself_follows_the_credentials(
    base_url: str, agent_auth: tuple[str, str], demo: DemoFacts
) -> None:
    client = JIRA(server=base_url, basic_auth=agent_auth)
    try:
        me = client.myself()
        assert me["accountId"] == demo.agent.account_id
        assert me["emailAddress"] == demo.agent.email
    finally:
        client.close()


def test_user_by_account_id(jira: JIRA, demo: DemoFacts) -> None:
    agent = demo.agent
    user = jira.user(agent.account_id)
    assert isinstance(user, User)
    assert user.accountId == agent.account_id
    assert user.displayName == agent.display_name
    assert user.accountType == "atlassian"
    assert user.active is True
    assert user.emailAddress == agent.email
    # User() switches to ?accountId= only if its self link carries accountId.
    assert "accountId=" in user.self
    assert user.raw["accountId"] == agent.account_id


def test_user_with_hidden_email_has_no_email(jira: JIRA, demo: DemoFacts) -> None:
    hidden = demo.agent_hidden_email
    if hidden is None:
        pytest.fail("demo seed should contain at least one agent with a hidden email")
    user = jira.user(hidden.account_id)
    assert user.accountId == hidden.account_id
    assert getattr(user, "emailAddress", None) in (None, "")
    assert hidden.email is None or hidden.email not in str(user.raw)


def test_user_unknown_account_raises_404(jira: JIRA) -> None:
    with pytest.raises(JIRAError) as excinfo:
        jira.user("5b10ac8d82e05b22cc7d4eff")
    assert excinfo.value.status_code == 404
    # The client parses errorMessages/errors into .text; empty means no ErrorCollection.
    assert excinfo.value.text


def test_search_users_by_query_prefix(jira: JIRA, demo: DemoFacts, control: Control) -> None:
    agent = demo.agent
    prefix = agent.display_name.split()[0]
    mark = control.log_mark()
    found = jira.search_users(query=prefix)
    assert all(isinstance(u, User) for u in found)
    assert agent.account_id in [u.accountId for u in found]
    for user in found:
        words = [w.lower() for w in user.displayName.split()]
        email = (getattr(user, "emailAddress", None) or "").lower()
        assert any(w.startswith(prefix.lower()) for w in words) or email.startswith(
            prefix.lower()
        ), user.raw
        assert user.active is True
    # What the client actually sent (Python bools, no username for a query search).
    sent = calls(control, mark, "GET", "/rest/api/2/user/search")
    assert len(sent) == 1, sent
    assert query_of(sent[0]) == {
        "query": [prefix],
        "includeActive": ["True"],
        "includeInactive": ["False"],
        "maxResults": ["50"],
    }


def test_search_users_by_email_is_exact(jira: JIRA, demo: DemoFacts) -> None:
    found = jira.search_users(query=demo.agent.email)
    assert [u.accountId for u in found] == [demo.agent.account_id]


def test_search_users_pages_do_not_overlap(jira: JIRA) -> None:
    first = jira.search_users(query="a", startAt=0, maxResults=5)
    second = jira.search_users(query="a", startAt=5, maxResults=5)
    assert len(first) == 5
    assert len(second) > 0
    assert not {u.accountId for u in first} & {u.accountId for u in second}


# --------------------------------------------------------------------------
# Groups
# --------------------------------------------------------------------------


def expected_member_entry(state, account_id: str) -> dict:
    acc = state.account(account_id)
    return {
        "name": None,
        "id": None,
        "accountId": acc.account_id,
        "fullname": acc.display_name,
        # The client writes "hidden" when emailAddress is absent (privacy).
        "email": acc.email if acc.email_visible and acc.email else "hidden",
        "active": acc.active,
        # It reads "timezone", but Jira sends "timeZone": always None.
        "timezone": None,
    }


def test_group_members_matches_state(jira: JIRA, demo: DemoFacts, control: Control) -> None:
    mark = control.log_mark()
    members = jira.group_members(AGENTS_GROUP)
    assert isinstance(members, OrderedDict)
    expected_ids = set(demo.state.group(AGENTS_GROUP).member_ids)
    # Cloud users have neither "id" nor "name", so the client keys by accountId.
    assert set(members) == expected_ids
    assert list(members) == sorted(members)
    for account_id, entry in members.items():
        assert entry == expected_member_entry(demo.state, account_id)
    if demo.agent_hidden_email is not None:
        assert members[demo.agent_hidden_email.account_id]["email"] == "hidden"
    # One page is enough below 50 members: the legacy endpoint, expand=users.
    sent = calls(control, mark, "GET", "/rest/api/2/group")
    assert [query_of(e) for e in sent] == [{"groupname": [AGENTS_GROUP], "expand": ["users"]}]


def _setup_session(auth: tuple[str, str]) -> requests.Session:
    session = requests.Session()
    session.auth = auth
    session.headers["Accept"] = "application/json"
    return session


def _setup_call(session: requests.Session, method: str, url: str, **kwargs) -> dict:
    """A set-up request outside the client under test; waits out a 429 if one comes."""
    for _ in range(5):
        resp = session.request(method, url, timeout=HTTP_TIMEOUT_S, **kwargs)
        if resp.status_code != 429:
            assert resp.status_code in (200, 201), f"{method} {url}: {resp.status_code} {resp.text[:300]}"
            return resp.json()
        time.sleep(int(resp.headers.get("Retry-After", "1")))
    raise AssertionError(f"{method} {url}: still rate limited")


def build_group(jira: JIRA, base_url: str, auth: tuple[str, str], size: int) -> tuple[str, set[str]]:
    """A new group of ``size`` new members; the demo groups are smaller than a page.

    The group is made by the client under test; the members are made and added
    through plain HTTP with the Cloud forms the client lacks.
    """
    name = unique("compat-big")
    assert jira.add_group(name) is True
    session = _setup_session(auth)
    tag = uuid.uuid4().hex[:8]
    created: set[str] = set()
    try:
        for i in range(size):
            user = _setup_call(
                session,
                "POST",
                base_url + "/rest/api/3/user",
                json={"emailAddress": f"pager-{tag}-{i:03d}@example.com", "products": []},
            )
            created.add(user["accountId"])
            _setup_call(
                session,
                "POST",
                base_url + "/rest/api/3/group/user",
                params={"groupname": name},
                json={"accountId": user["accountId"]},
            )
    finally:
        session.close()
    return name, created


def test_group_members_pages_past_fifty(
    jira: JIRA, base_url: str, admin_auth: tuple[str, str], fresh: Control
) -> None:
    name, created = build_group(jira, base_url, admin_auth, 57)
    mark = fresh.log_mark()
    members = jira.group_members(name)
    assert set(members) == created
    assert len(members) == 57
    state = fresh.state()
    for account_id, entry in members.items():
        assert entry == expected_member_entry(state, account_id)
    # The client had to page: expand=users first, then the legacy users[a:b] range.
    sent = [query_of(e) for e in calls(fresh, mark, "GET", "/rest/api/2/group")]
    assert sent == [
        {"groupname": [name], "expand": ["users"]},
        {"groupname": [name], "expand": ["users[50:99]"]},
    ]


def test_group_members_expand_range_is_inclusive(
    jira: JIRA, base_url: str, admin_auth: tuple[str, str], fresh: Control
) -> None:
    name, created = build_group(jira, base_url, admin_auth, 110)
    mark = fresh.log_mark()
    members = jira.group_members(name)
    # All members arrive either way: the client follows end-index.
    assert set(members) == created
    sent = [query_of(e)["expand"] for e in calls(fresh, mark, "GET", "/rest/api/2/group")]
    # users[50:99] holds 50 users (end-index 99), so the next range starts at 100.
    assert sent == [["users"], ["users[50:99]"], ["users[100:149]"]]


def test_group_members_unknown_group_raises_404(jira: JIRA) -> None:
    with pytest.raises(JIRAError) as excinfo:
        jira.group_members("no-such-group-" + uuid.uuid4().hex)
    assert excinfo.value.status_code == 404


def test_groups_picker(jira: JIRA, demo: DemoFacts, control: Control) -> None:
    all_names = sorted(g.name for g in demo.state.groups)
    mark = control.log_mark()
    assert jira.groups() == all_names
    sent = calls(control, mark, "GET", "/rest/api/2/groups/picker")
    assert [query_of(e) for e in sent] == [{"maxResults": ["9999"]}]

    assert jira.groups("jira") == sorted(n for n in all_names if "jira" in n.lower())
    assert jira.groups("JIRA-ADMIN") == ["jira-administrators"]
    assert jira.groups("jira", exclude="jira-administrators") == sorted(
        n for n in all_names if "jira" in n.lower() and n != "jira-administrators"
    )
    assert jira.groups("no-such-group-" + uuid.uuid4().hex) == []


def test_add_group(jira: JIRA, fresh: Control) -> None:
    name = unique("compat-pyc")
    mark = fresh.log_mark()
    assert jira.add_group(name) is True
    sent = calls(fresh, mark, "POST", "/rest/api/latest/group")
    assert [e["status"] for e in sent] == [201]
    # Second look through the client, and the control plane.
    assert jira.groups(name) == [name]
    assert jira.group_members(name) == OrderedDict()
    group = fresh.state().group(name)
    assert group.group_id and group.member_ids == ()


def test_add_group_twice_raises_400(jira: JIRA, fresh: Control) -> None:
    name = unique("compat-pyc-dup")
    jira.add_group(name)
    with pytest.raises(JIRAError) as excinfo:
        jira.add_group(name)
    assert excinfo.value.status_code == 400
    assert "already exists" in excinfo.value.text
    assert [g.name for g in fresh.state().groups].count(name) == 1


def test_remove_group(jira: JIRA, fresh: Control) -> None:
    name = unique("compat-pyc-del")
    jira.add_group(name)
    mark = fresh.log_mark()
    assert jira.remove_group(name) is True
    sent = calls(fresh, mark, "DELETE", "/rest/api/latest/group")
    assert len(sent) == 1 and sent[0]["status"] == 200, sent
    assert query_of(sent[0]) == {"groupname": [name]}
    assert jira.groups(name) == []
    with pytest.raises(JIRAError) as excinfo:
        jira.group_members(name)
    assert excinfo.value.status_code == 404
    with pytest.raises(KeyError):
        fresh.state().group(name)


def test_remove_unknown_group_raises_404(jira: JIRA) -> None:
    with pytest.raises(JIRAError) as excinfo:
        jira.remove_group("no-such-group-" + uuid.uuid4().hex)
    assert excinfo.value.status_code == 404


def test_server_form_membership_calls_are_refused_as_on_cloud(
    jira: JIRA, demo: DemoFacts, fresh: Control
) -> None:
    # add_user_to_group posts {"name": username}; remove_user_from_group sends
    # ?username=. Cloud documents 400 for a missing accountId (users report 404
    # "Specified user does not exist ..." for the name body) and answers
    # "The query parameter 'username' is not supported in GDPR strict mode."
    name = unique("compat-pyc-srv")
    jira.add_group(name)
    agent = demo.agent
    with pytest.raises(JIRAError) as excinfo:
        jira.add_user_to_group(agent.account_id, name)
    assert excinfo.value.status_code in (400, 404)
    assert fresh.state().group(name).member_ids == ()

    with pytest.raises(JIRAError) as excinfo:
        jira.remove_user_from_group(agent.account_id, AGENTS_GROUP)
    assert excinfo.value.status_code == 400
    assert "GDPR" in excinfo.value.text
    assert agent.account_id in fresh.state().group(AGENTS_GROUP).member_ids


# --------------------------------------------------------------------------
# Service management
# --------------------------------------------------------------------------


def test_service_desks(jira: JIRA, demo: DemoFacts, control: Control) -> None:
    mark = control.log_mark()
    desks = jira.service_desks()
    assert all(isinstance(d, ServiceDesk) for d in desks)
    assert sorted(d.id for d in desks) == sorted(d.desk_id for d in demo.state.desks)
    for desk in desks:
        known = demo.state.desk(desk.id)
        if known.project_key:
            assert desk.projectKey == known.project_key
        assert desk.projectName
        assert desk.raw["_links"]["self"].endswith(f"/rest/servicedeskapi/servicedesk/{desk.id}")
    sent = calls(control, mark, "GET", "/rest/servicedeskapi/servicedesk")
    assert len(sent) == 1 and sent[0]["status"] == 200 and sent[0]["query"] == "", sent


def test_create_customer(jira: JIRA, fresh: Control) -> None:
    email = f"{unique('pyc-cust')}@customers.example.com"
    mark = fresh.log_mark()
    customer = jira.create_customer(email, "Pycontribs Customer")
    assert isinstance(customer, Customer)
    assert customer.accountId
    assert customer.emailAddress == email
    assert customer.displayName == "Pycontribs Customer"
    assert customer.active is True
    sent = calls(fresh, mark, "POST", "/rest/servicedeskapi/customer")
    assert [e["status"] for e in sent] == [201]
    # Second look: a Jira user of type "customer", found by the client's own search.
    user = jira.user(customer.accountId)
    assert user.accountType == "customer"
    assert user.displayName == "Pycontribs Customer"
    assert [u.accountId for u in jira.search_users(query=email)] == [customer.accountId]
    account = fresh.state().account(customer.accountId)
    assert account.account_type == "customer" and account.email == email


def test_create_customer_duplicate_email_raises_400(jira: JIRA, fresh: Control) -> None:
    email = f"{unique('pyc-dup')}@customers.example.com"
    jira.create_customer(email, "First")
    with pytest.raises(JIRAError) as excinfo:
        jira.create_customer(email, "Second")
    assert excinfo.value.status_code == 400
    assert excinfo.value.text
    assert [a.email for a in fresh.state().customers()].count(email) == 1


# --------------------------------------------------------------------------
# Transport: 429 + Retry-After
# --------------------------------------------------------------------------


def test_429_with_retry_after_is_retried(
    jira: JIRA, demo: DemoFacts, fresh: Control, caplog: pytest.LogCaptureFixture
) -> None:
    # The rule names the v2 path the client calls.
    fresh.set_faults(
        [{"method": "GET", "path": "/rest/api/2/myself", "status": 429, "retryAfter": 1, "times": 1}]
    )
    mark = fresh.log_mark()
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="jira.resilientsession"):
        me = jira.myself()
    elapsed = time.monotonic() - started

    assert me["accountId"] == demo.admin_id
    assert me["emailAddress"] == ADMIN_EMAIL
    # It sleeps 2 * Retry-After * U(0.5, 1): never less than Retry-After.
    assert elapsed >= 0.95, elapsed
    assert [e["status"] for e in calls(fresh, mark, "GET", "/rest/api/2/myself")] == [429, 200]
    # It parsed the integer Retry-After (int() would raise on a date or a decimal).
    assert "retried after 1 seconds" in caplog.text

    # times=1: the rule is spent, the next call goes straight through.
    mark = fresh.log_mark()
    assert jira.myself()["accountId"] == demo.admin_id
    assert [e["status"] for e in calls(fresh, mark, "GET", "/rest/api/2/myself")] == [200]


def test_429_in_the_constructor_is_retried(
    base_url: str, admin_auth: tuple[str, str], fresh: Control
) -> None:
    fresh.set_faults(
        [{"method": "GET", "path": "/rest/api/2/serverInfo", "status": 429, "retryAfter": 1, "times": 1}]
    )
    mark = fresh.log_mark()
    client = JIRA(server=base_url, basic_auth=admin_auth)
    try:
        assert client.deploymentType == "Cloud"
        statuses = [e["status"] for e in calls(fresh, mark, "GET", "/rest/api/2/serverInfo")]
        assert statuses == [429, 200]
    finally:
        client.close()


def test_429_beyond_max_retries_raises(jira: JIRA, fresh: Control) -> None:
    # Default max_retries=3: the first try and three retries all get 429.
    fresh.set_faults(
        [{"method": "GET", "path": "/rest/api/2/myself", "status": 429, "retryAfter": 1, "times": 4}]
    )
    mark = fresh.log_mark()
    with pytest.raises(JIRAError) as excinfo:
        jira.myself()
    assert excinfo.value.status_code == 429
    assert excinfo.value.response.headers.get("Retry-After") == "1"
    assert [e["status"] for e in calls(fresh, mark, "GET", "/rest/api/2/myself")] == [429] * 4
