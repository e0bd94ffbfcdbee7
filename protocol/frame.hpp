// The agent wire protocol's frames and nested messages, as plain structs.
// Field names follow shared/reference/agentproto.md; zero values are omitted on
// the wire and read back as zero.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace remex::protocol {

// Wide enough for any number a peer sends as `t` (a CBOR uint), so a type
// this version does not know keeps its number.
enum class frame_type : std::uint64_t {
  exec = 1,
  data = 2,
  eof = 3,
  signal = 4,
  exit = 5,
  error = 6,
  log = 7,
  config = 8,
  path_query = 9,
  path_info = 10,
  file_op = 11,
  file_resp = 12,
  // The persistent-agent extension (protocol/PERSISTENT.md).
  hello = 13,
  credit = 14,
  stop = 15,
};

// Printable name of a frame type ("exec", "data", ...; "unknown" otherwise).
const char* to_string(frame_type t);

// Well-known stream numbers; 3 and up are extra fds.
constexpr std::uint32_t stream_stdin = 0;
constexpr std::uint32_t stream_stdout = 1;
constexpr std::uint32_t stream_stderr = 2;

struct exec_msg {
  std::string path;
  std::vector<std::string> argv;
  std::vector<std::string> env;  // "K=V"
  std::string cwd;
  std::vector<std::uint32_t> fds;
  bool operator==(const exec_msg&) const;
};

// slog levels, as the seed uses them.
enum log_level : std::int64_t {
  log_debug = -4,
  log_info = 0,
  log_warn = 4,
  log_error = 8
};

struct log_entry {
  std::int64_t lvl = 0;
  std::string msg;
  std::vector<std::string> a;  // "k=v"
  bool operator==(const log_entry&) const;
};

struct agent_config {
  std::vector<std::string> env_keep;    // globs, or /regex/
  std::vector<std::string> env_remove;  // globs, or /regex/
  bool operator==(const agent_config&) const;
};

struct path_query {
  std::vector<std::string> paths;  // empty: the agent's $PATH
  bool operator==(const path_query&) const;
};

struct path_entry {
  std::string name;
  std::string path;
  std::uint32_t mode = 0;
  std::int64_t size = 0;
  std::int64_t mtime = 0;  // ns
  bool operator==(const path_entry&) const;
};

struct path_info {
  std::vector<path_entry> entries;
  bool operator==(const path_info&) const;
};

struct stat_info {
  std::string n;
  std::int64_t s = 0;
  std::uint32_t m = 0;
  std::int64_t t = 0;
  std::int64_t at = 0;
  std::int64_t ct = 0;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::uint64_t nl = 0;
  std::uint64_t rd = 0;
  std::int64_t bl = 0;
  std::int64_t bs = 0;
  std::uint64_t ino = 0;
  bool d = false;
  bool operator==(const stat_info&) const;
};

struct statfs_info {
  std::uint64_t b = 0;
  std::uint64_t bf = 0;
  std::uint64_t ba = 0;
  std::uint64_t f = 0;
  std::uint64_t ff = 0;
  std::int64_t bs = 0;
  std::int64_t fr = 0;
  std::int64_t nl = 0;
  bool operator==(const statfs_info&) const;
};

enum class file_op_code : std::uint32_t {
  open = 1,
  create = 2,
  openfile = 3,
  close = 4,
  readat = 5,
  writeat = 6,
  stat = 7,
  lstat = 8,
  readdir = 9,
  mkdir = 10,
  mkdirall = 11,
  remove = 12,
  rename = 13,
  chmod = 14,
  truncate = 15,
  getwd = 16,
  fsync = 17,
  readlink = 18,
  symlink = 19,
  link = 20,
  chown = 21,
  chtimes = 22,
  statfs = 23,
  fstat = 24,
  ftruncate = 25,
};

struct file_op_request {
  std::uint32_t id = 0;
  std::uint32_t op = 0;  // a file_op_code; kept raw so unknown ops survive
  std::string p;
  std::string np;
  std::int64_t fl = 0;
  std::uint32_t mo = 0;
  std::int64_t uid = 0;
  std::int64_t gid = 0;
  std::uint64_t h = 0;
  std::int64_t of = 0;
  std::int64_t sz = 0;
  std::int64_t at = 0;
  std::int64_t mt = 0;
  std::string d;  // bytes
  bool operator==(const file_op_request&) const;
};

struct file_op_response {
  std::uint32_t id = 0;
  std::int64_t er = 0;  // errno, 0 = ok
  std::string em;
  std::uint64_t h = 0;
  std::string d;  // bytes
  std::int64_t n = 0;
  bool eof = false;
  std::string p;
  std::optional<stat_info> st;
  std::optional<statfs_info> sf;
  std::vector<stat_info> en;  // readdir entries, each {st: stat} on the wire
  bool operator==(const file_op_response&) const;
};

// The persistent-agent handshake (protocol/PERSISTENT.md).
struct hello_msg {
  std::uint64_t v = 0;            // protocol version: 1
  std::vector<std::string> caps;  // "multi"
  std::uint64_t max = 0;          // concurrent executions (0: no preference)
  std::uint64_t win = 0;          // initial credit per stream and direction
  bool operator==(const hello_msg&) const;
};

// Version and capability of the persistent-agent extension.
constexpr std::uint64_t persistent_version = 1;
constexpr const char* cap_multi = "multi";

// One frame. Only the fields its type uses are meaningful; the others stay
// zero/empty and are not encoded.
struct frame {
  frame_type t = frame_type::data;
  std::uint32_t xid = 0;  // execution id; 0: the seed's single execution
  std::uint32_t s = 0;
  std::string d;  // bytes (binary-safe)
  std::int64_t sig = 0;
  std::int64_t c = 0;
  std::string e;
  std::optional<exec_msg> x;
  std::optional<log_entry> l;
  std::optional<agent_config> cfg;
  std::optional<path_query> q;
  std::optional<path_info> i;
  std::optional<file_op_request> fop;
  std::optional<file_op_response> frp;
  std::uint64_t n = 0;  // credit: bytes granted
  std::optional<hello_msg> hi;
  bool operator==(const frame&) const;
  bool operator!=(const frame& o) const { return !(*this == o); }
};

// Convenience constructors for the frames the hot paths send.
frame make_data(std::uint32_t stream, std::string bytes);
frame make_eof(std::uint32_t stream);
frame make_signal(int signo);
frame make_exit(int code);
frame make_error(std::string message);
frame make_log(std::int64_t level, std::string message,
               std::vector<std::string> attrs = {});
frame make_hello(hello_msg h);
frame make_credit(std::uint32_t xid, std::uint32_t stream, std::uint64_t n);
// f with its execution id set (the extension's frames of one execution).
frame with_xid(frame f, std::uint32_t xid);

}  // namespace remex::protocol
