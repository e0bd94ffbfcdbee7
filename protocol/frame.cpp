#include "protocol/frame.hpp"

#include <tuple>
#include <utility>

namespace remex::protocol {

const char* to_string(frame_type t) {
  switch (t) {
    case frame_type::exec:
      return "exec";
    case frame_type::data:
      return "data";
    case frame_type::eof:
      return "eof";
    case frame_type::signal:
      return "signal";
    case frame_type::exit:
      return "exit";
    case frame_type::error:
      return "error";
    case frame_type::log:
      return "log";
    case frame_type::config:
      return "config";
    case frame_type::path_query:
      return "path-query";
    case frame_type::path_info:
      return "path-info";
    case frame_type::file_op:
      return "file-op";
    case frame_type::file_resp:
      return "file-resp";
    case frame_type::hello:
      return "hello";
    case frame_type::credit:
      return "credit";
    case frame_type::stop:
      return "stop";
  }
  return "unknown";
}

bool exec_msg::operator==(const exec_msg& o) const {
  return std::tie(path, argv, env, cwd, fds) ==
         std::tie(o.path, o.argv, o.env, o.cwd, o.fds);
}

bool log_entry::operator==(const log_entry& o) const {
  return std::tie(lvl, msg, a) == std::tie(o.lvl, o.msg, o.a);
}

bool agent_config::operator==(const agent_config& o) const {
  return std::tie(env_keep, env_remove) == std::tie(o.env_keep, o.env_remove);
}

bool path_query::operator==(const path_query& o) const {
  return paths == o.paths;
}

bool path_entry::operator==(const path_entry& o) const {
  return std::tie(name, path, mode, size, mtime) ==
         std::tie(o.name, o.path, o.mode, o.size, o.mtime);
}

bool path_info::operator==(const path_info& o) const {
  return entries == o.entries;
}

bool stat_info::operator==(const stat_info& o) const {
  return std::tie(n, s, m, t, at, ct, uid, gid, nl, rd, bl, bs, ino, d) ==
         std::tie(o.n, o.s, o.m, o.t, o.at, o.ct, o.uid, o.gid, o.nl, o.rd,
                  o.bl, o.bs, o.ino, o.d);
}

bool statfs_info::operator==(const statfs_info& o) const {
  return std::tie(b, bf, ba, f, ff, bs, fr, nl) ==
         std::tie(o.b, o.bf, o.ba, o.f, o.ff, o.bs, o.fr, o.nl);
}

bool file_op_request::operator==(const file_op_request& o) const {
  return std::tie(id, op, p, np, fl, mo, uid, gid, h, of, sz, at, mt, d) ==
         std::tie(o.id, o.op, o.p, o.np, o.fl, o.mo, o.uid, o.gid, o.h, o.of,
                  o.sz, o.at, o.mt, o.d);
}

bool file_op_response::operator==(const file_op_response& o) const {
  return std::tie(id, er, em, h, d, n, eof, p, st, sf, en) ==
         std::tie(o.id, o.er, o.em, o.h, o.d, o.n, o.eof, o.p, o.st, o.sf,
                  o.en);
}

bool hello_msg::operator==(const hello_msg& o) const {
  return std::tie(v, caps, max, win) == std::tie(o.v, o.caps, o.max, o.win);
}

bool frame::operator==(const frame& o) const {
  return std::tie(t, xid, s, d, sig, c, e, x, l, cfg, q, i, fop, frp, n, hi) ==
         std::tie(o.t, o.xid, o.s, o.d, o.sig, o.c, o.e, o.x, o.l, o.cfg, o.q,
                  o.i, o.fop, o.frp, o.n, o.hi);
}

frame make_data(std::uint32_t stream, std::string bytes) {
  frame f;
  f.t = frame_type::data;
  f.s = stream;
  f.d = std::move(bytes);
  return f;
}

frame make_eof(std::uint32_t stream) {
  frame f;
  f.t = frame_type::eof;
  f.s = stream;
  return f;
}

frame make_signal(int signo) {
  frame f;
  f.t = frame_type::signal;
  f.sig = signo;
  return f;
}

frame make_exit(int code) {
  frame f;
  f.t = frame_type::exit;
  f.c = code;
  return f;
}

frame make_error(std::string message) {
  frame f;
  f.t = frame_type::error;
  f.e = std::move(message);
  return f;
}

frame make_log(std::int64_t level, std::string message,
               std::vector<std::string> attrs) {
  frame f;
  f.t = frame_type::log;
  f.l = log_entry{level, std::move(message), std::move(attrs)};
  return f;
}

frame make_hello(hello_msg h) {
  frame f;
  f.t = frame_type::hello;
  f.hi = std::move(h);
  return f;
}

frame make_credit(std::uint32_t xid, std::uint32_t stream, std::uint64_t n) {
  frame f;
  f.t = frame_type::credit;
  f.xid = xid;
  f.s = stream;
  f.n = n;
  return f;
}

frame with_xid(frame f, std::uint32_t xid) {
  f.xid = xid;
  return f;
}

}  // namespace remex::protocol
