#!/usr/bin/env bash
# A peer remexd fails mid-stream: a command enters node A and runs on node B,
# which serves its host; while its output streams, B is SIGKILLed (and, in
# a second round, SIGSTOPped: alive to TCP, silent to everyone). Checks: the
# client ends 255 within seconds with one line saying the node is lost; no
# remote process of the command remains (B's death ends its ssh session,
# and the agent kills the command); A goes on serving the host it serves
# itself, at once. (tests/cluster/cluster_test.sh covers the quiet cases:
# a sleeping command, the requester's node killed.)
#
#   peer_fault_test.sh PATH/TO/remex PATH/TO/remexd      (root: fixture)
set -u
here=$(cd "$(dirname "$0")" && pwd)
remex=$(realpath "${1:?usage: peer_fault_test.sh remex remexd}")
remexd=$(realpath "${2:?usage: peer_fault_test.sh remex remexd}")
. "$here/../cli/lib.sh"
. "$here/lib.sh"
start_node_fixture
token=$tmp/token
# "near": the same sshd under a name only A serves.
conf=$tmp/ssh_config
{ cat "$FIXTURE_SSH_CONFIG"; sed 's/^Host fixture/Host near/' "$FIXTURE_SSH_CONFIG"; } >"$conf"
chmod 0644 "$conf"
pa=$(free_port)
pb=$(free_port)
start_node A "$pa" --serves near --peer "127.0.0.1:$pb" || exit 1
injected=0

# joined NODE PEER COUNT: NODE's log says PEER joined COUNT times.
joined() {
  local i
  for ((i = 0; i < 100; i++)); do
    [ "$(grep -c "peer $2 joined" "$tmp/$1/remexd.log")" -ge "$3" ] && return 0
    sleep 0.1
  done
  return 1
}
via_a() { "$remex" --broker "127.0.0.1:$pa" --token-file "$token" run -F "$conf" "$@"; }

# round SIGNAL N: B (re)started, a streaming command through A to B, B gets
# SIGNAL.
round() {
  local sig=$1 n=$2 name="B got SIG$1 mid-stream"
  local marker="remex-peer-$$-$sig" d=$tmp/$sig
  mkdir -p "$d"
  start_node B "$pb" --serves fixture --peer "127.0.0.1:$pa" || return
  joined A B "$n" || fail "$name: B never joined A"
  via_a -H fixture -- sh -c "echo ready; while :; do echo tick; sleep 0.1; done; : $marker" \
    >"$d/out" 2>"$d/err" &
  local client=$!
  wait_file_has "$d/out" tick 15 || {
    fail "$name: the command never streamed: $(cat "$d/err")"
    kill -KILL "$client"
    return
  }
  grep -q "(requester node A)" "$tmp/B/remexd.log" &&
    pass "$name: the command runs on B, for A" || fail "$name: it did not run on B"
  local t0 rc ms
  t0=$(now_ms)
  kill "-$sig" "$PID_B"
  injected=$((injected + 1))
  # A serves its own host meanwhile, at once.
  local t1 out
  t1=$(now_ms)
  out=$(via_a -H near -- echo near 2>&1)
  expect_eq "$name: meanwhile A serves its own host" "0 near" "$? $out"
  ms=$(($(now_ms) - t1))
  [ "$ms" -lt 3000 ] && pass "$name: ... in $ms ms" || fail "$name: A's own host took $ms ms"
  await "$client" 30
  rc=$?
  ms=$(($(now_ms) - t0))
  echo "# $name: the client ended $ms ms after the signal (rc $rc)"
  expect_eq "$name: exit code 255" 255 "$rc"
  [ "$ms" -lt "$3" ] && pass "$name: within $3 ms" || fail "$name: after $ms ms (want < $3 ms)"
  expect_eq "$name: one line, the node is lost" \
    "remex: fixture: node B lost; the command's fate is unknown" "$(cat "$d/err")"
  if [ "$sig" = STOP ]; then
    # B's ssh session is alive while B sleeps; it must end the command
    # once it wakes and finds its requester gone.
    kill -CONT "$PID_B"
  fi
  wait_gone "$marker" 10 && pass "$name: no remote process remains" ||
    fail "$name: left running: $(pgrep -af "$marker")"
  out=$(via_a -H near -- echo after 2>&1)
  expect_eq "$name: A serves its own host afterwards" "0 after" "$? $out"
  kill -KILL "$PID_B" 2>/dev/null
  wait "$PID_B" 2>/dev/null
}

round KILL 1 5000
# A silent peer is given up by the link watch (a ping every 2 s, lost after
# 5 missed): about 10-12 s.
round STOP 2 16000
kill -0 "$PID_A" && pass "A survived $injected peer faults" || fail "A died"
echo "# peer faults injected: $injected"
finish
