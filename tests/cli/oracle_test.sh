#!/usr/bin/env bash
# `remex run -H fixture` against OpenSSH's `ssh fixture` on the same real sshd:
# the ssh client is the oracle. Each case runs under ssh, remex (agent) and
# remex -b ssh, and remex must do what ssh does, except where remex differs on
# purpose (exact argv with no remote shell; death by signal N is 128+N, not
# 255; signals to remex reach the remote group; remex's own failures are one
# line `remex: HOST: reason`).
#
#   oracle_test.sh PATH/TO/remex
set -u
here=$(cd "$(dirname "$0")" && pwd)
remex=${1:?usage: oracle_test.sh PATH/TO/remex}
. "$here/lib.sh"
tmp=$(mktemp -d)
start_fixture "$tmp"
cfg=$FIXTURE_SSH_CONFIG
# Every run is bounded: a hang is a failure, never a stuck test.
LIMIT=${ORACLE_LIMIT:-30}

# The remote login shell re-reads what ssh sends: quote each word for it.
squote() {
  local out="" a
  for a in "$@"; do out+=" '${a//\'/\'\\\'\'}'"; done
  printf '%s' "${out# }"
}

# cmd_for MODE ARGV...: the client command line for MODE into array CMD.
cmd_for() {
  local mode=$1
  shift
  case $mode in
  ssh) CMD=(ssh -F "$cfg" $SSH_OPTS fixture "$(squote "$@")") ;;
  agent) CMD=("$remex" run -H fixture -F "$cfg" $REMEX_OPTS -- "$@") ;;
  sshb) CMD=("$remex" run -H fixture -F "$cfg" -b ssh $REMEX_OPTS -- "$@") ;;
  esac
  # A backend that cannot run `true` fails every case at once, not after
  # LIMIT seconds each.
  if [ "${broken[$mode]:-}" = 1 ]; then CMD=(sh -c 'echo "backend broken" >&2; exit 254'); fi
}
SSH_OPTS=""
REMEX_OPTS=""

# run_all STDIN ARGV...: runs ARGV under every mode with stdin from STDIN
# ("closed" for a closed fd 0); leaves $tmp/out.MODE, $tmp/err.MODE, and
# rc[MODE], ms[MODE].
declare -A rc ms n
run_all() {
  local in=$1 mode s
  shift
  for mode in ssh agent sshb; do
    cmd_for "$mode" "$@"
    s=$(date +%s%N)
    if [ "$in" = closed ]; then
      timeout -s KILL "$LIMIT" "${CMD[@]}" >"$tmp/out.$mode" 2>"$tmp/err.$mode" <&-
    else
      timeout -s KILL "$LIMIT" "${CMD[@]}" >"$tmp/out.$mode" 2>"$tmp/err.$mode" <"$in"
    fi
    rc[$mode]=$?
    ms[$mode]=$((($(date +%s%N) - s) / 1000000))
  done
}

sum() { sha256sum <"$1" | cut -c1-64; }

# same_as_ssh NAME [rc] [out] [err]: remex's rc / stdout bytes / stderr text
# equal ssh's, for both remex backends.
same_as_ssh() {
  local name=$1 what mode
  shift
  for mode in agent sshb; do
    for what in "$@"; do
      case $what in
      rc) expect_eq "$name ($mode) exit code as ssh" "${rc[ssh]}" "${rc[$mode]}" ;;
      out) expect_eq "$name ($mode) stdout bytes as ssh" "$(sum "$tmp/out.ssh")" "$(sum "$tmp/out.$mode")" ;;
      err) expect_eq "$name ($mode) stderr as ssh" "$(cat "$tmp/err.ssh")" "$(cat "$tmp/err.$mode")" ;;
      esac
    done
  done
}

# one_line_error NAME WANT_RC PREFIX: each remex backend exits WANT_RC with
# exactly one stderr line that starts with PREFIX.
one_line_error() {
  local mode
  for mode in agent sshb; do
    expect_eq "$1 ($mode) exit code" "$2" "${rc[$mode]}"
    expect_eq "$1 ($mode) one stderr line" 1 "$(wc -l <"$tmp/err.$mode")"
    expect_contains "$1 ($mode) message" "$3" "$(head -1 "$tmp/err.$mode")"
  done
}

# --- the backends work at all ----------------------------------------------
declare -A broken
for mode in agent sshb; do
  cmd_for "$mode" echo up
  out=$(timeout -s KILL 20 "${CMD[@]}" </dev/null 2>"$tmp/err")
  got=$?
  if [ "$got" = 0 ] && [ "$out" = up ]; then pass "backend $mode runs echo"; else
    fail "backend $mode cannot run echo within 20 s (exit $got, stderr $(head -c 200 "$tmp/err")); its cases fail fast"
    broken[$mode]=1
  fi
done

# --- startup and wall time ------------------------------------------------
run_all /dev/null true
same_as_ssh "true" rc out err
for mode in agent sshb; do
  # Within ssh's time plus a margin (ssh itself is ~0.2 s here).
  [ "${ms[$mode]}" -le $((ms[ssh] * 2 + 500)) ] &&
    pass "true ($mode) took ${ms[$mode]} ms (ssh ${ms[ssh]} ms)" ||
    fail "true ($mode) took ${ms[$mode]} ms, ssh ${ms[ssh]} ms"
done

# --- exit codes -----------------------------------------------------------
for code in 1 2 42 126 127 128 129 200 254 255; do
  run_all /dev/null sh -c "exit $code"
  expect_eq "ssh gives exit $code" "$code" "${rc[ssh]}"
  same_as_ssh "exit $code" rc out err
done
# Every code 0..255 through both backends (ssh passes each one through).
for mode in agent sshb; do
  bad=""
  for code in $(seq 0 255); do
    cmd_for "$mode" sh -c "exit $code"
    timeout -s KILL "$LIMIT" "${CMD[@]}" </dev/null >/dev/null 2>&1
    got=$?
    [ "$got" = "$code" ] || bad+=" $code->$got"
  done
  expect_eq "exit codes 0..255 ($mode)" "" "$bad"
done

# Not found / not executable: the code ssh gives, one line naming the command.
run_all /dev/null remex-no-such-command-xyz
expect_eq "ssh: unknown command 127" 127 "${rc[ssh]}"
same_as_ssh "unknown command" rc
for mode in agent sshb; do
  expect_eq "unknown command ($mode): one stderr line like ssh" 1 "$(wc -l <"$tmp/err.$mode")"
  expect_contains "unknown command ($mode) names it" remex-no-such-command-xyz "$(cat "$tmp/err.$mode")"
done
run_all /dev/null /etc/passwd
expect_eq "ssh: not executable 126" 126 "${rc[ssh]}"
same_as_ssh "not executable" rc
for mode in agent sshb; do
  expect_eq "not executable ($mode): one stderr line like ssh" 1 "$(wc -l <"$tmp/err.$mode")"
  expect_contains "not executable ($mode) names it" /etc/passwd "$(cat "$tmp/err.$mode")"
done

# Death by signal: ssh reports 255 (exit-signal); remex 128+N on purpose.
SSH_OPTS=""
ssh -F "$cfg" fixture 'exec sh -c "kill -TERM \$\$"' </dev/null 2>/dev/null
expect_eq "ssh: remote death by SIGTERM is 255" 255 $?
run_all /dev/null sh -c 'kill -TERM $$'
for mode in agent sshb; do
  expect_eq "death by SIGTERM ($mode) is 143 (deliberate)" 143 "${rc[$mode]}"
  expect_eq "death by SIGTERM ($mode) quiet" "" "$(cat "$tmp/err.$mode")"
done

# --- no tty, environment, cwd ---------------------------------------------
run_all /dev/null tty
expect_eq "ssh: no tty" "not a tty" "$(cat "$tmp/out.ssh")"
same_as_ssh "tty" rc out err

run_all /dev/null pwd
expect_eq "ssh: starts in the home directory" "$(getent passwd "$FIXTURE_USER" | cut -d: -f6)" "$(cat "$tmp/out.ssh")"
same_as_ssh "default cwd" rc out

# The login environment: the same variables with the same values (the client
# port in SSH_CLIENT / SSH_CONNECTION differs per connection).
envnorm() {
  sed -E -e 's/^(SSH_CLIENT=[^ ]+) [0-9]+/\1 PORT/' \
    -e 's/^(SSH_CONNECTION=[^ ]+) [0-9]+/\1 PORT/' "$1" | sort
}
run_all /dev/null env
for mode in agent sshb; do
  expect_eq "environment ($mode) as ssh" "$(envnorm "$tmp/out.ssh")" "$(envnorm "$tmp/out.$mode")"
done
run_all /dev/null sh -c 'ps -o sid= -p $$; ps -o pgid= -p $$; echo $$'
for mode in agent sshb; do
  read -r _ pgid pid < <(tr '\n' ' ' <"$tmp/out.$mode")
  expect_eq "remote command ($mode) leads its own process group" "$pid" "$pgid"
done

# -e and -C against ssh's env / cd equivalents.
out_ssh=$(ssh -F "$cfg" fixture 'cd /usr/share && env REMEX_A="two words" sh -c '\''echo "$REMEX_A" $PWD'\''' </dev/null)
for mode in agent sshb; do
  b=agent
  [ "$mode" = sshb ] && b=ssh
  [ "${broken[$mode]:-}" = 1 ] && { fail "-e and -C ($mode): backend broken"; continue; }
  out=$(timeout -s KILL "$LIMIT" "$remex" run -H fixture -F "$cfg" -b "$b" \
    -e 'REMEX_A=two words' -C /usr/share -- sh -c 'echo "$REMEX_A" $PWD' </dev/null)
  expect_eq "-e and -C ($mode) as ssh's env+cd" "$out_ssh" "$out"
done
REMEX_OPTS=""

# --- stdin ----------------------------------------------------------------
head -c 3000000 /dev/urandom >"$tmp/in.bin"
run_all "$tmp/in.bin" sha256sum
expect_eq "ssh: stdin from a file" "$(sum "$tmp/in.bin")  -" "$(cat "$tmp/out.ssh")"
same_as_ssh "stdin from a file" rc out
run_all /dev/null sh -c 'wc -c; echo done'
same_as_ssh "stdin from /dev/null" rc out err
run_all closed sh -c 'cat; echo done'
same_as_ssh "closed stdin" rc out err
SSH_OPTS=-n
REMEX_OPTS=-n
run_all "$tmp/in.bin" wc -c
expect_eq "ssh -n: empty stdin" 0 "$(cat "$tmp/out.ssh")"
same_as_ssh "-n" rc out
SSH_OPTS=""
REMEX_OPTS=""
# Endless input to a command that never reads it: no hang.
run_all /dev/zero echo hi
same_as_ssh "unread endless stdin" rc out
for mode in agent sshb; do
  [ "${ms[$mode]}" -lt 5000 ] && pass "unread endless stdin ($mode) returns" ||
    fail "unread endless stdin ($mode) took ${ms[$mode]} ms"
done

# Stdin a pipe that stays open with no data: done when the command is.
for mode in ssh agent sshb; do
  cmd_for "$mode" echo hi
  s=$(date +%s%N)
  out=$(timeout -s KILL "$LIMIT" "${CMD[@]}" 2>/dev/null < <(sleep 8))
  got=$?
  e=$((($(date +%s%N) - s) / 1000000))
  expect_eq "idle open stdin ($mode) output" "hi 0" "$out $got"
  [ "$e" -lt 5000 ] && pass "idle open stdin ($mode) returns in ${e} ms" ||
    fail "idle open stdin ($mode) took ${e} ms"
done

# --- output ---------------------------------------------------------------
run_all /dev/null printf 'a\0b\377\nno newline'
same_as_ssh "binary, no trailing newline" rc out err
run_all /dev/null sh -c 'head -c 8000000 /dev/urandom >/tmp/remex-oracle.$$; cat /tmp/remex-oracle.$$ & cat /tmp/remex-oracle.$$ >&2 & wait; rm /tmp/remex-oracle.$$'
expect_eq "ssh: 8 MB stdout" 8000000 "$(wc -c <"$tmp/out.ssh")"
for mode in agent sshb; do
  expect_eq "interleaved big output ($mode): stdout = stderr" "$(sum "$tmp/out.$mode")" "$(sum "$tmp/err.$mode")"
  expect_eq "interleaved big output ($mode): 8 MB stdout" 8000000 "$(wc -c <"$tmp/out.$mode")"
done

# The reader goes away: ssh ends by SIGPIPE (141), quietly, the writer stops.
for mode in ssh agent sshb; do
  marker="oracle-pipe-$$-$mode-end"
  cmd_for "$mode" sh -c "yes $marker"
  timeout -s KILL "$LIMIT" "${CMD[@]}" </dev/null 2>"$tmp/err" | head -1 >/dev/null
  expect_eq "| head -1 ($mode) exits 141" 141 "${PIPESTATUS[0]}"
  expect_eq "| head -1 ($mode) quiet" "" "$(cat "$tmp/err")"
  wait_gone "$marker" 5 && pass "| head -1 ($mode) stops the remote writer" ||
    fail "| head -1 ($mode) left $(pgrep -af "$marker")"
done

# stdout or stderr closed: the other stream and the exit code as ssh.
for mode in ssh agent sshb; do
  cmd_for "$mode" sh -c 'echo x; echo y >&2; exit 5'
  timeout -s KILL "$LIMIT" "${CMD[@]}" </dev/null >&- 2>"$tmp/err"
  rc[$mode]=$?
  echo "$(cat "$tmp/err")" >"$tmp/err.$mode"
  out=$(timeout -s KILL "$LIMIT" "${CMD[@]}" </dev/null 2>&-)
  echo "${rc[$mode]} $? $out" >"$tmp/out.$mode"
done
expect_eq "ssh: closed stdout / stderr" "5 5 x" "$(cat "$tmp/out.ssh")"
same_as_ssh "closed stdout / stderr" rc out err

# A remote background job that keeps stdout open: ssh waits for it and
# delivers what it writes later.
run_all /dev/null sh -c '(sleep 1; echo late) & echo hi'
expect_eq "ssh: background job's late output" "hi
late" "$(cat "$tmp/out.ssh")"
same_as_ssh "background job holding stdout" rc out
# A command that closes its output early but keeps running: ssh waits for
# the exit code.
run_all /dev/null sh -c 'exec >&- 2>&-; sleep 2; exit 4'
same_as_ssh "closes output, keeps running" rc out
for mode in agent sshb; do
  [ "${ms[$mode]}" -ge 1900 ] && pass "closes output early ($mode) waited for exit" ||
    fail "closes output early ($mode) returned after ${ms[$mode]} ms"
done
# A fully detached background job (same process group, output elsewhere)
# survives the session under ssh. remex kills the command's process group
# once the command is done (nothing outlives an execution, by design): the
# agent at once, -b ssh's orphan guard within its 1 s poll.
for mode in ssh agent sshb; do
  marker="oracle-detached-$$-$mode-end"
  cmd_for "$mode" sh -c "sh -c 'sleep 3; : $marker' </dev/null >/dev/null 2>&1 & echo hi"
  timeout -s KILL "$LIMIT" "${CMD[@]}" </dev/null >/dev/null 2>&1
  # (-b ssh's orphan guard, whose command line holds the marker too, polls
  # once a second and must be gone by then.)
  sleep 1.5
  n[$mode]=$(pgrep -f "$marker" | wc -l)
done
expect_eq "ssh: detached background job survives" 1 "${n[ssh]}"
if [ -n "${REMEX_BROKER:-}" ]; then
  # Through a remexd the SSH connection stays warm (as with ControlMaster),
  # and -b ssh's guard watches the connection: see run_cases.sh.
  skip "detached background job (sshb): leftovers of a plain channel live on a warm connection"
  pkill -f "oracle-detached-$$-sshb-end"
else
  expect_eq "detached background job (sshb) killed with the group (deliberate)" 0 "${n[sshb]}"
fi
expect_eq "detached background job (agent) killed with the group (deliberate)" 0 "${n[agent]}"

# --- failures before the command runs ---------------------------------------
ssh-keygen -q -t ed25519 -N '' -f "$tmp/other_key"
cat >"$tmp/bad_config" <<EOF
Host fixture
  HostName 127.0.0.1
  Port $FIXTURE_PORT
  User $FIXTURE_USER
  IdentityFile $tmp/other_key
  IdentitiesOnly yes
  UserKnownHostsFile $FIXTURE_KNOWN_HOSTS
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  BatchMode yes
Host nodns
  HostName no-such-host.invalid
  BatchMode yes
Host wrongport
  HostName 127.0.0.1
  Port 1
  BatchMode yes
EOF
good_cfg=$cfg
cfg="$tmp/bad_config"
run_all /dev/null true
expect_eq "ssh: auth failure 255" 255 "${rc[ssh]}"
one_line_error "auth failure" 255 "remex: fixture: "
for h in nodns wrongport; do
  for mode in ssh agent sshb; do
    case $mode in
    ssh) CMD=(ssh -F "$cfg" "$h" true) ;;
    agent) CMD=("$remex" run -H "$h" -F "$cfg" -- true) ;;
    sshb) CMD=("$remex" run -H "$h" -F "$cfg" -b ssh -- true) ;;
    esac
    timeout -s KILL "$LIMIT" "${CMD[@]}" </dev/null >"$tmp/out.$mode" 2>"$tmp/err.$mode"
    rc[$mode]=$?
  done
  expect_eq "ssh: $h 255" 255 "${rc[ssh]}"
  one_line_error "$h" 255 "remex: $h: "
done
cfg=$good_cfg

"$remex" >/dev/null 2>"$tmp/err"
expect_eq "no arguments exits 255 like ssh" 255 $?
"$remex" run --bogus -- true >/dev/null 2>"$tmp/err"
expect_eq "bad option exits 255 like ssh" 255 $?
expect_contains "bad option names it" "--bogus" "$(cat "$tmp/err")"

# --- signals to the client ----------------------------------------------------
# Under ssh (no tty) SIGINT/SIGTERM end the client with 255 and leave the
# remote command running; remex forwards them on purpose: 128+N, group gone.
set -m
for sig in INT TERM HUP; do
  for mode in agent sshb; do
    marker="oracle-sig-$$-$mode-$sig"
    cmd_for "$mode" sh -c "echo ready; sleep 30; : $marker"
    : >"$tmp/sig" # a "ready" from the last round must not start the kill
    "${CMD[@]}" </dev/null >"$tmp/sig" 2>"$tmp/err" &
    pid=$!
    wait_file_has "$tmp/sig" ready 10 || fail "SIG$sig ($mode): remote never ready"
    kill -"$sig" "$pid"
    s=$(date +%s)
    wait "$pid"
    got=$?
    expect_eq "SIG$sig to remex ($mode) exits 128+N (deliberate)" "$(($(kill -l "$sig") + 128))" "$got"
    wait_gone "$marker" 5 && pass "SIG$sig ($mode) ends the remote command" ||
      fail "SIG$sig ($mode) left $(pgrep -af "$marker")"
  done
done
# A signal ignored when the client starts (nohup, `cmd &` in a script
# without job control) stays ignored: ssh keeps running and reports the
# command's own exit code.
for sig in INT HUP; do
  for mode in ssh agent sshb; do
    cmd_for "$mode" sh -c 'echo ready; sleep 2; exit 3'
    : >"$tmp/sig"
    (trap '' "$sig"; exec "${CMD[@]}") </dev/null >"$tmp/sig" 2>/dev/null &
    pid=$!
    (sleep "$LIMIT"; kill -KILL "$pid" 2>/dev/null) &
    dog=$!
    wait_file_has "$tmp/sig" ready 10 || fail "ignored SIG$sig ($mode): remote never ready"
    kill -"$sig" "$pid"
    wait "$pid"
    rc[$mode]=$?
    kill "$dog" 2>/dev/null
    wait "$dog" 2>/dev/null
  done
  expect_eq "ssh: ignored SIG$sig keeps running" 3 "${rc[ssh]}"
  same_as_ssh "SIG$sig ignored at start" rc
done
set +m

finish
