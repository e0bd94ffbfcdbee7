#!/usr/bin/env bash
# remex fanout vs pdsh -R ssh: `hostname` on 100 ssh_config aliases
# (h001..h100) of one fixture sshd, measured in one run (median of N_RUNS
# wall times each, every run checked for 100 output lines):
#   pdsh          pdsh -R ssh -f WIDTH, ssh(1) per host, fresh connections
#   remex cold    remex fanout, embedded broker: fresh connections and agent
#                 check per host
#   remex -b ssh  the same with plain exec channels (no agent)
#   remexd warm   remex fanout --broker: a remexd whose 100 connections and
#                 agents are already up (one unmeasured run first)
# Usage: bench_fanout.sh [BUILD_DIR]   (default: build). Needs root (fixture).
# WIDTH (default 32, pdsh's own default) is passed to both as -f.
set -euo pipefail
top=$(cd "$(dirname "$0")/../../.." && pwd)
build=${1:-$top/build}
remex=$build/bin/remex
remexd=$build/bin/remexd
n=${N_RUNS:-5}
width=${WIDTH:-32}
hosts=100
# 100 hosts means up to WIDTH handshakes at once on one sshd: the fixture's
# MaxStartups (200:30:400) would already do, raised anyway so that sshd's
# random early drop can never be what is measured. One session per
# connection, so MaxSessions (10) does not matter.
sshd_opts=(-o MaxStartups=1000:30:2000)

. "$top/tests/bench/lib.sh"
dir=$(mktemp -d)
bench_on_exit "rm -rf '$dir'"
bench_start_fixture "$dir/fx" "${sshd_opts[@]}"
cfg=$dir/fanout_config
for i in $(seq -w 1 $hosts); do
  sed "s|^Host fixture\$|Host h$i|" "$FIXTURE_SSH_CONFIG"
done >"$cfg"
range="h[001-$hosts]"

bench_start_remexd "$dir" "$remexd" "$dir/token"
port=$BENCH_REMEXD_PORT

# pdsh's ssh module runs `ssh $PDSH_SSH_ARGS`; its default adds -l%u (the
# local user), which would override the config's User, so say it whole.
export PDSH_SSH_ARGS="-F $cfg -a -x %h"
pdsh=(pdsh -R ssh -f "$width" -w "$range")
remex_cold=("$remex" fanout -f "$width" -F "$cfg" -w "$range" --)
remex_ssh=("$remex" fanout -b ssh -f "$width" -F "$cfg" -w "$range" --)
remexd_warm=("$remex" fanout --broker "127.0.0.1:$port" --token-file "$dir/token"
  -f "$width" -F "$cfg" -w "$range" --)

one_run() { # milliseconds for one fan-out of hostname, checking 100 lines
  local t0 lines
  t0=$(now_ns)
  lines=$("$@" hostname </dev/null 2>/dev/null | grep -c ': ') || true
  [ "$lines" = $hosts ] || { echo "$* hostname: $lines lines, want $hosts" >&2; exit 1; }
  echo "$((($(now_ns) - t0) / 1000000))"
}

echo "remex fanout vs pdsh -R ssh: hostname on $hosts aliases of one fixture sshd" \
  "(127.0.0.1:$FIXTURE_PORT), width $width, $(nproc) cores, median of $n"
echo "sshd options: ${sshd_opts[*]}; pdsh: PDSH_SSH_ARGS='$PDSH_SSH_ARGS'"
"${remexd_warm[@]}" hostname >/dev/null 2>&1 </dev/null # connections and agents up
declare -A ms
for who in pdsh remex_cold remex_ssh remexd_warm; do
  declare -n cmd=$who
  ms[$who]=$(for ((r = 0; r < n; r++)); do one_run "${cmd[@]}"; done | median)
  printf '%-12s median %7s ms   pdsh/this %5.2f\n' "$who" "${ms[$who]}" \
    "$(echo "${ms[pdsh]} / ${ms[$who]}" | bc -l)"
done
