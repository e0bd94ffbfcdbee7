#!/usr/bin/env bash
# The reports of a REMEX_SANITIZE build's programs (cmake/sanitizers.cmake
# sends them to DIR instead of stderr): fails when any test's program left
# one, and shows it. CTest runs it after every other test of the run. A report
# once shown moves to DIR/shown/, so that the next run starts clean.
#
#   sanitizer_reports_test.sh DIR
set -u
dir=${1:?usage: sanitizer_reports_test.sh DIR}
mkdir -p "$dir/shown"
chmod 1777 "$dir"
failures=0
# The agent shipped to the sshd fixture writes here as the fixture's user:
# if it could not, its reports would be lost and this test would pass.
user=${FIXTURE_USER:-remex-test}
if [ "$(id -u)" -eq 0 ] && id "$user" >/dev/null 2>&1; then
  if su -s /bin/sh "$user" -c "test -w '$dir' && test -x '$dir'"; then
    echo "ok   - $user may write its reports to $dir"
  else
    echo "FAIL - $user cannot write to $dir: reports of the agent on the" \
      "sshd fixture would be lost (every folder above it needs o+x)"
    failures=$((failures + 1))
  fi
fi
shopt -s nullglob
reports=("$dir"/report.*)
for r in "${reports[@]}"; do
  echo "FAIL - $(basename "$r"), written $(date -r "$r" '+%F %T'):"
  sed 's/^/    /' "$r"
  mv "$r" "$dir/shown/"
  failures=$((failures + 1))
done
echo "${#reports[@]} sanitizer reports in $dir"
[ "$failures" -eq 0 ]
