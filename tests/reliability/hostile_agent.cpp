// A remex-agent that breaks the protocol on purpose. It stands where the real
// agent would (REMEX_AGENT_DIR), reads the config and exec frames like the
// real one, then misbehaves in the way the command's name asks for:
//
//   garbage        bytes that are no CBOR at all
//   oversize       a data frame of 4 MiB (the limit is 1 MiB + headers)
//   huge-length    a byte string that claims 2^62 bytes and never sends them
//   out-of-order   frames only the broker may send (exec, signal, config),
//                  a stream nobody opened, eof before data, then a normal exit
//   exit-then-data an exit frame, then more data and a second exit
//   no-exit        some output, then closes stdout and ends without an exit
//   never-exit     some output, then ignores everything (stdin EOF too) and
//                  never sends an exit; it is the broker's job to end it
//   log-flood      COUNT (argv[1]) log frames of 1 KiB, then exit 0
//
// Anything else exits 2 with one line on stderr data. It never runs longer
// than 60 s, so a broker that fails to end it cannot leave it behind for long.
#include <signal.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "protocol/codec.hpp"

using namespace remex::protocol;

namespace {

void put(const std::string& bytes) {
  const char* p = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    ssize_t n = ::write(1, p, left);
    if (n <= 0) std::_Exit(0);  // the broker hung up: nothing left to break
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

void put(const frame& f) {
  put(encode(f));
}

// Reads frames until the exec; false when stdin ends or is malformed first.
bool read_exec(exec_msg& out) {
  frame_decoder d;
  char buf[65536];
  for (;;) {
    frame f;
    auto st = d.next(f);
    if (st == frame_decoder::status::error) return false;
    if (st == frame_decoder::status::frame) {
      if (f.t == frame_type::exec && f.x) {
        out = *f.x;
        return true;
      }
      continue;
    }
    ssize_t n = ::read(0, buf, sizeof buf);
    if (n <= 0) return false;
    d.feed(buf, static_cast<std::size_t>(n));
  }
}

// Reads and drops stdin until it closes, like an agent waiting for its child.
void drain_stdin() {
  char buf[65536];
  while (::read(0, buf, sizeof buf) > 0) {
  }
}

std::string name_of(const exec_msg& x) {
  std::string n = x.argv.empty() ? x.path : x.argv[0];
  auto slash = n.rfind('/');
  return slash == std::string::npos ? n : n.substr(slash + 1);
}

// CBOR heads written by hand: the codec would refuse to make these frames.
std::string map_head(unsigned pairs) {
  return std::string(1, static_cast<char>(0xa0 | pairs));
}
std::string text(const std::string& s) {
  return std::string(1, static_cast<char>(0x60 | s.size())) + s;
}

}  // namespace

int main() {
  ::alarm(60);
  ::signal(SIGPIPE, SIG_IGN);
  exec_msg x;
  if (!read_exec(x)) return 0;
  std::string mode = name_of(x);

  if (mode == "garbage") {
    put(make_data(1, "before the garbage\n"));
    std::string junk;
    for (int i = 0; i < 4096; ++i) junk += static_cast<char>(0xff - i % 7);
    put("GET / HTTP/1.1\r\n\r\n" + junk);
    drain_stdin();
    return 0;
  }
  if (mode == "oversize") {
    // {"t": 2, "s": 1, "d": <4 MiB>}, the length spelled out in full.
    std::string f = map_head(3) + text("t") + "\x02" + text("s") + "\x01" +
                    text("d") + "\x5a" + std::string("\x00\x40\x00\x00", 4);
    put(f + std::string(4 << 20, 'o'));
    drain_stdin();
    return 0;
  }
  if (mode == "huge-length") {
    std::string f = map_head(3) + text("t") + "\x02" + text("s") + "\x01" +
                    text("d") + "\x5b" +
                    std::string("\x40\x00\x00\x00\x00\x00\x00\x00", 8);
    put(f);
    drain_stdin();
    return 0;
  }
  if (mode == "out-of-order") {
    put(make_eof(1));                    // eof before any data
    put(make_data(1, "after eof\n"));    // data on a closed stream
    put(make_data(9, "nobody's fd\n"));  // a stream nobody opened
    frame e;
    e.t = frame_type::exec;
    e.x = x;
    put(e);  // the broker's frames, sent back to it
    put(make_signal(9));
    frame c;
    c.t = frame_type::config;
    c.cfg = agent_config{};
    put(c);
    frame unknown;
    unknown.t = static_cast<frame_type>(99);
    put(unknown);
    put(make_data(2, "still here\n"));
    put(make_exit(3));
    drain_stdin();
    return 0;
  }
  if (mode == "exit-then-data") {
    put(make_data(1, "before exit\n"));
    put(make_exit(7));
    put(make_data(1, "AFTER EXIT\n"));
    put(make_exit(9));
    drain_stdin();
    return 0;
  }
  if (mode == "no-exit") {
    put(make_data(1, "and then nothing\n"));
    ::close(1);
    return 0;
  }
  if (mode == "never-exit") {
    put(make_data(1, "stuck\n"));
    ::signal(SIGTERM, SIG_IGN);
    ::signal(SIGHUP, SIG_IGN);
    ::signal(SIGINT, SIG_IGN);
    drain_stdin();
    for (;;) ::pause();  // the alarm ends it at 60 s at the latest
  }
  if (mode == "log-flood") {
    long count = x.argv.size() > 1 ? std::atol(x.argv[1].c_str()) : 100000;
    std::string msg(1024, 'L');
    std::string batch;
    for (long i = 0; i < count; ++i) {
      encode(make_log(log_info, msg, {"n=" + std::to_string(i)}), batch);
      if (batch.size() > (256 << 10)) {
        put(batch);
        batch.clear();
      }
    }
    put(batch);
    put(make_data(1, "flood done\n"));
    put(make_exit(0));
    drain_stdin();
    return 0;
  }
  put(make_data(2, "hostile agent: unknown mode " + mode + "\n"));
  put(make_exit(2));
  drain_stdin();
  return 0;
}
