#!/usr/bin/env bash
# Runs a CLI test script a second time with every `remex run` going through
# a remexd (REMEX_BROKER and REMEX_TOKEN_FILE): the same cases and the same
# assertions must hold for the daemon as for the embedded broker. Then the
# remexd must stop cleanly on SIGTERM with nothing left running.
#
#   through_remexd.sh PATH/TO/remexd SCRIPT ARGS...
set -u
here=$(cd "$(dirname "$0")" && pwd)
remexd=${1:?usage: through_remexd.sh PATH/TO/remexd SCRIPT ARGS...}
shift
. "$here/lib.sh"
tmp=$(mktemp -d)
trap 'kill -TERM "$REMEXD_PID" 2>/dev/null; rm -rf "$tmp"' EXIT
# REMEXD_ARGS: extra remexd flags, e.g. --agent.persistent to run the
# same cases against the persistent agent.
# shellcheck disable=SC2086
start_remexd "$tmp" "$remexd" ${REMEXD_ARGS:-}
export REMEX_BROKER=127.0.0.1:$REMEXD_PORT REMEX_TOKEN_FILE=$REMEXD_TOKEN
"$@"
rc=$?
stop_remexd
expect_eq "remexd ends 0 on SIGTERM" 0 $?
started=$(grep -c "start:\|] files on " "$REMEXD_LOG")
[ "$started" -gt 0 ] && pass "the cases ran through remexd ($started executions and file sessions)" ||
  fail "no execution went through remexd"
finish && exit $rc
