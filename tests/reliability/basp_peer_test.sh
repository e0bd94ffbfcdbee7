#!/usr/bin/env bash
# CAF nodes that try to get into a remexd (basp_peer.cpp): a plain BASP
# handshake without TLS, and TLS with a certificate remexd never issued, get
# no handle at all, so there is no connection over which to guess actor ids
# (CAF 0.17.6 delivers to any registered id: DESIGN.md, field notes). With
# the right token: messages outside the broker's public interface (internal
# atoms, wrong shapes, junk) get errors, never a value; CAF's remote spawn
# finds nothing to spawn; an exit message is ignored. remexd keeps running
# and serving after each.
#
#   basp_peer_test.sh PATH/TO/remex PATH/TO/remexd PATH/TO/basp_peer
set -u
here=$(cd "$(dirname "$0")" && pwd)
remex=${1:?usage: basp_peer_test.sh remex remexd basp_peer}
remexd=${2:?usage: basp_peer_test.sh remex remexd basp_peer}
peer=${3:?usage: basp_peer_test.sh remex remexd basp_peer}
. "$here/../cli/lib.sh"
. "$here/lib.sh"
tmp=$(mktemp -d)
REMEXD_PID=
trap '[ -z "$REMEXD_PID" ] || kill -KILL "$REMEXD_PID" 2>/dev/null; rm -rf "$tmp"' EXIT

start_remexd "$tmp/d" "$remexd"
B=127.0.0.1:$REMEXD_PORT
served() {
  local out
  out=$(timeout 20 "$remex" --broker "$B" --token-file "$REMEXD_TOKEN" run -- echo "$1" 2>&1)
  expect_eq "after the $1 peer: remexd runs and serves" "0 $1" "$? $out"
}

# A token file of the right kind that remexd never issued: key and
# self-signed certificate, like remexd's own.
mkdir -m 0700 "$tmp/other"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout "$tmp/other/key" -out "$tmp/other/crt" -days 2 \
  -subj "/CN=remex node token" >/dev/null 2>&1
(umask 077 && cat "$tmp/other/key" "$tmp/other/crt" >"$tmp/other/token")

timeout 30 "$peer" plain 127.0.0.1 "$REMEXD_PORT" >"$tmp/plain" 2>&1
expect_eq "plain BASP: no handle" 0 $?
expect_contains "plain BASP: refused" "refused: plain BASP" "$(cat "$tmp/plain")"
served plain

timeout 30 "$peer" foreign 127.0.0.1 "$REMEXD_PORT" "$tmp/other/token" >"$tmp/foreign" 2>&1
expect_eq "foreign certificate: no handle" 0 $?
expect_contains "foreign certificate: refused" "refused: foreign certificate" "$(cat "$tmp/foreign")"
wait_file_has "$REMEXD_LOG" "refused a connection from 127.0.0.1" 5 &&
  pass "remexd logs the refused TLS peer" || fail "no refusal line in remexd's log"
served foreign

timeout 60 "$peer" token 127.0.0.1 "$REMEXD_PORT" "$REMEXD_TOKEN" >"$tmp/token" 2>&1
rc=$?
cat "$tmp/token" | sed 's/^/#   /'
expect_eq "with the token: nothing outside the interface answered, ping still answered" 0 "$rc"
expect_eq "with the token: every junk message refused" 18 "$(grep -c '^refused: ' "$tmp/token")"
expect_eq "with the token: no value for any of them" "" "$(grep '^answered: ' "$tmp/token")"
served token
kill -0 "$REMEXD_PID" && pass "remexd still runs" || fail "remexd died"

# An exit message with reason kill, which CAF 0.17 lets no actor refuse,
# leaves the published actor unresponsive (no down message either, so
# remexd cannot notice and stop). Checked: clients then get one line at
# once, not a hang. remexd going deaf is a known problem (README.md).
timeout 30 "$peer" kill 127.0.0.1 "$REMEXD_PORT" "$REMEXD_TOKEN" >"$tmp/kill" 2>&1
expect_eq "kill: the token peer got its handle" "got: broker handle" "$(cat "$tmp/kill")"
t0=$(now_ms)
out=$(timeout 30 "$remex" --broker "$B" --token-file "$REMEXD_TOKEN" run -- echo after 2>&1)
rc=$?
ms=$(($(now_ms) - t0))
expect_eq "kill: a client then gets 255 and one line" "255 1" "$rc $(echo "$out" | wc -l)"
[ "$ms" -lt 5000 ] && pass "kill: ... within $ms ms" || fail "kill: the client took $ms ms"
echo "# after exit(kill): $out"
if [ "$rc" = 0 ]; then pass "kill: remexd still serves"; else
  skip "kill: remexd is deaf after a token holder's exit(kill) (known problem)"
fi
stop_remexd
expect_eq "remexd ends 0 on SIGTERM" 0 $?
REMEXD_PID=
finish
