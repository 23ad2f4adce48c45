"""The Python MCP SDK (``mcp``, pinned) against ``jsmctl mcp`` over stdio and streamable HTTP.

On each transport: list the tools; call ``find_user``, ``explain_access`` and ``plan_offboard`` and validate
every ``structuredContent`` against the tool's ``outputSchema`` with ``jsonschema``; ``apply_plan`` of the plan
is refused because it needs a human approval; a human approves it with ``jsmctl approvals approve ID --as
human``; the same ``apply_plan`` then succeeds and the emulator's ``/_emulator/state`` shows the person gone
from the agents group. Then the same for ``plan_reconcile`` from the configured file source, which disables a
leaver (the state shows the account deactivated once a human approved), and ``seat_report`` and
``credential_status`` against the emulator's own seat holders and a registered API token whose secret never
appears.
"""

from __future__ import annotations

import asyncio
import json

import httpx2
import jsonschema
import pytest
import requests
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from conftest import ADMIN_EMAIL, AGENTS_GROUP
from mcp_site import MCP_TOOLS, SOURCE, McpHttp, McpSite

JSM = "jira-servicedesk"
CREDENTIAL = "ci-admin-token"

CALL_TIMEOUT_S = 60


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    try:
        s = McpSite.start(tmp_path_factory.mktemp("mcp"))
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    added = s.jsmctl(
        "credentials", "add", "--kind", "api-token", "--name", CREDENTIAL, "--owner", ADMIN_EMAIL,
        "--secret-env", "ATLASSIAN_API_TOKEN",
    )
    if added.returncode != 0:
        s.stop()
        pytest.fail(f"jsmctl credentials add failed: {added.stderr}", pytrace=False)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def http_server(site: McpSite):
    try:
        server = McpHttp(site)
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield server
    server.stop()


def validated(result, schemas: dict, tool: str) -> dict:
    """The structured content of a successful call, checked against the tool's output schema and its text."""
    assert not result.is_error, f"{tool}: {result}"
    assert result.structured_content is not None, f"{tool} returned no structured content"
    jsonschema.validate(result.structured_content, schemas[tool])
    text = [c.text for c in result.content if getattr(c, "type", None) == "text"]
    assert text and json.loads(text[0]) == result.structured_content, f"{tool}: the text is the same JSON"
    return result.structured_content


async def offboard_with_a_human_approval(session: ClientSession, site: McpSite, person) -> dict:
    await session.initialize()
    listed = (await session.list_tools()).tools
    names = [t.name for t in listed]
    assert names == MCP_TOOLS, names
    schemas = {t.name: t.output_schema for t in listed}
    assert all(schemas[n] for n in names), "every tool has an output schema"
    for t in listed:
        jsonschema.Draft202012Validator.check_schema(t.output_schema)
        jsonschema.Draft202012Validator.check_schema(t.input_schema)

    found = validated(await session.call_tool("find_user", {"query": person.email}), schemas, "find_user")
    assert [u["account_id"] for u in found["users"]] == [person.account_id]

    explained = validated(
        await session.call_tool("explain_access", {"who": person.email}), schemas, "explain_access"
    )
    assert AGENTS_GROUP in [g["name"] for g in explained["groups"] if g["grants_jsm"]], explained
    assert explained["seat"]["billable"] is True, explained["seat"]

    planned = validated(
        await session.call_tool("plan_offboard", {"who": person.email}), schemas, "plan_offboard"
    )
    assert planned["status"] == "awaiting_approval", planned
    plan_id = planned["plan"]["id"]
    assert planned["approval"]["approve_command"] == f"jsmctl approvals approve {plan_id}"
    assert planned["plan"]["requester"] == "mcp:ci-bot"
    assert planned["plan"]["requester_kind"] == "agent"

    refused = await session.call_tool("apply_plan", {"plan_id": plan_id})
    assert refused.is_error, refused
    error = refused.structured_content["error"]
    assert error["code"] == "awaiting_approval" and error["plan_id"] == plan_id, error
    assert AGENTS_GROUP in groups_of(site, person.account_id), "nothing changed before the approval"

    approved = site.jsmctl("approvals", "approve", plan_id, "--as", "human")
    assert approved.returncode == 0, approved.stderr

    applied = validated(await session.call_tool("apply_plan", {"plan_id": plan_id}), schemas, "apply_plan")
    assert applied["complete"] is True, applied
    assert applied["status"] == "applied", applied

    # The other read tools, each result against its schema too.
    shown = validated(await session.call_tool("show_plan", {"plan_id": plan_id}), schemas, "show_plan")
    assert shown["approvals"][0]["approver"] == "human" and shown["approvals"][0]["used"] is True, shown
    status = validated(await session.call_tool("plan_status", {"plan_id": plan_id}), schemas, "plan_status")
    assert status["status"] == "applied", status
    audit = validated(
        await session.call_tool("audit_search", {"plan_id": plan_id, "limit": 50}), schemas, "audit_search"
    )
    kinds = {r["kind"] for r in audit["records"]}
    assert {"plan", "approval", "write", "mcp_call"} <= kinds, kinds
    user = validated(await session.call_tool("get_user", {"account_id": person.account_id}), schemas, "get_user")
    assert AGENTS_GROUP not in user["groups"], user
    members = validated(
        await session.call_tool("list_group_members", {"group": AGENTS_GROUP, "limit": 5}),
        schemas,
        "list_group_members",
    )
    assert len(members["members"]) <= 5
    customers = validated(
        await session.call_tool("list_customers", {"service_desk": "HR", "limit": 3}), schemas, "list_customers"
    )
    assert customers["service_desk"]["key"] == "HR"
    await reconcile_with_a_human_approval(session, site, schemas, site.agents()[-1])
    await reports(session, site, schemas)
    return applied


async def reconcile_with_a_human_approval(session: ClientSession, site: McpSite, schemas: dict, leaver) -> None:
    """The source disables ``leaver``: the agent's plan waits for a human, then applies; a spec is refused."""
    site.disable_at_source(leaver, f"L-{leaver.account_id[-12:]}")
    planned = validated(await session.call_tool("plan_reconcile", {"source": SOURCE}), schemas, "plan_reconcile")
    assert planned["status"] == "awaiting_approval", planned
    assert planned["reconcile"]["source"] == SOURCE and planned["reconcile"]["complete"] is True, planned
    assert planned["plan"]["requester_kind"] == "agent"
    items = planned["plan"]["items"]
    assert any(i["action"] == "deactivate" and leaver.email in i["target"] for i in items), items
    assert all(i["needs_approval"] for i in items if i["sign"] == "-"), items
    plan_id = planned["plan"]["id"]

    refused = await session.call_tool("apply_plan", {"plan_id": plan_id})
    assert refused.is_error, refused
    error = refused.structured_content["error"]
    assert error["code"] == "awaiting_approval" and error["plan_id"] == plan_id, error
    assert f"jsmctl approvals approve {plan_id}" in error["message"], error
    assert account(site, leaver.account_id).active, "nothing changed before the approval"

    approved = site.jsmctl("approvals", "approve", plan_id, "--as", "human")
    assert approved.returncode == 0, approved.stderr
    applied = validated(await session.call_tool("apply_plan", {"plan_id": plan_id}), schemas, "apply_plan")
    assert applied["complete"] is True, applied
    assert not account(site, leaver.account_id).active, "the emulator shows the leaver deactivated"

    spec = await session.call_tool("plan_reconcile", {"source": f"file:{site.source_file}"})
    assert spec.is_error and spec.structured_content["error"]["argument"] == "source", spec


async def reports(session: ClientSession, site: McpSite, schemas: dict) -> None:
    """The seat report bills the emulator's agents; the credential check names the token, never its secret."""
    seats = validated(
        await session.call_tool("seat_report", {"products": [JSM], "limit": 500}), schemas, "seat_report"
    )
    jsm = seats["products"][0]
    assert jsm["key"] == JSM, seats
    billed = {a["account_id"] for a in seats["accounts"] if a["product"] == JSM and a["billable"]}
    assert jsm["billable"] == len(billed), seats
    agents = {a.account_id for a in site.state().agents()}
    assert agents and agents <= billed, (agents - billed, seats)

    result = await session.call_tool("credential_status", {"warn_days": 30})
    status = validated(result, schemas, "credential_status")
    entry = [c for c in status["credentials"] if c["name"] == CREDENTIAL]
    assert len(entry) == 1 and entry[0]["kind"] == "api-token" and entry[0]["owner"] == ADMIN_EMAIL, status
    assert entry[0]["state"] in {"ok", "expiring"}, entry
    secret = site.env["ATLASSIAN_API_TOKEN"]
    assert secret not in json.dumps(status) and all(secret not in c.text for c in result.content), "no secret"


def account(site: McpSite, account_id: str):
    return next(a for a in site.state().accounts if a.account_id == account_id)


def groups_of(site: McpSite, account_id: str) -> list[str]:
    state = site.state()
    return [g.name for g in state.groups if account_id in g.member_ids]


def test_python_sdk_over_stdio(site: McpSite):
    person = site.agents()[0]
    params = StdioServerParameters(command=str(site.binary), args=["mcp"], env=site.env)

    async def main():
        async with stdio_client(params) as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                return await asyncio.wait_for(
                    offboard_with_a_human_approval(session, site, person), CALL_TIMEOUT_S
                )

    applied = asyncio.run(main())
    assert applied["items"], applied
    assert AGENTS_GROUP not in groups_of(site, person.account_id), "the emulator shows the change"


def test_python_sdk_over_streamable_http(site: McpSite, http_server: McpHttp):
    person = site.agents()[1]

    async def main():
        headers = {"Authorization": f"Bearer {site.token}"}
        async with httpx2.AsyncClient(headers=headers, timeout=CALL_TIMEOUT_S) as http:
            async with streamable_http_client(http_server.url, http_client=http) as streams:
                async with ClientSession(streams[0], streams[1]) as session:
                    return await asyncio.wait_for(
                        offboard_with_a_human_approval(session, site, person), CALL_TIMEOUT_S
                    )

    asyncio.run(main())
    assert AGENTS_GROUP not in groups_of(site, person.account_id), "the emulator shows the change"
    audit = site.jsmctl("audit", "list", "--limit", "200", "--output", "json")
    assert audit.returncode == 0, audit.stderr
    assert "mcp:ci-bot" in audit.stdout and "mcp_call" in audit.stdout


def test_http_refuses_without_a_token_and_serves_its_metadata(site: McpSite, http_server: McpHttp):
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    accept = {"Accept": "application/json, text/event-stream"}
    bare = requests.post(http_server.url, json=body, headers=accept, timeout=15)
    assert bare.status_code == 401
    challenge = bare.headers["WWW-Authenticate"]
    metadata_url = http_server.base_url + "/.well-known/oauth-protected-resource/mcp"
    assert challenge.startswith("Bearer ") and f'resource_metadata="{metadata_url}"' in challenge
    reader = requests.post(
        http_server.url,
        json={"jsonrpc": "2.0", "id": 2, "method": "tools/call",
              "params": {"name": "apply_plan", "arguments": {"plan_id": "abcdef"}}},
        headers={**accept, "Authorization": f"Bearer {site.token}-reader"},
        timeout=15,
    )
    assert reader.status_code == 403
    assert 'scope="jsm:apply"' in reader.headers["WWW-Authenticate"]
    metadata = requests.get(metadata_url, timeout=15).json()
    assert metadata["resource"] == http_server.url
    assert "jsm:apply" in metadata["scopes_supported"]
    foreign = requests.post(
        http_server.url, json=body, headers={**accept, "Origin": "http://evil.example"}, timeout=15
    )
    assert foreign.status_code == 403
