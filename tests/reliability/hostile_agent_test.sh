#!/usr/bin/env bash
# A hostile agent (hostile_agent.cpp) in place of remex-agent: `remex run`
# on the local backend and on the sshd fixture (the hostile agent shipped
# there like the real one), embedded and through a remexd, must end each
# misbehaviour with the right code and one clear line within seconds, never
# crash or hang, keep its memory bounded under a flood of log frames, and
# remexd must keep serving afterwards.
#
#   hostile_agent_test.sh PATH/TO/remex PATH/TO/remexd HOSTILE_AGENT_DIR
set -u
here=$(cd "$(dirname "$0")" && pwd)
remex=${1:?usage: hostile_agent_test.sh remex remexd HOSTILE_AGENT_DIR}
remexd=${2:?usage: hostile_agent_test.sh remex remexd HOSTILE_AGENT_DIR}
hostile_src=${3:?usage: hostile_agent_test.sh remex remexd HOSTILE_AGENT_DIR}
. "$here/../cli/lib.sh"
. "$here/lib.sh"
tmp=$(mktemp -d)
REMEXD_PID=
# The agent's folder under tmp: its path is the marker pgrep finds it by.
hostile=$tmp/hostile-agent-$$
mkdir -p "$hostile"
cp "$hostile_src/remex-agent" "$hostile/"
start_fixture "$tmp"
# Where the fixture keeps the shipped hostile agent: known after its first run.
placed=
cleanup() {
  [ -z "$REMEXD_PID" ] || kill -TERM "$REMEXD_PID" 2>/dev/null
  kill_marked "$hostile"
  [ -z "$placed" ] || kill_marked "$placed"
  "$here/../fixtures/sshd-fixture" stop "$tmp/fixture" >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT
flood=${REMEX_HOSTILE_FLOOD:-100000}
[ "${REMEX_RELIABILITY_LONG:-0}" = 1 ] && flood=${REMEX_HOSTILE_FLOOD:-1000000}
# Peak RSS of remex or remexd through the flood; under ASan plus what it adds
# to an idle remex (remexd links the same) and to growth.
flood_limit=$((256 * 1024 + $(sanitizer_base_kib "$remex" run -- true) + $(sanitizer_growth_kib "$remex")))

# hostile WHERE MODE RC OUT SECONDS [NEEDLE] [ARGS...]: runs MODE, wants exit
# RC, stdout OUT, at most one stderr line (exactly one, holding NEEDLE, when
# NEEDLE is given; with ~NEEDLE, warnings holding NEEDLE), within SECONDS, and no agent process left after.
hostile() {
  local where=$1 mode=$2 want_rc=$3 want_out=$4 secs=$5 needle=${6:-}
  shift 6
  local t0 rc ms
  t0=$(now_ms)
  timed_run 30 "$tmp/out" "$tmp/err" "${rx[@]}" "$@" -- "$mode" "${args[@]}"
  rc=$?
  ms=$(($(now_ms) - t0))
  expect_eq "$where $mode: exit code" "$want_rc" "$rc"
  expect_eq "$where $mode: stdout" "$want_out" "$(cat "$tmp/out")"
  if [ "${needle#\~}" != "$needle" ]; then
    # Warnings allowed, one line each; NEEDLE among them. Through remexd
    # agent warnings go to remexd's log, not to the client.
    local warned=$tmp/err
    [ -z "$REMEXD_PID" ] || warned=$REMEXD_LOG
    expect_contains "$where $mode: warns" "${needle#\~}" "$(cat "$warned")"
  elif [ -n "$needle" ]; then
    expect_eq "$where $mode: one line on stderr" 1 "$(wc -l <"$tmp/err")"
    expect_contains "$where $mode: it says why" "$needle" "$(cat "$tmp/err")"
  else
    expect_eq "$where $mode: nothing on stderr" "" "$(cat "$tmp/err")"
  fi
  [ "$ms" -le $((secs * 1000)) ] && pass "$where $mode: ended in $ms ms" ||
    fail "$where $mode: took $ms ms (want <= ${secs} s)"
  [ -n "$fixture" ] && [ -z "$placed" ] && find_placed
  local marker=$hostile/remex-agent
  [ -z "$fixture" ] || marker=$placed/remex-agent
  wait_gone "$marker" 5 && pass "$where $mode: no agent left" ||
    fail "$where $mode: agent left running: $(pgrep -af "$marker")"
}

# find_placed: the fixture's cache folder holding this hostile agent.
find_placed() {
  local home d
  home=$(getent passwd "$FIXTURE_USER" | cut -d: -f6)
  for d in "$home"/.cache/remex/agent-*; do
    cmp -s "$d/remex-agent" "$hostile/remex-agent" && placed=${d#"$home"/} && return
  done
  placed=/nowhere
  fail "the hostile agent was not placed on the fixture"
}

cases() {
  local where=$1
  args=()
  hostile "$where" garbage 255 "before the garbage" 5 "agent"
  hostile "$where" oversize 255 "" 5 "agent"
  hostile "$where" huge-length 255 "" 5 "agent"
  hostile "$where" out-of-order 3 "" 5 "~ignored agent frame type 99"
  hostile "$where" exit-then-data 7 "before exit" 5 ""
  hostile "$where" no-exit 255 "and then nothing" 5 "agent"
  hostile "$where" never-exit 124 "stuck" 8 "timed out" --timeout 2
  args=("$flood")
  local peak
  if [ -n "$REMEXD_PID" ]; then
    local lines0 t0 secs
    lines0=$(grep -c LLLLLLLLLL "$REMEXD_LOG")
    t0=$(now_ms)
    watch_rss "$tmp/rss" "$REMEXD_PID"
    hostile "$where" log-flood 0 "flood done" 120 ""
    stop_watch_rss
    peak=$(cat "$tmp/rss")
    # A burst of 1000 lines, then 100 a second, the rest counted.
    secs=$((($(now_ms) - t0) / 1000 + 1))
    local logged=$(($(grep -c LLLLLLLLLL "$REMEXD_LOG") - lines0))
    echo "# $where: remexd logged $logged of $flood flood lines in ${secs} s"
    [ "$logged" -le $((1000 + 100 * secs)) ] &&
      pass "$where log-flood: remexd's log takes a burst and a rate ($logged lines)" ||
      fail "$where log-flood: remexd logged $logged lines in $secs s"
    expect_contains "$where log-flood: remexd says how many it dropped" \
      "remote log lines dropped" "$(cat "$REMEXD_LOG")"
  else
    hostile "$where" log-flood 0 "flood done" 120 ""
    peak=$(cat "$tmp/peak_rss")
  fi
  echo "# $where: $flood log frames of 1 KiB: peak RSS ${peak} KiB"
  [ "$peak" -gt 0 ] && [ "$peak" -lt "$flood_limit" ] &&
    pass "$where log-flood: memory bounded (peak RSS ${peak} KiB < $flood_limit KiB)" ||
    fail "$where log-flood: peak RSS ${peak} KiB"
}

export REMEX_AGENT_DIR=$hostile
fixture=
rx=("$remex" run)
cases embedded
fixture=(-H fixture -F "$FIXTURE_SSH_CONFIG")
rx=("$remex" run "${fixture[@]}")
cases "embedded ssh"

start_remexd "$tmp/d" "$remexd"
fixture=
rx=("$remex" --broker "127.0.0.1:$REMEXD_PORT" --token-file "$REMEXD_TOKEN" run)
cases remexd
fixture=(-H fixture -F "$FIXTURE_SSH_CONFIG")
rx=("$remex" --broker "127.0.0.1:$REMEXD_PORT" --token-file "$REMEXD_TOKEN" run "${fixture[@]}")
cases "remexd ssh"
out=$(timeout 10 "${rx[@]}" -b ssh -- echo still serving 2>&1)
expect_eq "remexd still serves a normal command" "0 still serving" "$? $out"
stop_remexd
expect_eq "remexd ends 0 on SIGTERM" 0 $?
finish
