#!/usr/bin/env bash
# A link cut without a close: remexd and its clients in one network
# namespace, an sshd in another, joined by a veth pair this test makes (the
# addresses are private ones inside those namespaces; nothing reaches a real
# network). Mid-stream the link is taken down, or every packet dropped by
# a neighbour entry that sends it nowhere: remex's keepalive (remexd
# --ssh.keepalive) must give the connection up within its budget, the
# execution ends 255 with one line saying the
# connection is lost, nothing hangs, and remexd serves another host
# meanwhile and afterwards; embedded, ServerAliveInterval in ssh_config sets
# the keepalive the same way. Once the link is back, no remote process of the
# cut command remains. With REMEX_RELIABILITY_LONG=1 also the embedded
# broker with the default keepalive (5 s, lost after about 20-25 s).
#
#   link_cut_test.sh PATH/TO/remex PATH/TO/remexd      (root: netns, fixture)
set -u
here=$(cd "$(dirname "$0")" && pwd)
remex=$(realpath "${1:?usage: link_cut_test.sh remex remexd}")
remexd_bin=$(realpath "${2:?usage: link_cut_test.sh remex remexd}")
. "$here/../cli/lib.sh"
. "$here/lib.sh"

for tool in ip; do
  command -v "$tool" >/dev/null || {
    echo "FAIL - $tool is missing (iproute2)"
    exit 1
  }
done
tmp=$(mktemp -d)
chmod 0755 "$tmp"
start_fixture "$tmp" # the user, keys and sshd_config the namespaced sshds reuse
ns_s=rxsrv-$$ # the sshd's side
ns_c=rxcli-$$ # remexd's and the clients' side
veth_s=rxs$$  # interface names: at most 15 characters
veth_c=rxc$$
addr_s=10.213.7.1
addr_c=10.213.7.2
REMEXD_PID=
ns_sshds=()
cleanup() {
  [ -z "$REMEXD_PID" ] || kill -KILL "$REMEXD_PID" 2>/dev/null
  local p
  for p in ${ns_sshds[@]+"${ns_sshds[@]}"}; do
    # The listener and the sessions it forked (their command lines name
    # this test's config).
    kill -KILL "$p" 2>/dev/null
  done
  kill_marked "$tmp/ns_sshd_"
  # The sessions sshd forked rename themselves ("sshd: USER@notty") and, on a
  # cut link, wait for a peer that never answers: whatever still runs in the
  # namespaces goes, or it would keep them (and a user's session) alive.
  local ns
  for ns in "$ns_s" "$ns_c"; do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
  done
  ip netns del "$ns_s" 2>/dev/null
  ip netns del "$ns_c" 2>/dev/null
  "$here/../fixtures/sshd-fixture" stop "$tmp/fixture" >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT

ip netns add "$ns_s" && ip netns add "$ns_c" &&
  ip link add "$veth_s" type veth peer name "$veth_c" &&
  ip link set "$veth_s" netns "$ns_s" && ip link set "$veth_c" netns "$ns_c" &&
  ip -n "$ns_s" addr add "$addr_s/30" dev "$veth_s" &&
  ip -n "$ns_c" addr add "$addr_c/30" dev "$veth_c" &&
  ip -n "$ns_s" link set lo up && ip -n "$ns_c" link set lo up &&
  ip -n "$ns_s" link set "$veth_s" up && ip -n "$ns_c" link set "$veth_c" up || {
  echo "FAIL - cannot build the namespaces and veth pair"
  exit 1
}

# ns_sshd NS NAME ADDR: the fixture's sshd_config, listening on ADDR:22
# inside NS.
ns_sshd() {
  local cfg=$tmp/ns_sshd_$2
  sed -e "s/^ListenAddress .*/ListenAddress $3/" -e "s/^Port .*/Port 22/" \
    -e "s|^PidFile .*|PidFile $cfg.pid|" "$FIXTURE_DIR/sshd_config" >"$cfg"
  ip netns exec "$1" /usr/sbin/sshd -D -e -f "$cfg" </dev/null >>"$tmp/ns_sshd.log" 2>&1 &
  ns_sshds+=($!)
  local i
  for ((i = 0; i < 100; i++)); do
    ip netns exec "$ns_c" bash -c "exec 3<>/dev/tcp/$3/22" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "FAIL - sshd in $1 on $3 did not start: $(cat "$tmp/ns_sshd.log")"
  exit 1
}
# "far": across the veth; "near": the loopback of the clients' namespace.
ns_sshd "$ns_s" far "$addr_s"
ns_sshd "$ns_c" near 127.0.0.1
hostkey=$(cut -d' ' -f1,2 "$FIXTURE_DIR/host_ed25519.pub")
printf '%s %s\n127.0.0.1 %s\n' "$addr_s" "$hostkey" "$hostkey" >"$tmp/known_hosts"
conf=$tmp/ssh_config
for alias in far near; do
  [ $alias = far ] && hn=$addr_s || hn=127.0.0.1
  sed -e "s/^Host fixture/Host $alias/" -e "s/HostName .*/HostName $hn/" \
    -e "s/Port .*/Port 22/" -e "s|UserKnownHostsFile .*|UserKnownHostsFile $tmp/known_hosts|" \
    "$FIXTURE_SSH_CONFIG" >>"$conf"
done
# "far1": far with ssh_config's own keepalive, which remex honours.
sed -e "s/^Host fixture/Host far1/" -e "s/HostName .*/HostName $addr_s/" \
  -e "s/Port .*/Port 22/" -e "s|UserKnownHostsFile .*|UserKnownHostsFile $tmp/known_hosts|" \
  "$FIXTURE_SSH_CONFIG" >>"$conf"
printf '  ServerAliveInterval 1\n  ServerAliveCountMax 3\n' >>"$conf"
chmod 0644 "$conf"

in_c() { ip netns exec "$ns_c" "$@"; }
# remexd inside the clients' namespace (ip netns exec execs it: same pid).
printf '#!/bin/sh\nexec ip netns exec %s %s "$@"\n' "$ns_c" "$remexd_bin" >"$tmp/remexd-in-ns"
chmod +x "$tmp/remexd-in-ns"

keepalive=1 # seconds, remexd --ssh.keepalive
# Budget: TCP_USER_TIMEOUT is interval × (count + 1) = 4 s, the pool's own
# silence limit interval × (count + 2) = 5 s; a second of slack for the
# client's report.
budget_ms=7000
start_remexd "$tmp/d" "$tmp/remexd-in-ns" --ssh.keepalive=${keepalive}s
rx=(in_c "$remex" --broker "127.0.0.1:$REMEXD_PORT" --token-file "$REMEXD_TOKEN" run -F "$conf")
out=$("${rx[@]}" -H far -- echo across 2>&1)
expect_eq "before any cut: a command on the far host" "0 across" "$? $out"
out=$("${rx[@]}" -H near -- echo near 2>&1)
expect_eq "before any cut: a command on the near host" "0 near" "$? $out"
injected=0

# cut HOW: take the link down (down) or drop every packet (drop).
cut() {
  case $1 in
    down) ip -n "$ns_s" link set "$veth_s" down ;;
    # Every frame addressed to a MAC nobody has, both ways: the veth
    # drops them silently (this kernel has no netem or nftables to ask).
    drop)
      ip -n "$ns_c" neigh replace "$addr_s" lladdr 02:00:00:00:de:ad nud permanent dev "$veth_c"
      ip -n "$ns_s" neigh replace "$addr_c" lladdr 02:00:00:00:de:ad nud permanent dev "$veth_s"
      ;;
  esac
}
mend() {
  case $1 in
    down) ip -n "$ns_s" link set "$veth_s" up ;;
    drop)
      ip -n "$ns_c" neigh del "$addr_s" dev "$veth_c"
      ip -n "$ns_s" neigh del "$addr_c" dev "$veth_s"
      ;;
  esac
}

# case_cut WHERE BACKEND HOW BUDGET_MS [HOST]: WHERE is remexd or embedded;
# HOST far (default) or far1.
case_cut() {
  local where=$1 be=$2 how=$3 budget=$4 host=${5:-far}
  local name="$where $be: link $how ($host)" marker="remex-cut-$$-$where-$be-$how"
  local cmd=(-H "$host" -b "$be" -- sh -c "echo ready; while :; do echo tick; sleep 0.1; done; : $marker")
  # Emptied here, not only by the client's redirection: that runs in the
  # background child, and the wait below could read the last case's ticks
  # first and cut the link while this command's channel still opens (then
  # the channel, which never ran, waits for a fresh connection that cannot
  # come: "cannot connect: Timeout connecting", seen 1 in 12 runs).
  : >"$tmp/c.out"
  : >"$tmp/c.err"
  if [ "$where" = remexd ]; then
    "${rx[@]}" "${cmd[@]}" >"$tmp/c.out" 2>"$tmp/c.err" &
  else
    in_c "$remex" run -F "$conf" "${cmd[@]}" >"$tmp/c.out" 2>"$tmp/c.err" &
  fi
  local client=$!
  wait_file_has "$tmp/c.out" tick 15 || {
    fail "$name: the command never streamed: $(cat "$tmp/c.err")"
    kill -KILL "$client" 2>/dev/null
    return
  }
  local t0 rc ms
  t0=$(now_ms)
  cut "$how"
  injected=$((injected + 1))
  sleep 0.5
  local ticks
  ticks=$(wc -l <"$tmp/c.out")
  if [ "$where" = remexd ]; then
    # Another host, same remexd, while this connection is dying.
    local t1 near
    t1=$(now_ms)
    near=$("${rx[@]}" -H near -- echo near 2>&1)
    expect_eq "$name: meanwhile remexd serves the near host" "0 near" "$? $near"
    ms=$(($(now_ms) - t1))
    [ "$ms" -lt 3000 ] && pass "$name: ... in $ms ms" || fail "$name: the near host took $ms ms"
  fi
  await "$client" $(((budget + 999) / 1000 + 10))
  rc=$?
  ms=$(($(now_ms) - t0))
  echo "# $name: the client ended $ms ms after the cut (rc $rc)"
  expect_eq "$name: exit code 255 (lost)" 255 "$rc"
  expect_eq "$name: one line on stderr" 1 "$(wc -l <"$tmp/c.err")"
  [ "$ms" -le "$budget" ] && pass "$name: noticed within ${budget} ms ($ms ms)" ||
    fail "$name: noticed after $ms ms (budget $budget ms)"
  expect_contains "$name: it says the connection is lost" "connection lost" "$(cat "$tmp/c.err")"
  expect_eq "$name: no output after the cut" "$ticks" "$(wc -l <"$tmp/c.out")"
  mend "$how"
  # sshd learns of the dead connection when its next segment is answered
  # by a reset; its session ends, and the agent (or the ssh guard) kills
  # the command.
  wait_gone "$marker" 20 && pass "$name: once the link is back, no remote process remains" ||
    fail "$name: left running: $(pgrep -af "$marker")"
  local out
  out=$("${rx[@]}" -H "$host" -b "$be" -- echo again 2>&1)
  expect_eq "$name: the far host works again through remexd" "0 again" "$? $out"
}

case_cut remexd agent down "$budget_ms"
case_cut remexd ssh drop "$budget_ms"
case_cut remexd agent drop "$budget_ms"
# Embedded, ServerAliveInterval 1 from ssh_config: the same budget.
case_cut embedded agent drop "$budget_ms" far1
if [ "${REMEX_RELIABILITY_LONG:-0}" = 1 ]; then
  # The embedded broker's default: 5 s interval, 3 probes: 20-25 s.
  case_cut embedded agent drop 30000
  case_cut embedded ssh down 30000
fi

kill -0 "$REMEXD_PID" 2>/dev/null && pass "remexd survived $injected cut links" ||
  fail "remexd died"
stop_remexd
expect_eq "remexd ends 0 on SIGTERM" 0 $?
REMEXD_PID=
echo "# links cut: $injected"
finish
