#!/usr/bin/env bash
# Malformed input, one clear line each, nothing crashes, remexd keeps
# running: ssh_config entries (a bad Port, an unknown keyword, an Include
# loop, a missing IdentityFile, ProxyJump garbage, a host name that is not
# UTF-8), embedded and through remexd; console commands to `remex console
# -c` (garbage, a 100 kB line, unknown and overflowing ids, bytes that are
# not UTF-8, empty commands); host ranges to `remex fanout`.
#
#   malformed_input_test.sh PATH/TO/remex PATH/TO/remexd      (root: fixture)
set -u
here=$(cd "$(dirname "$0")" && pwd)
remex=$(realpath "${1:?usage: malformed_input_test.sh remex remexd}")
remexd=$(realpath "${2:?usage: malformed_input_test.sh remex remexd}")
. "$here/../cli/lib.sh"
. "$here/lib.sh"
tmp=$(mktemp -d)
chmod 0755 "$tmp"
start_fixture "$tmp"
REMEXD_PID=
trap '[ -z "$REMEXD_PID" ] || kill -KILL "$REMEXD_PID" 2>/dev/null
  "$here/../fixtures/sshd-fixture" stop "$tmp/fixture" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
start_remexd "$tmp/d" "$remexd"
B=127.0.0.1:$REMEXD_PORT

# one_line NAME WANT_RC ERRFILE RC [NEEDLE]: the exit code, exactly one
# stderr line, a reason after the last colon (not an empty one), NEEDLE.
one_line() {
  expect_eq "$1: exit code" "$2" "$4"
  expect_eq "$1: one stderr line" 1 "$(wc -l <"$3")"
  case "$(cat "$3")" in
    *": ") fail "$1: the line ends before its reason: [$(cat "$3")]" ;;
    *) pass "$1: the line has a reason" ;;
  esac
  [ -z "${5:-}" ] || expect_contains "$1: message" "$5" "$(cat "$3")"
}

# --- ssh_config ----------------------------------------------------------
# conf NAME LINE...: an ssh_config whose Host "bad" is the fixture plus LINEs.
conf() {
  local f=$tmp/$1.conf
  shift
  sed 's/^Host fixture/Host bad/' "$FIXTURE_SSH_CONFIG" >"$f"
  printf '  %s\n' "$@" >>"$f"
  chmod 0644 "$f"
}
conf unknown "Frobnicate yes"
conf include "Include $tmp/include.conf"
conf proxyjump "ProxyJump ;;;@@:99999,,,"
# Port: the first value wins (ours comes first); OpenSSH refuses the file
# ("Badly formatted port number"), libssh alone would go to port 22.
printf 'Host bad\n  Port notanumber\n' >"$tmp/port.conf"
sed 's/^Host fixture/Host bad/' "$FIXTURE_SSH_CONFIG" >>"$tmp/port.conf"
sed -e 's/^Host fixture/Host bad/' -e "s|IdentityFile .*|IdentityFile $tmp/no-such-key|" \
  "$FIXTURE_SSH_CONFIG" >"$tmp/noid.conf"
chmod 0644 "$tmp"/*.conf

# run_bad WHERE NAME [ARGS...]: remex run -F NAME.conf -H bad ARGS -- echo hi.
run_bad() {
  local where=$1 name=$2
  shift 2
  local rx=("$remex")
  [ "$where" = remexd ] && rx+=(--broker "$B" --token-file "$REMEXD_TOKEN")
  timeout 30 "${rx[@]}" run -F "$tmp/$name.conf" -H "${BAD_HOST:-bad}" "$@" -- echo hi \
    >"$tmp/out" 2>"$tmp/err"
}
for where in embedded remexd; do
  # libssh skips keywords it does not know, as configs written for OpenSSH
  # need; an Include of itself ends at libssh's depth limit.
  run_bad $where unknown
  expect_eq "$where: an unknown keyword is skipped" "0 hi" "$? $(cat "$tmp/out")"
  run_bad $where include
  expect_eq "$where: an Include loop ends" "0 hi" "$? $(cat "$tmp/out")"
  run_bad $where port
  one_line "$where: Port notanumber" 255 "$tmp/err" $? "Port 'notanumber' is not a port number"
  run_bad $where noid
  one_line "$where: a missing IdentityFile" 255 "$tmp/err" $? "authentication failed"
  run_bad $where proxyjump
  one_line "$where: ProxyJump garbage" 255 "$tmp/err" $? "cannot use ssh config"
  BAD_HOST=$(printf 'h\377\376') run_bad $where unknown
  one_line "$where: a host name that is not UTF-8" 255 "$tmp/err" $? "invalid host name"
done
kill -0 "$REMEXD_PID" && pass "remexd runs after the ssh_config cases" || fail "remexd died"

# --- console -------------------------------------------------------------
console() {
  timeout 30 "$remex" console --broker "$B" --token-file "$REMEXD_TOKEN" -c "$1" \
    >"$tmp/out" 2>"$tmp/err"
}
console frobnicate
one_line "console: garbage" 1 "$tmp/err" $? "unknown command 'frobnicate'"
console "kill 99999999"
one_line "console: an unknown id" 1 "$tmp/err" $? "no such execution"
console "kill abc"
one_line "console: an id that is no number" 1 "$tmp/err" $? "not an execution id"
console "kill 1 NOSIG"
one_line "console: an unknown signal" 1 "$tmp/err" $? "unknown signal NOSIG"
console "$(head -c 100000 /dev/zero | tr '\0' a)"
one_line "console: a 100 kB word" 1 "$tmp/err" $? "unknown command"
[ "$(wc -c <"$tmp/err")" -lt 200 ] && pass "console: a 100 kB word is not echoed in full" ||
  fail "console: a $(wc -c <"$tmp/err")-byte line for a 100 kB word"
console "kill 18446744073709551617"
expect_eq "console: an id past 2^64: exit 1, one line" "1 1" "$? $(wc -l <"$tmp/err")"
case "$(cat "$tmp/err")" in
  *"not an execution id"*) pass "console: an id past 2^64 is not an id" ;;
  *) fail "console: an id past 2^64: $(cat "$tmp/err")" ;;
esac
console "kill -1"
one_line "console: a negative id" 1 "$tmp/err" $? "not an execution id"
console "$(printf 'ps \377\376')"
one_line "console: bytes that are not UTF-8" 1 "$tmp/err" $? "unexpected argument"
console ";;;;"
expect_eq "console: empty commands do nothing" "0 " "$? $(cat "$tmp/out" "$tmp/err")"
console "ps; bogus; ps"
one_line "console: garbage between good commands" 1 "$tmp/err" $? "unknown command 'bogus'"
console "watch -5"
one_line "console: watch with a negative time" 1 "$tmp/err" $? "usage: watch"
kill -0 "$REMEXD_PID" && pass "remexd runs after the console cases" || fail "remexd died"
out=$(timeout 30 "$remex" --broker "$B" --token-file "$REMEXD_TOKEN" run -- echo still 2>&1)
expect_eq "remexd serves after all of it" "0 still" "$? $out"

# --- host ranges ---------------------------------------------------------
for h in 'web[01-' 'web[5-1]' 'web[1-100000000]' 'web[a-z]' 'web[]' ',,,' '[' \
  'web[1-2][3-4' 'web[-1-3]' 'web[01-20]x[1-9999]'; do
  timeout 30 "$remex" fanout -H "$h" -- true >"$tmp/out" 2>"$tmp/err"
  one_line "fanout -H '$h'" 255 "$tmp/err" $? "remex: bad host list"
done

stop_remexd
expect_eq "remexd ends 0 on SIGTERM" 0 $?
REMEXD_PID=
finish
