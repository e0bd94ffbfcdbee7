#!/usr/bin/env bash
# remex console, checked the way an operator would use it: two remexd nodes
# (A serves the sshd fixture, B serves nothing of it and peers with A). A
# long command through A shows in ps (text and JSON, from either node);
# kill ends it and its client exits 143; ps -a shows the outcome; hosts,
# stats, peers; watch prints started/ended; bad commands and unknown ids get
# one line and a non-zero exit; A stopped shows as down. Then the
# interactive prompt under tmux: prompt, history (Up), watch ended by q.
# A second sshd (host alias "tight", MaxSessions 1) that A reaches over one
# connection: hosts shows MaxSessions learned and a queued channel open,
# stats the queue, watch the connection opened and lost.
#
#   console_test.sh PATH/TO/remex PATH/TO/remexd
set -u
here=$(cd "$(dirname "$0")" && pwd)
remex=$(realpath "${1:?usage: console_test.sh PATH/TO/remex PATH/TO/remexd}")
remexd=$(realpath "${2:?usage: console_test.sh PATH/TO/remex PATH/TO/remexd}")
. "$here/../cli/lib.sh"

# shellcheck disable=SC2016 # expanded at exit, when tmp is set
start_node_fixture 'tmux -S "$tmp/tmux.sock" kill-server 2>/dev/null
      "$here/../fixtures/sshd-fixture" stop "$tmp/tight" >/dev/null 2>&1'
tmux_sock=$tmp/tmux.sock
fixture_home=$(getent passwd "$FIXTURE_USER" | cut -d: -f6)
token=$tmp/token

# con PORT ARGS...: remex console through the node on PORT.
con() {
  local port=$1
  shift
  "$remex" console --broker "127.0.0.1:$port" --token-file "$token" "$@"
}

# until_out SECONDS NEEDLE PORT ARGS...: repeats the console command until
# its output holds NEEDLE; the last output in $out.
until_out() {
  local secs=$1 needle=$2 i
  shift 2
  for ((i = 0; i < secs * 5; i++)); do
    out=$(con "$@" 2>&1)
    [[ $out == *"$needle"* ]] && return 0
    sleep 0.2
  done
  return 1
}

pa=$(free_port)
pb=$(free_port)
pz=$(free_port) # a peer B is configured with that never comes up
start_node A "$pa" --serves fixture --serves tight --serves 'nosuch-*' \
  --peer "127.0.0.1:$pb" --ssh.max-connections 1 || exit 1
start_node B "$pb" --serves 'b-only-*' --peer "127.0.0.1:$pa" --peer "127.0.0.1:$pz" || exit 1
wait_file_has "$tmp/B/remexd.log" "peer A joined" 10 || fail "B never learnt A"
wait_file_has "$tmp/A/remexd.log" "peer B joined" 10 || fail "A never learnt B"

echo "# peers: both up, and the configured peer that never came up"
until_out 5 "A " "$pb" -c peers
expect_eq "peers through B: A and B up at their addresses; the never-up peer down" \
  "- 127.0.0.1:$pz down
A 127.0.0.1:$pa up
B 127.0.0.1:$pb up" "$(echo "$out" | awk 'NR>1 {print $1, $2, $3}' | sort)"
expect_eq "peers header" "NODE ADDRESS STATE SINCE_S EXECUTIONS" "$(echo "$out" | head -1 | tr -s ' ')"
out=$(con "$pb" -c peers --json)
expect_contains "peers --json: the never-up peer, down since B started, no executions" \
  "{\"node\":\"-\",\"address\":\"127.0.0.1:$pz\",\"state\":\"down\",\"since_s\":" "$out"
expect_contains "peers --json: A's address" "{\"node\":\"A\",\"address\":\"127.0.0.1:$pa\",\"state\":\"up\"" "$out"

echo "# ps: a long command through A"
"$remex" --broker "127.0.0.1:$pa" --token-file "$token" run "${fx[@]}" -- sleep 300 \
  >"$tmp/long.out" 2>"$tmp/long.err" &
long=$!
until_out 10 "sleep 300" "$pa" -c ps || fail "ps never showed the command: $out"
expect_contains "ps (text) through A: id A:1, running" "A:1" "$out"
row=$(echo "$out" | grep 'A:1' | tr -s ' ')
expect_contains "ps row: node, host, requester (this remex), state" "A:1 A fixture client " "$row"
expect_contains "ps row: the requester's process id" "#$long running" "$row"
expect_contains "ps row: argv" "sleep 300" "$row"
out=$(con "$pb" -c ps --json)
expect_contains "ps --json through B (asks A): the row as JSON" \
  '{"id":"A:1","node":"A","host":"fixture","requester":"client ' "$out"
expect_eq "ps --json: one object per line" 1 "$(echo "$out" | grep -c '^{.*}$')"

out=$(con "$pb" -c peers --json)
expect_contains "peers --json through B: A runs one execution" '"executions":1}' \
  "$(echo "$out" | grep '"node":"A"')"
expect_eq "peers (text) through B: executions per node" "A 1 B 0" \
  "$(con "$pb" -c peers | awk '$1 == "A" || $1 == "B" {print $1, $NF}' | sort | tr '\n' ' ' | sed 's/ $//')"

echo "# hosts and stats"
# ps lists a request as soon as the node takes it; the agent is checked (or
# shipped) and the command started after that.
for _ in $(seq 100); do pgrep -u "$FIXTURE_USER" -f '^sleep 300$' >/dev/null && break; sleep 0.2; done
pgrep -u "$FIXTURE_USER" -f '^sleep 300$' >/dev/null || fail "the long command never started on the host"
out=$(con "$pa" -c hosts --json)
digest=$(echo "$out" | grep '"host":"fixture"' | grep -o '"agent":"[0-9a-f]*"' | cut -d'"' -f4)
expect_eq "hosts --json: the agent digest is a sha256" 64 "${#digest}"
[ -d "$fixture_home/.cache/remex/agent-$digest" ] && pass "hosts: the digest names the agent's directory on the host" ||
  fail "no $fixture_home/.cache/remex/agent-$digest"
pgrep -u "$FIXTURE_USER" -f "agent-$digest/remex-agent" >/dev/null &&
  pass "hosts: the agent running the command is that one" || fail "no agent-$digest/remex-agent runs"
out=$(con "$pa" -c hosts)
expect_contains "hosts: A's connection to the fixture, busy with one execution, one channel, MaxSessions not learned, the agent" \
  "A fixture busy 1 0 1 1 0 - ${digest:0:12} -" "$(echo "$out" | tr -s ' ')"

"$remex" --broker "127.0.0.1:$pa" --token-file "$token" run -H nosuch-host.invalid \
  -F "$FIXTURE_SSH_CONFIG" -- true 2>/dev/null
out=$(con "$pa" -c hosts)
expect_contains "hosts: a host whose connection failed, with its last error" \
  "failed(connect" "$(echo "$out" | grep 'nosuch-host.invalid')"
out=$(con "$pa" -c hosts --json)
expect_contains "hosts --json: the last error" \
  '"host":"nosuch-host.invalid",' "$(echo "$out" | grep '"last_error":"failed(connect')"
echo "# kill"
out=$(con "$pb" -c "kill A:1" 2>&1)
rc=$?
expect_eq "kill A:1 through B: sent" "0 yes" "$rc $([[ $out == *sent* ]] && echo yes || echo no)"
await "$long" 10
expect_eq "the killed command's client exits 143 (TERM)" 143 "$?"
out=$(con "$pa" -c "ps -a" 2>&1)
row=$(echo "$out" | grep 'A:1' | tr -s ' ')
# The agent reports the TERMed sleep as exit code 143; remex sent the TERM,
# so it says so.
expect_contains "ps -a: finished" " finished " "$row"
expect_contains "ps -a: its outcome afterwards, the signal remex sent" "sleep 300 signaled(15)" "$row"
expect_eq "ps: nothing runs any more" "(none)" "$(con "$pa" -c ps)"

"$remex" --broker "127.0.0.1:$pa" --token-file "$token" run "${fx[@]}" -- true
"$remex" --broker "127.0.0.1:$pa" --token-file "$token" run "${fx[@]}" -- false
"$remex" --broker "127.0.0.1:$pa" --token-file "$token" run "${fx[@]}" -- sh -c 'exit 143'
expect_eq "a command that exits 143 by itself: its client exits 143" 143 "$?"
"$remex" --broker "127.0.0.1:$pa" --token-file "$token" run "${fx[@]}" -- sleep 301 &
fwd=$!
until_out 10 "sleep 301" "$pa" -c ps || fail "ps never showed sleep 301"
kill -TERM "$fwd"
await "$fwd" 10
expect_eq "a TERMed client (the signal forwarded): exits 143" 143 "$?"
out=$(con "$pa" -c "ps -a" --json)
expect_contains "ps -a --json: exit 143 by itself stays exited(143)" \
  '"argv":"sh -c exit 143","outcome":"exited(143)"' "$out"
expect_contains "ps -a --json: the forwarded TERM shows as signaled(15)" \
  '"argv":"sleep 301","outcome":"signaled(15)"' "$out"
out=$(con "$pb" -c stats --json)
expect_contains "stats through B: A counts six started, five ended by exit or signal, one failed" \
  '{"node":"A","started":6,"finished":5,"failed":1,"running":0' "$out"
expect_contains "stats through B: B's own row" '{"node":"B","started":0' "$out"

echo "# watch"
con "$pb" -c "watch 4" >"$tmp/watch.out" 2>&1 </dev/null &
watcher=$!
# Once it says so, it sees what starts on A, a hop away: no grace period.
wait_file_has "$tmp/watch.out" "^watching" 15 || fail "watch did not start: $(cat "$tmp/watch.out")"
"$remex" --broker "127.0.0.1:$pa" --token-file "$token" run "${fx[@]}" -- sh -c 'sleep 0.5; exit 3'
await "$watcher" 10
expect_eq "watch ends after its seconds" 0 "$?"
expect_contains "watch: started" "started A:7 on fixture: sh -c sleep 0.5; exit 3" "$(cat "$tmp/watch.out")"
expect_contains "watch: ended with its outcome" "ended A:7: exited(3)" "$(cat "$tmp/watch.out")"

echo "# bad input"
out=$(con "$pa" -c "frobnicate" 2>&1)
expect_eq "unknown command: one line, exit 1" "1 remex: unknown command 'frobnicate' (see help)" "$? $out"
out=$(con "$pa" -c "kill A:999" 2>&1)
expect_eq "unknown id: one line, exit 1" "1 remex: kill A:999: no such execution" "$? $out"
out=$(con "$pa" -c "kill Z:1" 2>&1)
expect_eq "unknown node: one line, exit 1" "1 remex: kill Z:1: no live node Z" "$? $out"
out=$(con "$pa" -c "kill A:1 NOSUCH" 2>&1)
expect_eq "unknown signal: one line, exit 1" "1 remex: kill: unknown signal NOSUCH" "$? $out"
out=$(con "$pa" -c "ps -x" 2>&1)
expect_eq "bad argument: one line, exit 1" "1 remex: ps: unexpected argument (see help)" "$? $out"
out=$(con "$pa" -c "help; frobnicate; stats" 2>&1)
rc=$?
expect_eq "a script goes on after a bad command, and exits 1" "1 yes" \
  "$rc $([[ $out == *"NODE"*"STARTED"* ]] && echo yes || echo no)"
kill -0 "$PID_A" 2>/dev/null && kill -0 "$PID_B" 2>/dev/null &&
  pass "both nodes still run after the bad input" || fail "a node died on console input"

if command -v tmux >/dev/null; then
  echo "# interactive, under tmux"
  tmux -S "$tmux_sock" new-session -d -x 160 -y 40 \
    "'$remex' console --broker 127.0.0.1:$pa --token-file '$token'; echo console-ended; sleep 30"
  screen() { tmux -S "$tmux_sock" capture-pane -p; }
  wait_screen() {
    local i
    for ((i = 0; i < 50; i++)); do
      [[ $(screen) == *"$1"* ]] && return 0
      sleep 0.1
    done
    return 1
  }
  wait_screen "remex>" && pass "the prompt" || fail "no prompt: $(screen)"
  tmux -S "$tmux_sock" send-keys "stats" Enter
  wait_screen "STARTED" && pass "a command at the prompt" || fail "stats at the prompt: $(screen)"
  tmux -S "$tmux_sock" send-keys "peers" Enter
  wait_screen "EXECUTIONS" || fail "peers at the prompt: $(screen)"
  tmux -S "$tmux_sock" send-keys Up Up
  sleep 0.3
  expect_eq "Up Up brings back the command before last" "remex> stats" \
    "$(screen | grep 'remex>' | tail -1 | sed 's/ *$//')"
  tmux -S "$tmux_sock" send-keys C-u "watch" Enter
  wait_screen "watching (q or Ctrl-C ends)" || fail "watch did not start: $(screen)"
  "$remex" --broker "127.0.0.1:$pa" --token-file "$token" run "${fx[@]}" -- true
  wait_screen "ended A:8: exited(0)" && pass "watch shows a command end" || fail "watch: $(screen)"
  tmux -S "$tmux_sock" send-keys q
  sleep 0.5
  expect_eq "q ends watch: the prompt is back" "remex>" \
    "$(screen | grep -v '^$' | tail -1 | sed 's/ *$//')"
  tmux -S "$tmux_sock" send-keys "half a line" C-c
  sleep 0.3
  expect_eq "Ctrl-C at the prompt drops the line" "remex>" \
    "$(screen | grep -v '^$' | tail -1 | sed 's/ *$//')"
  tmux -S "$tmux_sock" send-keys "watch" Enter
  sleep 0.5
  tmux -S "$tmux_sock" send-keys C-c
  sleep 0.5
  expect_eq "Ctrl-C ends watch: the prompt is back" "remex>" \
    "$(screen | grep -v '^$' | tail -1 | sed 's/ *$//')"
  tmux -S "$tmux_sock" send-keys "quit" Enter
  wait_screen "console-ended" && pass "quit ends the console" || fail "quit: $(screen)"
else
  skip "tmux is not installed: the interactive console is not checked"
fi

echo "# bytes moved"
printf 'abc' | "$remex" --broker "127.0.0.1:$pa" --token-file "$token" run "${fx[@]}" -- \
  sh -c 'cat; head -c 100000 /dev/zero' >/dev/null
out=$(con "$pa" -c "ps -a" --json)
expect_contains "ps -a --json: bytes in and out of a finished command" \
  '"in":3,"out":100003,"argv":"sh -c cat; head -c 100000 /dev/zero","outcome":"exited(0)"' "$out"
"$remex" --broker "127.0.0.1:$pa" --token-file "$token" run "${fx[@]}" -- \
  sh -c 'head -c 5000 /dev/zero; exec sleep 300' >/dev/null &
counted=$!
until_out 10 '"out":5000' "$pa" -c ps --json || true
expect_contains "ps --json: bytes out of a running command, live" '"out":5000,"argv":"sh -c head' "$out"
con "$pa" -c "kill $(echo "$out" | grep -o '"id":"A:[0-9]*"' | cut -d'"' -f4)" >/dev/null
await "$counted" 10
out=$(con "$pa" -c stats --json)
expect_contains "stats: bytes moved on A" '"bytes":105006' "$out"

echo "# a request that B passes to A"
"$remex" --broker "127.0.0.1:$pb" --token-file "$token" run "${fx[@]}" -- echo hopped >/dev/null
out=$(con "$pb" -c "stats; ps -a" --json)
expect_contains "stats: B forwarded one, none in flight" \
  '{"node":"B","started":0,"finished":0,"failed":0,"running":0,"forwarded":1,"bytes":0,"connections":0,"forwarding":0,"queued":0,"watching":0}' "$out"
expect_contains "ps -a through B: A ran it for node B" '"requester":"node B","state":"finished"' \
  "$(echo "$out" | grep '"argv":"echo hopped"')"

echo "# MaxSessions learned, a queued channel open, connection events"
mkdir -p "$tmp/tight"
"$here/../fixtures/sshd-fixture" start "$tmp/tight" -o MaxSessions=1 >/dev/null ||
  fail "the second sshd did not start"
sed 's/^Host fixture$/Host tight/' "$tmp/tight/ssh_config" >"$tmp/tight.config"
tx=(-H tight -F "$tmp/tight.config")
"$remex" console --broker "127.0.0.1:$pb" --token-file "$token" -c watch \
  </dev/null >"$tmp/watch-tight.out" 2>&1 &
wt=$!
"$remex" console --broker "127.0.0.1:$pb" --token-file "$token" -c watch --json \
  </dev/null >"$tmp/watch-tight.json" 2>&1 &
wj=$!
for ((i = 0; i < 50; i++)); do
  out=$(con "$pb" -c stats --json)
  [[ $(echo "$out" | grep '"node":"B"') == *'"watching":2}'* &&
    $(echo "$out" | grep '"node":"A"') == *'"watching":1}'* ]] && break
  sleep 0.2
done
expect_contains "stats --json: B counts its two watching consoles" '"watching":2}' \
  "$(echo "$out" | grep '"node":"B"')"
expect_contains "stats --json: B's relay is A's one watcher" '"watching":1}' \
  "$(echo "$out" | grep '"node":"A"')"
# The second command is started once the first runs (it has said so), so
# that it is the second that waits for the channel.
"$remex" --broker "127.0.0.1:$pa" --token-file "$token" run "${tx[@]}" -- \
  sh -c 'echo up; exec sleep 300' >"$tmp/t1.out" 2>&1 &
t1=$!
wait_file_has "$tmp/t1.out" up 15 || fail "the first command on tight never ran: $(cat "$tmp/t1.out")"
id1=$(con "$pa" -c ps --json | grep '"argv":"sh -c echo up; exec sleep 300"' | grep -o '"id":"A:[0-9]*"' | cut -d'"' -f4)
"$remex" --broker "127.0.0.1:$pa" --token-file "$token" run "${tx[@]}" -- sleep 302 >/dev/null 2>&1 &
t2=$!
until_out 10 '"queued":1,"max_sessions":1,' "$pa" -c hosts --json || true
expect_contains "hosts --json: tight: one connection, one channel, one open queued, MaxSessions 1 learned, the agent" \
  "\"host\":\"tight\",\"state\":\"busy\",\"executions\":2,\"file_sessions\":0,\"connections\":1,\"channels\":1,\"queued\":1,\"max_sessions\":1,\"agent\":\"$digest\"" "$out"
expect_contains "hosts (text): the same" "A tight busy 2 0 1 1 1 1 ${digest:0:12} -" \
  "$(con "$pa" -c hosts | tr -s ' ')"
out=$(con "$pb" -c stats --json)
expect_contains "stats --json through B: A's queued channel open" '"queued":1' \
  "$(echo "$out" | grep '"node":"A"')"
expect_eq "stats (text): A's QUEUED" "QUEUED 1" \
  "$(con "$pa" -c stats | awk 'NR == 1 {for (i = 1; i <= NF; i++) if ($i == "QUEUED") c = i} NR == 1 || $1 == "A" {print $c}' | tr '\n' ' ' | sed 's/ $//')"
con "$pa" -c "kill $id1" >/dev/null
await "$t1" 10
expect_eq "the first command, killed, exits 143" 143 "$?"
until_out 10 '"host":"tight","state":"busy","executions":1,"file_sessions":0,"connections":1,"channels":1,"queued":0' \
  "$pa" -c hosts --json && pass "hosts: the queued open got the channel" || fail "still queued: $out"
id2=$(con "$pa" -c ps --json | grep '"argv":"sleep 302"' | grep -o '"id":"A:[0-9]*"' | cut -d'"' -f4)
con "$pa" -c "kill $id2" >/dev/null
await "$t2" 10
expect_eq "the queued command ran and, killed, exits 143" 143 "$?"
"$here/../fixtures/sshd-fixture" stop "$tmp/tight" >/dev/null 2>&1
wait_file_has "$tmp/watch-tight.out" "connection lost: A to tight" 15 ||
  fail "watch: no connection lost: $(cat "$tmp/watch-tight.out")"
kill -INT "$wt"
await "$wt" 10
expect_eq "watch ended by SIGINT exits 0" 0 "$?"
w=$(cat "$tmp/watch-tight.out")
expect_contains "watch through B: A's connection to tight opened" "connection opened: A to tight" "$w"
expect_contains "watch through B: A's command started" "started $id1 on tight: sh -c echo up; exec sleep 300" "$w"
expect_contains "watch through B: ended by the signal" "ended $id1: signaled(15)" "$w"
expect_contains "watch through B: the connection lost, and why" "connection lost: A to tight: connection lost" "$w"
wait_file_has "$tmp/watch-tight.json" '"event":"connection lost"' 5 || true
kill -KILL "$wj"
await "$wj" 5
w=$(cat "$tmp/watch-tight.json")
expect_contains "watch --json: connection opened" '{"event":"connection opened","node":"A","host":"tight"}' "$w"
expect_contains "watch --json: started" "{\"event\":\"started\",\"node\":\"A\",\"id\":\"$id2\",\"host\":\"tight\",\"argv\":\"sleep 302\"}" "$w"
expect_contains "watch --json: connection lost" '{"event":"connection lost","node":"A","host":"tight","why":"connection lost' "$w"
for ((i = 0; i < 50; i++)); do
  out=$(con "$pb" -c stats --json)
  [[ $out != *'"watching":1'* && $out != *'"watching":2'* ]] && break
  sleep 0.2
done
expect_contains "watchers gone (one ended by SIGINT, one SIGKILLed): B forgets both" \
  '"watching":0}' "$(echo "$out" | grep '"node":"B"')"
expect_contains "and A forgets B's relay" '"watching":0}' "$(echo "$out" | grep '"node":"A"')"

echo "# a node that does not answer"
kill -STOP "$PID_A"
t0=$(date +%s%3N)
out=$(con "$pb" -c stats 2>"$tmp/stopped.err")
rc=$?
took=$(($(date +%s%3N) - t0))
kill -CONT "$PID_A"
expect_eq "stats through B with A frozen: A's line, B's row, exit 1" \
  "1 remex: A: unreachable (no answer in 3 s) yes" \
  "$rc $(cat "$tmp/stopped.err") $([[ $out == *"B "*0* ]] && echo yes || echo no)"
[ "$took" -lt 6000 ] && pass "no hang: answered in $took ms" || fail "stats took $took ms"

echo "# a node stopped shows as down"
con "$pb" -c "watch 8" >"$tmp/watch-down.out" 2>&1 </dev/null &
watcher=$!
sleep 1
kill -TERM "$PID_A"
await "$PID_A" 15
until_out 10 "A down" "$pb" -c peers || true
expect_contains "peers through B after A stopped: A down" "A 127.0.0.1:$pa down" "$(echo "$out" | tr -s ' ')"
expect_contains "peers: B still up" "B 127.0.0.1:$pb up" "$(echo "$out" | tr -s ' ')"
await "$watcher" 15
expect_contains "watch: node A down" "node A down" "$(cat "$tmp/watch-down.out")"
out=$(con "$pb" -c "kill A:1" 2>&1)
expect_eq "kill on the stopped node: one line, exit 1" "1 remex: kill A:1: no live node A" "$? $out"

kill -TERM "$PID_B"
await "$PID_B" 15
finish
