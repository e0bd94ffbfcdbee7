# Shared helpers for the benchmark scripts: one cleanup list run at exit,
# the sshd fixture and remexd started through it, and the timing helpers
# every script measures with.
# shellcheck shell=bash
bench_lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# free_port, await: the CLI tests' helpers.
. "$bench_lib_dir/../cli/lib.sh"
bench_fixture=$bench_lib_dir/../fixtures/sshd-fixture

# Commands run at exit, last registered first (a remexd before the sshd it
# talks to). Set once; scripts add to it with bench_on_exit.
bench_cleanups=()
bench_cleanup() {
  local i
  for ((i = ${#bench_cleanups[@]} - 1; i >= 0; i--)); do
    eval "${bench_cleanups[i]}" >/dev/null 2>&1 || true
  done
  bench_cleanups=()
}
bench_on_exit() { bench_cleanups+=("$1"); }
trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# bench_start_fixture DIR [-o Option=value ...]: the sshd fixture in DIR, its
# env sourced (FIXTURE_*), stopped at exit.
bench_start_fixture() {
  mkdir -p "$1"
  bench_on_exit "'$bench_fixture' stop '$1'"
  "$bench_fixture" start "$@" >/dev/null || {
    echo "bench: the sshd fixture did not start" >&2
    exit 1
  }
  . "$1/env"
}

# bench_start_remexd DIR REMEXD TOKEN_FILE [ARGS...]: a remexd on a free
# loopback port, its log in DIR/remexd.log, killed at exit (with whatever
# agents it left). Sets BENCH_REMEXD_PID and BENCH_REMEXD_PORT; exits when it
# does not come up. Nodes of one cluster share TOKEN_FILE. The log level is
# warn unless ARGS say otherwise.
bench_start_remexd() {
  local dir=$1 remexd=$2 token=$3 i level=(--log-level warn)
  shift 3
  case " $* " in *" --log-level "*) level=() ;; esac
  mkdir -p "$dir"
  BENCH_REMEXD_PORT=$(free_port)
  "$remexd" --listen "127.0.0.1:$BENCH_REMEXD_PORT" --token-file "$token" \
    --log-file "$dir/remexd.log" "${level[@]}" "$@" </dev/null \
    >/dev/null 2>"$dir/remexd.err" &
  BENCH_REMEXD_PID=$!
  bench_on_exit "bench_stop_pid $BENCH_REMEXD_PID"
  # The log is at warn: the token file and the port tell it is up.
  for ((i = 0; i < 100; i++)); do
    if [ -s "$token" ] && (exec 3<>"/dev/tcp/127.0.0.1/$BENCH_REMEXD_PORT") 2>/dev/null; then
      return 0
    fi
    kill -0 "$BENCH_REMEXD_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "bench: remexd did not start: $(cat "$dir/remexd.err" "$dir/remexd.log" 2>/dev/null)" >&2
  exit 1
}

# bench_stop_pid PID: SIGTERM, up to 10 s to end, then SIGKILL.
bench_stop_pid() {
  local i
  kill -TERM "$1" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$1" 2>/dev/null
}

median() { sort -n | awk '{a[NR]=$1} END {if (NR) print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
now_ns() { date +%s%N; }

# wall_true N CMD...: median microseconds of `CMD true`, a fresh process each.
wall_true() {
  local n=$1 i t0
  shift
  for ((i = 0; i < n; i++)); do
    t0=$(now_ns)
    "$@" true </dev/null || { echo "failed: $*" >&2; exit 1; }
    echo "$((($(now_ns) - t0) / 1000))"
  done | median
}

# one_gb CMD...: milliseconds for 1 GB of stdout, checking the byte count.
one_gb() {
  local t0 bytes
  t0=$(now_ns)
  bytes=$("$@" head -c 1000000000 /dev/zero | wc -c)
  [ "$bytes" = 1000000000 ] || { echo "short read: $bytes" >&2; exit 1; }
  echo "$((($(now_ns) - t0) / 1000000))"
}

# gb_median N CMD...: the median of N one_gb runs.
gb_median() {
  local n=$1 i
  shift
  for ((i = 0; i < n; i++)); do one_gb "$@"; done | median
}
