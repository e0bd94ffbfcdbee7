#!/usr/bin/env bash
# What arrives at remexd's port from strangers: an HTTP request, TLS
# ClientHellos without a client certificate or with one remexd never issued,
# and 200 connections at once mixing those with raw bytes and silent
# half-open ones, and handshakes left waiting. remexd keeps running, logs at
# most one line per refused peer, gives back the descriptors, and a real
# client works meanwhile and afterwards. (Single garbage, TLS without a certificate, one silent
# connection and the wrong token are cases of tests/remexd/remexd_test.sh.)
#
#   remexd_port_test.sh PATH/TO/remex PATH/TO/remexd
set -u
here=$(cd "$(dirname "$0")" && pwd)
remex=${1:?usage: remexd_port_test.sh remex remexd}
remexd=${2:?usage: remexd_port_test.sh remex remexd}
. "$here/../cli/lib.sh"
. "$here/lib.sh"
tmp=$(mktemp -d)
REMEXD_PID=
trap '[ -z "$REMEXD_PID" ] || kill -TERM "$REMEXD_PID" 2>/dev/null; rm -rf "$tmp"' EXIT

start_remexd "$tmp" "$remexd"
B=127.0.0.1:$REMEXD_PORT
rx() { timeout 20 "$remex" --broker "$B" --token-file "$REMEXD_TOKEN" run "$@"; }
out=$(rx -- echo warm 2>&1)
expect_eq "a client before" "0 warm" "$? $out"
sleep 0.5
read -r fds0 threads0 rss0 <<<"$(proc_counts "$REMEXD_PID")"
lines0=$(wc -l <"$REMEXD_LOG")

# A certificate and key of the right kind that remexd never issued.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout "$tmp/other.key" -out "$tmp/other.crt" -days 2 \
  -subj "/CN=remex node token" >/dev/null 2>&1

# stranger KIND: what one connection did, as remexd answered it.
cat >"$tmp/stranger.py" <<'PY'
import os, socket, ssl, sys, threading
port, kind, count, cert, key = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
results = []
lock = threading.Lock()

def one(kind):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
    except OSError as e:
        return "connect failed: %s" % e
    s.settimeout(10)
    try:
        if kind == "http":
            s.sendall(b"GET / HTTP/1.1\r\nHost: remexd\r\n\r\n")
        elif kind == "bytes":
            # Not a TLS record type (0x14-0x17) first: such a header makes
            # the server wait for the rest of a record, rightly.
            s.sendall(bytes([os.urandom(1)[0] % 0x14]) + os.urandom(4095))
        elif kind in ("tls-nocert", "tls-othercert"):
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            if kind == "tls-othercert":
                ctx.load_cert_chain(cert, key)
            t = ctx.wrap_socket(s)
            # TLS 1.3 reports the refusal on the first read after the handshake.
            t.sendall(b"hello")
            data = t.recv(100)
            return "refused" if data == b"" else "answered"
        elif kind == "silent":
            # Past remexd's handshake deadline (10 s).
            s.settimeout(15)
            return "closed" if s.recv(100) == b"" else "answered"
        data = s.recv(100)
        if data == b"" or data[:1] == b"\x15":  # closed, or a TLS alert
            return "refused"
        return "answered %r" % data[:20]
    except socket.timeout:
        return "kept open"
    except (ConnectionResetError, BrokenPipeError, ssl.SSLError, OSError) as e:
        return "refused"
    finally:
        s.close()

def run(k):
    r = one(k)
    with lock:
        results.append((k, r))

kinds = ["http", "bytes", "tls-nocert", "tls-othercert", "silent"]
threads = []
for i in range(count):
    k = kinds[i % len(kinds)] if kind == "mix" else kind
    t = threading.Thread(target=run, args=(k,))
    t.start()
    threads.append(t)
for t in threads:
    t.join()
summary = {}
for k, r in results:
    summary.setdefault((k, r), 0)
    summary[(k, r)] += 1
for (k, r), n in sorted(summary.items()):
    print("%s %s %d" % (k, r.replace(" ", "_"), n))
PY
stranger() { python3 "$tmp/stranger.py" "$REMEXD_PORT" "$1" "${2:-1}" "$tmp/other.crt" "$tmp/other.key"; }

expect_eq "an HTTP request: refused" "http refused 1" "$(stranger http)"
expect_eq "TLS without a client certificate: refused" "tls-nocert refused 1" "$(stranger tls-nocert)"
expect_eq "TLS with a certificate remexd never issued: refused" \
  "tls-othercert refused 1" "$(stranger tls-othercert)"

# A stranger who connects and says nothing, and one who stops after its
# ClientHello: neither may cost remexd CPU (CAF 0.17.6's own TLS stream spun
# a core for as long as such a connection stayed), and both are dropped
# when the handshake deadline (10 s) passes, with one line each.
cat >"$tmp/hold.py" <<'PY'
import socket, ssl, sys, time
port, kind = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port))
t0 = time.monotonic()
if kind == "hello":
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    rd, wr = ssl.MemoryBIO(), ssl.MemoryBIO()
    t = ctx.wrap_bio(rd, wr)
    try:
        t.do_handshake()
    except ssl.SSLWantReadError:
        pass
    s.sendall(wr.read())
s.settimeout(30)
try:
    while s.recv(4096):
        pass
    print("%s closed_after_ms %d" % (kind, (time.monotonic() - t0) * 1000))
except socket.timeout:
    print("%s kept_open" % kind)
except OSError:
    print("%s closed_after_ms %d" % (kind, (time.monotonic() - t0) * 1000))
PY
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
python3 "$tmp/hold.py" "$REMEXD_PORT" silent >"$tmp/hold.silent" &
hold1=$!
python3 "$tmp/hold.py" "$REMEXD_PORT" hello >"$tmp/hold.hello" &
hold2=$!
sleep 1
c0=$(cpu_ticks "$REMEXD_PID")
sleep 3
c1=$(cpu_ticks "$REMEXD_PID")
echo "# remexd CPU with a silent and a stalled handshake open: $((c1 - c0)) ticks in 3 s"
[ $((c1 - c0)) -le 30 ] && pass "handshakes waiting for the peer cost no CPU ($((c1 - c0)) ticks in 3 s)" ||
  fail "remexd spins while handshakes wait: $((c1 - c0)) ticks in 3 s"
wait "$hold1" "$hold2"
for kind in silent hello; do
  read -r _ verdict ms <"$tmp/hold.$kind"
  [ "$verdict" = closed_after_ms ] && [ "$ms" -ge 9000 ] && [ "$ms" -le 14000 ] &&
    pass "$kind handshake dropped at the deadline ($ms ms)" ||
    fail "$kind handshake: $(cat "$tmp/hold.$kind")"
done
expect_eq "one line per dropped handshake" 2 \
  "$(grep -c 'TLS: no handshake in 10 s' "$REMEXD_LOG")"

# 200 at once, while a command runs: the silent ones are dropped at the
# deadline, the rest at once.
( rx -- sh -c 'sleep 2; echo bystander' >"$tmp/by.out" 2>"$tmp/by.err"; echo $? >"$tmp/by.rc" ) &
by=$!
t0=$(now_ms)
stranger mix 200 >"$tmp/mix.out"
ms=$(($(now_ms) - t0))
echo "# 200 strangers at once, answered in $ms ms:"
sed 's/^/#   /' "$tmp/mix.out"
bad=$(grep -v -E '^(http|bytes|tls-nocert|tls-othercert) refused |^silent (closed|refused) ' "$tmp/mix.out")
expect_eq "200 strangers: every one refused" "" "$bad"
expect_eq "200 strangers: all 200 connected" 200 \
  "$(awk '{n += $3} END {print n}' "$tmp/mix.out")"
wait "$by"
expect_eq "a command running meanwhile is not disturbed" "0 bystander" \
  "$(cat "$tmp/by.rc") $(cat "$tmp/by.out" "$tmp/by.err")"
kill -0 "$REMEXD_PID" 2>/dev/null && pass "remexd still running" || fail "remexd died"
out=$(rx -- echo after 2>&1)
expect_eq "a client afterwards" "0 after" "$? $out"

# One line per refused peer at most: 205 strangers here.
lines=$(($(wc -l <"$REMEXD_LOG") - lines0))
echo "# remexd logged $lines lines for 205 strangers and 2 clients"
[ "$lines" -le 222 ] && pass "no log flood ($lines lines for 205 strangers)" ||
  fail "log flood: $lines lines for 205 strangers"

# The descriptors and threads come back once the strangers are gone.
for ((i = 0; i < 50; i++)); do
  read -r fds1 threads1 rss1 <<<"$(proc_counts "$REMEXD_PID")"
  [ "$fds1" -le "$fds0" ] && break
  sleep 0.2
done
echo "# remexd before: fds $fds0 threads $threads0 rss ${rss0} KiB; after: fds $fds1 threads $threads1 rss ${rss1} KiB"
expect_eq "descriptors back to where they were" "$fds0" "$fds1"
[ "$threads1" -le $((threads0 + 2)) ] && pass "threads: $threads0 -> $threads1" ||
  fail "threads grew: $threads0 -> $threads1"
slack=$((16384 + $(sanitizer_growth_kib "$remex")))
[ "$rss1" -le $((rss0 + slack)) ] && pass "RSS: $rss0 -> $rss1 KiB (tolerance $slack KiB)" ||
  fail "RSS grew: $rss0 -> $rss1 KiB"

stop_remexd
expect_eq "remexd ends 0 on SIGTERM" 0 $?
finish
