#!/usr/bin/env bash
# remex cp vs scp and sftp against the same fixture sshd, measured in one run:
# a 1 GB file (random bytes) up and down, median of N_RUNS runs each (the
# tools take turns), and the ratio of each tool's time to remex's (above 1:
# remex is faster).
# Every copy is checked by size (and the first of each by sha256).
# Usage: bench_cp.sh [BUILD_DIR]   (default: build). Needs root (fixture).
set -euo pipefail
top=$(cd "$(dirname "$0")/../../.." && pwd)
build=${1:-$top/build}
remex=$build/bin/remex
n=${N_RUNS:-3}
size=${SIZE_BYTES:-1000000000}

. "$top/tests/bench/lib.sh"
dir=$(mktemp -d)
chmod 0755 "$dir"
bench_on_exit "rm -rf '$dir'"
bench_start_fixture "$dir/fx"
home=$(getent passwd "$FIXTURE_USER" | cut -d: -f6)
rdir="$home/bench-cp.$$"
bench_on_exit "rm -rf '$rdir'"
mkdir -p "$rdir" && chown "$FIXTURE_USER" "$rdir"
head -c "$size" /dev/urandom >"$dir/src"
sum=$(sha256sum <"$dir/src")
cfg=(-F "$FIXTURE_SSH_CONFIG")

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# ms for one run of "$@", then the copy at FILE checked.
timed() {
  local file=$1 t0 t1
  shift
  rm -f "$file"
  t0=$(now_ms)
  "$@" >/dev/null
  t1=$(now_ms)
  [ "$(stat -c %s "$file")" = "$size" ] || { echo "short copy: $*" >&2; exit 1; }
  echo $((t1 - t0))
}

up_remex() { "$remex" cp "${cfg[@]}" "$dir/src" "fixture:$rdir/dst"; }
down_remex() { "$remex" cp "${cfg[@]}" "fixture:$rdir/src" "$dir/dst"; }
up_scp() { scp -q "${cfg[@]}" "$dir/src" "fixture:$rdir/dst"; }
down_scp() { scp -q "${cfg[@]}" "fixture:$rdir/src" "$dir/dst"; }
up_sftp() { echo "put $dir/src $rdir/dst" | sftp -q -b - "${cfg[@]}" fixture; }
down_sftp() { echo "get $rdir/src $dir/dst" | sftp -q -b - "${cfg[@]}" fixture; }

cp "$dir/src" "$rdir/src" && chown "$FIXTURE_USER" "$rdir/src"
# Round by round, every tool and way once per round: a change in the
# machine's load while the benchmark runs hits all tools alike.
declare -A med runs
for ((i = 0; i < n; i++)); do
  for tool in remex scp sftp; do
    for way in up down; do
      if [ $way = up ]; then file=$rdir/dst; else file=$dir/dst; fi
      runs[$tool-$way]+="$(timed "$file" "${way}_$tool") "
      if [ "$i" = 0 ] && [ "$(sha256sum <"$file")" != "$sum" ]; then
        echo "$tool $way: sha256 differs" >&2
        exit 1
      fi
    done
  done
done
for tool in remex scp sftp; do
  for way in up down; do
    times=(${runs[$tool-$way]})
    med[$tool-$way]=$(printf '%s\n' "${times[@]}" | median)
    echo "$tool $way: ${times[*]} ms (median ${med[$tool-$way]} ms)"
  done
done
echo
printf '%-6s %10s %10s %8s %8s\n' tool "up MB/s" "down MB/s" "up x" "down x"
for tool in remex scp sftp; do
  up=${med[$tool-up]} down=${med[$tool-down]}
  printf '%-6s %10.0f %10.0f %8.2f %8.2f\n' "$tool" \
    "$(echo "$size / $up / 1000" | bc -l)" "$(echo "$size / $down / 1000" | bc -l)" \
    "$(echo "$up / ${med[remex-up]}" | bc -l)" "$(echo "$down / ${med[remex-down]}" | bc -l)"
done
echo "(x: the tool's median time / remex cp's; above 1 means remex is faster)"
