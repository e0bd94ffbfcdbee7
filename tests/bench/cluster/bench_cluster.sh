#!/usr/bin/env bash
# What the hop between two remexd nodes costs, measured in one run on one
# fixture sshd: node A serves the fixture; node B serves nothing and has A
# as its peer, so a request entering B runs on A.
#   1. wall time of `remex --broker … run -H fixture true`, a fresh CLI
#      process each (median of N_TRUE), through A directly and through B→A
#   2. one long-lived client (bench-remexd-loop) running N_LOOP sequential
#      `true` over one link, both ways: p50 and p99 per execution, where
#      the CLI's own start-up does not hide the hop
#   3. 1 GB of stdout the same two ways (median of N_THROUGHPUT)
# and the ratios. Usage: bench_cluster.sh [BUILD_DIR] (default: build).
# Needs root (fixture).
set -euo pipefail
top=$(cd "$(dirname "$0")/../../.." && pwd)
build=${1:-$top/build}
remex=$build/bin/remex
remexd=$build/bin/remexd
fixture=$top/tests/fixtures/sshd-fixture
n_true=${N_TRUE:-50}
n_tp=${N_THROUGHPUT:-3}
n_loop=${N_LOOP:-500}
loop=$build/bin/bench-remexd-loop

dir=$(mktemp -d)
pids=()
trap 'for p in ${pids[@]+"${pids[@]}"}; do kill -TERM "$p" 2>/dev/null; done
  sleep 0.5; "$fixture" stop "$dir/fx" >/dev/null 2>&1; rm -rf "$dir"' EXIT
mkdir -p "$dir/fx"
"$fixture" start "$dir/fx" >/dev/null
. "$dir/fx/env"
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
pa=$(free_port)
pb=$(free_port)
"$remexd" --name A --listen "127.0.0.1:$pa" --token-file "$dir/token" --serves fixture \
  --log-file "$dir/a.log" --log-level warn </dev/null >/dev/null 2>&1 &
pids+=($!)
for ((i = 0; i < 100; i++)); do [ -s "$dir/token" ] && break; sleep 0.1; done
"$remexd" --name B --listen "127.0.0.1:$pb" --token-file "$dir/token" --serves none \
  --peer "127.0.0.1:$pa" --log-file "$dir/b.log" --log-level info </dev/null >/dev/null 2>&1 &
pids+=($!)
for ((i = 0; i < 100; i++)); do grep -q "peer A joined" "$dir/b.log" 2>/dev/null && break; sleep 0.1; done

direct=("$remex" --broker "127.0.0.1:$pa" --token-file "$dir/token" run -F "$FIXTURE_SSH_CONFIG" -H fixture)
hop=("$remex" --broker "127.0.0.1:$pb" --token-file "$dir/token" run -F "$FIXTURE_SSH_CONFIG" -H fixture)

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
now_ns() { date +%s%N; }
wall_true() { # median microseconds of `CMD true`
  local n=$1 i t0
  shift
  for ((i = 0; i < n; i++)); do
    t0=$(now_ns)
    "$@" true </dev/null || { echo "failed: $*" >&2; exit 1; }
    echo "$((($(now_ns) - t0) / 1000))"
  done | median
}
one_gb() { # milliseconds for 1 GB of stdout, checking the byte count
  local t0 bytes
  t0=$(now_ns)
  bytes=$("$@" head -c 1000000000 /dev/zero | wc -c)
  [ "$bytes" = 1000000000 ] || { echo "short read: $bytes" >&2; exit 1; }
  echo "$((($(now_ns) - t0) / 1000000))"
}
gb_median() {
  local i
  for ((i = 0; i < n_tp; i++)); do one_gb "$@"; done | median
}

# Warm both paths (connection, agent placed) before measuring.
"${direct[@]}" true
"${hop[@]}" true
t_direct=$(wall_true "$n_true" "${direct[@]}")
t_hop=$(wall_true "$n_true" "${hop[@]}")
printf 'one client, %d sequential true, A directly: ' "$n_loop"
"$loop" "127.0.0.1:$pa" "$dir/token" "$n_loop" fixture "$FIXTURE_SSH_CONFIG" true
printf 'one client, %d sequential true, B→A:        ' "$n_loop"
"$loop" "127.0.0.1:$pb" "$dir/token" "$n_loop" fixture "$FIXTURE_SSH_CONFIG" true
g_direct=$(gb_median "${direct[@]}")
g_hop=$(gb_median "${hop[@]}")
awk -v d="$t_direct" -v h="$t_hop" -v n="$n_true" 'BEGIN {
  printf "true, median of %d (µs): A directly %.0f   B→A %.0f   the hop costs %.0f µs\n",
    n, d, h, h - d }'
awk -v d="$g_direct" -v h="$g_hop" -v n="$n_tp" 'BEGIN {
  printf "1 GB stdout, median of %d (ms): A directly %d (%.0f MB/s)   B→A %d (%.0f MB/s)   throughput ratio B→A/direct %.2f\n",
    n, d, 1000000000 / d / 1000, h, 1000000000 / h / 1000, d / h }'
grep -c "forwarded to node A" "$dir/b.log" | sed 's/^/requests B forwarded: /'
