#!/usr/bin/env bash
# CAF nodes that try to get into a remexd (basp_peer.cpp): a plain BASP
# handshake without TLS, and TLS with a certificate remexd never issued, get
# no handle at all, so there is no connection over which to guess actor ids
# (CAF 0.17.6 delivers to any registered id: DESIGN.md, field notes). With
# the right token: messages outside the broker's public interface (internal
# atoms, wrong shapes, junk) get errors, never a value; CAF's remote spawn
# finds nothing to spawn; an exit message is ignored; internal messages and
# exits sent to guessed actor ids neither stop nor disturb anything.
# remexd keeps running and serving after each.
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

# An exit message with reason kill, which CAF 0.17 lets no actor refuse
# once it is in the mailbox: the published face drops it before that
# (public_face.cpp), so remexd keeps answering.
timeout 30 "$peer" kill 127.0.0.1 "$REMEXD_PORT" "$REMEXD_TOKEN" >"$tmp/kill" 2>&1
expect_eq "kill: the token peer got its handle" "got: broker handle" "$(cat "$tmp/kill")"
served kill
# Guessed actor ids: every actor whose handle or messages crossed the wire
# is registered under its id (CAF 0.17.6) and reachable by any token holder.
# Exit messages (user_shutdown, kill; anonymous, with a sender, and forged
# with the target as source) sent to ids 1..200 while an execution runs must
# neither end it nor stop remexd (wire_guard.hpp).
timeout 60 "$remex" --broker "$B" --token-file "$REMEXD_TOKEN" run -- \
  sh -c 'sleep 3; echo survived' >"$tmp/kill.run" 2>&1 &
run=$!
sleep 1
timeout 60 "$peer" guess-kill 127.0.0.1 "$REMEXD_PORT" "$REMEXD_TOKEN" 200 >"$tmp/guess-kill" 2>&1
sed 's/^/#   /' "$tmp/guess-kill"
expect_contains "guess-kill: exits sent to ids 1..200" "sent: 4 messages to each of ids 1..200" "$(cat "$tmp/guess-kill")"
expect_contains "guess-kill: the broker still answers the peer" "got: ping answered" "$(cat "$tmp/guess-kill")"
wait $run
expect_eq "guess-kill: the running execution ends normally" "0 survived" "$? $(cat "$tmp/kill.run")"
served guess-kill
kill -0 "$REMEXD_PID" && pass "guess-kill: remexd still runs" || fail "guess-kill: remexd died"

# Internal messages (shutdown, done, cancel, signal 9, eof …) to guessed
# ids, anonymous and with a sender: every actor the node hands out takes
# messages off the wire only from the node it handed it to, the others
# none at all (wire_guard.hpp). The running execution ends as it would
# have, the broker does not shut down, and a request to a guessed id is
# answered with an error at once.
timeout 60 "$remex" --broker "$B" --token-file "$REMEXD_TOKEN" run -- \
  sh -c 'sleep 3; echo survived' >"$tmp/guess.run" 2>&1 &
run=$!
sleep 1
timeout 200 "$peer" guess 127.0.0.1 "$REMEXD_PORT" "$REMEXD_TOKEN" 200 >"$tmp/guess" 2>&1
sed 's/^/#   /' "$tmp/guess"
wait $run
expect_eq "guess: the running execution ends normally" "0 survived" "$? $(cat "$tmp/guess.run")"
expect_contains "guess: the broker still answers the peer" "got: ping answered" "$(cat "$tmp/guess")"
requests=$(grep '^requests: ' "$tmp/guess")
expect_contains "guess: no request to a guessed id answered" "requests: 0 answered," "$requests"
expect_contains "guess: no request to a guessed id left unanswered" " 0 silent" "$requests"
refused=$(sed -n 's/^requests: [0-9]* answered, \([0-9]*\) refused.*/\1/p' "$tmp/guess")
[ "${refused:-0}" -ge 3 ] &&
  pass "guess: the node's actors refused requests to their ids ($refused)" ||
  fail "guess: fewer than 3 of the node's actors refused a request ($requests)"
out=$(timeout 20 "$remex" --broker "$B" --token-file "$REMEXD_TOKEN" run -- echo guess 2>&1)
expect_eq "guess: remexd still serves" "0 guess" "$? $out"
kill -0 "$REMEXD_PID" && pass "guess: remexd still runs" || fail "guess: remexd died"

stop_remexd
expect_eq "remexd ends 0 on SIGTERM" 0 $?
REMEXD_PID=
finish
