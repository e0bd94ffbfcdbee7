# Shared helpers for the CLI tests: assertions that say what differed.
# shellcheck shell=bash
failures=0
passes=0
lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

pass() { passes=$((passes + 1)); echo "ok   - $1"; }
fail() { failures=$((failures + 1)); echo "FAIL - $1"; }

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
  echo "$passes passed, $failures failed"
  [ "$failures" -eq 0 ]
}

# start_fixture TMP: a real sshd in TMP/fixture, its env sourced; at exit the
# sshd is stopped and TMP removed. Exits the test when sshd cannot start.
start_fixture() {
  local fx="$1/fixture"
  mkdir -p "$fx"
  # shellcheck disable=SC2064 # expand now: the paths are fixed
  trap "'$lib_dir/../fixtures/sshd-fixture' stop '$fx' >/dev/null 2>&1; rm -rf '$1'" EXIT
  "$lib_dir/../fixtures/sshd-fixture" start "$fx" >/dev/null || {
    echo "FAIL - the sshd fixture did not start"
    exit 1
  }
  . "$fx/env"
}
