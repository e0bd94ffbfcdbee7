#include "frame_sample.hpp"

#include <cctype>
#include <stdexcept>

namespace remex::protocol::test {

namespace {

stat_info full_stat(const std::string& name) {
  stat_info s;
  s.n = name;
  s.s = -5;
  s.m = 0755;
  s.t = 1700000000123456789;
  s.at = -1;
  s.ct = 42;
  s.uid = 1000;
  s.gid = 4294967295u;
  s.nl = 3;
  s.rd = 259;
  s.bl = 8;
  s.bs = 4096;
  s.ino = 18446744073709551615ull;
  s.d = true;
  return s;
}

}  // namespace

std::vector<frame> full_frames() {
  std::vector<frame> out;
  frame f;

  f = frame{};
  f.t = frame_type::exec;
  f.x = exec_msg{"/bin/echo",
                 {"echo", "hello", std::string("nul\0byte", 8)},
                 {"A=1", "PATH=/usr/bin"},
                 "/tmp",
                 {3, 4, 4294967295u}};
  out.push_back(f);

  out.push_back(make_data(7, std::string("\x00\xff\x01payload", 10)));
  out.push_back(make_eof(2));
  out.push_back(make_signal(15));
  out.push_back(make_exit(-9));
  out.push_back(make_error("could not start: no such file"));
  out.push_back(make_log(log_warn, "slow read", {"fd=3", "ms=250"}));

  f = frame{};
  f.t = frame_type::config;
  f.cfg = agent_config{{"LANG", "LC_*"}, {"/^SECRET_/"}};
  out.push_back(f);

  f = frame{};
  f.t = frame_type::path_query;
  f.q = path_query{{"/usr/bin", "/bin"}};
  out.push_back(f);

  f = frame{};
  f.t = frame_type::path_info;
  f.i = path_info{{{"ls", "/bin/ls", 0100755, 142312, 1690000000000000000},
                   {"neg", "/x/neg", 1, -2, -3}}};
  out.push_back(f);

  f = frame{};
  f.t = frame_type::file_op;
  file_op_request r;
  r.id = 77;
  r.op = static_cast<std::uint32_t>(file_op_code::writeat);
  r.p = "/tmp/a";
  r.np = "/tmp/b";
  r.fl = 0101;
  r.mo = 0644;
  r.uid = -1;
  r.gid = 100;
  r.h = 12;
  r.of = 1 << 20;
  r.sz = 9;
  r.at = -7;
  r.mt = 1700000000000000000;
  r.d = std::string("\x00\x01\x02", 3);
  f.fop = r;
  out.push_back(f);

  f = frame{};
  f.t = frame_type::file_resp;
  file_op_response p;
  p.id = 77;
  p.er = 2;
  p.em = "no such file or directory";
  p.h = 12;
  p.d = "abc";
  p.n = -1;
  p.eof = true;
  p.p = "/tmp";
  p.st = full_stat("a");
  p.sf = statfs_info{1, 2, 3, 4, 5, 4096, -4096, 255};
  p.en = {full_stat("x"), stat_info{}, full_stat("y")};
  f.frp = p;
  out.push_back(f);
  return out;
}

std::vector<frame> zero_frames() {
  std::vector<frame> out;
  for (int t = 1; t <= 12; ++t) {
    frame f;
    f.t = static_cast<frame_type>(t);
    out.push_back(f);
  }
  // Present-but-empty nested messages are distinct from absent ones.
  frame f;
  f.t = frame_type::exec;
  f.x = exec_msg{};
  out.push_back(f);
  f = frame{};
  f.t = frame_type::file_resp;
  f.frp = file_op_response{};
  f.frp->st = stat_info{};
  f.frp->sf = statfs_info{};
  out.push_back(f);
  return out;
}

std::string unhex(const std::string& hex) {
  std::string out;
  int hi = -1;
  for (char c : hex) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    int v = std::isdigit(static_cast<unsigned char>(c))
                ? c - '0'
                : std::tolower(static_cast<unsigned char>(c)) - 'a' + 10;
    if (v < 0 || v > 15) throw std::invalid_argument("bad hex: " + hex);
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<char>(hi * 16 + v));
      hi = -1;
    }
  }
  if (hi >= 0) throw std::invalid_argument("odd hex: " + hex);
  return out;
}

std::string hex(const std::string& bytes) {
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : bytes) {
    if (!out.empty()) out.push_back(' ');
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

namespace {

void drain(frame_decoder& d, decode_result& r) {
  for (;;) {
    frame f;
    r.last = d.next(f);
    if (r.last == frame_decoder::status::frame) {
      r.frames.push_back(std::move(f));
      continue;
    }
    if (r.last == frame_decoder::status::error) r.error = d.error_message();
    return;
  }
}

}  // namespace

decode_result decode_all(const std::string& bytes, std::size_t chunk,
                         bool take_over) {
  frame_decoder d;
  decode_result r;
  if (chunk == 0) chunk = bytes.size() ? bytes.size() : 1;
  for (std::size_t at = 0; at < bytes.size(); at += chunk) {
    auto n = std::min(chunk, bytes.size() - at);
    if (take_over)
      d.feed(bytes.substr(at, n));
    else
      d.feed(bytes.data() + at, n);
    drain(d, r);
    if (r.last == frame_decoder::status::error) return r;
  }
  drain(d, r);
  return r;
}

decode_result decode_split(const std::string& bytes, std::size_t at) {
  frame_decoder d;
  decode_result r;
  d.feed(bytes.data(), at);
  drain(d, r);
  if (r.last == frame_decoder::status::error) return r;
  d.feed(bytes.data() + at, bytes.size() - at);
  drain(d, r);
  return r;
}

}  // namespace remex::protocol::test
