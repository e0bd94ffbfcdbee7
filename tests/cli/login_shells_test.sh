#!/usr/bin/env bash
# sshd runs every exec request through the user's login shell. remex must give
# the same exact argv, env, cwd, stdin and exit codes whatever that shell is:
# one throwaway user per shell (bash, zsh, fish, tcsh), both backends.
set -u
here=$(cd "$(dirname "$0")" && pwd)
remex=${1:?usage: login_shells_test.sh PATH/TO/remex}
. "$here/lib.sh"
tmp=$(mktemp -d)
fixtures=()
cleanup() {
  for fx in "${fixtures[@]}"; do "$here/../fixtures/sshd-fixture" stop "$fx" >/dev/null 2>&1; done
  rm -rf "$tmp"
}
trap cleanup EXIT

args=("a b" "it's" 'dq"uote' $'new\nline' '$HOME' '`id`' '$(id)' ';' '&&' '|'
  '\back\\slash' '!x' '!!' '*' '~' '-n' '--' '{a,b}' '%s' "'" '' "tab	x")
printf '%s\0' "${args[@]}" >"$tmp/want-argv"
value='$HOME `id` $(id) "q" '"'s'"' \\ !x ; & | * ~'

for shell in /bin/bash /usr/bin/zsh /usr/bin/fish /usr/bin/tcsh; do
  name=$(basename "$shell")
  if [ ! -x "$shell" ]; then
    fail "$name is not installed (tools/install-deps installs it)"
    continue
  fi
  fx="$tmp/fixture-$name"
  mkdir -p "$fx"
  fixtures+=("$fx")
  if ! FIXTURE_USER="remex-$name" FIXTURE_SHELL="$shell" \
    "$here/../fixtures/sshd-fixture" start "$fx" >/dev/null; then
    fail "$name: the sshd fixture did not start"
    continue
  fi
  cfg="$fx/ssh_config"
  for backend in agent ssh; do
    tag="$name/$backend"
    r=("$remex" run -H fixture -F "$cfg" -b "$backend")
    "${r[@]}" -- printf '%s\0' "${args[@]}" >"$tmp/got-argv" 2>"$tmp/err"
    if cmp -s "$tmp/want-argv" "$tmp/got-argv"; then pass "$tag exact argv"; else
      fail "$tag exact argv: $(od -c "$tmp/got-argv" | head -3) $(head -3 "$tmp/err")"
    fi
    out=$("${r[@]}" -e "REMEX_V=$value" -- printenv REMEX_V)
    expect_eq "$tag env value" "$value" "$out"
    out=$("${r[@]}" -C /usr/share -- pwd)
    expect_eq "$tag cwd" "/usr/share" "$out"
    "${r[@]}" -C "/nonexistent remex 'dir'" -- pwd 2>/dev/null
    expect_eq "$tag missing cwd exits 127" 127 $?
    "${r[@]}" -- sh -c 'exit 42'
    expect_eq "$tag exit code" 42 $?
    out=$(printf 'line one\nline two' | "${r[@]}" -- cat)
    expect_eq "$tag stdin" "$(printf 'line one\nline two')" "$out"
    out=$("${r[@]}" -- id -un)
    expect_eq "$tag runs as the user" "remex-$name" "$out"
  done
  "$here/../fixtures/sshd-fixture" stop "$fx" >/dev/null 2>&1
done
finish
