#!/usr/bin/env bash
# `remex paths`, `remex fs` and `remex cp`: on this machine (local backend)
# and against a real sshd (the fixture), as the fixture's user.
set -u
here=$(cd "$(dirname "$0")" && pwd)
remex=${1:?usage: files_test.sh PATH/TO/remex}
. "$here/lib.sh"
tmp=$(mktemp -d)
start_fixture "$tmp"
chmod 0755 "$tmp"
home=$(getent passwd "$FIXTURE_USER" | cut -d: -f6)
R=(-H fixture -F "$FIXTURE_SSH_CONFIG")
work="$home/files-test.$$"
mkdir -p "$work" && chown "$FIXTURE_USER" "$work"
# shellcheck disable=SC2064 # expand now: the paths are fixed
trap "'$here/../fixtures/sshd-fixture' stop '$tmp/fixture' >/dev/null 2>&1; rm -rf '$tmp' '$work'" EXIT
as_user() { su -s /bin/sh "$FIXTURE_USER" -c "$*"; }

# ---- paths ----------------------------------------------------------------
# Directories readable by the fixture's user too: the same tree serves both.
p="$tmp/pathdirs"
mkdir -p "$p/one" "$p/two" "$p/locked" "$p/empty"
printf '#!/bin/sh\n' >"$p/one/tool"
printf '#!/bin/sh\necho two\n' >"$p/two/tool" # hidden by one/tool
printf 'x' >"$p/one/plain"                     # not executable
printf '#!/bin/sh\n' >"$p/two/plain"          # so two/plain counts
mkdir "$p/one/adir"
ln -s /no/such "$p/one/dangling"
ln -s "$p/two/tool" "$p/one/alias" # a symlink to an executable counts
chmod 0755 "$p/one/tool" "$p/two/tool" "$p/two/plain"
chmod 0644 "$p/one/plain"
chmod 0000 "$p/locked"
chmod -R a+rX "$p/one" "$p/two" "$p/empty"
chmod a+x "$p"
want="alias	$p/one/alias	0755	19
tool	$p/one/tool	0755	10
plain	$p/two/plain	0755	10"
for where in local ssh; do
  if [ $where = local ]; then H=(); else H=("${R[@]}"); fi
  out=$("$remex" paths "${H[@]}" "$p/one" "$p/two" "$p/empty" 2>"$tmp/err")
  expect_eq "paths $where: exit 0" 0 $?
  expect_eq "paths $where: first found wins, PATH order, only executables" "$want" "$out"
  expect_eq "paths $where: no warnings" "" "$(cat "$tmp/err")"
  out=$("$remex" paths "${H[@]}" --json "$p/two")
  expect_contains "paths $where --json" "\"name\": \"plain\", \"path\": \"$p/two/plain\", \"mode\": \"0755\"" "$out"
  out=$("$remex" paths "${H[@]}" "" 2>&1)
  expect_eq "paths $where: an empty directory list entry lists nothing" "" "$out"
  out=$("$remex" paths "${H[@]}" "$p/empty" "$p/no-such-dir" 2>&1)
  expect_eq "paths $where: empty and missing directories: nothing, no warning" "" "$out"
done
# As the fixture's user the locked directory cannot be read: one warning.
out=$("$remex" paths "${R[@]}" "$p/locked" "$p/one" 2>"$tmp/err")
expect_eq "paths ssh: unreadable directory skipped, exit 0" 0 $?
expect_eq "paths ssh: the rest still listed" 2 "$(echo "$out" | wc -l)"
expect_eq "paths ssh: one warning line" \
  "remex: fixture: $p/locked: Permission denied (skipped)" "$(cat "$tmp/err")"
out=$("$remex" paths "${R[@]}" | head -50)
expect_contains "paths ssh: the host's \$PATH" "	/usr/bin/" "$out"

# ---- fs ---------------------------------------------------------------------
fsr() { "$remex" fs "${R[@]}" "$@"; }
echo hello | fsr put "$work/f"
expect_eq "fs put: exit 0" 0 "${PIPESTATUS[1]}"
expect_eq "fs put wrote stdin" hello "$(cat "$work/f")"
expect_eq "fs cat" hello "$(fsr cat "$work/f")"
fsr mkdir -p "$work/d/e/f"
expect_eq "fs mkdir -p" 0 $?
[ -d "$work/d/e/f" ] && pass "fs mkdir -p made the tree" || fail "fs mkdir -p made no tree"
fsr ln -s f "$work/link" && fsr mv "$work/f" "$work/g"
expect_eq "fs ln -s, mv" "f g" "$(readlink "$work/link") $(cat "$work/g" >/dev/null && echo g)"
fsr chmod 640 "$work/g"
expect_eq "fs chmod" 640 "$(stat -c %a "$work/g")"
out=$(fsr ls "$work")
expect_eq "fs ls" "d
g
link" "$out"
out=$(fsr ls -l "$work")
expect_contains "fs ls -l mode" "-rw-r----- 1" "$out"
expect_contains "fs ls -l link" "link -> f" "$out"
expect_contains "fs stat" "Size: 6	Type: regular file" "$(fsr stat "$work/g")"

# Errors: errno text like the local tools, exit 1.
fsr cat "$work/missing" 2>"$tmp/err"
expect_eq "fs cat missing: exit 1" 1 $?
expect_eq "fs cat missing: message" \
  "remex: fixture: $work/missing: No such file or directory" "$(cat "$tmp/err")"
fsr mkdir /root/remex-files-test 2>"$tmp/err"
expect_eq "fs mkdir in a root-owned dir: exit 1" 1 $?
expect_eq "fs mkdir permission denied: message" \
  "remex: fixture: /root/remex-files-test: Permission denied" "$(cat "$tmp/err")"
fsr rm "$work/d" 2>"$tmp/err"
expect_eq "fs rm of a directory without -r: exit 1" 1 $?
expect_eq "fs rm directory: message" "remex: fixture: $work/d: Is a directory" "$(cat "$tmp/err")"
[ -d "$work/d/e/f" ] && pass "fs rm without -r left the directory" || fail "fs rm without -r removed it"
fsr rm -r "$work/d"
expect_eq "fs rm -r: exit 0" 0 $?
[ ! -e "$work/d" ] && pass "fs rm -r removed the tree" || fail "fs rm -r left $work/d"
"$remex" fs -H "$FIXTURE_USER@127.0.0.1:1" -i "$FIXTURE_KEY" ls / 2>"$tmp/err"
expect_eq "fs on an unreachable host: exit 255" 255 $?
expect_contains "fs unreachable: message" "remex: $FIXTURE_USER@127.0.0.1:1:" "$(cat "$tmp/err")"
# Locally, the same operations.
echo local | "$remex" fs put "$tmp/lf" && out=$("$remex" fs cat "$tmp/lf")
expect_eq "fs local put/cat" local "$out"
"$remex" fs stat "$tmp/nope" 2>"$tmp/err"
expect_eq "fs local stat missing: exit 1" 1 $?
expect_eq "fs local stat missing: message" \
  "remex: local: $tmp/nope: No such file or directory" "$(cat "$tmp/err")"

# ---- cp -------------------------------------------------------------------
cpr() { "$remex" cp -F "$FIXTURE_SSH_CONFIG" "$@"; }
head -c 200000000 /dev/urandom >"$tmp/big"
sum=$(sha256sum <"$tmp/big")
cpr "$tmp/big" "fixture:$work/big"
expect_eq "cp 200 MB up: exit 0" 0 $?
expect_eq "cp 200 MB up: sha256" "$sum" "$(sha256sum <"$work/big")"
expect_eq "cp up: owned by the fixture user" "$FIXTURE_USER" "$(stat -c %U "$work/big")"
cpr "fixture:$work/big" "$tmp/big.back"
expect_eq "cp 200 MB down: exit 0" 0 $?
expect_eq "cp 200 MB down: sha256" "$sum" "$(sha256sum <"$tmp/big.back")"
cpr "fixture:$work/missing" "$tmp/x" 2>"$tmp/err"
expect_eq "cp of a missing file: exit 1" 1 $?
expect_eq "cp missing: message" "remex: fixture: $work/missing: No such file or directory" "$(cat "$tmp/err")"

# A tree with modes and times, both ways, -r -p.
t="$tmp/tree"
mkdir -p "$t/sub/deep" "$t/open"
echo a >"$t/a" && echo b >"$t/sub/b" && echo x >"$t/sub/deep/x"
ln -s a "$t/link"
chmod 0640 "$t/a" && chmod 0755 "$t/sub/b" && chmod 0600 "$t/sub/deep/x"
chmod 0750 "$t/sub" && chmod 0700 "$t/sub/deep" && chmod 0777 "$t/open"
find "$t" ! -type l -exec touch -d '2021-02-03 04:05:06.123456789' {} +
chmod 0755 "$t"
listing() { (cd "$1" && find . -printf '%P %y %m %s %l ' -a \( -type l -printf '\n' -o -printf '%T@\n' \) | sort); }
cpr -r -p "$t" "fixture:$work/"
expect_eq "cp -r -p up: exit 0" 0 $?
expect_eq "cp -r -p up: names, types, modes, sizes, times" "$(listing "$t")" "$(listing "$work/tree")"
cpr -rp "fixture:$work/tree" "$tmp/tree.back"
expect_eq "cp -rp down: exit 0" 0 $?
expect_eq "cp -rp down: names, types, modes, sizes, times" "$(listing "$t")" "$(listing "$tmp/tree.back")"
cpr "$t" "fixture:$work/t2" 2>"$tmp/err"
expect_eq "cp of a directory without -r: exit 1" 1 $?

# The partial file of remex PID's copy into DIR exists: named (on the host),
# or on this machine unnamed (O_TMPFILE) and held open by remex.
partial_exists() { # DIR PID
  ls -A "$1" | grep -q '\.remex-part$' ||
    ls -l "/proc/$2/fd" 2>/dev/null | grep -q " $1/#[0-9]* (deleted)$"
}
# Interrupted: remex stopped mid-transfer leaves nothing at the destination.
# On TERM it removes the partial file itself; killed outright (KILL), the
# agent removes it when its session ends (upload), or it never had a name
# (download).
interrupted() { # NAME SIGNAL DESTDIR SRC DST
  "$remex" cp -F "$FIXTURE_SSH_CONFIG" "$4" "$5" &
  local pid=$! i seen=no
  for ((i = 0; i < 500; i++)); do
    partial_exists "$3" "$pid" && seen=yes && break
    sleep 0.01
  done
  expect_eq "$1: killed while the copy was under way" yes $seen
  kill -"$2" "$pid"
  wait "$pid" 2>/dev/null
  local rc=$?
  expect_eq "$1: remex ended by the signal" $((128 + $(kill -l "$2"))) $rc
  # The agent notices the end of its session within moments.
  for ((i = 0; i < 100; i++)); do
    [ -z "$(ls -A "$3" | grep big)" ] && break
    sleep 0.05
  done
  expect_eq "$1: no file, no partial file" "" "$(ls -A "$3" | grep big)"
}
mkdir "$work/in" "$tmp/in" && chown "$FIXTURE_USER" "$work/in"
for sig in TERM KILL; do
  interrupted "cp up, $sig" $sig "$work/in" "$tmp/big" "fixture:$work/in/big"
  interrupted "cp down, $sig" $sig "$tmp/in" "fixture:$work/big" "$tmp/in/big"
done
# A file merely named like a partial one is left alone when remex ends.
cpr "$tmp/big" "fixture:$work/in/x.remex-part"
expect_eq "cp to a name ending in .remex-part stays" 200000000 "$(stat -c %s "$work/in/x.remex-part")"

finish
