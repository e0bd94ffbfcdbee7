#!/usr/bin/env bash
# The cluster, checked the way its user would: remexd nodes on loopback that
# route executions to each other. A request entering node B for a host only
# node A serves runs on A with its streams, stdin, signals, --pass-fd,
# timeout and exit code intact, 1 GB byte-exact; A killed mid-run, B's
# client hears so at once and nothing survives; A back, B uses it again; B
# killed, A kills the command; a ring where nobody serves the target ends
# cleanly; TLS nodes with certificates of a test CA join, others are
# refused; off loopback without TLS is refused at start.
#
#   cluster_test.sh PATH/TO/remex PATH/TO/remexd
#
# Runs as root (the fixture creates its user). About a minute.
set -u
here=$(cd "$(dirname "$0")" && pwd)
remex=$(realpath "${1:?usage: cluster_test.sh PATH/TO/remex PATH/TO/remexd}")
remexd=$(realpath "${2:?usage: cluster_test.sh PATH/TO/remex PATH/TO/remexd}")
. "$here/../cli/lib.sh"

start_node_fixture
test_started=$(date +%s)
# The nodes of one user on one machine share the user's token file.
token=$tmp/token

# joined NODE PEER [SECONDS] [COUNT]: NODE's log says PEER joined (COUNT
# times, default 1) within SECONDS (default 10).
joined() {
  local i
  for ((i = 0; i < ${3:-10} * 10; i++)); do
    [ "$(grep -c "peer $2 joined" "$tmp/$1/remexd.log")" -ge "${4:-1}" ] && return 0
    sleep 0.1
  done
  return 1
}

# stop NAME: SIGTERM, and wait for it.
stop() {
  local pid_var=PID_$1 i
  local pid=${!pid_var}
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 150; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && fail "node $1 did not stop on SIGTERM"
  wait "$pid" 2>/dev/null
}

# via PORT ARGS...: remex run through the node on PORT.
via() {
  local port=$1
  shift
  "$remex" --broker "127.0.0.1:$port" --token-file "${CLIENT_TOKEN:-$token}" run "$@"
}

remote_running() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    pgrep -u "$FIXTURE_USER" -f "$1" >/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# 1 GB of bytes that are not all alike, cheaply: AES-CTR over zeros.
gigabyte='openssl enc -aes-128-ctr -nosalt -K 000102030405060708090a0b0c0d0e0f -iv 0 </dev/zero 2>/dev/null | head -c 1000000000'

# --- 1. two nodes: B passes the fixture's requests to A -------------------
case_two_nodes() {
  section "two nodes: B forwards to A"
  pa=$(free_port)
  pb=$(free_port)
  # Each lists the other (symmetric); A starts first and finds nobody at
  # B's port, so it retries.
  start_node A "$pa" --serves fixture --serves 'fixture-*' --peer "127.0.0.1:$pb" || return
  start_node B "$pb" --serves 'b-only-*' --peer "127.0.0.1:$pa" || return
  joined B A && pass "B learns A when it connects" || fail "B never learnt A: $(cat "$tmp/B/remexd.log")"
  joined A B && pass "A learns B (it retried B, and B connected to it)" || fail "A never learnt B"

  local out rc d=$tmp/two
  mkdir -p "$d"
  out=$(via "$pb" "${fx[@]}" -- sh -c 'echo to-out; echo to-err >&2; exit 7' 2>"$d/err")
  rc=$?
  expect_eq "runs on A: stdout and exit code" "7 to-out" "$rc $out"
  expect_eq "runs on A: stderr" "to-err" "$(cat "$d/err")"
  expect_contains "B's log: forwarded to A" "exec on fixture forwarded to node A" "$(cat "$tmp/B/remexd.log")"
  expect_contains "A's log: it ran there, for B" "(requester node B)" "$(grep ' start: ' "$tmp/A/remexd.log")"
  expect_eq "B ran nothing itself" 0 "$(grep -c ' start: ' "$tmp/B/remexd.log")"

  out=$(printf 'line one\nline two\n' | via "$pb" "${fx[@]}" -- sh -c 'cat; echo end')
  expect_eq "stdin crosses the hop" "line one
line two
end" "$out"

  via "$pb" "${fx[@]}" --pass-fd 3 --pass-fd 4 -- sh -c 'cat <&3 >&4; echo back on four >&4' \
    3< <(echo through fd three) 4>"$d/fd4"
  expect_eq "--pass-fd both ways across the hop" "through fd three
back on four" "$(cat "$d/fd4")"

  local t0
  t0=$(now_ms)
  via "$pb" "${fx[@]}" --timeout 1 -- sleep 30 2>"$d/timeout.err"
  rc=$?
  expect_eq "--timeout across the hop: 124, about a second" "124 yes" \
    "$rc $([ $(($(now_ms) - t0)) -lt 5000 ] && echo yes || echo no)"

  set -m
  for sig in INT TERM; do
    : >"$d/sig"
    # remex itself, not a function's subshell: it is what gets the signal.
    "$remex" --broker "127.0.0.1:$pb" --token-file "$token" run "${fx[@]}" \
      -- sh -c "trap 'echo got $sig; exit 7' $sig; echo ready; while :; do sleep 0.05; done" >"$d/sig" &
    local pid=$!
    wait_file_has "$d/sig" ready 10 || fail "SIG$sig: remote never ready"
    kill -"$sig" "$pid"
    await "$pid" 10
    rc=$?
    expect_eq "SIG$sig crosses the hop: the trap's exit code and output" "7 got $sig" \
      "$rc $(grep got "$d/sig")"
  done
  set +m

  out=$(via "$pb" -H nobody-serves-this -- true 2>"$d/none.err")
  rc=$?
  expect_eq "a target nobody serves: 255, nothing ran" "255 " "$rc $out"
  expect_eq "a target nobody serves: says so in one line" \
    "remex: nobody-serves-this: no node serves it" "$(cat "$d/none.err")"

  # File sessions route the same way (remex fs, paths, cp).
  echo "a file on the host" >"$d/file"
  chmod a+r "$d/file"
  out=$("$remex" --broker "127.0.0.1:$pb" --token-file "$token" fs "${fx[@]}" cat "$d/file" 2>&1)
  expect_eq "remex fs through B runs on A" "0 a file on the host" "$? $out"
  expect_contains "A opened the file session, for B's client" "files on fixture" \
    "$(cat "$tmp/A/remexd.log")"
  out=$("$remex" --broker "127.0.0.1:$pb" --token-file "$token" fs -H nobody-serves-this cat /etc/hostname 2>&1)
  expect_eq "remex fs for a target nobody serves: 255, one line" \
    "255 remex: nobody-serves-this: no node serves it" "$? $out"

  # 1 GB from A to B's client, compared by checksum with the same bytes
  # made here.
  local want got
  want=$(sh -c "$gigabyte" | sha256sum)
  t0=$(now_ms)
  got=$(via "$pb" "${fx[@]}" -- sh -c "$gigabyte" | sha256sum)
  local ms=$(($(now_ms) - t0))
  expect_eq "1 GB across the hop, byte-exact" "$want" "$got"
  echo "# 1 GB through B to A: ${ms} ms"

  # A slow client at B slows the command at A: 200 MB read at 25 MB/s, and
  # neither node's memory grows by more than a fraction of it meanwhile.
  local rss_a0 rss_b0 peak_a=0 peak_b=0 r
  rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
  rss_a0=$(rss "$PID_A")
  rss_b0=$(rss "$PID_B")
  want=$(sh -c "${gigabyte/1000000000/200000000}" | sha256sum)
  (via "$pb" "${fx[@]}" -- sh -c "${gigabyte/1000000000/200000000}" | pv -q -L 25m |
    sha256sum >"$d/slow.sum") &
  local slow=$!
  while kill -0 "$slow" 2>/dev/null; do
    r=$(rss "$PID_A")
    [ "$r" -gt "$peak_a" ] && peak_a=$r
    r=$(rss "$PID_B")
    [ "$r" -gt "$peak_b" ] && peak_b=$r
    sleep 0.2
  done
  wait "$slow"
  expect_eq "200 MB through a slow client, byte-exact" "$want" "$(cat "$d/slow.sum")"
  echo "# slow client: RSS growth A $((peak_a - rss_a0)) kB, B $((peak_b - rss_b0)) kB"
  expect_eq "no node buffers for the slow client (RSS growth < 48 MB on A and B)" "yes yes" \
    "$([ $((peak_a - rss_a0)) -lt 49152 ] && echo yes || echo no) $([ $((peak_b - rss_b0)) -lt 49152 ] && echo yes || echo no)"
}

# --- 2. A killed mid-run; A back -----------------------------------------
case_a_killed() {
  section "A killed mid-run, then back"
  local d=$tmp/akill m=akill-$RANDOM$RANDOM rc t0 out
  mkdir -p "$d"
  (
    via "$pb" "${fx[@]}" -- sh -c "sleep 300; : $m" >"$d/c.out" 2>"$d/c.err"
    echo $? >"$d/c.rc"
    now_ms >"$d/c.end"
  ) &
  local c=$!
  remote_running "$m" 10 || fail "the command did not start on the fixture"
  t0=$(now_ms)
  kill -KILL "$PID_A"
  wait "$PID_A" 2>/dev/null
  await "$c" 15
  local after=$(($(cat "$d/c.end" 2>/dev/null || now_ms) - t0))
  expect_eq "B's client exits 255 within 5 s" "255 yes" \
    "$(cat "$d/c.rc" 2>/dev/null) $([ "$after" -lt 5000 ] && echo yes || echo "no (${after} ms)")"
  expect_eq "with one line saying the node is lost" \
    "remex: fixture: node A lost; the command's fate is unknown" "$(cat "$d/c.err")"
  wait_gone "$m" 5 && pass "no remote process remains" ||
    fail "remote process still there: $(pgrep -af "$m")"
  expect_contains "B's log says A is lost" "peer A lost" "$(cat "$tmp/B/remexd.log")"

  out=$(via "$pb" "${fx[@]}" -- echo meanwhile 2>&1)
  expect_eq "while A is down: a clean 255" "255 remex: fixture: no node serves it" "$? $out"

  start_node A "$pa" --serves fixture || return
  joined B A 10 2 && pass "A restarted: B connects to it again" ||
    fail "B did not reconnect to A: $(tail -5 "$tmp/B/remexd.log")"
  out=$(via "$pb" "${fx[@]}" -- echo again 2>&1)
  expect_eq "A restarted: the next request works" "0 again" "$? $out"
}

# --- 3. B stopped while A runs a request B passed on -----------------------
case_b_stopped() {
  section "B stopped (SIGTERM) while A runs its request"
  local d=$tmp/bterm m=bterm-$RANDOM$RANDOM t0 rc
  mkdir -p "$d"
  stop B
  start_node B "$pb" --serves 'b-only-*' --peer "127.0.0.1:$pa" --limits.shutdown-grace=1s || return
  joined B A || fail "B did not join A again"
  "$remex" --broker "127.0.0.1:$pb" --token-file "$token" run "${fx[@]}" \
    -- sh -c "sleep 300; : $m" >"$d/c.out" 2>"$d/c.err" &
  local c=$!
  remote_running "$m" 10 || fail "the command did not start on the fixture"
  t0=$(now_ms)
  kill -TERM "$PID_B"
  await "$c" 10
  rc=$?
  expect_eq "B's client: 255, broker shutting down" \
    "255 remex: fixture: broker shutting down" "$rc $(cat "$d/c.err")"
  await "$PID_B" 10
  expect_eq "B ends 0 once its grace is over, within 5 s" "0 yes" \
    "$? $([ $(($(now_ms) - t0)) -lt 5000 ] && echo yes || echo no)"
  wait_gone "$m" 5 && pass "the remote process is gone" ||
    fail "remote process still there: $(pgrep -af "$m")"
  start_node B "$pb" --serves 'b-only-*' --peer "127.0.0.1:$pa" || return
  joined B A || fail "B did not join A again"
}

# --- 4. B killed while A runs its request ---------------------------------
case_b_killed() {
  section "B killed while A runs its request"
  local d=$tmp/bkill m=bkill-$RANDOM$RANDOM t0
  mkdir -p "$d"
  via "$pb" "${fx[@]}" -- sh -c "sleep 300; : $m" >"$d/c.out" 2>"$d/c.err" &
  local c=$!
  remote_running "$m" 10 || fail "the command did not start on the fixture"
  t0=$(now_ms)
  kill -KILL "$PID_B"
  wait "$PID_B" 2>/dev/null
  wait_gone "$m" 5 && pass "the remote process is gone within 5 s" ||
    fail "remote process still there: $(pgrep -af "$m")"
  await "$c" 15
  expect_eq "B's client exits 255" 255 $?
  local i
  for ((i = 0; i < 50; i++)); do
    grep -q " end: " "$tmp/A/remexd.log" && [ "$(grep -c ' end: ' "$tmp/A/remexd.log")" = "$(grep -c ' start: ' "$tmp/A/remexd.log")" ] && break
    sleep 0.1
  done
  expect_eq "A ended every execution it started" \
    "$(grep -c ' start: ' "$tmp/A/remexd.log")" "$(grep -c ' end: ' "$tmp/A/remexd.log")"
  stop A
}

# --- 5. three nodes in a ring -----------------------------------------------
case_ring() {
  section "ring A→B→C→A"
  local a b c out rc t0
  a=$(free_port)
  b=$(free_port)
  c=$(free_port)
  # A serves the fixture; B and C serve nothing anyone asks for.
  start_node A "$a" --serves fixture --peer "127.0.0.1:$b" || return
  start_node B "$b" --serves b-only --peer "127.0.0.1:$c" || return
  start_node C "$c" --serves c-only --peer "127.0.0.1:$a" || return
  joined B A && joined B C && joined C A && joined C B && joined A B && joined A C &&
    pass "every node learns both others" || fail "the ring did not form"
  t0=$(now_ms)
  out=$(via "$b" -H nowhere -- true 2>&1)
  rc=$?
  expect_eq "nobody serves the target: a clean 255 at once" \
    "255 remex: nowhere: no node serves it yes" \
    "$rc $out $([ $(($(now_ms) - t0)) -lt 3000 ] && echo yes || echo no)"
  expect_eq "and it was forwarded nowhere" 0 \
    "$(cat "$tmp"/[ABC]/remexd.log | grep -c 'forwarded')"
  out=$(via "$c" "${fx[@]}" -- echo from-c 2>&1)
  expect_eq "a request entering C runs on A (configured peer)" "0 from-c" "$? $out"
  out=$(via "$b" "${fx[@]}" -- echo from-b 2>&1)
  expect_eq "a request entering B runs on A (a peer that joined B)" "0 from-b" "$? $out"
  expect_eq "A ran both" 2 "$(grep -c ' start: ' "$tmp/A/remexd.log")"
  # A file session through B, its client gone: A lets go of it (stop A
  # below fails if something of it stays).
  echo "ring file" >"$tmp/ring.txt"
  chmod a+r "$tmp/ring.txt"
  out=$("$remex" --broker "127.0.0.1:$b" --token-file "$token" fs "${fx[@]}" cat "$tmp/ring.txt" 2>&1)
  expect_eq "a file session through B" "0 ring file" "$? $out"
  # SIGHUP: what a node serves is announced again.
  printf 'serves = ["fixture-c"]\n' >"$tmp/C/remexd.conf"
  stop C
  : >"$tmp/C/remexd.log"
  start_node C "$c" --config "$tmp/C/remexd.conf" --peer "127.0.0.1:$a" || return
  printf 'serves = ["fixture-c", "late-*"]\n' >"$tmp/C/remexd.conf"
  joined B C 10 2 && kill -HUP "$PID_C"
  wait_file_has "$tmp/B/remexd.log" "peer C now serves fixture-c late-\*" 10 &&
    pass "after SIGHUP, peers learn what C serves now" ||
    fail "B did not hear C's new serves: $(grep 'peer C' "$tmp/B/remexd.log")"
  stop A
  stop B
  stop C
}

# --- 6. TLS with a CA --------------------------------------------------------
case_tls() {
  section "TLS with a test CA"
  local d=$tmp/pki n out a b c e
  mkdir -p "$d"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$d/ca.key" -out "$d/ca.crt" -days 2 -subj "/CN=remex test CA" >/dev/null 2>&1
  for n in A B client; do
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -keyout "$d/$n.key" -out "$d/$n.csr" -subj "/CN=$n" >/dev/null 2>&1
    openssl x509 -req -in "$d/$n.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
      -CAcreateserial -out "$d/$n.crt" -days 2 >/dev/null 2>&1
  done
  # Self-signed, with a CA of its own making.
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$d/self.key" -out "$d/self.crt" -days 2 -subj "/CN=S" >/dev/null 2>&1
  chmod 600 "$d"/*.key
  cat "$d/client.key" "$d/client.crt" "$d/ca.crt" >"$d/client.pem"
  chmod 600 "$d/client.pem"
  a=$(free_port)
  b=$(free_port)
  c=$(free_port)
  e=$(free_port)
  start_node A "$a" --serves fixture --tls-cert "$d/A.crt" --tls-key "$d/A.key" --tls-ca "$d/ca.crt" || return
  start_node B "$b" --serves b-only --peer "127.0.0.1:$a" \
    --tls-cert "$d/B.crt" --tls-key "$d/B.key" --tls-ca "$d/ca.crt" || return
  joined B A && joined A B && pass "nodes with certificates of the CA join" ||
    fail "B and A did not join: $(tail -3 "$tmp/B/remexd.log")"
  out=$(CLIENT_TOKEN=$d/client.pem via "$b" "${fx[@]}" -- echo over-tls 2>&1)
  expect_eq "a client with a CA certificate runs through B on A" "0 over-tls" "$? $out"
  out=$(via "$b" "${fx[@]}" -- echo with-token 2>&1)
  expect_eq "a client with only the token is refused by a TLS node" \
    "255 remex: broker 127.0.0.1:$b: access denied" "$? $out"
  start_node S "$c" --serves s-only --peer "127.0.0.1:$a" \
    --tls-cert "$d/self.crt" --tls-key "$d/self.key" --tls-ca "$d/self.crt" || return
  start_node T "$e" --serves t-only --peer "127.0.0.1:$a" || return
  # TLS 1.3: a client finishes its half of the handshake before the server
  # has checked its certificate, so the refused node hears either "access
  # denied" or the connection closing; the refusing node knows why.
  wait_file_has "$tmp/S/remexd.log" "peer 127.0.0.1:$a: cannot connect" 10 &&
    pass "a node with a self-signed certificate is refused (and logs it)" ||
    fail "S: $(tail -3 "$tmp/S/remexd.log")"
  wait_file_has "$tmp/T/remexd.log" "peer 127.0.0.1:$a: cannot connect" 10 &&
    pass "a node without a certificate (token only) is refused (and logs it)" ||
    fail "T: $(tail -3 "$tmp/T/remexd.log")"
  # A's own check, seen alone: a client that does not check A back.
  { sleep 1; } | timeout 10 openssl s_client -connect "127.0.0.1:$a" \
    -cert "$d/self.crt" -key "$d/self.key" >"$d/s_self.out" 2>&1
  wait_file_has "$tmp/A/remexd.log" "refused a connection from 127.0.0.1:[0-9]* (TLS: certificate verify failed)" 5 &&
    pass "A logs whom it refused, and why" || fail "A logged no refusal: $(tail -3 "$tmp/A/remexd.log")"
  expect_eq "A knows no node but B" "1" "$(grep -c 'joined' "$tmp/A/remexd.log")"
  stop S
  stop T
  stop B
  stop A

  # Off loopback: without TLS refused at start, with TLS it listens.
  local addr port rc
  addr=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -v '^127\.' | grep -v ':' | head -1)
  if [ -z "$addr" ]; then
    skip "off-loopback listen: this machine has no non-loopback IPv4 address"
    return
  fi
  port=$(free_port)
  timeout 10 "$remexd" --listen "$addr:$port" --token-file "$token" \
    --log-file "$d/off.log" >/dev/null 2>"$d/off.err"
  rc=$?
  expect_eq "--listen $addr without TLS: refused at start, one line" "1 1" \
    "$rc $(wc -l <"$d/off.err")"
  expect_contains "and says why" "is not on loopback: off loopback remexd needs --tls-cert" \
    "$(cat "$d/off.err")"
  mkdir -p "$tmp/O"
  : >"$tmp/O/remexd.log"
  "$remexd" --name O --listen "$addr:$port" --log-file "$tmp/O/remexd.log" \
    --tls-cert "$d/A.crt" --tls-key "$d/A.key" --tls-ca "$d/ca.crt" </dev/null >/dev/null 2>&1 &
  PID_O=$!
  daemons+=("$PID_O")
  wait_file_has "$tmp/O/remexd.log" "listening on" 10 &&
    pass "--listen $addr with TLS: it listens" || fail "O: $(cat "$tmp/O/remexd.log")"
  out=$("$remex" --broker "$addr:$port" --token-file "$d/client.pem" run -- echo off-lo 2>&1)
  expect_eq "and serves a client with a CA certificate there" "0 off-lo" "$? $out"
  stop O
}

case_two_nodes
case_a_killed
case_b_stopped
case_b_killed
case_ring
case_tls
echo "# $(($(date +%s) - test_started)) s"
finish
