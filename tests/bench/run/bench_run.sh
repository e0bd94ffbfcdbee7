#!/usr/bin/env bash
# remex run vs ssh against the same fixture sshd, measured in one run:
#   1. stdout throughput of `head -c 1000000000 /dev/zero` (median of N)
#   2. wall time of `true`, a fresh process each time (median of M)
# Usage: bench_run.sh [BUILD_DIR]   (default: build). Needs root (fixture).
set -euo pipefail
top=$(cd "$(dirname "$0")/../../.." && pwd)
build=${1:-$top/build}
remex=$build/bin/remex
n_tp=${N_THROUGHPUT:-5}
n_true=${N_TRUE:-30}

. "$top/tests/bench/lib.sh"
dir=$(mktemp -d)
bench_on_exit "rm -rf '$dir'"
bench_start_fixture "$dir/fx"
bench_on_exit "ssh -o ControlPath='$dir/cm-%C' -O exit fixture -F '$FIXTURE_SSH_CONFIG'"
ssh=(ssh -F "$FIXTURE_SSH_CONFIG" -o ControlMaster=no fixture)
# remex prefers AES-GCM; ssh's default is chacha20: show ssh with both.
ssh_aes=(ssh -F "$FIXTURE_SSH_CONFIG" -o ControlMaster=no -c aes128-gcm@openssh.com fixture)
# ssh reusing one master connection (ControlMaster), the fastest ssh there is.
ssh_mux=(ssh -F "$FIXTURE_SSH_CONFIG" -o ControlMaster=auto
  -o ControlPath="$dir/cm-%C" -o ControlPersist=120 fixture)
remex_agent=("$remex" run -F "$FIXTURE_SSH_CONFIG" -H fixture)
remex_ssh=("$remex" run -b ssh -F "$FIXTURE_SSH_CONFIG" -H fixture)

echo "remex run vs ssh on one fixture sshd (127.0.0.1:$FIXTURE_PORT), $(nproc) cores"
cipher=$(ssh -v "${ssh[@]:1}" true 2>&1 | grep -m1 'kex: server->client cipher' | sed 's/.*cipher: \([^ ]*\).*/\1/')
echo "ssh negotiated cipher: ${cipher:-unknown}"

declare -A tp
for who in ssh ssh_aes remex_agent remex_ssh; do
  declare -n cmd=$who
  ms=$(gb_median "$n_tp" "${cmd[@]}")
  tp[$who]=$ms
  printf '1 GB stdout  %-12s median %6s ms  %7.1f MB/s\n' "$who" "$ms" \
    "$(echo "1000000000 / ($ms / 1000) / 1000000" | bc -l)"
done
printf 'throughput ratio remex(agent)/ssh: %.2f   remex(ssh backend)/ssh: %.2f\n' \
  "$(echo "${tp[ssh]} / ${tp[remex_agent]}" | bc -l)" \
  "$(echo "${tp[ssh]} / ${tp[remex_ssh]}" | bc -l)"
printf 'throughput ratio vs ssh -c aes128-gcm: remex(agent) %.2f   remex(ssh backend) %.2f\n' \
  "$(echo "${tp[ssh_aes]} / ${tp[remex_agent]}" | bc -l)" \
  "$(echo "${tp[ssh_aes]} / ${tp[remex_ssh]}" | bc -l)"

"${ssh_mux[@]}" true </dev/null  # start the master before timing
declare -A wt
for who in ssh ssh_mux remex_agent remex_ssh; do
  declare -n cmd=$who
  us=$(wall_true "$n_true" "${cmd[@]}")
  wt[$who]=$us
  printf 'wall time of true  %-12s median %8.1f ms\n' "$who" "$(echo "$us / 1000" | bc -l)"
done
printf 'wall time ratio ssh/remex(agent): %.2f   ssh/remex(ssh backend): %.2f\n' \
  "$(echo "${wt[ssh]} / ${wt[remex_agent]}" | bc -l)" \
  "$(echo "${wt[ssh]} / ${wt[remex_ssh]}" | bc -l)"
printf 'wall time ratio ssh with ControlMaster/remex(agent): %.2f\n' \
  "$(echo "${wt[ssh_mux]} / ${wt[remex_agent]}" | bc -l)"
