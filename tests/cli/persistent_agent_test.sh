#!/usr/bin/env bash
# The persistent agent through remexd (agent.persistent): executions on one
# host share one agent (the command's parent is the same process), the agent
# dies with its executions reported lost, and remexd still stops cleanly.
# Without the setting every execution has an agent of its own.
set -u
here=$(cd "$(dirname "$0")" && pwd)
remexd=${1:?usage: persistent_agent_test.sh PATH/TO/remexd PATH/TO/remex}
remex=${2:?usage: persistent_agent_test.sh PATH/TO/remexd PATH/TO/remex}
. "$here/lib.sh"
tmp=$(mktemp -d)
trap 'kill -TERM "$REMEXD_PID" 2>/dev/null; rm -rf "$tmp"' EXIT

parents() {
  for _ in 1 2 3; do "$remex" run -- sh -c 'echo $PPID'; done | sort -u | wc -l
}

start_remexd "$tmp/p" "$remexd" --agent.persistent
export REMEX_BROKER=127.0.0.1:$REMEXD_PORT REMEX_TOKEN_FILE=$REMEXD_TOKEN
expect_eq "persistent: three executions, one agent" 1 "$(parents)"
# Two at once on it, each with its own bytes and exit code.
"$remex" run -- sh -c 'sleep 0.3; echo one; exit 3' >"$tmp/one" &
first=$!
out=$("$remex" run -- sh -c 'echo two; exit 4')
expect_eq "persistent: a second command while the first runs" "4 two" "$? $out"
wait "$first"
expect_eq "persistent: the first keeps its own" "3 one" "$? $(cat "$tmp/one")"
# The agent killed under a running command: lost (255), and the next
# command gets a new agent.
"$remex" run -- sh -c 'echo $PPID; sleep 30' >"$tmp/agent" 2>"$tmp/err" &
running=$!
for _ in $(seq 100); do [ -s "$tmp/agent" ] && break; sleep 0.05; done
kill -KILL "$(cat "$tmp/agent")"
wait "$running"
expect_eq "persistent: agent killed exits 255" 255 $?
expect_contains "persistent: agent killed says the fate is unknown" \
  "fate is unknown" "$(cat "$tmp/err")"
out=$("$remex" run -- echo again)
expect_eq "persistent: the next command starts a new agent" "0 again" "$? $out"
stop_remexd
expect_eq "persistent: remexd ends 0 on SIGTERM" 0 $?

start_remexd "$tmp/d" "$remexd"
export REMEX_BROKER=127.0.0.1:$REMEXD_PORT REMEX_TOKEN_FILE=$REMEXD_TOKEN
expect_eq "default: three executions, three agents" 3 "$(parents)"
stop_remexd
expect_eq "default: remexd ends 0 on SIGTERM" 0 $?
finish
