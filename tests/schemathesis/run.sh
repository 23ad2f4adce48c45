#!/usr/bin/env bash
# schemathesis (pinned in tests/compat/requirements.txt) against the OpenAPI document of `jsmctl serve`, every check,
# authenticated as an operator. Starts an emulator and a service on free loopback ports and stops both by pid.
# Usage: JSMCTL_BIN=target/debug/jsmctl tests/schemathesis/run.sh [path/to/schemathesis]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${JSMCTL_BIN:?set JSMCTL_BIN to the jsmctl binary}"
st="${1:-$here/../../.venv/bin/schemathesis}"
work="$(mktemp -d)"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

wait_for_line() { # file, seconds
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        [ -s "$1" ] && return 0
        sleep 0.1
    done
    echo "timed out waiting for $1" >&2
    return 1
}

"$bin" emulator --listen 127.0.0.1:0 --seed demo --admin-token st-admin --env-file "$work/env" >"$work/emu.out" 2>"$work/emu.err" &
pids+=($!)
wait_for_line "$work/env" 20
set -a
. "$work/env"
set +a
export JSMCTL_STATE="$work/state.db" JSMCTL_ACTOR=alice JSMCTL_WEBHOOK_SECRET=st-secret HOME="$work"
JSMCTL_OPERATOR_TOKEN="$("$bin" operators add schemathesis 2>/dev/null)"
export JSMCTL_OPERATOR_TOKEN
# Something to find: a plan waiting for approval and one that is ready.
"$bin" agents provision --email st.agent@example.com --name "ST Agent" --out "$work/agent.json" >/dev/null
"$bin" customers create --email st.customer@example.com --name "ST Customer" --out "$work/customer.json" >/dev/null
"$bin" serve --listen 127.0.0.1:0 --no-worker >"$work/serve.out" 2>"$work/serve.err" &
pids+=($!)
wait_for_line "$work/serve.out" 20
base="$(head -1 "$work/serve.out")"
echo "schemathesis: $base/openapi.json"
"$st" --config-file "$here/schemathesis.toml" run "$base/openapi.json" --checks all --workers 1 --no-color
