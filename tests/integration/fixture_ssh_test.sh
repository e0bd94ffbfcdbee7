#!/usr/bin/env bash
# The sshd fixture works end to end: the plain ssh client reaches it through
# the generated ssh_config, runs a command, and gets its output and exit code.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
fixture=$here/../fixtures/sshd-fixture
dir=$(mktemp -d /tmp/remex-fixture-test.XXXXXX)
trap '"$fixture" stop "$dir"; rm -rf "$dir"' EXIT

"$fixture" start "$dir"
# shellcheck disable=SC1091
. "$dir/env"

set +e
out=$(ssh -F "$FIXTURE_SSH_CONFIG" fixture 'echo hi; exit 3')
rc=$?
set -e

fail=0
if [ "$out" != "hi" ]; then
  echo "FAIL: output was '$out', expected 'hi'" >&2
  fail=1
fi
if [ "$rc" -ne 3 ]; then
  echo "FAIL: exit code was $rc, expected 3" >&2
  fail=1
fi
# The session ran as the throwaway user, not as root.
who=$(ssh -F "$FIXTURE_SSH_CONFIG" fixture 'id -un')
if [ "$who" != "$FIXTURE_USER" ]; then
  echo "FAIL: remote user was '$who', expected '$FIXTURE_USER'" >&2
  fail=1
fi

pid=$FIXTURE_PID
"$fixture" stop "$dir"
if kill -0 "$pid" 2>/dev/null; then
  echo "FAIL: sshd $pid still running after stop" >&2
  fail=1
fi
[ "$fail" -eq 0 ] && echo "PASS: fixture ssh output and exit code"
exit "$fail"
