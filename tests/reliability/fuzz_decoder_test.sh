#!/usr/bin/env bash
# The frame decoder's libFuzzer target (tests/fuzz/fuzz_decoder.cpp) for a
# bounded time on the checked-in corpus (tests/fuzz/corpus/), with ASan and
# UBSan. The Release build may be gcc, so this compiles protocol/*.cpp and the
# target itself with clang into WORKDIR (ccache makes the second run cheap):
# cheaper than a second CMake tree. Every corpus file runs first, so a past
# finding saved into the corpus is a regression test from then on.
#
#   fuzz_decoder_test.sh SOURCE_DIR WORKDIR [SECONDS]
#
# SECONDS defaults to 60, or 600 with REMEX_RELIABILITY_LONG=1. New inputs
# found go to WORKDIR/corpus, never into the source tree; a crash leaves
# WORKDIR/crash-* and fails the test with the reproducer's path.
set -u
src=${1:?usage: fuzz_decoder_test.sh SOURCE_DIR WORKDIR [SECONDS]}
work=${2:?usage: fuzz_decoder_test.sh SOURCE_DIR WORKDIR [SECONDS]}
secs=${3:-60}
[ "${REMEX_RELIABILITY_LONG:-0}" = 1 ] && secs=${3:-600}

cxx=$(command -v clang++ || command -v clang++-14) || {
  echo "FAIL - clang++ not found (tools/install-deps installs clang)"
  exit 1
}
launcher=$(command -v ccache || true)
mkdir -p "$work/obj"
flags=(-std=c++17 -O1 -g -fno-omit-frame-pointer -I"$src"
  -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined)
start=$(date +%s)
objs=()
for f in "$src"/protocol/*.cpp "$src"/tests/fuzz/fuzz_decoder.cpp; do
  o="$work/obj/$(basename "$f" .cpp).o"
  CCACHE_BASEDIR=$src $launcher "$cxx" "${flags[@]}" -c "$f" -o "$o" || {
    echo "FAIL - compiling $f with $cxx"
    exit 1
  }
  objs+=("$o")
done
"$cxx" -fsanitize=fuzzer,address,undefined "${objs[@]}" -lcbor \
  -o "$work/fuzz_decoder" || {
  echo "FAIL - linking the fuzzer"
  exit 1
}
echo "built the fuzzer in $(($(date +%s) - start)) s"

rm -rf "$work/corpus" "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*
mkdir -p "$work/corpus"
cp "$src"/tests/fuzz/corpus/* "$work/corpus/"
seeds=$(ls "$work/corpus" | wc -l)
echo "corpus: $seeds files, $(cat "$src"/tests/fuzz/corpus/* | wc -c) bytes"
[ "$seeds" -gt 0 ] || {
  echo "FAIL - the checked-in corpus is empty"
  exit 1
}

# -rss_limit_mb: an exec frame may legally take 8 MiB, and the target decodes
# each input twice; far above that is a leak or an unbounded allocation.
# -timeout: one input taking seconds means the decoder went quadratic.
"$work/fuzz_decoder" "$work/corpus" -max_total_time="$secs" -timeout=10 \
  -rss_limit_mb=1024 -print_final_stats=1 -artifact_prefix="$work/" \
  >"$work/fuzz.log" 2>&1
rc=$?
runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/fuzz.log" | grep -o '[0-9]*$')
cov=$(grep -o 'cov: [0-9]*' "$work/fuzz.log" | tail -1)
echo "fuzzed ${secs} s: ${runs:-?} executions, $cov," \
  "corpus $seeds -> $(ls "$work/corpus" | wc -l) files"
if [ "$rc" -ne 0 ]; then
  grep -A30 'ERROR\|fuzz invariant\|runtime error' "$work/fuzz.log" | head -60
  echo "FAIL - the fuzzer found a problem (exit $rc); reproducer:" \
    "$(ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* 2>/dev/null)"
  echo "  run: $work/fuzz_decoder REPRODUCER; once fixed, copy it into" \
    "tests/fuzz/corpus/ so it stays a regression test"
  exit 1
fi
echo "ok   - no crash, leak, timeout or invariant break"
