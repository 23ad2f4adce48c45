"""The identity surfaces checked against Atlassian's OpenAPI files.

Every operation the emulator implements from ``admin-user-provisioning-scim.json``
(SCIM), ``admin-organization.json`` (organizations admin API) and
``admin-user-management.json`` (lifecycle) gets real HTTP requests; each answer must
have the status real Atlassian gives, a status the spec documents for that
operation, and a body that validates against the spec's schema for it (the same
validator as test_openapi_conformance.py).

Two documented defects of the SCIM spec file are corrected in memory before use:
``ScimMetadata.resourceType`` is an enum of ``USER``/``GROUP``/``DIRECTORY`` there,
but real responses (and RFC 7643) carry ``User`` and ``Group``; and the discovery
endpoints (``/Schemas``, ``/ResourceTypes``, ``/ServiceProviderConfig``) are typed
as a JSON string there, while they answer RFC 7643 objects.
SCIM answers may be ``application/scim+json``, which the spec documents next to
``application/json`` for every SCIM operation.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any, Callable

import pytest
import requests

from conftest import ADMIN_EMAIL, Control, DemoFacts
from openapi_check import OpenApiSpec
from test_openapi_conformance import spec_dir

DIRECTORY_ID = "d0d0d0d0-0000-4000-8000-000000000001"  # --directory-id default
SCIM_TOKEN = "scim-emulator-directory-key"  # --scim-token default
ORG_ID = "0a0a0a0a-0000-4000-8000-000000000001"  # --org-id default
ORG_KEY = "org-emulator-admin-key"  # --org-api-key default
SCIM = f"/scim/directory/{DIRECTORY_ID}"
FILES = {
    "scim": "admin-user-provisioning-scim.json",
    "org": "admin-organization.json",
    "users": "admin-user-management.json",
}
# Where each spec's paths start on the emulator (the spec servers' path part).
MOUNT = {"scim": "", "org": "/admin", "users": ""}
KEYS = {"scim": SCIM_TOKEN, "org": ORG_KEY, "users": ORG_KEY}


@pytest.fixture(scope="session")
def admin_specs() -> dict[str, OpenApiSpec]:
    directory = spec_dir()
    specs = {}
    for name, file in FILES.items():
        document = json.loads((directory / file).read_text(encoding="utf-8"))
        if name == "scim":
            meta = document["components"]["schemas"]["ScimMetadata"]["properties"]
            meta["resourceType"]["enum"] = ["User", "Group"]
            for path, ops in document["paths"].items():
                if any(d in path for d in ("/Schemas", "/ResourceTypes", "/ServiceProviderConfig")):
                    for media in ops["get"]["responses"]["200"].get("content", {}).values():
                        media["schema"] = {"type": "object"}
        specs[name] = OpenApiSpec(document, name)
    return specs


class Api:
    """Requests to the emulator with a surface's key, plus the demo facts the cases need."""

    def __init__(self, base_url: str, control: Control, demo: DemoFacts, admin_token: str):
        self.base_url = base_url
        self.control = control
        self.demo = demo
        self.admin_token = admin_token

    def call(self, api: str, method: str, path: str, body: Any = None, key: str | None = "default",
             params: dict | None = None) -> requests.Response:
        headers = {"Accept": "application/json"}
        token = KEYS[api] if key == "default" else key
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body)
        return requests.request(method, self.base_url + MOUNT[api] + path, headers=headers,
                                data=data, params=params, timeout=15)

    def scim_user(self) -> dict:
        email = f"conf-{uuid.uuid4().hex[:10]}@idp.example"
        resp = self.call("scim", "POST", f"{SCIM}/Users", {
            "userName": email, "emails": [{"value": email, "primary": True}], "displayName": "Conf",
        })
        assert resp.status_code == 201, resp.text
        return resp.json()

    def scim_group(self, members: list[str] | None = None) -> dict:
        resp = self.call("scim", "POST", f"{SCIM}/Groups", {
            "displayName": f"conf-{uuid.uuid4().hex[:10]}",
            "members": [{"value": m} for m in members or []],
        })
        assert resp.status_code == 201, resp.text
        return resp.json()

    def dir_group(self) -> str:
        resp = self.call("org", "POST", f"/v1/orgs/{ORG_ID}/directory/groups",
                         {"name": f"dir-{uuid.uuid4().hex[:10]}"})
        assert resp.status_code == 200, resp.text
        return resp.json()["groupId"]

    def jira_group_id(self, name: str) -> str:
        resp = requests.get(self.base_url + "/rest/api/3/group", params={"groupname": name},
                            auth=(ADMIN_EMAIL, self.admin_token), timeout=15)
        assert resp.status_code == 200, resp.text
        return resp.json()["groupId"]


@dataclass
class Case:
    api: str
    method: str
    template: str
    status: int
    label: str
    run: Callable[[Api], requests.Response]

    @property
    def id(self) -> str:
        return f"{self.api}:{self.method}:{self.template}:{self.status}:{self.label}"


def patch_body(ops: list[dict]) -> dict:
    return {"Operations": ops}


U, G = f"{SCIM}/Users", f"{SCIM}/Groups"
ST, UT = "/scim/directory/{directoryId}/Users", "/scim/directory/{directoryId}/Users/{userId}"
GT, GIT = "/scim/directory/{directoryId}/Groups", "/scim/directory/{directoryId}/Groups/{id}"
O = f"/v1/orgs/{ORG_ID}"
OD = "/v1/orgs/{orgId}/directory"
MISSING = "5b10ac8d82e05b22cc7d4eff"

CASES = [
    # ---------------- SCIM users ----------------
    Case("scim", "GET", ST, 200, "list", lambda a: a.call("scim", "GET", U, params={"count": "5"})),
    Case("scim", "GET", ST, 200, "filter", lambda a: a.call(
        "scim", "GET", U, params={"filter": f'userName eq "{a.demo.agent.email}"'})),
    Case("scim", "GET", ST, 400, "bad-filter", lambda a: a.call(
        "scim", "GET", U, params={"filter": 'title eq "x"'})),
    Case("scim", "GET", ST, 401, "no-key", lambda a: a.call("scim", "GET", U, key=None)),
    Case("scim", "GET", ST, 403, "org-key", lambda a: a.call("scim", "GET", U, key=ORG_KEY)),
    Case("scim", "GET", ST, 404, "other-directory", lambda a: a.call(
        "scim", "GET", "/scim/directory/nope/Users")),
    Case("scim", "POST", ST, 201, "create", lambda a: a.call("scim", "POST", U, {
        "userName": "n@idp.example", "emails": [{"value": "n@idp.example", "primary": True}]})),
    Case("scim", "POST", ST, 409, "duplicate", lambda a: a.call("scim", "POST", U, {
        "userName": a.demo.agent.email, "emails": [{"value": a.demo.agent.email, "primary": True}]})),
    Case("scim", "POST", ST, 400, "no-email", lambda a: a.call("scim", "POST", U, {"userName": "x"})),
    Case("scim", "GET", UT, 200, "get", lambda a: a.call("scim", "GET", f"{U}/{a.scim_user()['id']}")),
    Case("scim", "GET", UT, 404, "unknown", lambda a: a.call("scim", "GET", f"{U}/{uuid.uuid4()}")),
    Case("scim", "PUT", UT, 200, "replace", lambda a: a.call("scim", "PUT", f"{U}/{a.scim_user()['id']}", {
        "userName": "r@idp.example", "emails": [{"value": "r@idp.example", "primary": True}]})),
    Case("scim", "PUT", UT, 400, "no-user-name", lambda a: a.call(
        "scim", "PUT", f"{U}/{a.scim_user()['id']}", {"emails": [{"value": "r@idp.example"}]})),
    Case("scim", "PUT", UT, 404, "unknown", lambda a: a.call("scim", "PUT", f"{U}/{uuid.uuid4()}", {
        "userName": "r@idp.example", "emails": [{"value": "r@idp.example", "primary": True}]})),
    Case("scim", "PATCH", UT, 200, "deactivate", lambda a: a.call(
        "scim", "PATCH", f"{U}/{a.scim_user()['id']}",
        patch_body([{"op": "replace", "path": "active", "value": False}]))),
    Case("scim", "PATCH", UT, 400, "bad-op", lambda a: a.call(
        "scim", "PATCH", f"{U}/{a.scim_user()['id']}", patch_body([{"op": "move", "path": "title"}]))),
    Case("scim", "PATCH", UT, 404, "unknown", lambda a: a.call(
        "scim", "PATCH", f"{U}/{uuid.uuid4()}", patch_body([{"op": "remove", "path": "title"}]))),
    Case("scim", "DELETE", UT, 204, "deactivate", lambda a: a.call(
        "scim", "DELETE", f"{U}/{a.scim_user()['id']}")),
    Case("scim", "DELETE", UT, 404, "unknown", lambda a: a.call("scim", "DELETE", f"{U}/{uuid.uuid4()}")),
    # ---------------- SCIM groups ----------------
    Case("scim", "GET", GT, 200, "list", lambda a: a.call("scim", "GET", G)),
    Case("scim", "GET", GT, 200, "filter", lambda a: a.call(
        "scim", "GET", G, params={"filter": 'displayName eq "it-support"'})),
    Case("scim", "GET", GT, 400, "bad-filter", lambda a: a.call(
        "scim", "GET", G, params={"filter": 'id eq "x"'})),
    Case("scim", "POST", GT, 201, "create", lambda a: a.call("scim", "POST", G, {
        "displayName": "conf-new", "members": [{"value": a.scim_user()["id"]}]})),
    Case("scim", "POST", GT, 409, "duplicate", lambda a: a.call("scim", "POST", G, {"displayName": "it-support"})),
    Case("scim", "GET", GIT, 200, "get", lambda a: a.call("scim", "GET", f"{G}/{a.scim_group()['id']}")),
    Case("scim", "GET", GIT, 404, "unknown", lambda a: a.call("scim", "GET", f"{G}/{uuid.uuid4()}")),
    Case("scim", "PUT", GIT, 200, "replace", lambda a: (lambda g: a.call("scim", "PUT", f"{G}/{g['id']}", {
        "displayName": g["displayName"], "members": [{"value": a.scim_user()["id"]}]}))(a.scim_group())),
    Case("scim", "PUT", GIT, 400, "unknown-member", lambda a: (lambda g: a.call("scim", "PUT", f"{G}/{g['id']}", {
        "displayName": g["displayName"], "members": [{"value": "nope"}]}))(a.scim_group())),
    Case("scim", "PATCH", GIT, 200, "add-member", lambda a: a.call(
        "scim", "PATCH", f"{G}/{a.scim_group()['id']}",
        patch_body([{"op": "add", "path": "members", "value": [{"value": a.scim_user()["id"]}]}]))),
    Case("scim", "PATCH", GIT, 404, "unknown-member", lambda a: a.call(
        "scim", "PATCH", f"{G}/{a.scim_group()['id']}",
        patch_body([{"op": "add", "path": "members", "value": [{"value": "nope"}]}]))),
    Case("scim", "DELETE", GIT, 204, "delete", lambda a: a.call("scim", "DELETE", f"{G}/{a.scim_group()['id']}")),
    Case("scim", "DELETE", GIT, 404, "unknown", lambda a: a.call("scim", "DELETE", f"{G}/{uuid.uuid4()}")),
    # ---------------- SCIM discovery ----------------
    *[
        Case("scim", "GET", f"/scim/directory/{{directoryId}}{p}", 200, "get",
             (lambda p: lambda a: a.call("scim", "GET", f"{SCIM}{p}"))(p))
        for p in [
            "/ServiceProviderConfig", "/ResourceTypes", "/ResourceTypes/User", "/ResourceTypes/Group", "/Schemas",
            "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
            "/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group",
            "/Schemas/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        ]
    ],
    # ---------------- Organizations ----------------
    Case("org", "GET", "/v1/orgs", 200, "list", lambda a: a.call("org", "GET", "/v1/orgs")),
    Case("org", "GET", "/v1/orgs", 401, "no-key", lambda a: a.call("org", "GET", "/v1/orgs", key=None)),
    Case("org", "GET", "/v1/orgs/{orgId}", 200, "get", lambda a: a.call("org", "GET", O)),
    Case("org", "GET", "/v1/orgs/{orgId}", 404, "unknown", lambda a: a.call("org", "GET", "/v1/orgs/nope")),
    Case("org", "GET", "/v1/orgs/{orgId}/users", 200, "list", lambda a: a.call("org", "GET", f"{O}/users")),
    Case("org", "GET", "/v1/orgs/{orgId}/users", 400, "bad-cursor", lambda a: a.call(
        "org", "GET", f"{O}/users", params={"cursor": "!!"})),
    Case("org", "GET", "/v1/orgs/{orgId}/users", 401, "bad-key", lambda a: a.call(
        "org", "GET", f"{O}/users", key="wrong")),
    Case("org", "GET", "/v1/orgs/{orgId}/users", 404, "unknown-org", lambda a: a.call(
        "org", "GET", "/v1/orgs/nope/users")),
    Case("org", "POST", f"{OD}/users/{{accountId}}/suspend-access", 200, "suspend", lambda a: a.call(
        "org", "POST", f"{O}/directory/users/{a.demo.agent.account_id}/suspend-access")),
    Case("org", "POST", f"{OD}/users/{{accountId}}/suspend-access", 403, "other-org", lambda a: a.call(
        "org", "POST", f"/v1/orgs/nope/directory/users/{a.demo.agent.account_id}/suspend-access")),
    Case("org", "POST", f"{OD}/users/{{accountId}}/suspend-access", 404, "unknown", lambda a: a.call(
        "org", "POST", f"{O}/directory/users/{MISSING}/suspend-access")),
    Case("org", "POST", f"{OD}/users/{{accountId}}/restore-access", 200, "restore", lambda a: a.call(
        "org", "POST", f"{O}/directory/users/{a.demo.agent.account_id}/restore-access")),
    Case("org", "POST", f"{OD}/users/{{accountId}}/restore-access", 404, "unknown", lambda a: a.call(
        "org", "POST", f"{O}/directory/users/{MISSING}/restore-access")),
    Case("org", "DELETE", f"{OD}/users/{{accountId}}", 204, "remove", lambda a: a.call(
        "org", "DELETE", f"{O}/directory/users/{a.demo.other_agent.account_id}")),
    Case("org", "DELETE", f"{OD}/users/{{accountId}}", 400, "unknown", lambda a: a.call(
        "org", "DELETE", f"{O}/directory/users/{MISSING}")),
    Case("org", "GET", f"{OD}/users/{{accountId}}/last-active-dates", 200, "agent", lambda a: a.call(
        "org", "GET", f"{O}/directory/users/{a.demo.agent.account_id}/last-active-dates")),
    Case("org", "GET", f"{OD}/users/{{accountId}}/last-active-dates", 404, "unknown", lambda a: a.call(
        "org", "GET", f"{O}/directory/users/{MISSING}/last-active-dates")),
    Case("org", "POST", f"{OD}/groups", 200, "create", lambda a: a.call(
        "org", "POST", f"{O}/directory/groups", {"name": "dir-new", "description": "d"})),
    Case("org", "POST", f"{OD}/groups", 400, "no-name", lambda a: a.call("org", "POST", f"{O}/directory/groups", {})),
    Case("org", "DELETE", f"{OD}/groups/{{groupId}}", 200, "delete", lambda a: a.call(
        "org", "DELETE", f"{O}/directory/groups/{a.dir_group()}")),
    Case("org", "DELETE", f"{OD}/groups/{{groupId}}", 404, "unknown", lambda a: a.call(
        "org", "DELETE", f"{O}/directory/groups/{uuid.uuid4()}")),
    Case("org", "POST", f"{OD}/groups/{{groupId}}/memberships", 200, "add", lambda a: a.call(
        "org", "POST", f"{O}/directory/groups/{a.dir_group()}/memberships", {"account_id": a.demo.agent.account_id})),
    Case("org", "POST", f"{OD}/groups/{{groupId}}/memberships", 403, "scim-synced", lambda a: a.call(
        "org", "POST", f"{O}/directory/groups/{a.jira_group_id('it-support')}/memberships",
        {"account_id": a.demo.agent.account_id})),
    Case("org", "POST", f"{OD}/groups/{{groupId}}/memberships", 404, "unknown-user", lambda a: a.call(
        "org", "POST", f"{O}/directory/groups/{a.dir_group()}/memberships", {"account_id": MISSING})),
    Case("org", "DELETE", f"{OD}/groups/{{groupId}}/memberships/{{accountId}}", 200, "remove", lambda a: a.call(
        "org", "DELETE", f"{O}/directory/groups/{a.dir_group()}/memberships/{a.demo.agent.account_id}")),
    Case("org", "DELETE", f"{OD}/groups/{{groupId}}/memberships/{{accountId}}", 404, "unknown-group",
         lambda a: a.call("org", "DELETE", f"{O}/directory/groups/{uuid.uuid4()}/memberships/{MISSING}")),
    # ---------------- User management ----------------
    Case("users", "POST", "/users/{account_id}/manage/lifecycle/disable", 204, "disable", lambda a: a.call(
        "users", "POST", f"/users/{a.demo.agent.account_id}/manage/lifecycle/disable", {"message": "bye"})),
    Case("users", "POST", "/users/{account_id}/manage/lifecycle/disable", 401, "no-key", lambda a: a.call(
        "users", "POST", f"/users/{a.demo.agent.account_id}/manage/lifecycle/disable", {}, key=None)),
    Case("users", "POST", "/users/{account_id}/manage/lifecycle/disable", 403, "customer", lambda a: a.call(
        "users", "POST", f"/users/{a.demo.customer.account_id}/manage/lifecycle/disable", {})),
    Case("users", "POST", "/users/{account_id}/manage/lifecycle/disable", 404, "unknown", lambda a: a.call(
        "users", "POST", f"/users/{MISSING}/manage/lifecycle/disable", {})),
    Case("users", "POST", "/users/{account_id}/manage/lifecycle/enable", 204, "enable", lambda a: a.call(
        "users", "POST", f"/users/{a.demo.agent.account_id}/manage/lifecycle/enable")),
    Case("users", "POST", "/users/{account_id}/manage/lifecycle/enable", 404, "unknown", lambda a: a.call(
        "users", "POST", f"/users/{MISSING}/manage/lifecycle/enable")),
    Case("users", "GET", "/users/{account_id}/manage/api-tokens", 200, "list", lambda a: a.call(
        "users", "GET", f"/users/{a.demo.agent.account_id}/manage/api-tokens")),
    Case("users", "GET", "/users/{account_id}/manage/api-tokens", 403, "customer", lambda a: a.call(
        "users", "GET", f"/users/{a.demo.customer.account_id}/manage/api-tokens")),
    Case("users", "GET", "/users/{account_id}/manage/api-tokens", 404, "unknown", lambda a: a.call(
        "users", "GET", f"/users/{MISSING}/manage/api-tokens")),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_identity_response_conforms(case: Case, admin_specs, base_url, control, demo, admin_token) -> None:
    spec = admin_specs[case.api]
    assert spec.operation(case.template, case.method), f"{case.method} {case.template} not in {case.api}"
    control.reset("demo")
    try:
        resp = case.run(Api(base_url, control, demo, admin_token))
    finally:
        control.reset("demo")
    body = resp.json() if resp.content.strip() else None
    shown = resp.text[:500]
    assert resp.status_code == case.status, f"{case.id}: got {resp.status_code}: {shown}"
    ctype = resp.headers.get("Content-Type", "").lower()
    problems = []
    if body is not None and not (ctype.startswith("application/json") or ctype.startswith("application/scim+json")):
        problems.append(f"JSON body sent with Content-Type {ctype!r}")
    if resp.status_code == 204 and resp.content.strip():
        problems.append("204 carries a body")
    problems += spec.check_response(case.template, case.method, resp.status_code, body,
                                    has_body=bool(resp.content.strip()))
    assert not problems, f"{case.id} does not conform:\n  " + "\n  ".join(problems) + f"\nbody: {shown}"


IMPLEMENTED = {(c.api, c.method, c.template) for c in CASES}


def test_every_implemented_identity_operation_has_a_success_case(admin_specs) -> None:
    succeeded = {(c.api, c.method, c.template) for c in CASES if c.status < 300}
    assert IMPLEMENTED == succeeded, IMPLEMENTED - succeeded
    scim_ops = {(m.upper(), p) for p, ops in admin_specs["scim"].paths.items() for m in ops
                if m in ("get", "post", "put", "patch", "delete")}
    assert {(m, t) for api, m, t in IMPLEMENTED if api == "scim"} == scim_ops, "every SCIM operation is served"


def test_validator_rejects_wrong_identity_shapes(admin_specs) -> None:
    scim, org = admin_specs["scim"], admin_specs["org"]
    numeric_status = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": 409}
    assert scim.check_response("/scim/directory/{directoryId}/Users", "POST", 409, numeric_status, has_body=True)
    assert org.check_response("/v1/orgs/{orgId}/users", "GET", 200, {"data": [{"account_id": 1}]}, has_body=True)
