#!/usr/bin/env bash
# `remex run` against a real OpenSSH sshd (the fixture), agent and ssh
# backends, plus what only a network host can do wrong: unreachable hosts,
# unknown and changed host keys.
set -u
here=$(cd "$(dirname "$0")" && pwd)
remex=${1:?usage: run_ssh_test.sh PATH/TO/remex}
. "$here/lib.sh"
. "$here/run_cases.sh"
tmp=$(mktemp -d)
start_fixture "$tmp"

REMEX=("$remex" run -H fixture -F "$FIXTURE_SSH_CONFIG")
TAG=ssh-agent run_cases "$tmp"
REMEX=("$remex" run -H fixture -F "$FIXTURE_SSH_CONFIG" -b ssh)
TAG=ssh-sh EXTRA_FDS=no run_cases "$tmp"

# The target spelled out instead of an alias, with -i and --known-hosts.
direct=("$remex" run -H "$FIXTURE_USER@$FIXTURE_HOST:$FIXTURE_PORT"
  -i "$FIXTURE_KEY" --known-hosts "$FIXTURE_KNOWN_HOSTS")
out=$("${direct[@]}" -- id -un)
expect_eq "user@host:port target logs in as the user" "$FIXTURE_USER" "$out"

# Nobody listens on port 1: one line naming the host, exit 255, quickly.
start=$(date +%s)
"$remex" run -H 127.0.0.1:1 -i "$FIXTURE_KEY" -- true 2>"$tmp/err"
expect_eq "unreachable host exits 255" 255 $?
expect_contains "unreachable host message names it" "remex: 127.0.0.1:1:" "$(cat "$tmp/err")"
expect_eq "unreachable host: one line" 1 "$(wc -l <"$tmp/err")"
[ $(($(date +%s) - start)) -lt 10 ] && pass "unreachable host fails fast" ||
  fail "unreachable host took $(($(date +%s) - start)) s"

# An unknown host key is refused unless accepted, then recorded and reused.
kh="$tmp/known_hosts_empty"
: >"$kh"
unknown=("$remex" run -H "$FIXTURE_USER@$FIXTURE_HOST:$FIXTURE_PORT"
  -i "$FIXTURE_KEY" --known-hosts "$kh")
"${unknown[@]}" -- true 2>"$tmp/err"
expect_eq "unknown host key refused with 255" 255 $?
expect_contains "unknown host key message" "$FIXTURE_HOST" "$(cat "$tmp/err")"
"${unknown[@]}" --accept-new-host-key -- true 2>"$tmp/err"
expect_eq "unknown host key accepted on request" 0 $?
"${unknown[@]}" -- true 2>"$tmp/err"
expect_eq "accepted host key recorded and reused" 0 $?

# A changed host key is refused even with --accept-new-host-key.
# The host's name with another (valid) key: what a reinstalled or
# impersonated host looks like.
ssh-keygen -q -t ed25519 -N '' -f "$tmp/other_key"
echo "[$FIXTURE_HOST]:$FIXTURE_PORT $(cut -d' ' -f1,2 "$tmp/other_key.pub")" \
  >"$tmp/known_hosts_changed"
changed=("$remex" run -H "$FIXTURE_USER@$FIXTURE_HOST:$FIXTURE_PORT"
  -i "$FIXTURE_KEY" --known-hosts "$tmp/known_hosts_changed")
"${changed[@]}" --accept-new-host-key -- true 2>"$tmp/err"
expect_eq "changed host key refused with 255" 255 $?
expect_contains "changed host key message names known_hosts" "known_hosts_changed" "$(cat "$tmp/err")"

# The ssh config may let a new host key in (StrictHostKeyChecking accept-new
# or no: recorded, with one line saying so), never a changed one.
cfg_with() { # FILE KNOWN_HOSTS STRICT: the fixture's config, two lines changed
  sed -e "s|^  UserKnownHostsFile .*|  UserKnownHostsFile $2|" \
    -e "s|^  StrictHostKeyChecking .*|  StrictHostKeyChecking $3|" \
    "$FIXTURE_SSH_CONFIG" >"$1"
}
for strict in no accept-new; do
  cfg_with "$tmp/cfg_changed" "$tmp/known_hosts_changed" "$strict"
  cp "$tmp/known_hosts_changed" "$tmp/kh_before"
  for backend in agent ssh; do
    out=$("$remex" run -H fixture -F "$tmp/cfg_changed" -b "$backend" -- id -un 2>"$tmp/err")
    rc=$?
    expect_eq "changed host key refused with StrictHostKeyChecking $strict ($backend)" "255 " "$rc $out"
    expect_contains "changed host key ($strict, $backend) says so" "host key changed" "$(cat "$tmp/err")"
    expect_eq "changed host key ($strict, $backend): one line" 1 "$(wc -l <"$tmp/err")"
  done
  cmp -s "$tmp/kh_before" "$tmp/known_hosts_changed" &&
    pass "changed host key ($strict): known_hosts untouched" ||
    fail "changed host key ($strict): known_hosts rewritten: $(cat "$tmp/known_hosts_changed")"

  : >"$tmp/kh_new"
  cfg_with "$tmp/cfg_new" "$tmp/kh_new" "$strict"
  out=$("$remex" run -H fixture -F "$tmp/cfg_new" -- id -un 2>"$tmp/err")
  expect_eq "new host key accepted with StrictHostKeyChecking $strict" "0 $FIXTURE_USER" "$? $out"
  expect_eq "new host key ($strict): one line on stderr" 1 "$(wc -l <"$tmp/err")"
  expect_contains "new host key ($strict): says it was added" "ermanently added" "$(cat "$tmp/err")"
  expect_contains "new host key ($strict): names known_hosts" "$tmp/kh_new" "$(cat "$tmp/err")"
  expect_eq "new host key ($strict) recorded" "[$FIXTURE_HOST]:$FIXTURE_PORT $(cut -d' ' -f1,2 "$FIXTURE_DIR/host_ed25519.pub")" \
    "$(cut -d' ' -f1-3 "$tmp/kh_new")"
  out=$("$remex" run -H fixture -F "$tmp/cfg_new" -- id -un 2>"$tmp/err")
  expect_eq "recorded host key ($strict) reused quietly" "0 $FIXTURE_USER " "$? $out $(cat "$tmp/err")"
done
# ask (no one to ask) and yes refuse a new key, as the fixture's config does.
: >"$tmp/kh_new"
cfg_with "$tmp/cfg_new" "$tmp/kh_new" ask
"$remex" run -H fixture -F "$tmp/cfg_new" -- true 2>"$tmp/err"
expect_eq "new host key refused with StrictHostKeyChecking ask" 255 $?
expect_eq "new host key refused (ask): nothing recorded" 0 "$(wc -c <"$tmp/kh_new")"

# Bad input is refused before any connection: one line, exit 255, and the
# host (a listener that counts connections) never hears from remex.
start_silent_listener "$tmp"
silent=("$remex" run -H "127.0.0.1:$SILENT_PORT" -i "$FIXTURE_KEY" --known-hosts "$FIXTURE_KNOWN_HOSTS")
for bad in "-v|bogus" "-t|0" "-t|x" "--pass-fd|2" "--pass-fd|9" "-F|$tmp/no-such-config" "-F|$tmp" "-H|" "-H|a b" "-H|-oProxyCommand=x" "-H|me@" "-H|host:0" "-H|host:99999" "-H|[::1"; do
  "${silent[@]}" "${bad%%|*}" "${bad#*|}" -- true 2>"$tmp/err" 9<&-
  expect_usage_error "ssh ${bad%%|*} '${bad#*|}'" "$tmp/err" $?
done
"${silent[@]}" --pass-fd 3 --pass-fd 3 -- true 2>"$tmp/err" 3</dev/null
expect_usage_error "ssh --pass-fd 3 twice" "$tmp/err" $?
sleep 0.3
expect_eq "bad input: no connection attempted" 0 "$(silent_accepts "$tmp")"
# What is wrong, said precisely.
"${silent[@]}" -F "$tmp/no-such-config" -- true 2>"$tmp/err"
expect_eq "-F missing file: the reason" \
  "remex: cannot read ssh config $tmp/no-such-config: No such file or directory" "$(cat "$tmp/err")"
"${silent[@]}" -F "$tmp" -- true 2>"$tmp/err"
expect_eq "-F directory: the reason" "remex: cannot read ssh config $tmp: Is a directory" "$(cat "$tmp/err")"
"${silent[@]}" -H 'a b' -- true 2>"$tmp/err"
expect_contains "-H 'a b': names the target" "'a b'" "$(cat "$tmp/err")"
expect_contains "-H 'a b': says what is wrong" "space" "$(cat "$tmp/err")"
"${silent[@]}" -H '' -- true 2>"$tmp/err"
expect_contains "-H '': says the target is empty" "empty" "$(cat "$tmp/err")"

# --timeout covers connecting: a host that accepts TCP but never answers
# ends at the deadline, counted from the start of remex run.
for backend in agent ssh; do
  start=$(date +%s%N)
  "${silent[@]}" -b "$backend" -t 3 -- true 2>"$tmp/err"
  rc=$?
  elapsed=$((($(date +%s%N) - start) / 1000000))
  expect_eq "timeout while connecting ($backend) exits 124" 124 "$rc"
  [ "$elapsed" -ge 2900 ] && [ "$elapsed" -lt 5000 ] &&
    pass "timeout while connecting ($backend) took ${elapsed} ms" ||
    fail "timeout while connecting ($backend) took ${elapsed} ms (want ~3000)"
  expect_eq "timeout while connecting ($backend): one line" 1 "$(wc -l <"$tmp/err")"
  expect_contains "timeout while connecting ($backend) message" "timed out after 3 s" "$(cat "$tmp/err")"
done
stop_silent_listener

# Ctrl-C while connecting (a server that accepts but never answers) ends
# remex at once, as it ends ssh: death by SIGINT.
kill -STOP "$FIXTURE_PID"
set -m # else bash starts the background job with SIGINT ignored
# (-i: connection options of its own, so that no warm remexd connection
# serves it.)
"$remex" run -H fixture -F "$FIXTURE_SSH_CONFIG" -i "$FIXTURE_KEY" -- true 2>"$tmp/err" &
pid=$!
set +m
sleep 1
kill -INT "$pid"
start=$(date +%s)
wait "$pid"
expect_eq "SIGINT while connecting ends remex by SIGINT" 130 $?
kill -CONT "$FIXTURE_PID"
[ $(($(date +%s) - start)) -lt 3 ] && pass "SIGINT while connecting is prompt" ||
  fail "SIGINT while connecting took $(($(date +%s) - start)) s"

# The link drops mid-command (the server side of the connection dies): 255
# with one line, no hang, and the remote command does not live on.
sshd_children() {
  local p
  for p in $(pgrep -P "$1"); do
    [ "$(ps -o comm= -p "$p")" = sshd ] && echo "$p" && sshd_children "$p"
  done
}
for backend in agent ssh; do
  marker="remex-drop-marker-$$-$backend"
  : >"$tmp/drop" # no "ready" left from the other backend's round
  "$remex" run -H fixture -F "$FIXTURE_SSH_CONFIG" -b "$backend" -- \
    sh -c "echo ready; sleep 60; : $marker" >"$tmp/drop" 2>"$tmp/err" &
  pid=$!
  wait_file_has "$tmp/drop" ready 10 || fail "drop $backend: remote never ready"
  kill -KILL $(sshd_children "$FIXTURE_PID")
  start=$(date +%s)
  wait "$pid"
  expect_eq "link drop ($backend) exits 255" 255 $?
  [ $(($(date +%s) - start)) -lt 20 ] && pass "link drop ($backend) noticed" ||
    fail "link drop ($backend) took $(($(date +%s) - start)) s"
  expect_contains "link drop ($backend) message" "remex: fixture: connection lost" "$(cat "$tmp/err")"
  wait_gone "$marker" 10 && pass "link drop ($backend) leaves no remote process" ||
    fail "link drop ($backend) left $(pgrep -af "$marker")"
done

# The agent backend placed this build's agent bundle on the host, once.
home=$(getent passwd "$FIXTURE_USER" | cut -d: -f6)
agent_dir=$(dirname "$remex")
n=0
for d in "$home"/.cache/remex/agent-*/; do
  cmp -s "$d/remex-agent" "$agent_dir/remex-agent" && n=$((n + 1))
done
expect_eq "this build's agent is cached on the host once" 1 "$n"
finish
