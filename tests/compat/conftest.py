"""Fixtures for the Python compatibility suite: one emulator per test session.

The emulator binary is taken from ``JSMCTL_BIN`` (default ``target/debug/jsmctl``
relative to the repository root, two levels above this folder).  A missing
binary is an error, never a skip: a suite that silently skips would pass CI
without testing anything.

Everything that knows the field names of ``GET /_emulator/state`` lives in the
``StateView`` class below, so adapting to a change of the export format is a
change in one place.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import secrets
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
ADMIN_EMAIL = "admin@example.com"
STARTUP_TIMEOUT_S = 30.0
HTTP_TIMEOUT_S = 15.0

# Names of demo fixtures that the seed documents as well known.
AGENTS_GROUP = "jira-servicemanagement-users"
SITE_ADMINS_GROUP = "site-admins"
JIRA_ADMINS_GROUP = "jira-administrators"


# --------------------------------------------------------------------------
# Locating and running the emulator
# --------------------------------------------------------------------------


def emulator_binary() -> Path:
    configured = os.environ.get("JSMCTL_BIN")
    path = Path(configured) if configured else Path("target/debug/jsmctl")
    if not path.is_absolute():
        path = REPO_ROOT / path
    return path


class EmulatorProcess:
    """A running ``jsmctl emulator``; the first stdout line is its base URL."""

    def __init__(self, binary: Path, token: str, seed: str = "demo"):
        self.binary = binary
        self.token = token
        self.log_path = REPO_ROOT / "target" / "compat-emulator.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("wb")
        args = [
            str(binary),
            "emulator",
            "--listen",
            "127.0.0.1:0",
            "--seed",
            seed,
            "--admin-email",
            ADMIN_EMAIL,
            "--admin-token",
            token,
        ]
        self.proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log,
            cwd=REPO_ROOT,
        )
        self.base_url = self._read_base_url()

    def _read_base_url(self) -> str:
        lines: "queue.Queue[bytes]" = queue.Queue()

        def pump() -> None:
            assert self.proc.stdout is not None
            for raw in self.proc.stdout:
                lines.put(raw)
                self._log.write(b"[stdout] " + raw)
                self._log.flush()
            lines.put(b"")

        threading.Thread(target=pump, name="emulator-stdout", daemon=True).start()
        try:
            first = lines.get(timeout=STARTUP_TIMEOUT_S)
        except queue.Empty:
            self.stop()
            raise RuntimeError(
                f"emulator printed no base URL within {STARTUP_TIMEOUT_S}s; see {self.log_path}"
            )
        url = first.decode("utf-8", "replace").strip()
        if not url.startswith("http"):
            self.stop()
            raise RuntimeError(
                f"emulator's first stdout line is not a base URL: {url!r} "
                f"(exit code {self.proc.poll()}); see {self.log_path}"
            )
        return url.rstrip("/")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()


# --------------------------------------------------------------------------
# Control plane
# --------------------------------------------------------------------------


class Control:
    """Thin client for ``/_emulator`` (Bearer auth with the admin token)."""

    def __init__(self, base_url: str, token: str):
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def _call(self, method: str, path: str, body: Any = None) -> requests.Response:
        resp = self.session.request(
            method, self.base_url + "/_emulator" + path, json=body, timeout=HTTP_TIMEOUT_S
        )
        if resp.status_code >= 400:
            raise AssertionError(
                f"control plane {method} {path} -> {resp.status_code}: {resp.text[:500]}"
            )
        return resp

    def reset(self, seed: str = "demo") -> None:
        self._call("POST", "/reset", {"seed": seed})

    def set_faults(self, rules: list[dict]) -> None:
        self._call("PUT", "/faults", {"rules": rules})

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def create_token(self, email: str, expires_in_days: int = 30) -> dict:
        return self._call(
            "POST", "/tokens", {"email": email, "expiresInDays": expires_in_days}
        ).json()

    def state(self) -> "StateView":
        return StateView(self._call("GET", "/state").json())

    def requests_log(self, since: int = 0) -> list[dict]:
        """Request-log entries numbered above ``since`` (oldest first), all pages."""
        out: list[dict] = []
        while True:
            resp = self.session.get(
                self.base_url + "/_emulator/requests",
                params={"since": since, "limit": 1000},
                timeout=HTTP_TIMEOUT_S,
            )
            assert resp.status_code == 200, resp.text[:300]
            page = resp.json()
            out.extend(page)
            if len(page) < 1000:
                return out
            since = int(page[-1]["seq"])

    def log_mark(self) -> int:
        """The sequence number of the newest logged request (0 if none)."""
        entries = self.requests_log()
        return int(entries[-1]["seq"]) if entries else 0


# --------------------------------------------------------------------------
# Accessor layer over GET /_emulator/state (the only place that knows its names)
# --------------------------------------------------------------------------


def _first(obj: dict, *keys: str, default: Any = None) -> Any:
    for key in keys:
        if key in obj and obj[key] is not None:
            return obj[key]
    return default


def _as_list(value: Any) -> list:
    if value is None:
        return []
    if isinstance(value, dict):
        return list(value.values())
    return list(value)


@dataclass(frozen=True)
class Account:
    account_id: str
    account_type: str  # "atlassian" | "customer" | "app"
    display_name: str
    email: str | None
    email_visible: bool
    active: bool
    site_access: bool  # false once DELETE /user removed the account from the site
    raw: dict


@dataclass(frozen=True)
class Group:
    name: str
    group_id: str | None
    member_ids: tuple[str, ...]
    raw: dict


@dataclass(frozen=True)
class Desk:
    desk_id: str
    project_key: str | None
    access: str  # "closed" | "open" | "public" ...
    customer_ids: tuple[str, ...]
    organization_ids: tuple[str, ...]
    raw: dict


@dataclass(frozen=True)
class Organization:
    org_id: str
    name: str
    member_ids: tuple[str, ...]
    raw: dict


class StateView:
    """Typed view of the exported emulator state."""

    def __init__(self, raw: dict):
        self.raw = raw
        self.accounts = [self._account(a) for a in _as_list(_first(raw, "accounts", "users"))]
        self.groups = [self._group(g) for g in _as_list(_first(raw, "groups"))]
        self.desks = [
            self._desk(d) for d in _as_list(_first(raw, "serviceDesks", "service_desks", "desks"))
        ]
        self.organizations = [
            self._org(o) for o in _as_list(_first(raw, "organizations", "organisations"))
        ]
        # Memberships may be stored on the account instead of the group.
        if self.groups and not any(g.member_ids for g in self.groups):
            self.groups = [self._members_from_accounts(g) for g in self.groups]

    # ---- field mapping ----
    @staticmethod
    def _account(a: dict) -> Account:
        email = _first(a, "email", "emailAddress")
        hidden = _first(a, "emailHidden", "hideEmail")
        visibility = _first(a, "emailVisibility", "emailVisible")
        if isinstance(hidden, bool):
            visible = not hidden
        elif isinstance(visibility, bool):
            visible = visibility
        elif isinstance(visibility, str):
            visible = visibility.lower() in ("public", "visible", "anyone", "true")
        else:
            visible = True
        active = _first(a, "active", default=None)
        if active is None:
            status = str(_first(a, "status", "accountStatus", default="active")).lower()
            active = status == "active"
        return Account(
            account_id=str(_first(a, "accountId", "account_id", "id")),
            account_type=str(_first(a, "accountType", "account_type", "type", default="atlassian")),
            display_name=str(_first(a, "displayName", "display_name", "name", default="")),
            email=email,
            email_visible=visible,
            active=bool(active),
            site_access=bool(_first(a, "siteAccess", default=True)),
            raw=a,
        )

    @staticmethod
    def _ids(items: Any) -> tuple[str, ...]:
        out = []
        for item in _as_list(items):
            if isinstance(item, dict):
                item = _first(item, "accountId", "account_id", "id")
            out.append(str(item))
        return tuple(out)

    def _group(self, g: dict) -> Group:
        return Group(
            name=str(_first(g, "name", "groupName")),
            group_id=_first(g, "groupId", "group_id", "id"),
            member_ids=self._ids(_first(g, "members", "memberIds", "accountIds", "users")),
            raw=g,
        )

    def _members_from_accounts(self, g: Group) -> Group:
        members = []
        for acc in self.accounts:
            groups = _as_list(_first(acc.raw, "groups", "groupNames", "groupIds"))
            names = {str(x if not isinstance(x, dict) else _first(x, "name", "groupId")) for x in groups}
            if g.name in names or (g.group_id and str(g.group_id) in names):
                members.append(acc.account_id)
        return Group(g.name, g.group_id, tuple(members), g.raw)

    def _desk(self, d: dict) -> Desk:
        access = _first(d, "access", "accessType", "accessLevel", default=None)
        if access is None:
            closed = _first(d, "closed", "closedAccess")
            access = "closed" if closed else "open"
        return Desk(
            desk_id=str(_first(d, "id", "serviceDeskId", "desk_id")),
            project_key=_first(d, "projectKey", "project_key", "key"),
            access=str(access).lower(),
            customer_ids=self._ids(_first(d, "customers", "customerIds", "customerAccountIds")),
            organization_ids=self._ids(_first(d, "organizations", "organizationIds")),
            raw=d,
        )

    def _org(self, o: dict) -> Organization:
        return Organization(
            org_id=str(_first(o, "id", "organizationId")),
            name=str(_first(o, "name")),
            member_ids=self._ids(_first(o, "members", "memberIds", "accountIds", "users")),
            raw=o,
        )

    # ---- queries used by the tests ----
    def account(self, account_id: str) -> Account:
        for acc in self.accounts:
            if acc.account_id == account_id:
                return acc
        raise KeyError(account_id)

    def group(self, name: str) -> Group:
        for g in self.groups:
            if g.name == name:
                return g
        raise KeyError(name)

    def desk(self, desk_id: str) -> Desk:
        for d in self.desks:
            if d.desk_id == str(desk_id):
                return d
        raise KeyError(desk_id)

    def agents(self) -> list[Account]:
        members = set(self.group(AGENTS_GROUP).member_ids)
        admins = set(self._members_of(SITE_ADMINS_GROUP)) | set(self._members_of(JIRA_ADMINS_GROUP))
        return [
            a
            for a in self.accounts
            if a.account_id in members and a.account_id not in admins and a.active
            and a.account_type == "atlassian"
        ]

    def _members_of(self, name: str) -> tuple[str, ...]:
        try:
            return self.group(name).member_ids
        except KeyError:
            return ()

    def customers(self) -> list[Account]:
        return [a for a in self.accounts if a.account_type == "customer"]

    def admin(self) -> Account:
        for a in self.accounts:
            if (a.email or "").lower() == ADMIN_EMAIL:
                return a
        raise KeyError(ADMIN_EMAIL)

    def closed_desk(self) -> Desk:
        return next(d for d in self.desks if d.access == "closed")

    def open_desk(self) -> Desk:
        return next(d for d in self.desks if d.access != "closed")


# --------------------------------------------------------------------------
# Session-wide facts derived once from the demo seed
# --------------------------------------------------------------------------


@dataclass
class DemoFacts:
    admin_id: str
    agent: Account  # in jira-servicemanagement-users, not an admin, email visible
    agent_hidden_email: Account | None  # an agent whose email is hidden
    other_agent: Account
    customer: Account  # a customer not yet on the closed desk (if any)
    other_customer: Account
    closed_desk: Desk
    open_desk: Desk
    organization: Organization
    state: StateView


def derive_demo_facts(state: StateView) -> DemoFacts:
    agents = state.agents()
    assert len(agents) >= 3, f"demo seed should have agents, found {len(agents)}"
    visible = [a for a in agents if a.email and a.email_visible]
    hidden = [a for a in agents if not a.email_visible]
    customers = [c for c in state.customers() if c.active]
    assert len(customers) >= 100, f"demo seed should have ~500 customers, found {len(customers)}"
    closed = state.closed_desk()
    on_closed = set(closed.customer_ids)
    not_on_closed = [c for c in customers if c.account_id not in on_closed] or customers
    assert state.organizations, "demo seed should have organizations"
    agent = visible[0] if visible else agents[0]
    return DemoFacts(
        admin_id=state.admin().account_id,
        agent=agent,
        agent_hidden_email=hidden[0] if hidden else None,
        other_agent=next(a for a in agents if a.account_id != agent.account_id),
        customer=not_on_closed[0],
        other_customer=not_on_closed[1],
        closed_desk=closed,
        open_desk=state.open_desk(),
        organization=state.organizations[0],
        state=state,
    )


# --------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def admin_token() -> str:
    return "compat-" + secrets.token_urlsafe(24)


@pytest.fixture(scope="session")
def emulator(admin_token: str):
    binary = emulator_binary()
    if not binary.is_file() or not os.access(binary, os.X_OK):
        pytest.fail(
            f"emulator binary not found or not executable: {binary} "
            "(build it with `cargo build -p jsmctl`, or set JSMCTL_BIN)",
            pytrace=False,
        )
    error = None
    try:
        proc = EmulatorProcess(binary, admin_token)
    except RuntimeError as exc:
        error = str(exc)
    if error is not None:
        pytest.fail(error, pytrace=False)
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def base_url(emulator: EmulatorProcess) -> str:
    return emulator.base_url


@pytest.fixture(scope="session")
def control(emulator: EmulatorProcess, admin_token: str) -> Control:
    return Control(emulator.base_url, admin_token)


@pytest.fixture(scope="session")
def demo(control: Control) -> DemoFacts:
    control.reset("demo")
    control.clear_faults()
    return derive_demo_facts(control.state())


@pytest.fixture
def fresh(control: Control, demo: DemoFacts):
    """For tests that mutate: demo state before, and again after (for readers)."""
    control.reset("demo")
    control.clear_faults()
    yield control
    control.clear_faults()
    control.reset("demo")


@pytest.fixture(scope="session")
def admin_auth(admin_token: str) -> tuple[str, str]:
    return (ADMIN_EMAIL, admin_token)


@pytest.fixture
def agent_auth(control: Control, demo: DemoFacts) -> tuple[str, str]:
    """Basic credentials of a plain agent (no admin rights), minted per test.

    Minted per test because a reset may drop tokens made via the control plane.
    """
    email = demo.agent.email
    assert email, "the chosen demo agent must have an email"
    return (email, control.create_token(email)["token"])


def basic_header(email: str, token: str) -> str:
    return "Basic " + base64.b64encode(f"{email}:{token}".encode()).decode()


def wait_until(predicate, timeout: float = 5.0, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def ids_of(items: Iterable[dict], key: str = "accountId") -> list[str]:
    return [str(item[key]) for item in items]


def dump(value: Any) -> str:
    return json.dumps(value, indent=1, sort_keys=True)[:2000]
