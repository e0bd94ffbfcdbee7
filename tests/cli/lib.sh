# Shared helpers for the CLI tests: assertions that say what differed.
# shellcheck shell=bash
failures=0
passes=0
skips=0
lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

pass() { passes=$((passes + 1)); echo "ok   - $1"; }
fail() { failures=$((failures + 1)); echo "FAIL - $1"; }
# A case that does not apply here, said so and counted apart (never a pass).
skip() { skips=$((skips + 1)); echo "SKIP - $1"; }

# expect_eq NAME WANT GOT
expect_eq() {
  if [ "$2" == "$3" ]; then pass "$1"; else
    fail "$1: want [$2] got [$3]"
  fi
}

# expect_contains NAME NEEDLE HAYSTACK
expect_contains() {
  case "$3" in
    *"$2"*) pass "$1" ;;
    *) fail "$1: [$3] does not contain [$2]" ;;
  esac
}

# wait_gone PATTERN SECONDS: true once no process matches PATTERN.
wait_gone() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    pgrep -f "$1" >/dev/null || return 0
    sleep 0.1
  done
  return 1
}

# wait_file_has FILE TEXT SECONDS
wait_file_has() {
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

finish() {
  echo "$passes passed, $failures failed, $skips skipped"
  [ "$failures" -eq 0 ]
}

# start_fixture TMP [-o Option=value ...]: a real sshd in TMP/fixture, its env
# sourced (the options go to sshd); at exit the sshd is stopped and TMP
# removed. Exits the test when sshd cannot start.
start_fixture() {
  local fx="$1/fixture"
  mkdir -p "$fx"
  # shellcheck disable=SC2064 # expand now: the paths are fixed
  trap "'$lib_dir/../fixtures/sshd-fixture' stop '$fx' >/dev/null 2>&1; rm -rf '$1'" EXIT
  "$lib_dir/../fixtures/sshd-fixture" start "$fx" "${@:2}" >/dev/null || {
    echo "FAIL - the sshd fixture did not start"
    exit 1
  }
  . "$fx/env"
}

# start_node_fixture [CLEANUP]: the common start of the tests that run remexd
# nodes. Sets tmp (a fresh folder; others may walk through it: only what
# remexd creates keeps them out), starts the sshd fixture in it, sets fx (the
# options that reach it) and an empty daemons array (start_node and the
# test's own launches add their pids). At exit: every daemon killed, then the
# shell command CLEANUP (if any), then the sshd stopped and tmp removed.
start_node_fixture() {
  tmp=$(mktemp -d)
  chmod 0755 "$tmp"
  start_fixture "$tmp"
  fx=(-H fixture -F "$FIXTURE_SSH_CONFIG")
  daemons=()
  # shellcheck disable=SC2064 # the fixture's paths are fixed now
  trap "for p in \${daemons[@]+\"\${daemons[@]}\"}; do kill -KILL \$p 2>/dev/null; done
      ${1:-:}
      '$lib_dir/../fixtures/sshd-fixture' stop '$tmp/fixture' >/dev/null 2>&1
      rm -rf '$tmp'" EXIT
}

now_ms() { date +%s%3N; }
# section TITLE: a heading in the test's output.
section() { echo "# $1"; }

# start_silent_listener DIR: a TCP listener on 127.0.0.1 that accepts
# connections and never says a word (a host whose sshd hangs before its
# banner). Sets SILENT_PORT; every accepted connection adds a line to
# DIR/silent.accepted, so a test can tell whether remex tried to connect.
# It ends with the test script (or at stop_silent_listener).
start_silent_listener() {
  local dir=$1 i
  : >"$dir/silent.accepted"
  rm -f "$dir/silent.port"
  # Its output goes nowhere: a leftover listener must not hold the test's pipe.
  python3 - "$dir/silent.port" "$dir/silent.accepted" <<'PY' >/dev/null 2>&1 &
import os, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
parent = os.getppid()
s.settimeout(0.5)
held = []
while os.getppid() == parent:
    try:
        c, _ = s.accept()
    except socket.timeout:
        continue
    held.append(c)  # kept open, never written to
    with open(sys.argv[2], "a") as f:
        f.write("accepted\n")
PY
  SILENT_PID=$!
  for ((i = 0; i < 100; i++)); do
    [ -s "$dir/silent.port" ] && break
    sleep 0.1
  done
  SILENT_PORT=$(cat "$dir/silent.port" 2>/dev/null)
  [ -n "$SILENT_PORT" ] || {
    echo "FAIL - the silent listener did not start"
    exit 1
  }
}
stop_silent_listener() { kill "$SILENT_PID" 2>/dev/null && wait "$SILENT_PID" 2>/dev/null; }
# silent_accepts DIR: how many connections the silent listener has accepted.
silent_accepts() { wc -l <"$1/silent.accepted"; }
# expect_usage_error NAME ERRFILE RC [NEEDLE]: exit 255 with exactly one line
# on stderr (containing NEEDLE when given).
expect_usage_error() {
  expect_eq "$1 exits 255" 255 "$3"
  expect_eq "$1: one stderr line" 1 "$(wc -l <"$2")"
  [ -z "${4:-}" ] || expect_contains "$1: message" "$4" "$(cat "$2")"
}
# Bounds on memory under AddressSanitizer: its shadow memory and allocator
# regions make any program bigger from the start, and it holds freed memory
# back (a quarantine, capped by cmake/sanitizers.cmake). A bound stays what
# it is on a plain build and grows by what ASan adds, no more, so it still
# catches memory that grows with the data.
# asan_quarantine_mb PROGRAM: the quarantine PROGRAM runs with, as ASan
# itself says; nothing when PROGRAM is not built with ASan.
asan_quarantine_mb() {
  ldd "$1" 2>/dev/null | grep -q libasan || return 0
  ASAN_OPTIONS=help=1:log_path=stderr "$1" --version 2>&1 |
    sed -n '/^\tquarantine_size_mb$/{n;s/.*Current Value: \(-\{0,1\}[0-9]*\)).*/\1/p}'
}
# sanitizer_growth_kib PROGRAM: what ASan may add to the growth of PROGRAM's
# memory (0 on a plain build): the quarantine, its shadow, and as much again
# for the allocator's per-thread caches and size classes.
sanitizer_growth_kib() {
  local q
  q=$(asan_quarantine_mb "$1")
  [ "$q" = -1 ] && q=256 # ASan's default
  echo $((${q:-0} * 1024 * 9 / 8 + ${q:-0} * 1024))
}
# sanitizer_base_kib CMD...: the peak RSS (kB) of CMD under ASan, an idle run
# of the program a bound is about (0 on a plain build).
sanitizer_base_kib() {
  [ -n "$(asan_quarantine_mb "$1")" ] || {
    echo 0
    return
  }
  python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$@"
}

# free_port: a TCP port on 127.0.0.1 that nobody listens on right now.
# Below the kernel's ephemeral range: between this pick and the daemon's
# bind, no outgoing connection on the machine can take it as its local
# port (one did, in CI: "cannot listen on 127.0.0.1:41287").
free_port() {
  python3 - <<'PY'
import random, socket
lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
for _ in range(500):
    p = random.randint(10000, lo - 1) if lo > 11000 else 0
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
        print(s.getsockname()[1])
        break
    except OSError:
        pass
    finally:
        s.close()
PY
}
# start_remexd DIR REMEXD [ARGS...]: a remexd on a free loopback port with a
# fresh token in DIR (its log in DIR/remexd.log). Sets REMEXD_PID,
# REMEXD_PORT, REMEXD_TOKEN and REMEXD_LOG; exits the test when it does not
# come up. Stop it with stop_remexd.
start_remexd() {
  local dir=$1 remexd=$2 i
  shift 2
  mkdir -p "$dir"
  REMEXD_PORT=$(free_port)
  REMEXD_TOKEN=$dir/token
  REMEXD_LOG=$dir/remexd.log
  "$remexd" --listen "127.0.0.1:$REMEXD_PORT" --token-file "$REMEXD_TOKEN" \
    --log-file "$REMEXD_LOG" "$@" </dev/null >/dev/null 2>"$dir/remexd.err" &
  REMEXD_PID=$!
  for ((i = 0; i < 100; i++)); do
    grep -q "listening on" "$REMEXD_LOG" 2>/dev/null && return 0
    kill -0 "$REMEXD_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "FAIL - remexd did not start: $(cat "$dir/remexd.err" "$REMEXD_LOG" 2>/dev/null)"
  exit 1
}
# stop_remexd: SIGTERM, and wait (at most 30 s) for it to end; its status.
stop_remexd() {
  local i
  kill -TERM "$REMEXD_PID" 2>/dev/null || return 0
  for ((i = 0; i < 300; i++)); do
    kill -0 "$REMEXD_PID" 2>/dev/null || break
    sleep 0.1
  done
  wait "$REMEXD_PID"
}

# start_node NAME PORT [ARGS...]: remexd NAME on 127.0.0.1:PORT for the
# cluster and console tests, its files in $tmp/NAME (log remexd.log), with
# $TOKEN or else $token; its pid is added to the caller's daemons array and
# set as PID_<NAME>. Fails the case (returns 1) when it does not come up.
start_node() {
  local name=$1 port=$2 dir=$tmp/$1 i
  shift 2
  mkdir -p "$dir"
  : >"$dir/remexd.log"
  "$remexd" --name "$name" --listen "127.0.0.1:$port" --token-file "${TOKEN:-$token}" \
    --log-file "$dir/remexd.log" "$@" </dev/null >/dev/null 2>"$dir/remexd.err" &
  local pid=$!
  daemons+=("$pid")
  printf -v "PID_$name" %s "$pid"
  for ((i = 0; i < 100; i++)); do
    grep -q "listening on" "$dir/remexd.log" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  fail "node $name did not start: $(cat "$dir/remexd.err" "$dir/remexd.log" 2>/dev/null)"
  return 1
}

# await PID SECONDS: the exit status of background job PID; 124 (after
# killing it) when it takes longer.
await() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    if ! kill -0 "$1" 2>/dev/null; then
      wait "$1"
      return
    fi
    sleep 0.1
  done
  kill -KILL "$1" 2>/dev/null
  wait "$1" 2>/dev/null
  return 124
}
