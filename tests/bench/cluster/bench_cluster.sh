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
n_true=${N_TRUE:-50}
n_tp=${N_THROUGHPUT:-3}
n_loop=${N_LOOP:-500}
loop=$build/bin/bench-remexd-loop

. "$top/tests/bench/lib.sh"
dir=$(mktemp -d)
bench_on_exit "rm -rf '$dir'"
bench_start_fixture "$dir/fx"
bench_start_remexd "$dir/a" "$remexd" "$dir/token" --name A --serves fixture
pa=$BENCH_REMEXD_PORT
bench_start_remexd "$dir/b" "$remexd" "$dir/token" --name B --serves none \
  --peer "127.0.0.1:$pa" --log-level info
pb=$BENCH_REMEXD_PORT
wait_file_has "$dir/b/remexd.log" "peer A joined" 10 || echo "warning: B has not seen A join" >&2

direct=("$remex" --broker "127.0.0.1:$pa" --token-file "$dir/token" run -F "$FIXTURE_SSH_CONFIG" -H fixture)
hop=("$remex" --broker "127.0.0.1:$pb" --token-file "$dir/token" run -F "$FIXTURE_SSH_CONFIG" -H fixture)

# Warm both paths (connection, agent placed) before measuring.
"${direct[@]}" true
"${hop[@]}" true
t_direct=$(wall_true "$n_true" "${direct[@]}")
t_hop=$(wall_true "$n_true" "${hop[@]}")
printf 'one client, %d sequential true, A directly: ' "$n_loop"
"$loop" "127.0.0.1:$pa" "$dir/token" "$n_loop" fixture "$FIXTURE_SSH_CONFIG" true
printf 'one client, %d sequential true, B→A:        ' "$n_loop"
"$loop" "127.0.0.1:$pb" "$dir/token" "$n_loop" fixture "$FIXTURE_SSH_CONFIG" true
g_direct=$(gb_median "$n_tp" "${direct[@]}")
g_hop=$(gb_median "$n_tp" "${hop[@]}")
awk -v d="$t_direct" -v h="$t_hop" -v n="$n_true" 'BEGIN {
  printf "true, median of %d (µs): A directly %.0f   B→A %.0f   the hop costs %.0f µs\n",
    n, d, h, h - d }'
awk -v d="$g_direct" -v h="$g_hop" -v n="$n_tp" 'BEGIN {
  printf "1 GB stdout, median of %d (ms): A directly %d (%.0f MB/s)   B→A %d (%.0f MB/s)   throughput ratio B→A/direct %.2f\n",
    n, d, 1000000000 / d / 1000, h, 1000000000 / h / 1000, d / h }'
grep -c "forwarded to node A" "$dir/b/remexd.log" | sed 's/^/requests B forwarded: /'
