#!/usr/bin/env bash
# `remex run --record` and `remex replay`, agent and plain (ssh) backends, on
# this machine (WHERE local, the default) or on the sshd fixture (WHERE ssh):
# byte-exact output, exit code, header, file mode, a recording cut short,
# pacing.
set -u
here=$(cd "$(dirname "$0")" && pwd)
remex=${1:?usage: record_replay_test.sh PATH/TO/remex [local|ssh]}
where=${2:-local}
. "$here/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
target=()
host="this machine"
if [ "$where" = ssh ]; then
  start_fixture "$tmp"
  target=(-H "$FIXTURE_USER@$FIXTURE_HOST:$FIXTURE_PORT" -i "$FIXTURE_KEY"
    --known-hosts "$FIXTURE_KNOWN_HOSTS")
  host="$FIXTURE_USER@$FIXTURE_HOST:$FIXTURE_PORT"
fi

for backend in agent ssh; do
  t="$backend:"
  rec="$tmp/$backend.rec"
  # A wider mode on an existing file is narrowed: it holds the output.
  : >"$rec"
  chmod 644 "$rec"
  # 5 MB of random bytes on each of stdout and stderr.
  "$remex" run "${target[@]}" -b "$backend" --record "$rec" -n -- sh -c \
    'head -c 5242880 /dev/urandom; head -c 5242881 /dev/urandom >&2; exit 7' \
    >"$tmp/out.bin" 2>"$tmp/err.bin"
  expect_eq "$t run exits with the command's code" 7 $?
  expect_eq "$t run stdout size" 5242880 "$(stat -c %s "$tmp/out.bin")"
  expect_eq "$t run stderr size" 5242881 "$(stat -c %s "$tmp/err.bin")"
  expect_eq "$t recording is mode 600" 600 "$(stat -c %a "$rec")"

  "$remex" replay "$rec" >"$tmp/rep.out" 2>"$tmp/rep.err"
  expect_eq "$t replay exits 0" 0 $?
  cmp -s "$tmp/out.bin" "$tmp/rep.out" && pass "$t replay stdout byte-exact" ||
    fail "$t replay stdout differs ($(stat -c %s "$tmp/rep.out") bytes)"
  cmp -s "$tmp/err.bin" "$tmp/rep.err" && pass "$t replay stderr byte-exact" ||
    fail "$t replay stderr differs ($(stat -c %s "$tmp/rep.err") bytes)"

  info=$("$remex" replay --info "$rec")
  expect_eq "$t --info exits 0" 0 $?
  line=$(grep -E '^0 ' <<<"$info")
  expect_eq "$t --info: seq 0 exit 7" "0 7" "$(awk '{print $1, $2}' <<<"$line")"
  expect_contains "$t --info: argv" "sh -c 'head -c 5242880 /dev/urandom;" "$line"
  expect_contains "$t --info: duration" "s " "$(awk '{print $3" "}' <<<"$line")"
  expect_contains "$t --info: backend and host" "backend $backend on $host" "$info"

  # Cut a third of the way in: what was recorded before the cut plays, exit
  # 0, and one line at the end says the recording was cut.
  size=$(stat -c %s "$rec")
  head -c $((size / 3)) "$rec" >"$tmp/cut.rec"
  "$remex" replay "$tmp/cut.rec" >"$tmp/cut.out" 2>"$tmp/cut.err"
  expect_eq "$t cut recording exits 0" 0 $?
  got=$(stat -c %s "$tmp/cut.out")
  [ "$got" -gt 1000000 ] && [ "$got" -lt 5242880 ] &&
    cmp -s "$tmp/cut.out" <(head -c "$got" "$tmp/out.bin") &&
    pass "$t cut recording replays a prefix ($got bytes)" ||
    fail "$t cut recording: $got bytes, not a short prefix of the output"
  warning="remex: replay $tmp/cut.rec: the recording was cut short; replayed up to the cut"
  expect_eq "$t cut recording warns" "$warning" "$(tail -n 1 "$tmp/cut.err" | tr -d '\0')"
  errs=$(($(stat -c %s "$tmp/cut.err") - ${#warning} - 1))
  cmp -s <(head -c "$errs" "$tmp/cut.err") <(head -c "$errs" "$tmp/err.bin") &&
    pass "$t cut recording: stderr is a prefix ($errs bytes), then the warning" ||
    fail "$t cut recording: stderr is not a prefix then the warning"

  # Pacing: one second between two outputs.
  "$remex" run "${target[@]}" -b "$backend" --record "$tmp/slow.rec" -n -- sh -c \
    'printf a; sleep 1; printf b >&2; printf c' >/dev/null 2>&1
  start=$(now_ms)
  out=$("$remex" replay --timing "$tmp/slow.rec" 2>"$tmp/slow.err")
  took=$(($(now_ms) - start))
  expect_eq "$t --timing output" "ac" "$out"
  expect_eq "$t --timing stderr" "b" "$(cat "$tmp/slow.err")"
  [ "$took" -ge 800 ] && [ "$took" -lt 3000 ] && pass "$t --timing took $took ms" ||
    fail "$t --timing took $took ms (want about 1000)"
  start=$(now_ms)
  "$remex" replay "$tmp/slow.rec" >/dev/null 2>&1
  took=$(($(now_ms) - start))
  [ "$took" -lt 500 ] && pass "$t without --timing: $took ms" ||
    fail "$t without --timing took $took ms"
  start=$(now_ms)
  "$remex" replay --speed 4 "$tmp/slow.rec" >/dev/null 2>&1
  took=$(($(now_ms) - start))
  [ "$took" -ge 200 ] && [ "$took" -lt 700 ] && pass "$t --speed 4: $took ms" ||
    fail "$t --speed 4 took $took ms (want about 250)"
done

# Not a recording, or no file: one line, 255.
printf 'just some text\n' >"$tmp/text"
"$remex" replay "$tmp/text" >"$tmp/out" 2>"$tmp/err"
expect_usage_error "garbage file" "$tmp/err" $? "not a recording"
expect_eq "garbage file prints nothing" 0 "$(stat -c %s "$tmp/out")"
"$remex" replay "$tmp/missing.rec" 2>"$tmp/err"
expect_usage_error "missing file" "$tmp/err" $? "missing.rec"
"$remex" replay 2>"$tmp/err"
expect_usage_error "no file" "$tmp/err" $? "FILE"
"$remex" replay --speed 0 "$tmp/agent.rec" 2>"$tmp/err"
expect_usage_error "bad speed" "$tmp/err" $? "--speed"
# A place that cannot be written is refused before the command runs.
"$remex" run --record "$tmp/no/such/dir/r.rec" -- touch "$tmp/ran" 2>"$tmp/err"
expect_usage_error "unwritable --record" "$tmp/err" $? "cannot record"
[ ! -e "$tmp/ran" ] && pass "unwritable --record: nothing ran" ||
  fail "unwritable --record: the command ran"
finish
