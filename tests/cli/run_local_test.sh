#!/usr/bin/env bash
# `remex run` on the embedded default (local backend), agent and ssh modes.
set -u
here=$(cd "$(dirname "$0")" && pwd)
remex=${1:?usage: run_local_test.sh PATH/TO/remex}
. "$here/lib.sh"
. "$here/run_cases.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Bash cannot pass an array as a command prefix, so set REMEX before each call.
REMEX=("$remex" run)
TAG=local-agent run_cases "$tmp"
REMEX=("$remex" run -b ssh)
TAG=local-sh ORPHAN_GUARD=no EXTRA_FDS=no run_cases "$tmp"

"$remex" run --bogus -- true 2>"$tmp/err"
expect_eq "usage error exits 255" 255 $?
expect_contains "usage error names the option" "--bogus" "$(cat "$tmp/err")"
expect_eq "usage error is one line" 1 "$(wc -l <"$tmp/err")"
"$remex" run 2>"$tmp/err"
expect_eq "no command exits 255" 255 $?
expect_contains "no command says so" "no command" "$(cat "$tmp/err")"
# Options after the command belong to the command.
out=$("$remex" run echo hi -n -x)
expect_eq "options after COMMAND are its arguments" "hi -n -x" "$out"
finish
