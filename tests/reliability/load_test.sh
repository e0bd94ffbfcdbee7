#!/usr/bin/env bash
# Load through one remexd: COUNT executions in waves of WAVE at once (400 in
# waves of 25; REMEX_RELIABILITY_LONG=1: 2000 in waves of 200), each with
# its own exit code, stdout (its index and a payload of its own size) and
# stderr, every one checked byte for byte. remexd's descriptors, threads and
# resident memory are counted after a warm-up wave and after the load: no
# growth beyond the stated tolerance. The agent backend on this machine
# (local): what is measured is the broker, not sshd.
#
#   load_test.sh PATH/TO/remex PATH/TO/remexd [COUNT WAVE]
set -u
here=$(cd "$(dirname "$0")" && pwd)
remex=${1:?usage: load_test.sh remex remexd [COUNT WAVE]}
remexd=${2:?usage: load_test.sh remex remexd [COUNT WAVE]}
count=${3:-400}
# 25 keeps CI short; clients connecting together were refused until the
# client stopped using CAF's connection timeout (node/node_link.hpp).
wave=${4:-25}
if [ "${REMEX_RELIABILITY_LONG:-0}" = 1 ]; then
  count=${3:-2000}
  wave=${4:-200}
fi
. "$here/../cli/lib.sh"
. "$here/lib.sh"
tmp=$(mktemp -d)
REMEXD_PID=
trap '[ -z "$REMEXD_PID" ] || kill -TERM "$REMEXD_PID" 2>/dev/null; rm -rf "$tmp"' EXIT
# 200 clients at once, each with its sockets and pipes, and remexd with
# theirs: more than the default soft limit of 1024 descriptors.
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)"

start_remexd "$tmp/d" "$remexd"
B=127.0.0.1:$REMEXD_PORT

# Execution I prints its index, then a payload whose size depends on I (up
# to ~200 KiB, so some span several data frames), its index on stderr, and
# exits I % 100.
script='i=$1; echo "index $i"; seq 1 $(( (i * 7919) % 30000 )); echo "err $i" >&2; exit $((i % 100))'
expected() {
  seq 1 $((($1 * 7919) % 30000)) | (echo "index $1" && cat)
}
one() {
  "$remex" --broker "$B" --token-file "$REMEXD_TOKEN" run -- sh -c "$script" sh "$1" \
    >"$tmp/out/$1" 2>"$tmp/err/$1"
  echo $? >"$tmp/rc/$1"
}
# run_waves FIRST LAST: executions FIRST..LAST, WAVE at a time.
run_waves() {
  local i j pids
  for ((i = $1; i <= $2; i += wave)); do
    pids=()
    for ((j = i; j < i + wave && j <= $2; j++)); do
      one "$j" &
      pids+=($!)
    done
    wait "${pids[@]}" # not remexd, also a child of this shell
  done
}
mkdir -p "$tmp/out" "$tmp/err" "$tmp/rc"

# Warm-up: the first wave grows pools and caches that are meant to stay.
run_waves 100001 $((100000 + wave))
sleep 1
read -r fds0 threads0 rss0 <<<"$(proc_counts "$REMEXD_PID")"

t0=$(now_ms)
run_waves 1 "$count"
ms=$(($(now_ms) - t0))
echo "# $count executions in waves of $wave: $ms ms ($((count * 1000 / (ms > 0 ? ms : 1))) per second)"

bad_rc=0 bad_out=0 bad_err=0 first_bad=
for ((i = 1; i <= count; i++)); do
  if [ "$(cat "$tmp/rc/$i" 2>/dev/null)" != $((i % 100)) ]; then
    bad_rc=$((bad_rc + 1))
    [ -n "$first_bad" ] || first_bad="$i: rc $(cat "$tmp/rc/$i" 2>/dev/null) err $(head -c 300 "$tmp/err/$i")"
  fi
  cmp -s <(expected "$i") "$tmp/out/$i" || bad_out=$((bad_out + 1))
  [ "$(cat "$tmp/err/$i")" = "err $i" ] || bad_err=$((bad_err + 1))
done
expect_eq "every exit code right" 0 "$bad_rc"
[ -z "$first_bad" ] || echo "# first wrong: $first_bad"
expect_eq "every stdout byte right" 0 "$bad_out"
expect_eq "every stderr right (one line, its own)" 0 "$bad_err"
bytes=$(cat "$tmp"/out/[0-9]* | wc -c)
echo "# stdout checked: $bytes bytes"

# Give finished executions a moment to be torn down, then count again.
for ((i = 0; i < 50; i++)); do
  read -r fds1 threads1 rss1 <<<"$(proc_counts "$REMEXD_PID")"
  [ "$fds1" -le "$fds0" ] && [ "$threads1" -le "$threads0" ] && break
  sleep 0.2
done
echo "# remexd after warm-up: fds $fds0 threads $threads0 rss $rss0 KiB;" \
  "after $count: fds $fds1 threads $threads1 rss $rss1 KiB"
expect_eq "no descriptor growth" "$fds0" "$fds1"
[ "$threads1" -le "$threads0" ] && pass "no thread growth ($threads0 -> $threads1)" ||
  fail "threads grew: $threads0 -> $threads1"
# The allocator keeps some freed memory: 32 MiB of slack, whatever the count
# (and under ASan what it holds back).
slack=$((32768 + $(sanitizer_growth_kib "$remex")))
[ "$rss1" -le $((rss0 + slack)) ] &&
  pass "RSS within $slack KiB of the warm-up ($rss0 -> $rss1 KiB)" ||
  fail "RSS grew: $rss0 -> $rss1 KiB"
expect_eq "remexd logged every execution" $((count + wave)) \
  "$(grep -c " end: " "$REMEXD_LOG")"
stop_remexd
expect_eq "remexd ends 0 on SIGTERM" 0 $?
finish
