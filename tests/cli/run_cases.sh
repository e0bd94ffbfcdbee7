# The behaviour of `remex run` that holds for every backend and host. Sourced
# by the per-backend test scripts with REMEX (a command array prefix, e.g.
# remex run -H fixture -F cfg) and TAG set; uses lib.sh's assertions.
# shellcheck shell=bash

run_cases() {
  local tmp=$1
  local r=("${REMEX[@]}")

  # Input remex cannot run is refused before anything runs or connects:
  # exit 255, one line on stderr, nothing on stdout (like ssh's own usage
  # errors). A later option wins, so these also override REMEX's -H.
  local bad
  for bad in "-H|" "-v|bogus" "-t|0" "-t|-1" "-t|abc" "--pass-fd|2" "--pass-fd|9"; do
    out=$("${r[@]}" "${bad%%|*}" "${bad#*|}" -- id -un 2>"$tmp/err" 9<&-)
    expect_usage_error "$TAG ${bad%%|*} '${bad#*|}'" "$tmp/err" $?
    expect_eq "$TAG ${bad%%|*} '${bad#*|}': nothing ran" "" "$out"
  done
  out=$("${r[@]}" --pass-fd 3 --pass-fd 3 -- id -un 2>"$tmp/err" 3</dev/null)
  expect_usage_error "$TAG --pass-fd 3 twice" "$tmp/err" $? "--pass-fd 3"
  expect_eq "$TAG --pass-fd 3 twice: nothing ran" "" "$out"

  "${r[@]}" -- true
  expect_eq "$TAG true exits 0" 0 $?
  "${r[@]}" -- sh -c 'exit 42'
  expect_eq "$TAG exit code 42" 42 $?
  out=$("${r[@]}" -- sh -c 'echo out; echo err >&2' 2>"$tmp/err")
  expect_eq "$TAG stdout kept apart" "out" "$out"
  expect_eq "$TAG stderr kept apart" "err" "$(cat "$tmp/err")"

  # Exact argv: no remote shell may reinterpret any of these.
  local args=("a b" "it's" 'dq"uote' $'new\nline' "ünï©ødé" "" '$HOME' '*' '\back' ' lead')
  printf '%s\0' "${args[@]}" >"$tmp/want-argv"
  "${r[@]}" -- printf '%s\0' "${args[@]}" >"$tmp/got-argv"
  if cmp -s "$tmp/want-argv" "$tmp/got-argv"; then pass "$TAG exact argv"; else
    fail "$TAG exact argv: $(od -c "$tmp/got-argv" | head -5)"
  fi

  out=$("${r[@]}" -e REMEX_A=1 -e 'REMEX_B=two words' -- sh -c 'echo "$REMEX_A|$REMEX_B"')
  expect_eq "$TAG env" "1|two words" "$out"

  # An env value is a secret as far as remex knows: it never appears in any
  # process's argv, where every user of the host could read it with ps.
  local secret="remex-secret-$$-$RANDOM"
  # Emptied first: the background job's own redirect may come after the wait
  # has read the previous round's file.
  : >"$tmp/secret"
  "${r[@]}" -e "REMEX_TOKEN=$secret" -- sh -c 'echo started; sleep 2' >"$tmp/secret" &
  local spid=$!
  wait_file_has "$tmp/secret" started 10 || fail "$TAG env secret: never started"
  local seen
  # (remex's own command line holds it, as the user typed it, and so does
  # the local backend's group guard, a fork of remex: not remote.)
  seen=$(ps -eo pid=,args= | grep -F -- "$secret" | grep -v grep |
    awk -v me="$spid" -v exe="${r[0]}" '$1 != me && $2 != exe')
  expect_eq "$TAG env value not in any process's argv" "" "$seen"
  wait "$spid"

  out=$("${r[@]}" -C /usr/share -- pwd)
  expect_eq "$TAG cwd" "/usr/share" "$out"
  "${r[@]}" -C /nonexistent-remex-dir -- pwd 2>"$tmp/err"
  expect_eq "$TAG missing cwd exits 127" 127 $?
  expect_contains "$TAG missing cwd message" "/nonexistent-remex-dir" "$(cat "$tmp/err")"

  "${r[@]}" -- remex-no-such-command-xyz 2>"$tmp/err"
  expect_eq "$TAG unknown command exits 127" 127 $?
  expect_contains "$TAG unknown command message" "remex-no-such-command-xyz" "$(cat "$tmp/err")"
  printf 'x' >"$tmp/not-exec"
  chmod 644 "$tmp/not-exec"
  "${r[@]}" -- "$tmp/not-exec" 2>"$tmp/err"
  expect_eq "$TAG not executable exits 126" 126 $?

  "${r[@]}" -- sh -c 'kill -TERM $$'
  expect_eq "$TAG death by SIGTERM exits 143" 143 $?

  # Binary stdin round trip, 50 MB, and stdin EOF reaches the command.
  head -c 50000000 /dev/urandom >"$tmp/in"
  want=$(sha256sum <"$tmp/in" | cut -d' ' -f1)
  got=$("${r[@]}" -- cat <"$tmp/in" | sha256sum | cut -d' ' -f1)
  expect_eq "$TAG 50 MB binary stdin round trip" "$want" "$got"
  rm -f "$tmp/in"

  got=$("${r[@]}" -- head -c 1000000000 /dev/zero | wc -c)
  expect_eq "$TAG 1 GB stdout byte count" 1000000000 "$got"

  # A reader that goes away ends remex like SIGPIPE ends a local writer,
  # as with ssh: 141, no message, and the remote writer stopped.
  local pmarker="remex-pipe-marker-$$-$TAG"
  "${r[@]}" -- yes "$pmarker" 2>"$tmp/err" | head -1 >/dev/null
  expect_eq "$TAG closed reader exits 141" 141 "${PIPESTATUS[0]}"
  expect_eq "$TAG closed reader: nothing on stderr" "" "$(cat "$tmp/err")"
  wait_gone "$pmarker" 5 && pass "$TAG closed reader stopped the remote writer" ||
    fail "$TAG closed reader left $(pgrep -af "$pmarker")"

  # A closed stdin reads as empty (never as some other fd remex opened).
  out=$(timeout 20 "${r[@]}" -- sh -c 'cat; echo done' <&-)
  expect_eq "$TAG closed stdin is EOF" "done" "$out"

  # A trapping remote script gets the signal remex run receives.
  # Job control, or bash starts background jobs with INT and QUIT ignored,
  # and remex (like ssh) leaves an inherited ignored signal alone.
  set -m
  for sig in INT TERM HUP USR1; do
    # Empty first: a "ready" left by the previous round would let the kill
    # hit the forked shell before it execs remex, and that shell runs the
    # script's EXIT trap (the fixture stopped, $tmp removed).
    : >"$tmp/sig"
    "${r[@]}" -- sh -c "trap 'echo got $sig; exit 7' $sig; echo ready; while :; do sleep 0.05; done" >"$tmp/sig" &
    local pid=$!
    wait_file_has "$tmp/sig" ready 10 || fail "$TAG $sig: remote never ready"
    kill -"$sig" "$pid"
    wait "$pid"
    local rc=$?
    expect_eq "$TAG SIG$sig forwarded, trap exit code" 7 "$rc"
    expect_contains "$TAG SIG$sig reached the trap" "got $sig" "$(cat "$tmp/sig")"
  done

  # A signal after the command exited while a background job still holds
  # its stdout reaches what is left of the group and ends remex promptly
  # with the command's own code; a job that ignores it is killed after a
  # grace. Nothing of the group remains.
  local leftover
  for leftover in "" "trap '' TERM; "; do
    local lmarker="remex-leftover-$$-$TAG-$RANDOM"
    : >"$tmp/left"
    "${r[@]}" -- sh -c "$leftover(sleep 30; : $lmarker) & echo ready; exit 3" >"$tmp/left" &
    local pid=$!
    wait_file_has "$tmp/left" ready 10 || fail "$TAG leftover: remote never ready"
    sleep 0.5
    start=$(date +%s%N)
    kill -TERM "$pid"
    wait "$pid"
    local rc=$?
    elapsed=$((($(date +%s%N) - start) / 1000000))
    expect_eq "$TAG SIGTERM after exit (${leftover:-plain}) ends with the command's code" 3 "$rc"
    [ "$elapsed" -lt 5000 ] && pass "$TAG SIGTERM after exit ended remex in ${elapsed} ms" ||
      fail "$TAG SIGTERM after exit took ${elapsed} ms"
    if [ -n "${REMEX_BROKER:-}" ] && [ "$TAG" = ssh-sh ]; then
      # A plain exec channel's leftovers die with the SSH connection; a
      # remexd keeps it warm (as ControlMaster does), so they outlive the
      # command. The agent backend kills them; this backend cannot yet.
      skip "$TAG SIGTERM after exit: leftovers of a plain channel live on a warm connection"
      pkill -f "$lmarker"
    else
      wait_gone "$lmarker" 5 && pass "$TAG SIGTERM after exit left nothing" ||
        fail "$TAG SIGTERM after exit left $(pgrep -af "$lmarker")"
    fi
  done
  set +m

  # Timeout: 124, and the remote process group is gone.
  local marker="remex-timeout-marker-$$-$TAG"
  start=$(date +%s%N)
  "${r[@]}" -t 1 -- sh -c "sleep 30; : $marker" 2>"$tmp/err"
  expect_eq "$TAG timeout exits 124" 124 $?
  elapsed=$((($(date +%s%N) - start) / 1000000))
  [ "$elapsed" -lt 8000 ] && pass "$TAG timeout took ${elapsed} ms" ||
    fail "$TAG timeout took ${elapsed} ms"
  wait_gone "$marker" 5 && pass "$TAG timeout killed the remote group" ||
    fail "$TAG timeout left $(pgrep -af "$marker")"

  # Extra fds, each direction; a plain SSH channel has none and says so.
  echo "through fd three" >"$tmp/fd3"
  if [ "${EXTRA_FDS:-yes}" = no ]; then
    "${r[@]}" --pass-fd 3 -- sh -c 'cat <&3' 3<"$tmp/fd3" 2>"$tmp/err"
    expect_eq "$TAG --pass-fd refused without the agent" 255 $?
    expect_contains "$TAG --pass-fd refusal names the cause" "agent backend" "$(cat "$tmp/err")"
  else
    out=$("${r[@]}" --pass-fd 3 -- sh -c 'cat <&3' 3<"$tmp/fd3")
    expect_eq "$TAG --pass-fd 3 requester to remote" "through fd three" "$out"
    "${r[@]}" --pass-fd 4 -- sh -c 'echo back on four >&4' 4>"$tmp/fd4"
    expect_eq "$TAG --pass-fd 4 remote to requester" "back on four" "$(cat "$tmp/fd4")"
  fi

  # SIGKILL of remex itself leaves no remote process behind. Only the agent
  # can promise that: a plain exec channel has no one left to kill the group.
  [ "${ORPHAN_GUARD:-yes}" = yes ] || return 0
  marker="remex-kill-marker-$$-$TAG"
  : >"$tmp/k" # no "ready" from another backend's round
  "${r[@]}" -- sh -c "echo ready; sleep 300; : $marker" >"$tmp/k" &
  pid=$!
  wait_file_has "$tmp/k" ready 10 || fail "$TAG kill: remote never ready"
  kill -KILL "$pid"
  wait "$pid" 2>/dev/null
  wait_gone "$marker" 10 && pass "$TAG SIGKILL of remex leaves no remote process" ||
    fail "$TAG SIGKILL of remex left $(pgrep -af "$marker")"
}
