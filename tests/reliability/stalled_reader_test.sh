#!/usr/bin/env bash
# Stalled and slow readers through remexd and across a cluster hop: node A
# serves the sshd fixture, node B passes its requests on to A. Each way
# (client → A, client → B → A), one client's reader stops reading for a
# while and another reads at 10 MiB/s, while a third execution moves
# 200 MB as fast as it can. Checks: the stalled and slow outputs arrive
# byte-exact; the fast one keeps at least half the speed it had alone; the
# resident memory of A, B and every client grows by less than 48 MB.
# (tests/cli/slow_reader_test.sh is the embedded version.)
#
#   stalled_reader_test.sh PATH/TO/remex PATH/TO/remexd      (root: fixture)
set -u
here=$(cd "$(dirname "$0")" && pwd)
remex=$(realpath "${1:?usage: stalled_reader_test.sh remex remexd}")
remexd=$(realpath "${2:?usage: stalled_reader_test.sh remex remexd}")
. "$here/../cli/lib.sh"
. "$here/lib.sh"
# shellcheck disable=SC2016 # expanded at exit, when tmp is set
start_node_fixture 'kill_marked "$tmp/"'
token=$tmp/token
pa=$(free_port)
pb=$(free_port)
start_node A "$pa" --serves fixture || exit 1
start_node B "$pb" --serves 'b-only' --peer "127.0.0.1:$pa" || exit 1
for ((i = 0; i < 100; i++)); do
  grep -q "peer A joined" "$tmp/B/remexd.log" && break
  sleep 0.1
done

stall=8    # seconds the stalled reader reads nothing
size=$((100 * 1024 * 1024))
fast_size=$((200 * 1000 * 1000))
limit_kb=$((48 * 1024 + $(sanitizer_growth_kib "$remex")))
# A client's whole RSS, so under ASan also what ASan adds to an idle remex.
client_limit_kb=$((limit_kb + $(sanitizer_base_kib "$remex" run -- true)))
gen="yes 'remex stalled reader 0123456789abcdef' | head -c $size"
want=$(sh -c "$gen" | sha256sum | cut -d' ' -f1)
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# fast PORT: ms to move 200 MB through the node on PORT to /dev/null.
fast() {
  local t0
  t0=$(now_ms)
  "$remex" --broker "127.0.0.1:$1" --token-file "$token" run "${fx[@]}" -- \
    head -c "$fast_size" /dev/zero >/dev/null 2>>"$tmp/fast.err" || echo "fast rc $?" >>"$tmp/fast.err"
  echo $(($(now_ms) - t0))
}

# way NAME PORT: the three executions through the node on PORT.
way() {
  local name=$1 port=$2 d=$tmp/$1
  mkdir -p "$d"
  local alone
  alone=$(fast "$port")
  local a0 b0
  a0=$(rss "$PID_A")
  b0=$(rss "$PID_B")
  local via=("$remex" --broker "127.0.0.1:$port" --token-file "$token" run "${fx[@]}" --)
  # The stalled reader: nothing for $stall s, then everything.
  ("${via[@]}" sh -c "$gen" 2>"$d/stalled.err" & echo $! >"$d/stalled.pid"; wait $!; echo $? >"$d/stalled.rc") |
    (sleep "$stall"; sha256sum | cut -d' ' -f1 >"$d/stalled.sum") &
  local j1=$!
  ("${via[@]}" sh -c "$gen" 2>"$d/slow.err" & echo $! >"$d/slow.pid"; wait $!; echo $? >"$d/slow.rc") |
    pv -q -L 10m | sha256sum | cut -d' ' -f1 >"$d/slow.sum" &
  local j2=$!
  sleep 2 # both readers are behind by now: windows full, writers blocked
  local during
  during=$(fast "$port")
  # Peaks while the stalled reader still stalls.
  local pa_ pb_ pc=0 c r
  pa_=$(rss "$PID_A")
  pb_=$(rss "$PID_B")
  for c in $(cat "$d/stalled.pid" "$d/slow.pid"); do
    r=$(rss "$c")
    [ "$r" -gt "$pc" ] && pc=$r
  done
  await "$j1" $((stall + 60))
  await "$j2" 60
  echo "# $name: 200 MB alone $alone ms, beside a stalled and a slow reader $during ms"
  echo "# $name: RSS growth A $((pa_ - a0)) kB, B $((pb_ - b0)) kB; largest client RSS $pc kB"
  expect_eq "$name: stalled reader: exit 0, byte-exact" "0 $want" "$(cat "$d/stalled.rc" 2>/dev/null) $(cat "$d/stalled.sum" 2>/dev/null)"
  expect_eq "$name: slow reader: exit 0, byte-exact" "0 $want" "$(cat "$d/slow.rc" 2>/dev/null) $(cat "$d/slow.sum" 2>/dev/null)"
  expect_eq "$name: nothing on the readers' stderr" "" "$(cat "$d/stalled.err" "$d/slow.err")"
  expect_eq "$name: the fast execution ended well each time" "" "$(cat "$tmp/fast.err")"
  [ "$during" -le $((alone * 2 + 500)) ] &&
    pass "$name: the fast execution keeps its speed ($during ms vs $alone ms alone)" ||
    fail "$name: the fast execution slowed down: $during ms vs $alone ms alone"
  [ $((pa_ - a0)) -lt "$limit_kb" ] && [ $((pb_ - b0)) -lt "$limit_kb" ] &&
    pass "$name: node memory bounded (A +$((pa_ - a0)) kB, B +$((pb_ - b0)) kB)" ||
    fail "$name: node memory grew: A +$((pa_ - a0)) kB, B +$((pb_ - b0)) kB"
  [ "$pc" -gt 0 ] && [ "$pc" -lt "$client_limit_kb" ] &&
    pass "$name: client memory bounded ($pc kB)" || fail "$name: client RSS $pc kB"
}

way "through remexd" "$pa"
way "across a cluster hop" "$pb"
kill -0 "$PID_A" && kill -0 "$PID_B" && pass "both nodes still run" || fail "a node died"
finish
