"""What the MCP compatibility tests share: an emulator of their own (started with ``--env-file`` so jsmctl
gets every credential), a state file, an MCP config with one agent and its bearer token and one identity source
(``hr``, a CSV file the tests write), and ``jsmctl mcp --listen`` as a process whose first stdout line is its base
URL.

The emulator is separate from the session-wide one of conftest.py because these tests change the site
(offboarding two agents) and need the SCIM and admin API keys, which only the env file carries.
"""

from __future__ import annotations

import hashlib
import os
import queue
import secrets
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from conftest import ADMIN_EMAIL, STARTUP_TIMEOUT_S, Control, StateView, emulator_binary

# The name of the identity source the MCP config offers plan_reconcile, and the header of its CSV file.
SOURCE = "hr"
PEOPLE_HEADER = "email,display_name,external_id,kind,active,service_desks,organizations,groups"

MCP_TOOLS = [
    "find_user",
    "get_user",
    "list_group_members",
    "list_customers",
    "explain_access",
    "seat_report",
    "credential_status",
    "plan_provision_customer",
    "plan_provision_agent",
    "plan_offboard",
    "plan_restore",
    "plan_reconcile",
    "show_plan",
    "apply_plan",
    "plan_status",
    "audit_search",
]


def _first_line(proc: subprocess.Popen, log: Path, what: str) -> str:
    """The first stdout line of ``proc`` within the startup timeout; later lines go to ``log``."""
    lines: "queue.Queue[bytes]" = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        with log.open("ab") as out:
            for raw in proc.stdout:
                lines.put(raw)
                out.write(raw)
                out.flush()
        lines.put(b"")

    threading.Thread(target=pump, name=f"{what}-stdout", daemon=True).start()
    try:
        first = lines.get(timeout=STARTUP_TIMEOUT_S).decode("utf-8", "replace").strip()
    except queue.Empty:
        stop(proc)
        raise RuntimeError(f"{what} printed nothing within {STARTUP_TIMEOUT_S}s; see {log}")
    if not first.startswith("http"):
        stop(proc)
        raise RuntimeError(f"{what}'s first stdout line is not a base URL: {first!r}; see {log}")
    return first.rstrip("/")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@dataclass
class McpSite:
    binary: Path
    dir: Path
    base_url: str
    control: Control
    env: dict[str, str]
    token: str
    emulator: subprocess.Popen
    source_file: Path

    @classmethod
    def start(cls, dir: Path) -> "McpSite":
        binary = emulator_binary()
        admin_token = "mcp-compat-" + secrets.token_urlsafe(16)
        env_file = dir / "emulator.env"
        log = dir / "emulator.log"
        proc = subprocess.Popen(
            [
                str(binary), "emulator", "--listen", "127.0.0.1:0", "--seed", "demo",
                "--admin-email", ADMIN_EMAIL, "--admin-token", admin_token, "--env-file", str(env_file),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log.open("wb"),
        )
        base_url = _first_line(proc, log, "jsmctl emulator")
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not env_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        if not env_file.exists():
            stop(proc)
            raise RuntimeError(f"the emulator wrote no env file {env_file}")
        emulator_env = dict(
            line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line
        )
        token = "mcp-agent-" + secrets.token_urlsafe(24)
        source_file = dir / f"{SOURCE}.csv"
        source_file.write_text(PEOPLE_HEADER + "\n")
        config = dir / "mcp.toml"
        enabled = ", ".join(f'"{t}"' for t in MCP_TOOLS)
        config.write_text(
            f"""version = 1
approvals_url = "https://jsmctl.example.com/approvals"

[tools]
enabled = [{enabled}]

[agents.ci-bot]
token_sha256 = "{hashlib.sha256(token.encode()).hexdigest()}"
scopes = ["jsm:read", "jsm:plan", "jsm:apply"]
max_plans_per_hour = 100

[agents.ci-reader]
token_sha256 = "{hashlib.sha256((token + '-reader').encode()).hexdigest()}"
scopes = ["jsm:read"]

[stdio]
agent = "ci-bot"

[[sources]]
name = "{SOURCE}"
spec = "file:{source_file}"
"""
        )
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(dir),
            "JSMCTL_STATE": str(dir / "state.db"),
            "JSMCTL_MCP_CONFIG": str(config),
            "JSMCTL_LOG": "info",
            **emulator_env,
        }
        return cls(binary, dir, base_url, Control(base_url, admin_token), env, token, proc, source_file)

    def stop(self) -> None:
        stop(self.emulator)

    def state(self) -> StateView:
        return self.control.state()

    def jsmctl(self, *args: str, actor: str = "human") -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(self.binary), *args],
            env={**self.env, "JSMCTL_ACTOR": actor},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def disable_at_source(self, person, external_id: str) -> None:
        """Adds ``person`` to the source file as disabled there (a leaver), keeping the rows already written."""
        with self.source_file.open("a") as out:
            out.write(f"{person.email},Leaver,{external_id},agent,false,,,\n")

    def agents(self) -> list:
        """Plain agents with visible emails (no admins), from the emulator's own state."""
        return [a for a in self.state().agents() if a.email and a.email_visible]


class McpHttp:
    """``jsmctl mcp --listen 127.0.0.1:0``; ``base_url`` is its first stdout line."""

    def __init__(self, site: McpSite):
        log = site.dir / "mcp-http.log"
        self.stderr = (site.dir / "mcp-http.stderr").open("wb")
        self.proc = subprocess.Popen(
            [str(site.binary), "mcp", "--listen", "127.0.0.1:0"],
            env=site.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
        )
        self.base_url = _first_line(self.proc, log, "jsmctl mcp --listen")
        self.url = self.base_url + "/mcp"

    def stop(self) -> None:
        stop(self.proc)
        self.stderr.close()
