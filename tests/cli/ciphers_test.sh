#!/usr/bin/env bash
# Which cipher remex's sessions use, read from the sshd's own log: AES-GCM
# first where the CPU has AES instructions, else chacha20-poly1305 (OpenSSH's
# default); a Ciphers line in the user's ssh_config for the host wins, on
# both backends.
set -u
here=$(cd "$(dirname "$0")" && pwd)
remex=${1:?usage: ciphers_test.sh PATH/TO/remex}
. "$here/lib.sh"
tmp=$(mktemp -d)
# DEBUG1: sshd logs the cipher of each connection's key exchange.
start_fixture "$tmp" -o LogLevel=DEBUG1
log=$FIXTURE_DIR/sshd.log

# negotiated NAME CONFIG [remex args...]: runs `true` with CONFIG; the
# server->client cipher of the connection it made (empty when none).
negotiated() {
  local cfg=$1 before
  shift
  before=$(wc -l <"$log")
  "$remex" run -H fixture -F "$cfg" "$@" -- true 2>"$tmp/err" ||
    echo "run failed: $(cat "$tmp/err")" >&2
  tail -n +"$((before + 1))" "$log" |
    sed -n 's/.*kex: server->client cipher: \([^ ]*\).*/\1/p' | head -1
}
# cfg_with FILE LINE: the fixture's config with LINE added to its Host block.
cfg_with() { sed "s|^Host fixture\$|&\n  $2|" "$FIXTURE_SSH_CONFIG" >"$1"; }

if grep -qw aes /proc/cpuinfo; then
  want=aes128-gcm@openssh.com
else
  want=chacha20-poly1305@openssh.com
fi
cfg_with "$tmp/cfg_aes256ctr" "Ciphers aes256-ctr"
cfg_with "$tmp/cfg_aes192ctr" "Ciphers aes192-ctr"
# A Ciphers line for another host does not apply.
{
  cat "$FIXTURE_SSH_CONFIG"
  printf 'Host elsewhere\n  Ciphers aes256-ctr\n'
} >"$tmp/cfg_other"
for backend in agent ssh; do
  expect_eq "no Ciphers configured ($backend): $want" "$want" \
    "$(negotiated "$FIXTURE_SSH_CONFIG" -b "$backend")"
  expect_eq "Ciphers aes256-ctr in ssh_config ($backend) is used" aes256-ctr \
    "$(negotiated "$tmp/cfg_aes256ctr" -b "$backend")"
  # Not in remex's own list: only the user's choice can reach it.
  expect_eq "Ciphers aes192-ctr in ssh_config ($backend) is used" aes192-ctr \
    "$(negotiated "$tmp/cfg_aes192ctr" -b "$backend")"
  expect_eq "Ciphers for another host ignored ($backend): $want" "$want" \
    "$(negotiated "$tmp/cfg_other" -b "$backend")"
done
finish
