#!/usr/bin/env bash
# A slow reader must cost remex bounded memory on every SSH backend: the
# window stops sshd, sshd stops the writer. 1 GiB read at 10 MiB/s through
# both backends at once (they share the fixture), byte-exact, and the peak
# RSS (VmHWM) of each `remex run` at most 64 MB.
set -u
here=$(cd "$(dirname "$0")" && pwd)
remex=${1:?usage: slow_reader_test.sh PATH/TO/remex}
. "$here/lib.sh"
tmp=$(mktemp -d)
start_fixture "$tmp"

size=$((1024 * 1024 * 1024))
rate=10m
# (Under ASan: plus what ASan adds to an idle remex, and to its growth.)
limit_kb=$((64 * 1024 + $(sanitizer_base_kib "$remex" run -- true) + $(sanitizer_growth_kib "$remex")))
gen=(sh -c "yes 'remex slow reader 0123456789abcdef' | head -c $size")
want=$("${gen[@]}" | sha256sum | cut -d' ' -f1)

# peak_rss PID FILE: VmHWM of PID until it exits (it only grows), in kB.
peak_rss() {
  local hwm=0 h
  while [ -r "/proc/$1/status" ]; do
    h=$(awk '/^VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null)
    [ -n "$h" ] && hwm=$h
    sleep 0.5
  done
  echo "$hwm" >"$2"
}

pids=()
for backend in agent ssh; do
  (
    "$remex" run -H fixture -F "$FIXTURE_SSH_CONFIG" -b "$backend" -- "${gen[@]}" \
      2>"$tmp/err-$backend" &
    echo $! >"$tmp/pid-$backend"
    wait $!
    echo $? >"$tmp/rc-$backend"
  ) | pv -q -L "$rate" | sha256sum | cut -d' ' -f1 >"$tmp/sum-$backend" &
  pids+=($!)
done
for backend in agent ssh; do
  for _ in $(seq 1 50); do [ -s "$tmp/pid-$backend" ] && break; sleep 0.1; done
  peak_rss "$(cat "$tmp/pid-$backend")" "$tmp/hwm-$backend" &
  pids+=($!)
done
wait "${pids[@]}"

for backend in agent ssh; do
  expect_eq "$backend: slow reader exit code" 0 "$(cat "$tmp/rc-$backend")"
  expect_eq "$backend: 1 GiB byte-exact through a 10 MiB/s reader" "$want" "$(cat "$tmp/sum-$backend")"
  expect_eq "$backend: nothing on stderr" "" "$(cat "$tmp/err-$backend")"
  hwm=$(cat "$tmp/hwm-$backend")
  echo "# $backend: VmHWM of remex run ${hwm} kB"
  [ "$hwm" -gt 0 ] && [ "$hwm" -le "$limit_kb" ] &&
    pass "$backend: peak RSS ${hwm} kB <= ${limit_kb} kB" ||
    fail "$backend: peak RSS ${hwm} kB > ${limit_kb} kB"
done
finish
