#!/usr/bin/env bash
# examples/run_on_host, built the way another CAF program would build it:
# `cmake --install` of this build into a temporary prefix, then examples/ as
# a project of its own that finds remex there (find_package(remex)) and
# nothing of the source tree. Then run against the installed remexd, on the
# sshd fixture and on remexd's own machine: output bytes, "exit code N" and
# the exit status, and 255 with one line when the token or remexd is wrong.
#
#   example_test.sh PATH/TO/cmake BUILD_DIR [FLAGS]
#
# FLAGS (compile and link) are those a program linking this build's archives
# needs: the sanitizers, when the build has them.
set -u
here=$(cd "$(dirname "$0")" && pwd)
cmake=${1:?usage: example_test.sh PATH/TO/cmake BUILD_DIR}
build=${2:?usage: example_test.sh PATH/TO/cmake BUILD_DIR}
flags=${3:-}
src=$(cd "$here/../.." && pwd)
. "$here/../cli/lib.sh"
tmp=$(mktemp -d)
prefix=$tmp/prefix
started=$SECONDS

# --- install, and the layout a client relies on ---
if "$cmake" --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1; then
  pass "cmake --install succeeds"
else
  fail "cmake --install failed (is $build fully built?):"
  tail -20 "$tmp/install.log"
  rm -rf "$tmp"
  finish
  exit 1
fi
missing=""
for f in bin/remex bin/remexd bin/remex-agent \
  include/remex/actors/interfaces.hpp include/remex/node/node_link.hpp \
  lib/libremex_node.a lib/cmake/remex/remexConfig.cmake \
  lib/cmake/remex/remexConfigVersion.cmake; do
  [ -e "$prefix/$f" ] || missing="$missing $f"
done
expect_eq "installed files" "" "$missing"
# The agent's libcbor travels beside it, under its SONAME.
cbor=$(readelf -d "$prefix/bin/remex-agent" | sed -n 's/.*NEEDED.*\[\(libcbor[^]]*\)\].*/\1/p')
[ -n "$cbor" ] && [ -e "$prefix/bin/$cbor" ] && pass "libcbor beside the agent ($cbor)" ||
  fail "no libcbor beside the installed agent"

# --- examples/ against the prefix only (ccache keyed relative to $tmp, so
# that a second run reuses the first one's objects) ---
example_args=()
command -v ccache >/dev/null && example_args=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
[ -z "$flags" ] || example_args+=("-DCMAKE_CXX_FLAGS=$flags" "-DCMAKE_EXE_LINKER_FLAGS=$flags")
export CCACHE_BASEDIR=$tmp
if "$cmake" -S "$src/examples" -B "$tmp/example" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_EXPORT_COMPILE_COMMANDS=ON "${example_args[@]}" >"$tmp/example.log" 2>&1 &&
  "$cmake" --build "$tmp/example" >>"$tmp/example.log" 2>&1; then
  pass "examples/ builds against the installed package"
else
  fail "examples/ does not build against the installed package:"
  tail -30 "$tmp/example.log"
  rm -rf "$tmp"
  finish
  exit 1
fi
compile=$(grep '"command"' "$tmp/example/compile_commands.json")
expect_contains "compiled with the installed headers" "$prefix/include/remex" "$compile"
case "$compile" in
  *"-I$src "* | *"-isystem $src "*) fail "the source tree is on the include path" ;;
  *) pass "the source tree is not on the include path" ;;
esac
run_on_host=$tmp/example/run_on_host
echo "# install and example build: $((SECONDS - started)) s"

# --- against the installed remexd and the fixture ---
start_fixture "$tmp"   # its trap removes $tmp; ours below does that too
fixture_dir=$FIXTURE_DIR
trap 'kill -TERM "${REMEXD_PID:-}" 2>/dev/null; "$here/../fixtures/sshd-fixture" stop "$fixture_dir" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
# The example has no -F: remexd's own ssh settings resolve the alias.
start_remexd "$tmp/remexd" "$prefix/bin/remexd" \
  --ssh.config-file="$FIXTURE_SSH_CONFIG"
broker=(--broker "127.0.0.1:$REMEXD_PORT" --token-file "$REMEXD_TOKEN")

# run NAME ARGS...: the example under a deadline (124: it did not end by
# itself); its stdout in $tmp/NAME.out, stderr in $tmp/NAME.err, status in rc.
run() {
  local name=$1
  shift
  timeout 60 "$run_on_host" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
  rc=$?
}

run mixed "${broker[@]}" fixture sh -c 'echo out; echo err >&2; exit 3' </dev/null
expect_eq "fixture: exit status 3" 3 "$rc"
printf 'out\n' | cmp -s - "$tmp/mixed.out" && pass "fixture: stdout bytes" ||
  fail "fixture: stdout [$(od -c "$tmp/mixed.out" | head -3)]"
expect_eq "fixture: stderr, then the exit code" $'err\nexit code 3' "$(cat "$tmp/mixed.err")"

# Byte-exact binary output (NUL, 0xff, no final newline), and a stream long
# enough to take several credit windows' round trips.
run binary "${broker[@]}" fixture printf 'a b\000\377\nno newline' </dev/null
printf 'a b\000\377\nno newline' | cmp -s - "$tmp/binary.out" &&
  pass "fixture: binary stdout byte-exact" || fail "fixture: binary stdout differs"
run seq "${broker[@]}" fixture seq 1 300000 </dev/null
seq 1 300000 | cmp -s - "$tmp/seq.out" && pass "fixture: 2 MB of stdout in order" ||
  fail "fixture: seq output differs ($(wc -c <"$tmp/seq.out") bytes)"
expect_eq "fixture: seq exit status" 0 "$rc"

printf 'x\ny' | { run stdin "${broker[@]}" fixture cat; }
expect_eq "fixture: stdin forwarded" $'x\ny' "$(cat "$tmp/stdin.out")"
expect_eq "fixture: cat exit status" 0 "$rc"

run signaled "${broker[@]}" fixture sh -c 'kill -TERM $$' </dev/null
expect_eq "fixture: killed by SIGTERM is 143" 143 "$rc"
expect_eq "fixture: prints exit code 143" "exit code 143" "$(cat "$tmp/signaled.err")"

run local "${broker[@]}" local sh -c 'echo here; exit 5' </dev/null
expect_eq "local: stdout" here "$(cat "$tmp/local.out")"
expect_eq "local: exit status 5" 5 "$rc"

run missing "${broker[@]}" fixture no-such-command-here </dev/null
expect_eq "fixture: command not found is 127" 127 "$rc"
expect_contains "fixture: says not found" "command not found" "$(cat "$tmp/missing.err")"

# A host that cannot be reached: the command never runs, so remexd still
# holds the handles of the example's bridges, which must not keep it alive.
run refused "${broker[@]}" "127.0.0.1:$(free_port)" true </dev/null
expect_eq "unreachable host: exit status 255" 255 "$rc"
expect_contains "unreachable host: says why" "cannot connect" "$(cat "$tmp/refused.err")"
expect_eq "unreachable host: then the exit code" "exit code 255" "$(tail -1 "$tmp/refused.err")"

# The command ends while stdin stays open (a terminal nobody types into):
# the example ends too, without waiting for stdin's EOF.
t0=$(date +%s%N)
run open_stdin "${broker[@]}" fixture true < <(exec sleep 20 2>/dev/null)
kill $! 2>/dev/null
elapsed_ms=$((($(date +%s%N) - t0) / 1000000))
expect_eq "open stdin: exit status 0" 0 "$rc"
[ "$elapsed_ms" -lt 10000 ] && pass "open stdin: ends at once (${elapsed_ms} ms)" ||
  fail "open stdin: took ${elapsed_ms} ms"

# A well-formed token that is not this remexd's: refused at the handshake.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -subj /CN=wrong -days 1 -keyout "$tmp/wrong.key" -out "$tmp/wrong.crt" 2>/dev/null
cat "$tmp/wrong.key" "$tmp/wrong.crt" >"$tmp/wrong-token"
chmod 600 "$tmp/wrong-token"
run wrong --broker "127.0.0.1:$REMEXD_PORT" --token-file "$tmp/wrong-token" \
  fixture echo never </dev/null
expect_usage_error "wrong token" "$tmp/wrong.err" "$rc" "access denied"
expect_eq "wrong token: nothing ran" "" "$(cat "$tmp/wrong.out")"

run notoken --broker "127.0.0.1:$REMEXD_PORT" --token-file "$tmp/no-such-token" \
  fixture echo never </dev/null
expect_usage_error "missing token file" "$tmp/notoken.err" "$rc" "no-such-token"

run nobody --broker "127.0.0.1:$(free_port)" --token-file "$REMEXD_TOKEN" \
  fixture echo never </dev/null
expect_usage_error "nobody listening" "$tmp/nobody.err" "$rc" "cannot connect"

run usage fixture </dev/null
expect_usage_error "no command" "$tmp/usage.err" "$rc" "usage: run_on_host"

stop_remexd
expect_eq "remexd ends 0 on SIGTERM" 0 $?
echo "# total: $((SECONDS - started)) s"
finish
