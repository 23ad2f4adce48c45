"""A second real MCP client nobody here wrote: the MCP Inspector's CLI mode (``@modelcontextprotocol/inspector``
from npm, pinned in tests/compat/node/package-lock.json, installed by .ci/run with ``npm ci``) lists the tools
and calls one over stdio and over streamable HTTP. Its TypeScript SDK client checks each result against the
tool's output schema itself.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from mcp_site import MCP_TOOLS, McpHttp, McpSite

INSPECTOR = Path(__file__).resolve().parent / "node" / "node_modules" / ".bin" / "mcp-inspector"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    if not INSPECTOR.exists():
        pytest.fail(
            f"{INSPECTOR} is missing: run `npm ci --prefix tests/compat/node` (.ci/run does)", pytrace=False
        )
    if shutil.which("node") is None:
        pytest.fail("node is not on PATH; the MCP Inspector needs it", pytrace=False)
    try:
        s = McpSite.start(tmp_path_factory.mktemp("inspector"))
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield s
    s.stop()


def inspector(site: McpSite, target: list[str], *args: str) -> dict:
    """Runs the Inspector's CLI mode; its stdout is the JSON result."""
    out = subprocess.run(
        [str(INSPECTOR), "--cli", *target, *args],
        env={"PATH": site.env["PATH"], "HOME": site.env["HOME"]},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, f"inspector failed ({out.returncode}): {out.stderr[-2000:]}"
    start = out.stdout.find("{")
    assert start >= 0, f"no JSON on stdout: {out.stdout[-2000:]}"
    return json.loads(out.stdout[start:])


def stdio_target(site: McpSite) -> list[str]:
    # The Inspector starts the server with only the variables it is given (-e), as an MCP host would.
    env = [arg for k, v in site.env.items() for arg in ("-e", f"{k}={v}")]
    return [*env, str(site.binary), "mcp"]


def check(site: McpSite, target: list[str]) -> None:
    listed = inspector(site, target, "--method", "tools/list")
    assert [t["name"] for t in listed["tools"]] == MCP_TOOLS, listed
    assert all("outputSchema" in t and "annotations" in t for t in listed["tools"])
    person = site.agents()[0]
    result = inspector(
        site, target, "--method", "tools/call", "--tool-name", "find_user", "--tool-arg", f"query={person.email}"
    )
    assert result.get("isError") is False, result
    assert result["structuredContent"]["users"][0]["account_id"] == person.account_id, result


def test_inspector_cli_over_stdio(site: McpSite):
    check(site, stdio_target(site))


def test_inspector_cli_over_streamable_http(site: McpSite):
    server = McpHttp(site)
    try:
        target = [server.url, "--transport", "http", "--header", f"Authorization: Bearer {site.token}"]
        check(site, target)
        denied = subprocess.run(
            [str(INSPECTOR), "--cli", server.url, "--transport", "http", "--method", "tools/list"],
            env={"PATH": site.env["PATH"], "HOME": site.env["HOME"]},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert denied.returncode != 0, "without a token the Inspector is refused"
    finally:
        server.stop()
