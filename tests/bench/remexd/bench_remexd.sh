#!/usr/bin/env bash
# remex through a warm remexd vs ssh with ControlMaster, one fixture sshd,
# measured in one run:
#   1. wall time of `remex --broker … run -H fixture true`, a fresh CLI
#      process each (median of N_TRUE), next to ssh over a ControlMaster
#      connection and the embedded broker
#   2. one long-lived client (bench-remexd-loop) running N_LOOP sequential
#      `true` over one link: p50 and p99 per execution
#   3. 1 GB of stdout through remexd next to ssh (median of N_THROUGHPUT)
# Usage: bench_remexd.sh [BUILD_DIR]   (default: build). Needs root (fixture).
set -euo pipefail
top=$(cd "$(dirname "$0")/../../.." && pwd)
build=${1:-$top/build}
remex=$build/bin/remex
remexd=$build/bin/remexd
loop=$build/bin/bench-remexd-loop
n_true=${N_TRUE:-100}
n_loop=${N_LOOP:-1000}
n_tp=${N_THROUGHPUT:-3}

. "$top/tests/bench/lib.sh"
dir=$(mktemp -d)
bench_on_exit "rm -rf '$dir'"
bench_start_fixture "$dir/fx"
bench_start_remexd "$dir" "$remexd" "$dir/token"
port=$BENCH_REMEXD_PORT
bench_on_exit "ssh -o ControlPath='$dir/cm-%C' -O exit fixture -F '$FIXTURE_SSH_CONFIG'"
broker=(--broker "127.0.0.1:$port" --token-file "$dir/token")

ssh=(ssh -F "$FIXTURE_SSH_CONFIG" -o ControlMaster=no fixture)
ssh_mux=(ssh -F "$FIXTURE_SSH_CONFIG" -o ControlMaster=auto
  -o ControlPath="$dir/cm-%C" -o ControlPersist=300 fixture)
remexd_agent=("$remex" "${broker[@]}" run -F "$FIXTURE_SSH_CONFIG" -H fixture)
remexd_ssh=("$remex" "${broker[@]}" run -b ssh -F "$FIXTURE_SSH_CONFIG" -H fixture)
embedded=("$remex" run -F "$FIXTURE_SSH_CONFIG" -H fixture)

echo "remexd vs ssh on one fixture sshd (127.0.0.1:$FIXTURE_PORT), $(nproc) cores, user shell $(getent passwd "$FIXTURE_USER" | cut -d: -f7)"
"${ssh_mux[@]}" true </dev/null      # the master, before timing
"${remexd_agent[@]}" true </dev/null # the warm session and agent
"${remexd_ssh[@]}" true </dev/null
declare -A wt
for who in ssh_mux remexd_agent remexd_ssh ssh embedded; do
  declare -n cmd=$who
  n=$n_true
  case $who in ssh | embedded) n=$((n_true / 5)) ;; esac # cold: fewer
  wt[$who]=$(wall_true "$n" "${cmd[@]}")
  printf 'true, fresh process  %-13s median %7.1f ms  (n=%d)\n' "$who" \
    "$(echo "${wt[$who]} / 1000" | bc -l)" "$n"
done
printf 'ratio remexd(agent)/ControlMaster: %.2f   remexd(-b ssh)/ControlMaster: %.2f\n' \
  "$(echo "${wt[remexd_agent]} / ${wt[ssh_mux]}" | bc -l)" \
  "$(echo "${wt[remexd_ssh]} / ${wt[ssh_mux]}" | bc -l)"

printf 'one client, %d sequential true (agent):  ' "$n_loop"
"$loop" "127.0.0.1:$port" "$dir/token" "$n_loop" fixture "$FIXTURE_SSH_CONFIG" true

declare -A tp
for who in ssh remexd_agent remexd_ssh; do
  declare -n cmd=$who
  tp[$who]=$(gb_median "$n_tp" "${cmd[@]}")
  printf '1 GB stdout  %-13s median %6s ms  %7.1f MB/s\n' "$who" "${tp[$who]}" \
    "$(echo "1000000000 / (${tp[$who]} / 1000) / 1000000" | bc -l)"
done
printf 'throughput ratio remexd(agent)/ssh: %.2f   remexd(-b ssh)/ssh: %.2f\n' \
  "$(echo "${tp[ssh]} / ${tp[remexd_agent]}" | bc -l)" \
  "$(echo "${tp[ssh]} / ${tp[remexd_ssh]}" | bc -l)"
