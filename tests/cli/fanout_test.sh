#!/usr/bin/env bash
# `remex fanout` end to end against 50 ssh_config aliases h01..h50 of one
# real sshd (the fixture), then the key cases again through a remexd.
#
#   fanout_test.sh REMEX [REMEXD]
#
# Per-host identity: every alias is the same machine and the same user, so a
# command cannot tell on its own which alias it runs under. Each alias gets a
# key of its own (IdentityFile), and that key's authorized_keys line carries
# environment="REMEX_ALIAS=hNN" (sshd started with
# PermitUserEnvironment=REMEX_ALIAS): sshd puts the alias into the login
# environment, which the agent (and a plain exec channel) hands to the
# command. So `sh -c 'echo $REMEX_ALIAS'` prints the alias it was reached
# by, and `case $REMEX_ALIAS in …` makes hosts behave differently in one run.
# It needs nothing from the client side, so it holds embedded, through a
# remexd, and for ssh(1) alike.
# shellcheck disable=SC2016 # the $ are for the remote sh
set -u
remex=${1:?usage: fanout_test.sh REMEX [REMEXD]}
remexd=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
tmp=$(mktemp -d)
start_fixture "$tmp" -o PermitUserEnvironment=REMEX_ALIAS
cfg=$tmp/ssh_config
: >"$cfg"
keys=$(cat "$FIXTURE_DIR/authorized_keys_path")

# host_block NAME KEY [PORT]: the fixture's "fixture" block as alias NAME.
host_block() {
  sed -e "s|^Host fixture\$|Host $1|" -e "s|^  IdentityFile .*|  IdentityFile $2|" \
    ${3:+-e "s|^  Port .*|  Port $3|"} "$FIXTURE_SSH_CONFIG"
}
for i in $(seq -w 1 50); do
  ssh-keygen -q -t ed25519 -N '' -C "h$i" -f "$tmp/key-h$i"
  echo "environment=\"REMEX_ALIAS=h$i\" $(cat "$tmp/key-h$i.pub")" >>"$keys"
  host_block "h$i" "$tmp/key-h$i" >>"$cfg"
done
# "down": nothing listens on its port. "silent": accepts and never speaks
# (for "no connection was attempted").
host_block down "$FIXTURE_KEY" "$(free_port)" >>"$cfg"
start_silent_listener "$tmp"
host_block silent "$FIXTURE_KEY" "$SILENT_PORT" >>"$cfg"
trap 'stop_silent_listener; kill -TERM "${REMEXD_PID:-}" 2>/dev/null
  "$here/../fixtures/sshd-fixture" stop "$tmp/fixture" >/dev/null 2>&1; rm -rf "$tmp"' EXIT

# The sanity check the rest depends on: an alias is its own identity.
got=$("$remex" run -F "$cfg" -H h07 -- sh -c 'echo $REMEX_ALIAS' 2>&1)
expect_eq "setup: h07's command sees REMEX_ALIAS=h07 (remex run)" h07 "$got"

hosts() { # hosts FROM TO [SKIP_FROM SKIP_TO]: the aliases hFROM..hTO, one a line
  local i
  for ((i = $1; i <= $2; i++)); do
    [ -n "${3:-}" ] && [ "$i" -ge "$3" ] && [ "$i" -le "$4" ] && continue
    printf 'h%02d\n' "$i"
  done
}

# The cases, with every remex fanout as: "$remex" fanout "${via[@]}" -F cfg …
cases() {
  local label=$1 out=$tmp/out err=$tmp/err rc t0 el
  shift
  via=("$@")
  fan() { "$remex" fanout "${via[@]}" -F "$cfg" "$@"; }
  echo "# $label"

  # Host lists: ranges, exclusions, repeated options, duplicates.
  fan -w 'h[01-50]' -x 'h[10-19]' -- sh -c 'echo $REMEX_ALIAS' >"$out" 2>"$err"
  rc=$?
  expect_eq "$label: h[01-50] -x h[10-19] exits 0" 0 "$rc"
  expect_eq "$label: h[01-50] -x h[10-19] is 40 hosts, each its own line" \
    "$(hosts 1 50 10 19 | sed 's/.*/&: &/')" "$(sort "$out")"
  expect_contains "$label: summary names 40 hosts" "40 hosts:" "$(tail -n1 "$err")"
  fan -H h01,h02 -H 'h[02-03]' -w h01 -H 'h[05,07-08]' -x h08 -- sh -c 'echo $REMEX_ALIAS' \
    >"$out" 2>"$err"
  expect_eq "$label: repeated -H/-w accumulate, duplicates once, -x excludes" \
    "$(printf 'h01: h01\nh02: h02\nh03: h03\nh05: h05\nh07: h07')" "$(sort "$out")"
  fan -H 'h[01-03,07]' -- sh -c 'echo $REMEX_ALIAS' >"$out" 2>"$err"
  expect_eq "$label: h[01-03,07] keeps the zero padding" \
    "$(printf 'h01: h01\nh02: h02\nh03: h03\nh07: h07')" "$(sort "$out")"

  # Bad host syntax: 255, one line, no connection to anyone (silent counts).
  local bad before
  for bad in 'h[01-' 'h[]' 'h[1-x]' 'h[0a]' 'h[01-03'; do
    before=$(silent_accepts "$tmp")
    fan -H "silent,$bad" -- true >"$out" 2>"$err"
    rc=$?
    expect_usage_error "$label: bad host list '$bad'" "$err" "$rc"
    expect_eq "$label: bad host list '$bad': no connection" "$before" "$(silent_accepts "$tmp")"
    expect_eq "$label: bad host list '$bad': no stdout" "" "$(cat "$out")"
  done

  # --stream: 50 hosts x 200 lines at once, and a line on stderr each; every
  # line whole, under its own host, in order, none missing.
  fan -H 'h[01-50]' -- sh -c 'i=1; while [ $i -le 200 ]; do echo "$REMEX_ALIAS line $i"; i=$((i+1)); done; echo "$REMEX_ALIAS to stderr" >&2' \
    >"$out" 2>"$err"
  rc=$?
  expect_eq "$label: stream of 50x200 lines exits 0" 0 "$rc"
  local report
  report=$(python3 - "$out" <<'PY'
import re, sys
data = open(sys.argv[1], 'rb').read()
bad, nxt = [], {}
if data and not data.endswith(b'\n'):
    bad.append('no final newline')
for ln in data.split(b'\n')[:-1]:
    m = re.fullmatch(rb'(h\d\d): (h\d\d) line (\d+)', ln)
    if not m or m[1] != m[2] or int(m[3]) != nxt.get(m[1], 1):
        bad.append(repr(ln)[:80])
        continue
    nxt[m[1]] = int(m[3]) + 1
short = [h.decode() for h, n in nxt.items() if n != 201]
if len(nxt) != 50 or short:
    bad.append(f'{len(nxt)} hosts; short: {short}')
print('; '.join(bad[:5]) + (f' (+{len(bad) - 5})' if len(bad) > 5 else ''))
PY
)
  expect_eq "$label: every stdout line is 'hNN: hNN line K', all 200 per host in order" "" "$report"
  expect_eq "$label: stderr lines carry their host, on stderr only" \
    "$(hosts 1 50 | sed 's/.*/&: & to stderr/')" "$(grep ' to stderr$' "$err" | sort)"
  expect_contains "$label: stream summary on stderr's last line" "50 hosts:" "$(tail -n1 "$err")"

  # A partial last line is flushed at the end, newline added, prefix kept.
  fan -H 'h[01-03]' -- sh -c 'printf "a\nno newline $REMEX_ALIAS"' >"$out" 2>"$err"
  expect_eq "$label: partial last line flushed with its prefix" \
    "$(printf 'h01: a\nh01: no newline h01\nh02: a\nh02: no newline h02\nh03: a\nh03: no newline h03')" \
    "$(sort -s -t: -k1,1 "$out")"
  expect_eq "$label: partial last line gets a newline" "" "$(tail -c1 "$out" | tr -d '\n')"

  # --collate: two groups, by stdout and exit code, headers in range form.
  fan --collate -H 'h[01-08]' -- sh -c 'case $REMEX_ALIAS in h0[1-3]|h07) echo A; exit 3;; *) printf "B\nB2\n";; esac' \
    >"$out" 2>"$err"
  rc=$?
  expect_eq "$label: collate exits with the largest code" 3 "$rc"
  local sep=----------------
  expect_contains "$label: collate group h[01-03,07] (exit 3)" \
    "$(printf '%s\nh[01-03,07] (exit 3)\n%s\nA\n' $sep $sep)" "$(cat "$out")"
  expect_contains "$label: collate group h[04-06,08] (exit 0)" \
    "$(printf '%s\nh[04-06,08] (exit 0)\n%s\nB\nB2\n' $sep $sep)" "$(cat "$out")"
  expect_eq "$label: collate has exactly two headers" 2 "$(grep -c '(exit [0-9]*)$' "$out")"
  expect_contains "$label: collate summary" "8 hosts:" "$(tail -n1 "$err")"

  # --json: one object per host, every field, exact bytes of a tricky string.
  fan --json -H 'h[01-50]' -- sh -c 'printf "q\"b\\\\s\tn\nc\001$REMEX_ALIAS"; printf "e\n" >&2; [ $REMEX_ALIAS != h13 ] || exit 13' \
    >"$out" 2>"$err"
  rc=$?
  expect_eq "$label: json exits with the largest code (13)" 13 "$rc"
  report=$(python3 - "$out" <<'PY'
import json, sys
bad, seen = [], set()
lines = open(sys.argv[1], 'rb').read().decode('utf-8').splitlines()
if len(lines) != 50:
    bad.append(f'{len(lines)} lines')
keys = {'host', 'exit_code', 'signal', 'stdout', 'stderr', 'duration_s', 'error'}
for ln in lines:
    try:
        o = json.loads(ln)
    except ValueError as e:
        bad.append(f'not JSON: {ln[:60]!r} ({e})')
        continue
    h = o.get('host')
    seen.add(h)
    if not keys <= set(o):
        bad.append(f'{h}: missing {keys - set(o)}')
        continue
    want = 'q"b\\s\tn\nc\x01' + str(h)
    if o['stdout'] != want:
        bad.append(f'{h}: stdout {o["stdout"]!r} want {want!r}')
    if o['stderr'] != 'e\n':
        bad.append(f'{h}: stderr {o["stderr"]!r}')
    if o['exit_code'] != (13 if h == 'h13' else 0):
        bad.append(f'{h}: exit_code {o["exit_code"]!r}')
    if o['signal'] is not None or o['error'] is not None:
        bad.append(f'{h}: signal {o["signal"]!r} error {o["error"]!r}')
    d = o['duration_s']
    if isinstance(d, bool) or not isinstance(d, (int, float)) or not 0 <= d < 120:
        bad.append(f'{h}: duration_s {d!r}')
if seen != {f'h{i:02d}' for i in range(1, 51)}:
    bad.append(f'hosts {sorted(map(str, seen))}')
print('; '.join(bad[:5]) + (f' (+{len(bad) - 5})' if len(bad) > 5 else ''))
PY
)
  expect_eq "$label: json: 50 objects, all fields, exact stdout/stderr bytes" "" "$report"
  expect_contains "$label: json summary on stderr" "50 hosts:" "$(tail -n1 "$err")"

  # An unreachable host among good ones: its error, the others fine, 255
  # (even though the good ones exit 5).
  fan -H 'h[01-05],down' -- sh -c 'echo $REMEX_ALIAS; exit 5' >"$out" 2>"$err"
  rc=$?
  expect_eq "$label: unreachable host: exit 255 over remote exit 5" 255 "$rc"
  expect_eq "$label: unreachable host: the others' output" \
    "$(hosts 1 5 | sed 's/.*/&: &/')" "$(sort "$out")"
  expect_contains "$label: unreachable host named on stderr" "down" "$(grep -v 'hosts:' "$err")"
  expect_contains "$label: unreachable summary" "6 hosts:" "$(tail -n1 "$err")"
  expect_contains "$label: unreachable counted" "1 unreachable" "$(tail -n1 "$err")"
  fan --json -H 'h[01-02],down' -- true >"$out" 2>"$err"
  rc=$?
  expect_eq "$label: unreachable (json) exit 255" 255 "$rc"
  report=$(python3 - "$out" <<'PY'
import json, sys
o = {j['host']: j for j in map(json.loads, open(sys.argv[1]).read().splitlines())}
bad = []
d = o.get('down', {})
if d.get('exit_code', 0) is not None or not d.get('error'):
    bad.append(f'down: {d}')
for h in ('h01', 'h02'):
    if o.get(h, {}).get('exit_code') != 0 or o.get(h, {}).get('error') is not None:
        bad.append(f'{h}: {o.get(h)}')
print('; '.join(bad))
PY
)
  expect_eq "$label: json: down has exit_code null and an error, h01/h02 exit 0" "" "$report"

  # A hanging host with -t 2: killed (nothing left), reported timed out;
  # the others finish promptly. Timeout counts 124, above h01's exit 3.
  local marker=fanout-hang-$$-$RANDOM
  t0=$(now_ms)
  fan --json -t 2 -H 'h[01-05]' -- sh -c 'case $REMEX_ALIAS in h03) echo hanging; exec sleep 3600;; h01) exit 3;; esac; echo done' "$marker" \
    >"$out" 2>"$err"
  rc=$?
  el=$(($(now_ms) - t0))
  expect_eq "$label: timeout: exit 124" 124 "$rc"
  [ "$el" -lt 10000 ] && pass "$label: timeout: over in ${el} ms" ||
    fail "$label: timeout: took ${el} ms"
  expect_contains "$label: timeout summary" "1 timed out" "$(tail -n1 "$err")"
  wait_gone "$marker" 5 && pass "$label: timeout: the hanging command is gone" ||
    fail "$label: timeout: left running: $(pgrep -af "$marker")"
  report=$(python3 - "$out" <<'PY'
import json, sys
o = {j['host']: j for j in map(json.loads, open(sys.argv[1]).read().splitlines())}
bad = []
for h in ('h02', 'h04', 'h05'):
    j = o.get(h, {})
    if j.get('exit_code') != 0 or j.get('stdout') != 'done\n' or not j.get('duration_s', 99) < 2:
        bad.append(f'{h}: {j}')
if o.get('h01', {}).get('exit_code') != 3:
    bad.append(f'h01: {o.get("h01")}')
j = o.get('h03', {})
if j.get('exit_code') == 0 or j.get('stdout') != 'hanging\n':
    bad.append(f'h03: {j}')
print('; '.join(bad))
PY
)
  expect_eq "$label: timeout: the others done promptly (<2 s), h03 not ok" "" "$report"

  # Ctrl-C: SIGINT reaches every host's remote process group.
  marker=fanout-int-$$-$RANDOM
  : >"$out" # see SIGTERM below
  set -m # else bash starts the background job with SIGINT ignored
  # remex itself in the background, not the fan function: a function would
  # run in a subshell whose bash, not remex, gets the SIGINT (and holds it
  # until remex ends).
  "$remex" fanout "${via[@]}" -F "$cfg" -H 'h[01-05]' -- sh -c 'trap "echo got INT; exit 7" INT; echo ready; while :; do sleep 0.05; done' "$marker" \
    >"$out" 2>"$err" &
  local pid=$!
  set +m
  local i
  for ((i = 0; i < 300; i++)); do
    [ "$(grep -c ': ready$' "$out")" -ge 5 ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  expect_eq "$label: Ctrl-C: all 5 ready" 5 "$(grep -c ': ready$' "$out")"
  t0=$(now_ms)
  kill -INT "$pid" 2>/dev/null
  wait "$pid"
  rc=$?
  el=$(($(now_ms) - t0))
  [ "$el" -lt 5000 ] && pass "$label: Ctrl-C: over in ${el} ms (exit $rc)" ||
    fail "$label: Ctrl-C: took ${el} ms"
  expect_eq "$label: Ctrl-C: every host got INT" \
    "$(hosts 1 5 | sed 's/.*/&: got INT/')" "$(grep ': got INT$' "$out" | sort)"
  wait_gone "$marker" 5 && pass "$label: Ctrl-C: nothing left running" ||
    fail "$label: Ctrl-C: left running: $(pgrep -af "$marker")"
  kill -KILL "$pid" 2>/dev/null

  # SIGTERM (a job system stopping remex): like the first Ctrl-C, with
  # SIGTERM. -f 3: h01..h03 run and get it; h04, h05 never start.
  marker=fanout-term-$$-$RANDOM
  # Emptied here: the redirection below happens in the child, after the
  # wait loop may already have counted the last case's "ready" lines.
  : >"$out"
  "$remex" fanout "${via[@]}" -F "$cfg" -f 3 -H 'h[01-05]' -- sh -c 'trap "echo got TERM; exit 7" TERM; echo ready; while :; do sleep 0.05; done' "$marker" \
    >"$out" 2>"$err" &
  pid=$!
  for ((i = 0; i < 300; i++)); do
    [ "$(grep -c ': ready$' "$out")" -ge 3 ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  expect_eq "$label: SIGTERM: the 3 of -f 3 ready" 3 "$(grep -c ': ready$' "$out")"
  t0=$(now_ms)
  kill -TERM "$pid" 2>/dev/null
  wait "$pid"
  rc=$?
  el=$(($(now_ms) - t0))
  [ "$el" -lt 5000 ] && pass "$label: SIGTERM: over in ${el} ms" ||
    fail "$label: SIGTERM: took ${el} ms"
  expect_eq "$label: SIGTERM: exit 143 (hosts not started count 128+15)" 143 "$rc"
  expect_eq "$label: SIGTERM: every running host got TERM" \
    "$(hosts 1 3 | sed 's/.*/&: got TERM/')" "$(grep ': got TERM$' "$out" | sort)"
  expect_eq "$label: SIGTERM: h04, h05 not started" \
    "$(printf 'h04: remex: not started: got SIGTERM\nh05: remex: not started: got SIGTERM')" \
    "$(grep 'not started' "$err" | sort)"
  expect_contains "$label: SIGTERM: summary" "5 hosts: 0 ok, 5 failed" "$(tail -n1 "$err")"
  wait_gone "$marker" 5 && pass "$label: SIGTERM: nothing left running" ||
    fail "$label: SIGTERM: left running: $(pgrep -af "$marker")"
  kill -KILL "$pid" 2>/dev/null
}

# Host groups (-g, @NAME) from the [groups] of hosts.ini: the embedded
# broker's, found through XDG_CONFIG_HOME, --hosts-file or REMEX_HOSTS_FILE.
group_cases() {
  local out=$tmp/out err=$tmp/err rc before xdg=$tmp/xdg
  fan() { "$remex" fanout -F "$cfg" "$@"; }
  echo "# groups (embedded)"
  mkdir -p "$xdg/remex" "$tmp/empty" "$tmp/home"
  cat >"$xdg/remex/hosts.ini" <<'INI'
; the test's groups
[groups]
web = "h[01-10]"
odd = "h[01,03,05]"
db = "h[11-12],h20"
all = "@web,@db"
INI
  export XDG_CONFIG_HOME=$xdg
  fan -g all -x 'h[03-05],h11' -- sh -c 'echo $REMEX_ALIAS' >"$out" 2>"$err"
  rc=$?
  expect_eq "groups: -g all -x exits 0" 0 "$rc"
  expect_eq "groups: -g all (nested @web,@db) -x h[03-05],h11" \
    "$(printf '%s\n' h01 h02 h06 h07 h08 h09 h10 h12 h20 | sed 's/.*/&: &/')" "$(sort "$out")"
  fan -g web -x @odd -- sh -c 'echo $REMEX_ALIAS' >"$out" 2>"$err"
  expect_eq "groups: -g web -x @odd" \
    "$(printf '%s\n' h02 h04 h06 h07 h08 h09 h10 | sed 's/.*/&: &/')" "$(sort "$out")"
  fan -g odd,db -H h30 -w @odd -- sh -c 'echo $REMEX_ALIAS' >"$out" 2>"$err"
  expect_eq "groups: -g odd,db with -H, duplicates once" \
    "$(printf '%s\n' h01 h03 h05 h11 h12 h20 h30 | sed 's/.*/&: &/')" "$(sort "$out")"

  # An unknown group: one line saying where groups come from, nothing runs.
  before=$(silent_accepts "$tmp")
  fan -H silent -g nope -- true >"$out" 2>"$err"
  rc=$?
  expect_usage_error "groups: unknown group" "$err" "$rc" \
    "remex: fanout: unknown group 'nope' (not in $xdg/remex/hosts.ini)"
  expect_eq "groups: unknown group: no connection" "$before" "$(silent_accepts "$tmp")"
  XDG_CONFIG_HOME=$tmp/empty fan -H silent -g web -- true >"$out" 2>"$err"
  rc=$?
  expect_usage_error "groups: no hosts.ini" "$err" "$rc" \
    "remex: fanout: unknown group 'web' (no $tmp/empty/remex/hosts.ini)"
  HOME=$tmp/home XDG_CONFIG_HOME='' fan -g web -- true >"$out" 2>"$err"
  expect_eq "groups: no ~/.config/remex/hosts.ini, said so" \
    "remex: fanout: unknown group 'web' (no ~/.config/remex/hosts.ini)" "$(cat "$err")"
  # No group named: a missing or broken hosts file is never read.
  XDG_CONFIG_HOME=$tmp/empty fan -H h01 -- true >"$out" 2>"$err"
  expect_eq "groups: no hosts.ini and no -g: fine" 0 $?

  # --hosts-file and REMEX_HOSTS_FILE.
  printf '[groups]\nmine = "h[41-42]"\n' >"$tmp/mine.ini"
  fan --hosts-file "$tmp/mine.ini" -g mine -- sh -c 'echo $REMEX_ALIAS' >"$out" 2>"$err"
  expect_eq "groups: --hosts-file" "$(printf 'h41: h41\nh42: h42')" "$(sort "$out")"
  REMEX_HOSTS_FILE=$tmp/mine.ini fan -g mine -- sh -c 'echo $REMEX_ALIAS' >"$out" 2>"$err"
  expect_eq "groups: REMEX_HOSTS_FILE" "$(printf 'h41: h41\nh42: h42')" "$(sort "$out")"

  # A malformed hosts.ini: its path and line, nothing runs.
  printf '[groups]\nweb = "h[01-05]"\nbad = "h[01-"\n' >"$tmp/bad.ini"
  before=$(silent_accepts "$tmp")
  fan --hosts-file "$tmp/bad.ini" -H silent -g web -- true >"$out" 2>"$err"
  rc=$?
  expect_usage_error "groups: malformed hosts.ini" "$err" "$rc" \
    "remex: fanout: $tmp/bad.ini:3: groups.bad: bad host list"
  expect_eq "groups: malformed hosts.ini: no connection" "$before" "$(silent_accepts "$tmp")"
  printf '[groups]\nweb = h[01-05]\n' >"$tmp/bad.ini"
  fan --hosts-file "$tmp/bad.ini" -g web -- true >"$out" 2>"$err"
  rc=$?
  expect_usage_error "groups: hosts.ini syntax error" "$err" "$rc" \
    "remex: fanout: $tmp/bad.ini:2: syntax error"
  printf '[groups]\na = "@b"\nb = "@a"\n' >"$tmp/bad.ini"
  fan --hosts-file "$tmp/bad.ini" -g a -- true >"$out" 2>"$err"
  rc=$?
  expect_usage_error "groups: a group that includes itself" "$err" "$rc" \
    "$tmp/bad.ini:2: groups.a: group 'a' includes itself: a -> b -> a"
  fan -g 'we b' -- true >"$out" 2>"$err"
  rc=$?
  expect_usage_error "groups: bad group name" "$err" "$rc" "bad group name 'we b'"

  # SIGHUP, like SIGTERM: forwarded as itself.
  local marker=fanout-hup-$$-$RANDOM pid i
  : >"$out" # see SIGTERM in cases
  "$remex" fanout -F "$cfg" -g odd -- sh -c 'trap "echo got HUP; exit 0" HUP; echo ready; while :; do sleep 0.05; done' "$marker" \
    >"$out" 2>"$err" &
  pid=$!
  for ((i = 0; i < 300; i++)); do
    [ "$(grep -c ': ready$' "$out")" -ge 3 ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -HUP "$pid" 2>/dev/null
  wait "$pid"
  expect_eq "groups: SIGHUP: every host got HUP" \
    "$(printf 'h01: got HUP\nh03: got HUP\nh05: got HUP')" "$(grep ': got HUP$' "$out" | sort)"
  wait_gone "$marker" 5 && pass "groups: SIGHUP: nothing left running" ||
    fail "groups: SIGHUP: left running: $(pgrep -af "$marker")"
  kill -KILL "$pid" 2>/dev/null
  unset XDG_CONFIG_HOME
}

# The same groups through a remexd: its config's [groups], whatever the
# client's hosts file says; SIGHUP reloads them.
remexd_group_cases() {
  local out=$tmp/out err=$tmp/err rc broker=(--broker "127.0.0.1:$REMEXD_PORT" --token-file "$REMEXD_TOKEN")
  fan() { "$remex" fanout "${broker[@]}" -F "$cfg" "$@"; }
  echo "# groups (through remexd)"
  # The client's own file defines "all" otherwise: it must not count.
  printf '[groups]\nall = "h[45-46]"\n' >"$tmp/client.ini"
  export REMEX_HOSTS_FILE=$tmp/client.ini
  fan -g all -x 'h[03-05]' -- sh -c 'echo $REMEX_ALIAS' >"$out" 2>"$err"
  rc=$?
  expect_eq "remexd groups: -g all exits 0" 0 "$rc"
  expect_eq "remexd groups: -g all -x h[03-05] (remexd's [groups])" \
    "$(printf '%s\n' h01 h02 h06 h13 | sed 's/.*/&: &/')" "$(sort "$out")"
  fan -H silent -g nope -- true >"$out" 2>"$err"
  rc=$?
  expect_usage_error "remexd groups: unknown group" "$err" "$rc" \
    "remex: fanout: unknown group 'nope' (not in the [groups] of broker 127.0.0.1:$REMEXD_PORT)"
  fan --hosts-file "$tmp/client.ini" -g all -- true >"$out" 2>"$err"
  rc=$?
  expect_usage_error "remexd groups: --hosts-file refused" "$err" "$rc" "--hosts-file"
  unset REMEX_HOSTS_FILE

  # SIGHUP: an edited [groups] is served without a restart.
  printf 'late = "h[47-48]"\n' >>"$tmp/remexd.conf"
  kill -HUP "$REMEXD_PID"
  wait_file_has "$REMEXD_LOG" "configuration reloaded" 10 ||
    fail "remexd groups: no reload in the log"
  fan -g late -- sh -c 'echo $REMEX_ALIAS' >"$out" 2>"$err"
  expect_eq "remexd groups: a group added, SIGHUP, served" \
    "$(printf 'h47: h47\nh48: h48')" "$(sort "$out")"
}

cases embedded
group_cases
if [ -n "$remexd" ]; then
  # A [groups] remexd refuses: the file, the line, before it starts.
  printf '[groups]\nok = "h01"\nweb = "h[01-"\n' >"$tmp/bad.conf"
  msg=$("$remexd" --config "$tmp/bad.conf" --check 2>&1)
  expect_eq "remexd refuses a bad group (exit 1)" 1 $?
  expect_contains "remexd refuses a bad group: file and line" \
    "remexd: $tmp/bad.conf:3: groups.web: bad host list" "$msg"
  printf '[groups]\nsmall = "h[01-02]"\nall = "@small,h[03-06],h13"\n' >"$tmp/remexd.conf"
  start_remexd "$tmp/remexd" "$remexd" --config "$tmp/remexd.conf"
  cases "through remexd" --broker "127.0.0.1:$REMEXD_PORT" --token-file "$REMEXD_TOKEN"
  remexd_group_cases
  stop_remexd
  expect_eq "remexd ends 0 on SIGTERM" 0 $?
  started=$(grep -c "start:" "$REMEXD_LOG")
  [ "$started" -ge 50 ] && pass "the cases ran through remexd ($started executions)" ||
    fail "only $started executions went through remexd"
fi
finish
