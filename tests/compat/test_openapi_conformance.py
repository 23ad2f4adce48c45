"""Every operation the emulator implements, checked against Atlassian's OpenAPI.

For each case below a real HTTP request goes to the emulator; the test then
checks, in this order:

1. the status is the one real Atlassian returns for that situation;
2. the status is documented for that operation in the official spec (a status
   the spec does not list fails, except the explicit allowances below);
3. the body validates against the response schema of (path, method, status),
   with ``$ref``s resolved against ``components/schemas``;
4. a JSON body comes with a JSON Content-Type, and a 204 comes with no body.

Explicit allowances (statuses the spec omits for an operation):
* 401 on any operation that needs authentication: Atlassian documents it as a
  generic status ("Status codes" narrative of both specs); the body must still
  be an ErrorCollection (Jira) or ErrorResponse (JSM).
* 429 on any operation, for the same reason (rate limits apply to every
  endpoint); the cases inject one with a fault rule and check its body.
* 412 on JSM operations marked ``x-experimental`` when ``X-ExperimentalApi:
  opt-in`` is missing: the JSM spec's narrative documents exactly that.

Jira operations in this spec do not attach a schema to their error responses;
Atlassian documents ErrorCollection as the error body of the whole platform
API, so Jira 4xx bodies are validated against ``ErrorCollection``.

Each operation+status (+ a short variant label) is its own test id, e.g.
``jira:GET:/user:404:unknown-account``.

A case with ``known_bug`` documents an emulator deviation found by this suite:
it runs as a strict xfail (CI stays green; once the emulator is fixed the
XPASS fails, and the marker must go).
"""

from __future__ import annotations

import copy
import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest
import requests

from conftest import (
    ADMIN_EMAIL,
    AGENTS_GROUP,
    JIRA_ADMINS_GROUP,
    REPO_ROOT,
    Control,
    DemoFacts,
)
from openapi_check import OpenApiSpec

JIRA_PREFIX = "/rest/api/3"
JSM_PREFIX = "/rest/servicedeskapi"
SPEC_FILES = {"jira": "jira-platform.v3.json", "jsm": "jira-service-management.v3.json"}
ERROR_COMPONENT = {"jira": "ErrorCollection", "jsm": "ErrorResponse"}
GENERIC_UNDOCUMENTED = {401, 429}

MISSING_ACCOUNT = "5b10ac8d82e05b22cc7d4eff"
MISSING_ID = "987654321"

# The operations the emulator implements (the contract), relative to the prefix.
IMPLEMENTED: list[tuple[str, str, str]] = [
    ("jira", "GET", "/user"),
    ("jira", "POST", "/user"),
    ("jira", "DELETE", "/user"),
    ("jira", "GET", "/user/groups"),
    ("jira", "GET", "/myself"),
    ("jira", "GET", "/serverInfo"),
    ("jira", "GET", "/user/search"),
    ("jira", "GET", "/users/search"),
    ("jira", "GET", "/users"),
    ("jira", "GET", "/user/bulk"),
    ("jira", "POST", "/group"),
    ("jira", "DELETE", "/group"),
    ("jira", "GET", "/group"),
    ("jira", "GET", "/group/bulk"),
    ("jira", "GET", "/group/member"),
    ("jira", "POST", "/group/user"),
    ("jira", "DELETE", "/group/user"),
    ("jira", "GET", "/groups/picker"),
    ("jira", "GET", "/applicationrole"),
    ("jira", "GET", "/applicationrole/{key}"),
    ("jsm", "POST", "/customer"),
    ("jsm", "GET", "/servicedesk"),
    ("jsm", "GET", "/servicedesk/{serviceDeskId}"),
    ("jsm", "GET", "/info"),
    ("jsm", "GET", "/servicedesk/{serviceDeskId}/customer"),
    ("jsm", "POST", "/servicedesk/{serviceDeskId}/customer"),
    ("jsm", "DELETE", "/servicedesk/{serviceDeskId}/customer"),
    ("jsm", "GET", "/organization"),
    ("jsm", "POST", "/organization"),
    ("jsm", "GET", "/organization/{organizationId}"),
    ("jsm", "DELETE", "/organization/{organizationId}"),
    ("jsm", "GET", "/organization/{organizationId}/user"),
    ("jsm", "POST", "/organization/{organizationId}/user"),
    ("jsm", "DELETE", "/organization/{organizationId}/user"),
    ("jsm", "GET", "/servicedesk/{serviceDeskId}/organization"),
    ("jsm", "POST", "/servicedesk/{serviceDeskId}/organization"),
    ("jsm", "DELETE", "/servicedesk/{serviceDeskId}/organization"),
    ("jira", "POST", "/webhook"),
    ("jira", "GET", "/webhook"),
    ("jira", "DELETE", "/webhook"),
    ("jira", "PUT", "/webhook/refresh"),
]


# --------------------------------------------------------------------------
# Spec loading
# --------------------------------------------------------------------------


def spec_dir() -> Path:
    """Where the official OpenAPI files are: $JSM_OPENAPI_DIR, else shared/ beside the repo."""
    candidates = []
    if os.environ.get("JSM_OPENAPI_DIR"):
        candidates.append(Path(os.environ["JSM_OPENAPI_DIR"]))
    candidates += [
        REPO_ROOT.parent / "shared" / "reference" / "openapi",
        Path("/work/shared/reference/openapi"),
    ]
    for candidate in candidates:
        if all((candidate / f).is_file() for f in SPEC_FILES.values()):
            return candidate
    raise FileNotFoundError(
        "official OpenAPI files not found; looked in "
        + ", ".join(str(c) for c in candidates)
        + " (set JSM_OPENAPI_DIR)"
    )


# Fields that every real Atlassian response carries and that real clients read
# without a fallback (pycontribs' User() needs "self"; paging loops need the
# paging fields).  The official schemas mark none of them as required, so a
# response that dropped one would validate; these make the check catch it.
# emailAddress, timeZone and locale stay optional: privacy can hide them.
TIGHTEN = {
    "jira": {
        "User": ["self", "accountId", "accountType", "displayName", "active"],
        "UserDetails": ["self", "accountId", "accountType", "displayName", "active"],
        "GroupName": ["name", "groupId"],
        "Group": ["name", "groupId", "self"],
        "GroupDetails": ["name", "groupId"],
        "FoundGroups": ["groups", "total", "header"],
        "FoundGroup": ["name", "groupId"],
        "PageBeanUser": ["startAt", "maxResults", "isLast", "values"],
        "PageBeanUserDetails": ["startAt", "maxResults", "isLast", "values"],
        "PageBeanGroupDetails": ["startAt", "maxResults", "isLast", "values"],
        "ApplicationRole": ["key", "name"],
        "ServerInformation": ["baseUrl", "version", "versionNumbers", "deploymentType"],
        "ErrorCollection": ["errorMessages", "errors"],
    },
    "jsm": {
        "UserDTO": ["accountId", "displayName", "active", "_links"],
        "OrganizationDTO": ["id", "name", "_links"],
        "ServiceDeskDTO": ["id", "projectId", "projectName", "projectKey", "_links"],
        "PagedDTOUserDTO": ["size", "start", "limit", "isLastPage", "values", "_links"],
        "PagedDTOOrganizationDTO": ["size", "start", "limit", "isLastPage", "values", "_links"],
        "PagedDTOServiceDeskDTO": ["size", "start", "limit", "isLastPage", "values", "_links"],
        "ErrorResponse": ["errorMessage"],
    },
}


@pytest.fixture(scope="session")
def specs() -> dict[str, OpenApiSpec]:
    error = directory = None
    try:
        directory = spec_dir()
    except FileNotFoundError as exc:
        error = str(exc)
    if error is not None:
        pytest.fail(error, pytrace=False)
    return {
        api: OpenApiSpec.load(directory / name, api, TIGHTEN[api]) for api, name in SPEC_FILES.items()
    }


# --------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------

Ctx = dict[str, Any]
Value = Any  # static value, or callable(ctx) -> value


@dataclass
class Case:
    api: str  # "jira" | "jsm"
    method: str
    template: str  # spec path, relative to the API prefix
    status: int  # what real Atlassian answers in this situation
    label: str
    path: str | None = None  # concrete path with {ctx} placeholders (default: template)
    params: Value = None  # dict or list of pairs; strings are formatted with ctx
    body: Value = None
    auth: str = "admin"  # admin | agent | none | bad | app (OAuth 3LO app through the gateway)
    experimental_header: bool = True  # JSM only: send X-ExperimentalApi: opt-in
    setup: Callable[["Http", Ctx], None] | None = None  # may add keys to ctx
    mutates: bool = False
    # Optional semantic check on the parsed body: returns True when it holds.
    check: Callable[[Any, Ctx], bool] | None = None
    # A known emulator deviation: the case runs as a strict xfail, so CI stays
    # green until the emulator is fixed, and then XPASS fails to force removal.
    known_bug: str | None = None
    # A fault rule (PUT /_emulator/faults) installed just before the request.
    fault: dict | None = None

    @property
    def id(self) -> str:
        return f"{self.api}:{self.method}:{self.template}:{self.status}:{self.label}"

    @property
    def full_template(self) -> str:
        return (JIRA_PREFIX if self.api == "jira" else JSM_PREFIX) + self.template


def _fmt(value: Any, ctx: Ctx) -> Any:
    if callable(value):
        return value(ctx)
    if isinstance(value, str):
        return value.format(**ctx)
    if isinstance(value, dict):
        return {k: _fmt(v, ctx) for k, v in value.items()}
    if isinstance(value, list):
        return [_fmt(v, ctx) for v in value]
    if isinstance(value, tuple):
        return tuple(_fmt(v, ctx) for v in value)
    return value


class Http:
    """Minimal HTTP helper for setups and cases (no client library in between)."""

    def __init__(self, base_url: str, auth: tuple[str, str] | None):
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers["Accept"] = "application/json"
        if auth:
            self.session.auth = auth

    def call(self, api, method, path, *, params=None, body=None, headers=None):
        prefix = JIRA_PREFIX if api == "jira" else JSM_PREFIX
        hdrs = dict(headers or {})
        kwargs: dict[str, Any] = {"params": params, "headers": hdrs, "timeout": 15}
        if body is not None:
            hdrs["Content-Type"] = "application/json"
            kwargs["data"] = json.dumps(body)
        return self.session.request(method, self.base_url + prefix + path, **kwargs)

    def ok(self, api, method, path, **kw) -> Any:
        resp = self.call(api, method, path, headers={"X-ExperimentalApi": "opt-in"}, **kw)
        assert resp.status_code < 300, f"setup {method} {path}: {resp.status_code} {resp.text[:300]}"
        return resp.json() if resp.content else None


# ---- setups (run as admin, after a reset) ----


def new_group(http: Http, ctx: Ctx) -> None:
    name = f"conf-{ctx['unique']}"
    http.ok("jira", "POST", "/group", body={"name": name})
    ctx["new_group"] = name


def new_group_with_agent(http: Http, ctx: Ctx) -> None:
    new_group(http, ctx)
    http.ok("jira", "POST", "/group/user", params={"groupname": ctx["new_group"]},
            body={"accountId": ctx["agent_id"]})


def new_org(http: Http, ctx: Ctx) -> None:
    org = http.ok("jsm", "POST", "/organization", body={"name": f"Conf Org {ctx['unique']}"})
    ctx["new_org"] = org["id"]


def new_org_with_customer(http: Http, ctx: Ctx) -> None:
    new_org(http, ctx)
    http.ok("jsm", "POST", f"/organization/{ctx['new_org']}/user",
            body={"accountIds": [ctx["customer_id"]]})


def new_org_on_closed_desk(http: Http, ctx: Ctx) -> None:
    new_org(http, ctx)
    http.ok("jsm", "POST", f"/servicedesk/{ctx['closed_desk']}/organization",
            body={"organizationId": int(ctx["new_org"])})


def customer_on_closed_desk(http: Http, ctx: Ctx) -> None:
    http.ok("jsm", "POST", f"/servicedesk/{ctx['closed_desk']}/customer",
            body={"accountIds": [ctx["customer_id"]]})


def existing_customer_email(http: Http, ctx: Ctx) -> None:
    email = f"dup-{ctx['unique']}@customers.example.com"
    http.ok("jsm", "POST", "/customer", body={"displayName": "Dup", "email": email})
    ctx["dup_email"] = email


# ---- OAuth 2.0 (3LO) app: app webhooks are for apps only, called through the gateway ----

# The emulator's default --oauth-client (the suite starts it without OAuth flags).
APP_CLIENT = ("jsmctl-emulator-app", "jsmctl-emulator-secret")
APP_SCOPES = "read:jira-work manage:jira-webhook"
APP_REDIRECT = "http://127.0.0.1:9/callback"
HOOK_URL = "http://127.0.0.1:9/app-hook"


class AppAuth(requests.auth.AuthBase):
    """Bearer access token of the 3LO app; moves each request onto the gateway /ex/jira/{cloudId}."""

    def __init__(self, base_url: str, token: str, cloud_id: str):
        self.base_url, self.token, self.cloud_id = base_url, token, cloud_id

    def __call__(self, r):
        r.headers["Authorization"] = f"Bearer {self.token}"
        if r.url.startswith(self.base_url + "/rest/"):
            r.url = f"{self.base_url}/ex/jira/{self.cloud_id}{r.url[len(self.base_url):]}"
        return r


def app_auth(base_url: str) -> AppAuth:
    """Consent at /authorize, exchange the code, find the cloud id: the whole 3LO flow over HTTP."""
    consent = requests.get(
        base_url + "/authorize",
        params={"client_id": APP_CLIENT[0], "scope": APP_SCOPES, "redirect_uri": APP_REDIRECT,
                "response_type": "code", "state": "compat", "audience": "api.atlassian.com"},
        allow_redirects=False, timeout=15,
    )
    assert consent.status_code == 302, consent.text[:300]
    code = dict(
        pair.split("=", 1) for pair in consent.headers["Location"].split("?", 1)[1].split("&")
    )["code"]
    tokens = requests.post(
        base_url + "/oauth/token",
        json={"grant_type": "authorization_code", "client_id": APP_CLIENT[0],
              "client_secret": APP_CLIENT[1], "code": code, "redirect_uri": APP_REDIRECT},
        timeout=15,
    )
    assert tokens.status_code == 200, tokens.text[:300]
    token = tokens.json()["access_token"]
    sites = requests.get(base_url + "/oauth/token/accessible-resources",
                         headers={"Authorization": f"Bearer {token}"}, timeout=15)
    assert sites.status_code == 200, sites.text[:300]
    return AppAuth(base_url, token, sites.json()[0]["id"])


def app_webhook(http: Http, ctx: Ctx) -> None:
    """Registers one app webhook (as the app, not as the admin whose session `http` carries)."""
    resp = requests.post(
        http.base_url + JIRA_PREFIX + "/webhook",
        json={"url": HOOK_URL, "webhooks": [{"events": ["jira:issue_created"], "jqlFilter": "project = PROJ"}]},
        auth=app_auth(http.base_url), timeout=15,
    )
    assert resp.status_code == 200, resp.text[:300]
    ctx["webhook_id"] = resp.json()["webhookRegistrationResult"][0]["createdWebhookId"]


def C(*args, **kwargs) -> Case:
    return Case(*args, **kwargs)


J, S = "jira", "jsm"

CASES: list[Case] = [
    # ---------------- Jira: users ----------------
    C(J, "GET", "/user", 200, "agent", params={"accountId": "{agent_id}"}),
    C(J, "GET", "/user", 200, "expand-groups-roles",
      params={"accountId": "{agent_id}", "expand": "groups,applicationRoles"},
      check=lambda b, ctx: AGENTS_GROUP in [g["name"] for g in b["groups"]["items"]]
      and "items" in b["applicationRoles"]),
    C(J, "GET", "/user", 200, "hidden-email", params={"accountId": "{hidden_agent_id}"},
      check=lambda b, ctx: "emailAddress" not in b or b["emailAddress"] in (None, "")),
    C(J, "GET", "/user", 200, "customer", params={"accountId": "{customer_id}"},
      check=lambda b, ctx: b["accountType"] == "customer"),
    C(J, "GET", "/user", 404, "unknown-account", params={"accountId": MISSING_ACCOUNT}),
    C(J, "GET", "/user", 401, "no-auth", params={"accountId": "{agent_id}"}, auth="none"),
    C(J, "GET", "/user", 401, "bad-token", params={"accountId": "{agent_id}"}, auth="bad"),
    C(J, "POST", "/user", 201, "new-user", mutates=True,
      body={"emailAddress": "new-{unique}@example.com", "products": ["jira-servicedesk"]},
      check=lambda b, ctx: b["emailAddress"] == f"new-{ctx['unique']}@example.com"
      and b["accountType"] == "atlassian"),
    # "If the user exists and has access to Jira, the operation returns a 201 status.
    #  If the user exists but does not have access to Jira, ... 400" (createUser).
    C(J, "POST", "/user", 201, "existing-agent", mutates=True,
      body={"emailAddress": "{agent_email}", "products": ["jira-servicedesk"]},
      check=lambda b, ctx: b["accountId"] == ctx["agent_id"]),
    C(J, "POST", "/user", 400, "existing-portal-customer", mutates=True,
      body={"emailAddress": "{customer_email}", "products": ["jira-servicedesk"]}),
    C(J, "POST", "/user", 400, "no-products", mutates=True,
      body={"emailAddress": "new-{unique}@example.com"}),
    C(J, "POST", "/user", 400, "no-email", mutates=True, body={"products": []}),
    C(J, "POST", "/user", 403, "agent", mutates=True, auth="agent",
      body={"emailAddress": "new-{unique}@example.com", "products": []}),
    C(J, "DELETE", "/user", 204, "agent", mutates=True, params={"accountId": "{other_agent_id}"}),
    C(J, "DELETE", "/user", 400, "no-account-id", mutates=True),
    C(J, "DELETE", "/user", 403, "by-agent", mutates=True, auth="agent",
      params={"accountId": "{other_agent_id}"}),
    C(J, "DELETE", "/user", 404, "unknown-account", mutates=True,
      params={"accountId": MISSING_ACCOUNT}),
    C(J, "GET", "/user/groups", 200, "agent", params={"accountId": "{agent_id}"}),
    C(J, "GET", "/user/groups", 404, "unknown-account", params={"accountId": MISSING_ACCOUNT}),
    C(J, "GET", "/user/groups", 401, "no-auth", params={"accountId": "{agent_id}"}, auth="none"),
    C(J, "GET", "/myself", 200, "admin"),
    C(J, "GET", "/myself", 200, "agent", auth="agent"),
    C(J, "GET", "/myself", 401, "no-auth", auth="none"),
    C(J, "GET", "/serverInfo", 200, "admin"),
    C(J, "GET", "/user/search", 200, "query", params={"query": "{agent_first_name}"}),
    C(J, "GET", "/user/search", 200, "account-id", params={"accountId": "{agent_id}"},
      check=lambda b, ctx: [u["accountId"] for u in b] == [ctx["agent_id"]]),
    C(J, "GET", "/user/search", 200, "paged",
      params={"query": "a", "startAt": "2", "maxResults": "3"}),
    C(J, "GET", "/user/search", 400, "no-query"),
    C(J, "GET", "/user/search", 400, "query-and-account-id",
      params={"query": "a", "accountId": "{agent_id}"}),
    # "Anonymous calls ... return empty search results" (findUsers description), not 401.
    C(J, "GET", "/user/search", 200, "anonymous-is-empty", params={"query": "a"}, auth="none",
      check=lambda body, ctx: body == []),
    C(J, "GET", "/users/search", 200, "first-page"),
    C(J, "GET", "/users/search", 200, "paged", params={"startAt": "10", "maxResults": "5"},
      check=lambda b, ctx: len(b) == 5),
    C(J, "GET", "/users", 200, "first-page", params={"maxResults": "20"}),
    C(J, "GET", "/user/bulk", 200, "two-accounts",
      params=[("accountId", "{agent_id}"), ("accountId", "{customer_id}")],
      check=lambda b, ctx: sorted(u["accountId"] for u in b["values"])
      == sorted([ctx["agent_id"], ctx["customer_id"]])),
    C(J, "GET", "/user/bulk", 400, "no-account-id"),
    C(J, "GET", "/user/bulk", 401, "no-auth", params={"accountId": "{agent_id}"}, auth="none"),
    # ---------------- Jira: groups ----------------
    C(J, "POST", "/group", 201, "new", mutates=True, body={"name": "conf-{unique}"},
      check=lambda b, ctx: b["name"] == f"conf-{ctx['unique']}" and b["groupId"]),
    C(J, "POST", "/group", 400, "no-name", mutates=True, body={}),
    C(J, "POST", "/group", 400, "name-in-use", mutates=True, body={"name": JIRA_ADMINS_GROUP}),
    C(J, "POST", "/group", 403, "by-agent", mutates=True, auth="agent", body={"name": "conf-{unique}"}),
    C(J, "POST", "/group", 401, "no-auth", auth="none", body={"name": "conf-{unique}"}),
    C(J, "DELETE", "/group", 200, "by-name", mutates=True, setup=new_group,
      params={"groupname": "{new_group}"}),
    C(J, "DELETE", "/group", 200, "by-id", mutates=True, setup=new_group,
      params=lambda ctx: {"groupId": ctx["group_id_of"](ctx["new_group"])}),
    C(J, "DELETE", "/group", 400, "no-group", mutates=True),
    C(J, "DELETE", "/group", 403, "by-agent", mutates=True, auth="agent", setup=new_group,
      params={"groupname": "{new_group}"}),
    C(J, "DELETE", "/group", 404, "unknown", mutates=True, params={"groupname": "nope-{unique}"}),
    C(J, "GET", "/group", 200, "expand-users",
      params={"groupname": AGENTS_GROUP, "expand": "users"},
      check=lambda b, ctx: len(b["users"]["items"]) == min(50, b["users"]["size"]) > 0),
    C(J, "GET", "/group", 200, "by-id", params=lambda ctx: {"groupId": ctx["agents_group_id"]}),
    C(J, "GET", "/group", 400, "no-group"),
    C(J, "GET", "/group", 404, "unknown", params={"groupname": "nope-{unique}"}),
    C(J, "GET", "/group/bulk", 200, "all"),
    C(J, "GET", "/group/bulk", 200, "by-name", params={"groupName": AGENTS_GROUP}),
    C(J, "GET", "/group/bulk", 401, "no-auth", auth="none"),
    C(J, "GET", "/group/member", 200, "by-name", params={"groupname": AGENTS_GROUP}),
    C(J, "GET", "/group/member", 200, "by-id-paged",
      params=lambda ctx: {"groupId": ctx["agents_group_id"], "startAt": "2", "maxResults": "3"},
      check=lambda b, ctx: b["startAt"] == 2 and len(b["values"]) == 3
      and "startAt=5" in b["nextPage"] and b["isLast"] is False),
    C(J, "GET", "/group/member", 200, "python-bool",
      params={"groupname": AGENTS_GROUP, "includeInactiveUsers": "False"}),
    C(J, "GET", "/group/member", 400, "no-group"),
    C(J, "GET", "/group/member", 404, "unknown", params={"groupname": "nope-{unique}"}),
    C(J, "POST", "/group/user", 201, "add", mutates=True, setup=new_group,
      params={"groupname": "{new_group}"}, body={"accountId": "{agent_id}"}),
    C(J, "POST", "/group/user", 400, "already-member", mutates=True,
      params={"groupname": AGENTS_GROUP}, body={"accountId": "{agent_id}"}),
    C(J, "POST", "/group/user", 400, "no-account-id", mutates=True, setup=new_group,
      params={"groupname": "{new_group}"}, body={}),
    C(J, "POST", "/group/user", 403, "by-agent", mutates=True, auth="agent", setup=new_group,
      params={"groupname": "{new_group}"}, body={"accountId": "{other_agent_id}"}),
    C(J, "POST", "/group/user", 404, "unknown-group", mutates=True,
      params={"groupname": "nope-{unique}"}, body={"accountId": "{agent_id}"}),
    C(J, "POST", "/group/user", 404, "unknown-user", mutates=True, setup=new_group,
      params={"groupname": "{new_group}"}, body={"accountId": MISSING_ACCOUNT}),
    C(J, "DELETE", "/group/user", 200, "remove", mutates=True, setup=new_group_with_agent,
      params={"groupname": "{new_group}", "accountId": "{agent_id}"}),
    C(J, "DELETE", "/group/user", 400, "no-account-id", mutates=True,
      params={"groupname": AGENTS_GROUP}),
    C(J, "DELETE", "/group/user", 403, "by-agent", mutates=True, auth="agent",
      params={"groupname": AGENTS_GROUP, "accountId": "{other_agent_id}"}),
    C(J, "DELETE", "/group/user", 404, "unknown-group", mutates=True,
      params={"groupname": "nope-{unique}", "accountId": "{agent_id}"}),
    C(J, "GET", "/groups/picker", 200, "query", params={"query": "jira"},
      check=lambda b, ctx: b["groups"] and all("jira" in g["name"] for g in b["groups"])),
    C(J, "GET", "/groups/picker", 200, "all"),
    C(J, "GET", "/applicationrole", 200, "all"),
    C(J, "GET", "/applicationrole", 401, "no-auth", auth="none"),
    C(J, "GET", "/applicationrole/{key}", 200, "servicedesk",
      path="/applicationrole/jira-servicedesk",
      check=lambda b, ctx: b["key"] == "jira-servicedesk"),
    C(J, "GET", "/applicationrole/{key}", 404, "unknown", path="/applicationrole/nope-{unique}"),
    # ---- injected failures: the bodies of 429/500 must fit the error schema too ----
    C(J, "GET", "/user/search", 429, "fault-documented", params={"query": "a"},
      fault={"method": "GET", "path": "/rest/api/3/user/search", "status": 429, "retryAfter": 1}),
    C(J, "POST", "/group/user", 429, "fault-documented", setup=new_group,
      params={"groupname": "{new_group}"}, body={"accountId": "{agent_id}"},
      fault={"method": "POST", "path": "/rest/api/3/group/user", "status": 429, "retryAfter": 1}),
    C(J, "GET", "/user", 429, "fault-generic", params={"accountId": "{agent_id}"},
      fault={"method": "GET", "path": "/rest/api/3/user", "status": 429, "retryAfter": 1}),
    C(S, "GET", "/servicedesk", 429, "fault-generic",
      fault={"method": "GET", "path": "/rest/servicedeskapi/servicedesk", "status": 429,
             "retryAfter": 1}),
    C(S, "GET", "/servicedesk", 500, "fault-documented",
      fault={"method": "GET", "path": "/rest/servicedeskapi/servicedesk", "status": 500}),
    # ---------------- Jira: app webhooks (OAuth apps through the gateway) ----------------
    C(J, "POST", "/webhook", 200, "register", mutates=True, auth="app",
      body={"url": HOOK_URL, "webhooks": [
          {"events": ["jira:issue_created", "jira:issue_updated"], "jqlFilter": "project = PROJ",
           "fieldIdsFilter": ["summary"]},
          {"events": ["user_created"], "jqlFilter": "project = PROJ"},
          {"events": ["comment_created"], "jqlFilter": "watchCount = 1"}]}),
    C(J, "POST", "/webhook", 400, "non-loopback-url", mutates=True, auth="app",
      body={"url": "https://example.com/hook",
            "webhooks": [{"events": ["jira:issue_created"], "jqlFilter": "project = PROJ"}]}),
    C(J, "POST", "/webhook", 403, "not-an-app", mutates=True,
      body={"url": HOOK_URL, "webhooks": [{"events": ["jira:issue_created"], "jqlFilter": "project = PROJ"}]}),
    C(J, "GET", "/webhook", 200, "registered", auth="app", setup=app_webhook),
    C(J, "GET", "/webhook", 200, "paged", auth="app", setup=app_webhook,
      params={"startAt": "0", "maxResults": "1"}),
    C(J, "GET", "/webhook", 403, "not-an-app"),
    C(J, "DELETE", "/webhook", 202, "registered", mutates=True, auth="app", setup=app_webhook,
      body=lambda ctx: {"webhookIds": [ctx["webhook_id"]]}),
    C(J, "DELETE", "/webhook", 400, "no-ids", mutates=True, auth="app", body={}),
    C(J, "DELETE", "/webhook", 403, "not-an-app", mutates=True, body={"webhookIds": [1]}),
    C(J, "PUT", "/webhook/refresh", 200, "registered", mutates=True, auth="app", setup=app_webhook,
      body=lambda ctx: {"webhookIds": [ctx["webhook_id"]]}),
    C(J, "PUT", "/webhook/refresh", 400, "no-ids", mutates=True, auth="app", body={}),
    C(J, "PUT", "/webhook/refresh", 403, "not-an-app", mutates=True, body={"webhookIds": [1]}),
    # ---------------- JSM: customers and desks ----------------
    C(S, "POST", "/customer", 201, "display-name", mutates=True,
      body={"displayName": "Conf Customer", "email": "c-{unique}@customers.example.com"}),
    C(S, "POST", "/customer", 201, "deprecated-full-name", mutates=True,
      body={"fullName": "Conf Customer", "email": "c-{unique}@customers.example.com"},
      check=lambda b, ctx: b["displayName"] == "Conf Customer"),
    C(S, "POST", "/customer", 400, "duplicate-email", mutates=True, setup=existing_customer_email,
      body={"displayName": "Again", "email": "{dup_email}"}),
    C(S, "POST", "/customer", 409, "duplicate-email-strict", mutates=True,
      setup=existing_customer_email, params={"strictConflictStatusCode": "true"},
      body={"displayName": "Again", "email": "{dup_email}"}),
    # The email of an Atlassian account links to that account (issue 2) rather than creating a customer.
    C(S, "POST", "/customer", 201, "email-of-existing-agent-links", mutates=True,
      body={"displayName": "Agent Again", "email": "{agent_email}"},
      check=lambda b, ctx: not b["accountId"].startswith("qm:")),
    C(S, "POST", "/customer", 400, "malformed-email", mutates=True,
      body={"displayName": "Bad", "email": "not-an-email"}),
    C(S, "POST", "/customer", 403, "by-agent", mutates=True, auth="agent",
      body={"displayName": "X", "email": "c-{unique}@customers.example.com"}),
    C(S, "POST", "/customer", 401, "no-auth", auth="none",
      body={"displayName": "X", "email": "c-{unique}@customers.example.com"}),
    C(S, "GET", "/servicedesk", 200, "all"),
    C(S, "GET", "/servicedesk", 200, "paged", params={"start": "1", "limit": "1"},
      check=lambda b, ctx: b["start"] == 1 and b["size"] == 1 == len(b["values"])),
    C(S, "GET", "/servicedesk", 401, "no-auth", auth="none"),
    C(S, "GET", "/servicedesk/{serviceDeskId}", 200, "closed", path="/servicedesk/{closed_desk}",
      check=lambda b, ctx: b["id"] == ctx["closed_desk"]),
    C(S, "GET", "/servicedesk/{serviceDeskId}", 404, "unknown", path=f"/servicedesk/{MISSING_ID}"),
    C(S, "GET", "/servicedesk/{serviceDeskId}", 401, "no-auth", auth="none",
      path="/servicedesk/{closed_desk}"),
    C(S, "GET", "/info", 200, "admin"),
    C(S, "GET", "/servicedesk/{serviceDeskId}/customer", 200, "closed",
      path="/servicedesk/{closed_desk}/customer"),
    C(S, "GET", "/servicedesk/{serviceDeskId}/customer", 200, "paged-query",
      path="/servicedesk/{closed_desk}/customer", params={"query": "a", "start": "1", "limit": "2"},
      check=lambda b, ctx: b["start"] == 1 and b["size"] == len(b["values"]) <= 2),
    C(S, "GET", "/servicedesk/{serviceDeskId}/customer", 412, "no-experimental-header",
      path="/servicedesk/{closed_desk}/customer", experimental_header=False),
    C(S, "GET", "/servicedesk/{serviceDeskId}/customer", 404, "unknown-desk",
      path=f"/servicedesk/{MISSING_ID}/customer"),
    C(S, "GET", "/servicedesk/{serviceDeskId}/customer", 401, "no-auth", auth="none",
      path="/servicedesk/{closed_desk}/customer"),
    C(S, "POST", "/servicedesk/{serviceDeskId}/customer", 204, "add", mutates=True,
      path="/servicedesk/{closed_desk}/customer", body={"accountIds": ["{customer_id}"]}),
    C(S, "POST", "/servicedesk/{serviceDeskId}/customer", 204, "python-client-body", mutates=True,
      path="/servicedesk/{closed_desk}/customer",
      body={"usernames": [], "accountIds": ["{customer_id}"]}),
    C(S, "POST", "/servicedesk/{serviceDeskId}/customer", 400, "unknown-customer", mutates=True,
      path="/servicedesk/{closed_desk}/customer", body={"accountIds": ["qm:nope-{unique}"]}),
    C(S, "POST", "/servicedesk/{serviceDeskId}/customer", 404, "unknown-desk", mutates=True,
      path=f"/servicedesk/{MISSING_ID}/customer", body={"accountIds": ["{customer_id}"]}),
    C(S, "DELETE", "/servicedesk/{serviceDeskId}/customer", 204, "closed-desk", mutates=True,
      setup=customer_on_closed_desk, path="/servicedesk/{closed_desk}/customer",
      body={"accountIds": ["{customer_id}"]}),
    C(S, "DELETE", "/servicedesk/{serviceDeskId}/customer", 400, "open-desk", mutates=True,
      path="/servicedesk/{open_desk}/customer", body={"accountIds": ["{customer_id}"]}),
    C(S, "DELETE", "/servicedesk/{serviceDeskId}/customer", 412, "no-experimental-header",
      mutates=True, experimental_header=False, path="/servicedesk/{closed_desk}/customer",
      body={"accountIds": ["{customer_id}"]}),
    C(S, "DELETE", "/servicedesk/{serviceDeskId}/customer", 404, "unknown-desk", mutates=True,
      path=f"/servicedesk/{MISSING_ID}/customer", body={"accountIds": ["{customer_id}"]}),
    # ---------------- JSM: organizations ----------------
    C(S, "GET", "/organization", 200, "all"),
    C(S, "GET", "/organization", 200, "paged", params={"start": "0", "limit": "1"}),
    C(S, "GET", "/organization", 401, "no-auth", auth="none"),
    C(S, "POST", "/organization", 201, "new", mutates=True, body={"name": "Conf Org {unique}"}),
    C(S, "POST", "/organization", 400, "no-name", mutates=True, body={}),
    C(S, "POST", "/organization", 400, "empty-name", mutates=True, body={"name": ""}),
    C(S, "GET", "/organization/{organizationId}", 200, "seeded", path="/organization/{org_id}",
      check=lambda b, ctx: b["id"] == ctx["org_id"]),
    C(S, "GET", "/organization/{organizationId}", 404, "unknown", path=f"/organization/{MISSING_ID}"),
    C(S, "DELETE", "/organization/{organizationId}", 204, "new", mutates=True, setup=new_org,
      path="/organization/{new_org}"),
    C(S, "DELETE", "/organization/{organizationId}", 403, "by-agent", mutates=True,
      auth="agent", setup=new_org, path="/organization/{new_org}"),
    C(S, "DELETE", "/organization/{organizationId}", 404, "unknown", mutates=True,
      path=f"/organization/{MISSING_ID}"),
    C(S, "GET", "/organization/{organizationId}/user", 200, "seeded",
      path="/organization/{org_id}/user"),
    C(S, "GET", "/organization/{organizationId}/user", 200, "paged",
      path="/organization/{org_id}/user", params={"start": "0", "limit": "1"}),
    C(S, "GET", "/organization/{organizationId}/user", 404, "unknown",
      path=f"/organization/{MISSING_ID}/user"),
    C(S, "POST", "/organization/{organizationId}/user", 204, "add", mutates=True, setup=new_org,
      path="/organization/{new_org}/user", body={"accountIds": ["{customer_id}"]}),
    C(S, "POST", "/organization/{organizationId}/user", 400, "unknown-account", mutates=True,
      setup=new_org, path="/organization/{new_org}/user", body={"accountIds": ["qm:nope-{unique}"]}),
    C(S, "POST", "/organization/{organizationId}/user", 404, "unknown-org", mutates=True,
      path=f"/organization/{MISSING_ID}/user", body={"accountIds": ["{customer_id}"]}),
    C(S, "DELETE", "/organization/{organizationId}/user", 204, "remove", mutates=True,
      setup=new_org_with_customer, path="/organization/{new_org}/user",
      body={"usernames": [], "accountIds": ["{customer_id}"]}),
    C(S, "DELETE", "/organization/{organizationId}/user", 404, "unknown-org", mutates=True,
      path=f"/organization/{MISSING_ID}/user", body={"accountIds": ["{customer_id}"]}),
    C(S, "GET", "/servicedesk/{serviceDeskId}/organization", 200, "closed",
      path="/servicedesk/{closed_desk}/organization"),
    C(S, "GET", "/servicedesk/{serviceDeskId}/organization", 404, "unknown-desk",
      path=f"/servicedesk/{MISSING_ID}/organization"),
    C(S, "POST", "/servicedesk/{serviceDeskId}/organization", 204, "add", mutates=True,
      setup=new_org, path="/servicedesk/{closed_desk}/organization",
      body=lambda ctx: {"organizationId": int(ctx["new_org"])}),
    C(S, "POST", "/servicedesk/{serviceDeskId}/organization", 404, "unknown-org", mutates=True,
      path="/servicedesk/{closed_desk}/organization", body={"organizationId": int(MISSING_ID)}),
    C(S, "DELETE", "/servicedesk/{serviceDeskId}/organization", 204, "remove", mutates=True,
      setup=new_org_on_closed_desk, path="/servicedesk/{closed_desk}/organization",
      body=lambda ctx: {"organizationId": int(ctx["new_org"])}),
    C(S, "DELETE", "/servicedesk/{serviceDeskId}/organization", 404, "unknown-desk", mutates=True,
      path=f"/servicedesk/{MISSING_ID}/organization", body={"organizationId": 1}),
]


# --------------------------------------------------------------------------
# Context from the demo seed
# --------------------------------------------------------------------------


def make_ctx(demo: DemoFacts, control: Control) -> Ctx:
    hidden = demo.agent_hidden_email

    def group_id_of(name: str) -> str:
        return str(control.state().group(name).group_id)

    return {
        "unique": uuid.uuid4().hex[:12],
        "admin_id": demo.admin_id,
        "agent_id": demo.agent.account_id,
        "agent_email": demo.agent.email,
        "customer_email": demo.customer.email,
        "agent_first_name": demo.agent.display_name.split()[0],
        "other_agent_id": demo.other_agent.account_id,
        "hidden_agent_id": hidden.account_id if hidden else "no-hidden-email-agent-in-seed",
        "customer_id": demo.customer.account_id,
        "closed_desk": demo.closed_desk.desk_id,
        "open_desk": demo.open_desk.desk_id,
        "org_id": demo.organization.org_id,
        "agents_group_id": str(demo.state.group(AGENTS_GROUP).group_id),
        "group_id_of": group_id_of,
    }


@dataclass
class Outcome:
    status: int
    content_type: str
    body: Any
    raw: bytes
    problems: list[str] = field(default_factory=list)


def perform(case: Case, base_url: str, ctx: Ctx, auths: dict[str, Any]) -> Outcome:
    auth = auths[case.auth]
    http = Http(base_url, auth)
    headers = {}
    if case.api == "jsm" and case.experimental_header:
        headers["X-ExperimentalApi"] = "opt-in"
    path = _fmt(case.path or case.template, ctx)
    params = _fmt(case.params, ctx)
    body = _fmt(case.body, ctx)
    resp = http.call(case.api, case.method, path, params=params, body=body, headers=headers)
    out = Outcome(resp.status_code, resp.headers.get("Content-Type", ""), None, resp.content)
    if resp.content.strip():
        try:
            out.body = resp.json()
        except ValueError:
            out.problems.append(
                f"body is not JSON (Content-Type {out.content_type!r}): {resp.text[:200]!r}"
            )
    return out


def conformance_problems(case: Case, spec: OpenApiSpec, out: Outcome) -> list[str]:
    problems = list(out.problems)
    allowed = set(GENERIC_UNDOCUMENTED)
    if case.api == "jsm" and spec.is_experimental(case.full_template, case.method):
        allowed.add(412)
    has_body = bool(out.raw.strip())
    if has_body and out.body is not None:
        if not out.content_type.lower().startswith("application/json"):
            problems.append(f"JSON body sent with Content-Type {out.content_type!r}")
    if out.status == 204 and has_body:
        problems.append("204 response carries a body")
    if not problems or out.body is not None or not has_body:
        problems += spec.check_response(
            case.full_template,
            case.method,
            out.status,
            out.body,
            has_body=has_body,
            allowed_undocumented=allowed,
            fallback_error_component=ERROR_COMPONENT[case.api],
        )
    return problems


# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------


@pytest.fixture
def auths(admin_token: str, control: Control, demo: DemoFacts, base_url: str, request) -> dict[str, Any]:
    table: dict[str, Any] = {
        "admin": (ADMIN_EMAIL, admin_token),
        "none": None,
        "bad": (ADMIN_EMAIL, "definitely-not-the-token"),
    }
    case: Case = request.node.callspec.params["case"]
    if case.auth == "agent":
        table["agent"] = (demo.agent.email, control.create_token(demo.agent.email)["token"])
    if case.auth == "app":
        table["app"] = app_auth(base_url)
    return table


def _params(cases: list[Case]) -> list:
    out = []
    for case in cases:
        marks = [pytest.mark.xfail(strict=True, reason=case.known_bug)] if case.known_bug else []
        out.append(pytest.param(case, id=case.id, marks=marks))
    return out


@pytest.mark.parametrize("case", _params(CASES))
def test_response_conforms(case: Case, specs, base_url, control, demo, auths) -> None:
    spec = specs[case.api]
    assert spec.operation(case.full_template, case.method), (
        f"test table error: {case.method} {case.full_template} is not in the spec"
    )
    needs_reset = case.mutates or case.setup is not None or case.fault is not None
    if needs_reset:
        control.reset("demo")
        control.clear_faults()
        if case.auth == "agent":  # reset may drop minted tokens
            auths["agent"] = (demo.agent.email, control.create_token(demo.agent.email)["token"])
        if case.auth == "app":  # reset drops OAuth grants too
            auths["app"] = app_auth(base_url)
    try:
        ctx = make_ctx(demo, control)
        if case.setup:
            case.setup(Http(base_url, auths["admin"]), ctx)
        if case.fault:
            control.set_faults([dict(case.fault, times=1)])
        out = perform(case, base_url, ctx, auths)
    finally:
        if needs_reset:
            control.clear_faults()
            control.reset("demo")

    shown = json.dumps(out.body)[:600] if out.body is not None else out.raw[:300]
    if os.environ.get("COMPAT_DUMP"):
        with open(os.environ["COMPAT_DUMP"], "a", encoding="utf-8") as fh:
            fh.write(f"### {case.id} -> {out.status} {out.content_type}\n{json.dumps(out.body)[:1500]}\n")
    assert out.status == case.status, (
        f"{case.method} {case.full_template} ({case.label}): expected {case.status} like real "
        f"Atlassian, got {out.status}; body: {shown}"
    )
    if case.check is not None:
        assert case.check(out.body, ctx), f"semantic check failed for {case.id}; body: {shown}"
    problems = conformance_problems(case, spec, out)
    assert not problems, (
        f"{case.method} {case.full_template} -> {out.status} does not conform:\n  "
        + "\n  ".join(problems)
        + f"\nbody: {shown}"
    )


def test_every_implemented_operation_has_a_success_case(specs) -> None:
    covered = {(c.api, c.method, c.template) for c in CASES if c.status < 300}
    missing = [op for op in IMPLEMENTED if op not in covered]
    assert not missing, f"operations without a success case: {missing}"
    listed = {(c.api, c.method, c.template) for c in CASES}
    assert listed <= set(IMPLEMENTED), f"cases for unlisted operations: {listed - set(IMPLEMENTED)}"
    for api, method, template in IMPLEMENTED:
        prefix = JIRA_PREFIX if api == "jira" else JSM_PREFIX
        assert specs[api].operation(prefix + template, method), (api, method, template)


def test_case_ids_are_unique() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))


def test_case_statuses_are_documented_or_allowed(specs) -> None:
    """The expected statuses themselves must be in the spec (or explicitly allowed)."""
    bad = []
    for case in CASES:
        spec = specs[case.api]
        found = spec.lookup(case.full_template, case.method, case.status)
        allowed = case.status in GENERIC_UNDOCUMENTED or (
            case.status == 412 and spec.is_experimental(case.full_template, case.method)
        )
        if not found.documented and not allowed:
            bad.append(case.id)
    assert not bad, f"cases expecting undocumented statuses: {bad}"


@pytest.mark.parametrize("prefix", ["", "/atlassian.net", "/ex/jira/0f1e2d3c-cloud-id", "/jira"])
@pytest.mark.parametrize("version", ["2", "3", "latest"])
def test_prefix_and_version_aliases(specs, base_url, admin_token, demo, prefix, version) -> None:
    """Real clients use /rest/api/2, 3 and latest, under arbitrary path prefixes."""
    resp = requests.get(
        f"{base_url}{prefix}/rest/api/{version}/myself",
        auth=(ADMIN_EMAIL, admin_token),
        headers={"Accept": "application/json"},
        timeout=15,
    )
    assert resp.status_code == 200, resp.text[:300]
    body = resp.json()
    assert body["accountId"] == demo.admin_id
    assert specs["jira"].check_response(JIRA_PREFIX + "/myself", "GET", 200, body, has_body=True) == []
    jsm = requests.get(
        f"{base_url}{prefix}/rest/servicedeskapi/servicedesk/{demo.closed_desk.desk_id}",
        auth=(ADMIN_EMAIL, admin_token),
        timeout=15,
    )
    assert jsm.status_code == 200, jsm.text[:300]
    assert jsm.json()["id"] == demo.closed_desk.desk_id


# --------------------------------------------------------------------------
# Self-tests: the validator can fail
# --------------------------------------------------------------------------


def _get(base_url, admin_token, api, path, params=None) -> Any:
    http = Http(base_url, (ADMIN_EMAIL, admin_token))
    resp = http.call(api, "GET", path, params=params, headers={"X-ExperimentalApi": "opt-in"})
    assert resp.status_code == 200, resp.text[:300]
    return resp.json()


def test_validator_rejects_mutated_jira_user(specs, base_url, admin_token, demo) -> None:
    spec = specs["jira"]
    real = _get(base_url, admin_token, "jira", "/user", {"accountId": demo.agent.account_id})
    tpl = JIRA_PREFIX + "/user"
    assert spec.check_response(tpl, "GET", 200, real, has_body=True) == [], "real response must pass"

    renamed = copy.deepcopy(real)
    renamed["display_name"] = renamed.pop("displayName")
    errors = spec.check_response(tpl, "GET", 200, renamed, has_body=True)
    assert any("display_name" in e for e in errors), errors

    retyped = copy.deepcopy(real)
    retyped["active"] = "true"
    errors = spec.check_response(tpl, "GET", 200, retyped, has_body=True)
    assert any("$.active" in e for e in errors), errors

    extra = dict(real, extraField=1)
    assert spec.check_response(tpl, "GET", 200, extra, has_body=True), "User forbids extra fields"

    missing = {k: v for k, v in real.items() if k != "self"}
    errors = spec.check_response(tpl, "GET", 200, missing, has_body=True)
    assert any("'self' is a required property" in e for e in errors), errors

    bad_enum = dict(real, accountType="robot")
    assert spec.check_response(tpl, "GET", 200, bad_enum, has_body=True)

    nested = copy.deepcopy(real)
    nested["avatarUrls"] = {"16x16": 16}
    assert spec.check_response(tpl, "GET", 200, nested, has_body=True), "nested $ref checked"


def test_validator_rejects_mutated_page_items(specs, base_url, admin_token) -> None:
    spec = specs["jira"]
    tpl = JIRA_PREFIX + "/group/member"
    real = _get(base_url, admin_token, "jira", "/group/member", {"groupname": AGENTS_GROUP})
    assert spec.check_response(tpl, "GET", 200, real, has_body=True) == []
    broken = copy.deepcopy(real)
    broken["values"][0]["accountId"] = 42
    errors = spec.check_response(tpl, "GET", 200, broken, has_body=True)
    assert any("$.values[0].accountId" in e for e in errors), errors


def test_validator_rejects_mutated_jsm_organization(specs, base_url, admin_token, demo) -> None:
    spec = specs["jsm"]
    tpl = JSM_PREFIX + "/organization/{organizationId}"
    real = _get(base_url, admin_token, "jsm", f"/organization/{demo.organization.org_id}")
    assert spec.check_response(tpl, "GET", 200, real, has_body=True) == []
    retyped = dict(real, id=int(real["id"]))  # DTO id is a string
    assert any("$.id" in e for e in spec.check_response(tpl, "GET", 200, retyped, has_body=True))
    renamed = copy.deepcopy(real)
    renamed["title"] = renamed.pop("name")
    assert spec.check_response(tpl, "GET", 200, renamed, has_body=True)


def test_validator_rejects_wrong_error_shapes(specs) -> None:
    jira, jsm = specs["jira"], specs["jsm"]
    jsm_style = {"errorMessage": "nope"}
    jira_style = {"errorMessages": ["nope"], "errors": {}}
    assert jira.check_response(
        JIRA_PREFIX + "/user", "GET", 404, jsm_style, has_body=True,
        fallback_error_component="ErrorCollection",
    )
    assert jira.check_response(
        JIRA_PREFIX + "/user", "GET", 404, jira_style, has_body=True,
        fallback_error_component="ErrorCollection",
    ) == []
    assert jsm.check_response(
        JSM_PREFIX + "/organization/{organizationId}", "GET", 404, jira_style, has_body=True
    )


def test_validator_rejects_undocumented_status_and_missing_body(specs) -> None:
    jira = specs["jira"]
    errors = jira.check_response(JIRA_PREFIX + "/groups/picker", "GET", 404, {}, has_body=True)
    assert errors and "not documented" in errors[0]
    errors = jira.check_response(JIRA_PREFIX + "/myself", "GET", 200, None, has_body=False)
    assert errors and "empty" in errors[0]
    # ...and that allowances are explicit, not implicit.
    assert jira.check_response(
        JIRA_PREFIX + "/groups/picker", "GET", 401, {"errorMessages": [], "errors": {}},
        has_body=True, allowed_undocumented={401}, fallback_error_component="ErrorCollection",
    ) == []


def test_validator_handles_nullable(specs) -> None:
    jira = specs["jira"]
    tpl = JIRA_PREFIX + "/group"
    group = {"name": "g", "groupId": None, "self": "http://127.0.0.1/rest/api/3/group?groupId=x"}
    assert jira.check_response(tpl, "POST", 201, group, has_body=True) == []
    assert jira.check_response(tpl, "POST", 201, dict(group, name=None), has_body=True)
