#!/usr/bin/env bash
# Faults mid-stream on a real sshd (the fixture), embedded and through a
# remexd: the remote agent SIGKILLed, the remote command's shell SIGKILLed,
# and (through remexd) the sshd serving the connection SIGKILLed. Each time
# the client ends with the right code and at most one clear line within
# seconds, no remote process of the command remains, and remexd serves the
# next request. Also the connection's sshd killed while nothing runs on
# it (only its monitor, or all of it through remexd): the next request just
# works, on a fresh connection. (remexd SIGKILLed, the client SIGKILLed, and the sshd child
# killed under the embedded broker are cases of tests/remexd/remexd_test.sh
# and tests/cli/run_ssh_test.sh; README.md maps them.)
#
#   faults_test.sh PATH/TO/remex PATH/TO/remexd      (root: the fixture)
set -u
here=$(cd "$(dirname "$0")" && pwd)
remex=${1:?usage: faults_test.sh remex remexd}
remexd=${2:?usage: faults_test.sh remex remexd}
. "$here/../cli/lib.sh"
. "$here/lib.sh"
tmp=$(mktemp -d)
REMEXD_PID=
start_fixture "$tmp"
# start_fixture's trap stops sshd and removes tmp; remexd goes first.
trap '[ -z "$REMEXD_PID" ] || kill -TERM "$REMEXD_PID" 2>/dev/null
  "$here/../fixtures/sshd-fixture" stop "$tmp/fixture" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
fx=(-H fixture -F "$FIXTURE_SSH_CONFIG")
injected=0

# remote_pid MARKER SECONDS: the pid of the fixture user's process whose
# command line holds MARKER, once there is one.
remote_pid() {
  local i p
  for ((i = 0; i < $2 * 10; i++)); do
    p=$(pgrep -u "$FIXTURE_USER" -f "$1" | head -1)
    [ -n "$p" ] && echo "$p" && return 0
    sleep 0.1
  done
  return 1
}

# the_sshd_of PID: the per-connection sshd (a child of the fixture's
# listener) that PID descends from.
the_sshd_of() {
  local p=$1 parent
  while [ "$p" -gt 1 ]; do
    parent=$(ps -o ppid= -p "$p" | tr -d ' ')
    [ "$parent" = "$FIXTURE_PID" ] && echo "$p" && return 0
    p=$parent
  done
  return 1
}

# fault WHERE BACKEND WHAT WANT_RC NEEDLE: starts a command that streams
# ticks, kills WHAT (agent | shell | sshd) once it streams, and checks the
# client's end.
fault() {
  local where=$1 be=$2 what=$3 want_rc=$4 needle=$5
  local name="$where $be: $what killed"
  local marker="remex-fault-$$-$where-$be-$what"
  # Emptied before the client starts: its own redirection runs in the
  # background child, after which the wait below could still read the
  # last case's ticks.
  : >"$tmp/f.out"
  : >"$tmp/f.err"
  "${rx[@]}" "${fx[@]}" -b "$be" -- \
    sh -c "echo ready; while :; do echo tick; sleep 0.1; done; : $marker" \
    >"$tmp/f.out" 2>"$tmp/f.err" &
  local client=$!
  local shell victim
  shell=$(remote_pid "$marker" 15) && wait_file_has "$tmp/f.out" tick 10 || {
    fail "$name: the command never streamed: $(cat "$tmp/f.err")"
    kill -KILL "$client" 2>/dev/null
    return
  }
  case $what in
    shell) victim=$shell ;;
    agent)
      victim=$(ps -o ppid= -p "$shell" | tr -d ' ')
      [ "$(ps -o comm= -p "$victim")" = remex-agent ] || {
        fail "$name: the command's parent is $(ps -o comm= -p "$victim"), not remex-agent"
        kill -KILL "$client" 2>/dev/null
        return
      }
      ;;
    sshd)
      # The connection's monitor and its unprivileged child: either alone
      # may keep the socket open.
      victim=$(the_sshd_of "$shell")
      victim="$victim $(pgrep -P "$victim" -x sshd)"
      ;;
  esac
  local t0 rc ms
  t0=$(now_ms)
  # shellcheck disable=SC2086 # one or more pids
  kill -KILL $victim
  injected=$((injected + 1))
  local i
  for ((i = 0; i < 150; i++)); do
    kill -0 "$client" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$client" 2>/dev/null; then
    kill -KILL "$client"
    wait "$client" 2>/dev/null
    fail "$name: the client still runs 15 s later"
  else
    wait "$client"
    rc=$?
    ms=$(($(now_ms) - t0))
    expect_eq "$name: exit code" "$want_rc" "$rc"
    [ "$ms" -lt 5000 ] && pass "$name: ended $ms ms later" ||
      fail "$name: ended $ms ms later (want < 5 s)"
  fi
  if [ -n "$needle" ]; then
    # One line from remex; before it, only the remote shell's own words
    # on the agent's death ("agent stderr: Killed"), relayed as a warning.
    expect_eq "$name: stderr: remex's line last, before it only relayed agent-stderr warnings" "" \
      "$(head -n -1 "$tmp/f.err" | grep -v '\] source=agent host=fixture agent stderr: ')"
    expect_contains "$name: it says why" "$needle" "$(tail -1 "$tmp/f.err")"
  else
    expect_eq "$name: nothing on stderr" "" "$(cat "$tmp/f.err")"
  fi
  expect_eq "$name: the output up to then arrived" "ready tick" \
    "$(head -2 "$tmp/f.out" | tr '\n' ' ' | sed 's/ $//')"
  wait_gone "$marker" 5 && pass "$name: no remote process left" ||
    fail "$name: left running: $(pgrep -af "$marker")"
  local out
  out=$(timeout 30 "${rx[@]}" "${fx[@]}" -b "$be" -- echo next 2>&1)
  expect_eq "$name: the next request works" "0 next" "$? $out"
}

# monitor_only WHERE BACKEND: only the connection's privileged sshd (the
# monitor, "sshd: USER [priv]") SIGKILLed. Its unprivileged child still
# holds the socket and serves the session: the command goes on, and its
# own output and exit code arrive (no hang, nothing invented).
monitor_only() {
  local where=$1 be=$2 name="$1 $2: only the privileged sshd killed"
  local marker="remex-fault-$$-$where-$be-monitor"
  : >"$tmp/f.out"
  : >"$tmp/f.err"
  "${rx[@]}" "${fx[@]}" -b "$be" -- \
    sh -c "echo ready; sleep 2; echo done; exit 3; : $marker" >"$tmp/f.out" 2>"$tmp/f.err" &
  local client=$! shell monitor
  shell=$(remote_pid "$marker" 15) && wait_file_has "$tmp/f.out" ready 10 &&
    monitor=$(the_sshd_of "$shell") || {
    fail "$name: the command never started: $(cat "$tmp/f.err")"
    kill -KILL "$client" 2>/dev/null
    return
  }
  expect_contains "$name: the victim is the monitor" "[priv]" "$(ps -o args= -p "$monitor")"
  kill -KILL "$monitor"
  injected=$((injected + 1))
  await "$client" 10
  expect_eq "$name: the command's own end: code, output, no error" "3 ready done ." \
    "$? $(tr '\n' ' ' <"$tmp/f.out")$(cat "$tmp/f.err")."
  # The monitorless child cannot start another session: it dies of the
  # next exec request it gets (logging it needs the monitor). Through
  # remexd, the next request lands on that warm connection; its exec was
  # never accepted, so nothing of it ran, and it runs on a fresh connection
  # instead.
  local out
  out=$(timeout 30 "${rx[@]}" "${fx[@]}" -b "$be" -- echo next 2>&1)
  expect_eq "$name: the next request works" "0 next" "$? $out"
}

# idle_sshd BACKEND (through remexd): the sshd of remexd's warm, idle
# connection SIGKILLed (its monitor and the unprivileged child): nothing
# was running on it, so the next request simply works, on a fresh
# connection.
idle_sshd() {
  local be=$1 name="remexd $1: the sshd of the idle warm connection killed"
  local out victims p
  out=$(timeout 30 "${rx[@]}" "${fx[@]}" -b "$be" -- echo warm 2>&1)
  expect_eq "$name: the warm-up request" "0 warm" "$? $out"
  # The listener's children are the connections' monitors; the embedded
  # clients are gone, so all of them are remexd's.
  victims=$(pgrep -P "$FIXTURE_PID" -x sshd | tr '\n' ' ')
  [ -n "$victims" ] || {
    fail "$name: remexd holds no connection to the fixture"
    return
  }
  for p in $victims; do victims="$victims $(pgrep -P "$p" -x sshd | tr '\n' ' ')"; done
  # shellcheck disable=SC2086 # several pids
  kill -KILL $victims
  injected=$((injected + 1))
  out=$(timeout 30 "${rx[@]}" "${fx[@]}" -b "$be" -- echo next 2>&1)
  expect_eq "$name: the next request works" "0 next" "$? $out"
}

cases() {
  local where=$1
  fault "$where" agent agent 255 "agent"
  fault "$where" agent shell 137 ""
  fault "$where" ssh shell 137 ""
  monitor_only "$where" agent
  monitor_only "$where" ssh
  # Embedded, this one is run_ssh_test.sh's "link drop".
  [ "$where" = remexd ] || return 0
  fault "$where" agent sshd 255 "connection lost"
  fault "$where" ssh sshd 255 "connection lost"
  idle_sshd agent
  idle_sshd ssh
}

rx=("$remex" run)
cases embedded
start_remexd "$tmp/d" "$remexd"
rx=("$remex" --broker "127.0.0.1:$REMEXD_PORT" --token-file "$REMEXD_TOKEN" run)
cases remexd
kill -0 "$REMEXD_PID" 2>/dev/null && pass "remexd survived $injected faults" ||
  fail "remexd died"
stop_remexd
expect_eq "remexd ends 0 on SIGTERM" 0 $?
echo "# faults injected: $((injected))"
finish
