# Helpers of the reliability suite, on top of tests/cli/lib.sh (source that
# first): timing, memory and process counts, and killing what a test marked.
# shellcheck shell=bash

now_ms() { date +%s%3N; }

# timed_run SECONDS OUT ERR CMD...: CMD with stdout to OUT and stderr to ERR;
# its exit status, or 124 after SIGKILL when it runs longer than SECONDS (a
# hang is a failure the caller sees, not a stuck test). Meanwhile the peak
# RSS (VmHWM, KiB) of CMD itself goes to $tmp/peak_rss.
timed_run() {
  local secs=$1 out=$2 err=$3 pid i peak=0 hwm
  shift 3
  "$@" >"$out" 2>"$err" </dev/null &
  pid=$!
  for ((i = 0; i < secs * 20; i++)); do
    hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
    [ -n "$hwm" ] && [ "$hwm" -gt "$peak" ] && peak=$hwm
    echo "$peak" >"$tmp/peak_rss"
    if ! kill -0 "$pid" 2>/dev/null || [ "$(ps -o stat= -p "$pid")" = Z ]; then
      wait "$pid"
      return
    fi
    sleep 0.05
  done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 124
}

# watch_rss FILE PID: samples PID's resident memory (VmRSS, KiB) every
# 0.1 s and keeps the largest in FILE, until stop_watch_rss.
watch_rss() {
  local file=$1 pid=$2
  echo 0 >"$file"
  (
    peak=0
    while kill -0 "$pid" 2>/dev/null; do
      r=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
      [ -n "$r" ] && [ "$r" -gt "$peak" ] && peak=$r && echo "$peak" >"$file"
      sleep 0.1
    done
  ) &
  WATCH_PID=$!
}
stop_watch_rss() {
  kill "$WATCH_PID" 2>/dev/null
  wait "$WATCH_PID" 2>/dev/null
}

# proc_counts PID: "FDS THREADS RSS_KIB" of a running process.
proc_counts() {
  echo "$(ls "/proc/$1/fd" | wc -l)" \
    "$(awk '/^Threads:/ {print $2}' "/proc/$1/status")" \
    "$(awk '/^VmRSS:/ {print $2}' "/proc/$1/status")"
}

# kill_marked MARKER: SIGKILLs, one by one, the processes whose command line
# holds MARKER (a path under this test's own temporary folder, so nothing
# else can match it). For cleanup after a failed case only.
kill_marked() {
  local p
  for p in $(pgrep -f "$1"); do
    [ "$p" != $$ ] && kill -KILL "$p" 2>/dev/null
  done
}
