#include "tools/remex/files_commands.hpp"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "protocol/partial_files.hpp"
#include "tools/remex/file_client.hpp"
#include "tools/remex/json_text.hpp"
#include "tools/remex/run_options.hpp"
#include "tools/remex/signal_block.hpp"
#include "transport/exec_channel.hpp"

namespace remex::cli {

const char* paths_usage =
    "usage: remex paths [CONNECTION OPTIONS] [-H TARGET] [--json] [DIR...]\n"
    "  The executables of the host (this machine without -H) found in DIRs,\n"
    "  or in its $PATH: NAME<TAB>PATH<TAB>MODE<TAB>SIZE, first found wins.\n"
    "  -i FILE, -F FILE, --known-hosts FILE, --accept-new-host-key, -v LEVEL\n"
    "  as for 'remex run'.\n";

const char* fs_usage =
    "usage: remex fs [CONNECTION OPTIONS] [-H TARGET] OPERATION ARGS...\n"
    "  ls [-l] PATH...      stat PATH...          mkdir [-p] PATH...\n"
    "  rm [-r] [-f] PATH... mv SRC... DST         ln [-s] TARGET LINK\n"
    "  chmod MODE PATH...   cat PATH...           put PATH (from stdin)\n"
    "  Errors: 'remex: HOST: PATH: reason', exit 1; a connection failure "
    "255.\n";

const char* cp_usage =
    "usage: remex cp [CONNECTION OPTIONS] [-r] [-p] SRC... DST\n"
    "  SRC and DST are local paths or TARGET:PATH (like scp; a relative\n"
    "  remote path is under the login directory).\n"
    "  -r  copy directories recursively      -p  keep modes and times\n";

namespace {

// ---- shared -------------------------------------------------------------

void report(const std::string& host, const std::string& path, int err) {
  std::fprintf(stderr, "remex: %s: %s: %s\n", host.c_str(), path.c_str(),
               std::strerror(err));
}

[[noreturn]] void finish(int code) {
  std::fflush(stdout);
  std::fflush(stderr);
  spdlog::shutdown();
  std::_Exit(code);
}

void setup_logging(const run_options& o) {
  spdlog::set_level(spdlog::level::from_str(o.log_level));
  transport::set_connect_notice_sink(
      [quiet = o.log_level == "error"](const std::string& line) {
        if (!quiet) std::fprintf(stderr, "%s\n", line.c_str());
      });
  ::signal(SIGPIPE, SIG_IGN);
}

actors::exec_request request_for(const run_options& o, std::string target) {
  auto req = o.request;
  req.target = std::move(target);
  return req;
}

std::unique_ptr<file_system> connect_fs(const run_options& o,
                                        const std::string& target,
                                        bool warn_logs = true) {
  auto req = request_for(o, target);
  auto files = open_file_session(req);
  if (warn_logs) {
    auto host = req.host_label();
    files->on_log([host](int level, std::string msg) {
      if (level >= 4)
        std::fprintf(stderr, "remex: %s: agent: %s\n", host.c_str(),
                     msg.c_str());
    });
  }
  return agent_file_system(req.host_label(), std::move(files));
}

std::string base_name(const std::string& p) {
  auto end = p.find_last_not_of('/');
  if (end == std::string::npos) return p.empty() ? "." : "/";
  auto slash = p.rfind('/', end);
  auto start = slash == std::string::npos ? 0 : slash + 1;
  return p.substr(start, end - start + 1);
}

std::string dir_name(const std::string& p) {
  auto end = p.find_last_not_of('/');
  if (end == std::string::npos) return p.empty() ? "." : "/";
  auto slash = p.rfind('/', end);
  if (slash == std::string::npos) return ".";
  auto d = p.substr(0, slash);
  auto last = d.find_last_not_of('/');
  return last == std::string::npos ? "/" : d.substr(0, last + 1);
}

std::string join(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

// Connection options first (and -H when with_host), up to the first
// operand; the rest is returned in rest. Usage errors exit 255.
run_options parse_front(const std::vector<std::string>& args, std::size_t& i,
                        bool with_host, const char* usage, const char* cmd,
                        const std::vector<std::string>& own_flags,
                        std::vector<std::string>& flags) {
  run_options o;
  for (; i < args.size(); ++i) {
    const auto& a = args[i];
    if (a == "--help" || a == "-h") {
      std::fputs(usage, stdout);
      finish(0);
    }
    if (a == "--") {
      ++i;
      break;
    }
    if (a.size() < 2 || a[0] != '-') break;
    if (std::find(own_flags.begin(), own_flags.end(), a) != own_flags.end()) {
      flags.push_back(a);
      continue;
    }
    std::string error;
    int r = parse_connection_option(args, i, o, error, with_host);
    if (r == 0) error = "unknown option '" + a + "'";
    if (r <= 0) {
      std::fprintf(stderr, "remex: %s (see 'remex %s --help')\n", error.c_str(),
                   cmd);
      finish(255);
    }
  }
  use_broker(o);
  return o;
}

[[noreturn]] void usage_error(const std::string& what, const char* cmd) {
  std::fprintf(stderr, "remex: %s (see 'remex %s --help')\n", what.c_str(),
               cmd);
  finish(255);
}

std::string mode_string(std::uint32_t m) {
  std::string s = "?---------";
  switch (m & S_IFMT) {
    case S_IFDIR:
      s[0] = 'd';
      break;
    case S_IFLNK:
      s[0] = 'l';
      break;
    case S_IFREG:
      s[0] = '-';
      break;
    case S_IFIFO:
      s[0] = 'p';
      break;
    case S_IFSOCK:
      s[0] = 's';
      break;
    case S_IFCHR:
      s[0] = 'c';
      break;
    case S_IFBLK:
      s[0] = 'b';
      break;
  }
  const char* rwx = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i)
    if (m & (0400u >> i)) s[1 + i] = rwx[i];
  if (m & S_ISUID) s[3] = (m & S_IXUSR) ? 's' : 'S';
  if (m & S_ISGID) s[6] = (m & S_IXGRP) ? 's' : 'S';
  if (m & S_ISVTX) s[9] = (m & S_IXOTH) ? 't' : 'T';
  return s;
}

std::string time_string(std::int64_t ns, bool precise) {
  time_t t = static_cast<time_t>(ns / 1000000000);
  struct tm tm {};
  ::localtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf,
                precise ? "%Y-%m-%d %H:%M:%S" : "%Y-%m-%d %H:%M", &tm);
  std::string s = buf;
  if (precise) {
    char frac[16];
    std::snprintf(frac, sizeof frac, ".%09lld",
                  static_cast<long long>(ns % 1000000000));
    s += frac;
  }
  return s;
}

const char* type_name(std::uint32_t m) {
  switch (m & S_IFMT) {
    case S_IFDIR:
      return "directory";
    case S_IFLNK:
      return "symbolic link";
    case S_IFREG:
      return "regular file";
    case S_IFIFO:
      return "fifo";
    case S_IFSOCK:
      return "socket";
    case S_IFCHR:
      return "character special file";
    case S_IFBLK:
      return "block special file";
  }
  return "unknown";
}

bool write_out(const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    auto n = ::write(STDOUT_FILENO, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// ---- the temporary file a copy writes, removed if remex is stopped -------

struct pending_temp {
  std::mutex mtx;
  file_system* fs = nullptr;
  std::string path;
};

pending_temp& temp() {
  static pending_temp t;
  return t;
}

void set_temp(file_system* fs, const std::string& p) {
  std::lock_guard<std::mutex> g{temp().mtx};
  temp().fs = fs;
  temp().path = p;
}

// INT, TERM, HUP and QUIT end a copy, but not before the file being written
// (under its temporary name) is removed: nothing partial stays behind.
void guard_signals() {
  auto set = block_for_sigwait({SIGINT, SIGTERM, SIGHUP, SIGQUIT});
  std::thread([set] {
    int signo = 0;
    while (sigwait(&set, &signo) != 0) {
    }
    {
      std::lock_guard<std::mutex> g{temp().mtx};
      if (temp().fs) try {
          temp().fs->remove(temp().path);
        } catch (const link_failure&) {
        }
    }
    std::fflush(stdout);
    std::_Exit(128 + signo);
  }).detach();
}

}  // namespace

// ---- remex paths -----------------------------------------------------------

int paths_command(const std::vector<std::string>& args) {
  std::size_t i = 0;
  std::vector<std::string> flags;
  auto o = parse_front(args, i, true, paths_usage, "paths", {"--json"}, flags);
  bool json = !flags.empty();
  std::vector<std::string> dirs;
  for (; i < args.size(); ++i) {
    if (args[i] == "--json")
      json = true;
    else
      dirs.push_back(args[i]);
  }
  setup_logging(o);
  auto host = o.request.host_label();
  std::vector<std::string> warnings;
  std::mutex mtx;
  transport::paths_answer answer;
  try {
    auto files = open_file_session(o.request);
    files->on_log([&](int level, std::string msg) {
      std::lock_guard<std::mutex> g{mtx};
      // "unreadable directory dir=D err=TEXT"
      const std::string head = "unreadable directory dir=";
      if (msg.rfind(head, 0) == 0) {
        auto err = msg.rfind(" err=");
        warnings.push_back(msg.substr(head.size(), err - head.size()) + ": " +
                           msg.substr(err + 5) + " (skipped)");
      } else if (level >= 4) {
        warnings.push_back("agent: " + msg);
      }
    });
    std::promise<transport::paths_answer> p;
    auto f = p.get_future();
    files->query_paths(
        dirs, [&p](transport::paths_answer a) { p.set_value(std::move(a)); });
    answer = f.get();
    files->close();
  } catch (const link_failure& e) {
    std::fprintf(stderr, "remex: %s\n", e.what());
    finish(255);
  }
  {
    std::lock_guard<std::mutex> g{mtx};
    for (auto& w : warnings)
      std::fprintf(stderr, "remex: %s: %s\n", host.c_str(), w.c_str());
  }
  if (answer.failure != transport::failure_kind::none) {
    std::fprintf(stderr, "remex: %s\n",
                 qualified(host, answer.message).c_str());
    finish(255);
  }
  std::string out;
  if (json) out += "[";
  bool first = true;
  for (auto& e : answer.info.entries) {
    char mode[16];
    std::snprintf(mode, sizeof mode, "%04o", e.mode & 07777);
    if (json) {
      out += first ? "\n" : ",\n";
      out += "  {\"name\": " + json_string(e.name) +
             ", \"path\": " + json_string(e.path) + ", \"mode\": \"" + mode +
             "\", \"size\": " + std::to_string(e.size) +
             ", \"mtime_ns\": " + std::to_string(e.mtime) + "}";
    } else {
      out += e.name + "\t" + e.path + "\t" + mode + "\t" +
             std::to_string(e.size) + "\n";
    }
    first = false;
  }
  if (json) out += first ? "]\n" : "\n]\n";
  finish(write_out(out) ? 0 : 1);
}

// ---- remex fs --------------------------------------------------------------

namespace {

int fs_ls(file_system& fs, const std::vector<std::string>& paths, bool lng) {
  int code = 0;
  auto line = [&](const file_info& f, const std::string& name,
                  const std::string& full) {
    if (!lng) return name + "\n";
    std::string s = mode_string(f.mode) + " " + std::to_string(f.nlink) + " " +
                    std::to_string(f.uid) + " " + std::to_string(f.gid) + " " +
                    std::to_string(f.size) + " " +
                    time_string(f.mtime_ns, false) + " " + name;
    std::string target;
    if (f.is_link() && fs.readlink(full, target) == 0) s += " -> " + target;
    return s + "\n";
  };
  bool many = paths.size() > 1;
  std::string out;
  for (std::size_t k = 0; k < paths.size(); ++k) {
    auto& p = paths[k];
    file_info f;
    int e = fs.stat(p, f, true);
    if (e != 0 && fs.stat(p, f, false) == 0) e = 0;  // a dangling link
    if (e != 0) {
      report(fs.host(), p, e);
      code = 1;
      continue;
    }
    if (!f.is_dir()) {
      out += line(f, p, p);
      continue;
    }
    std::vector<file_info> entries;
    if (int le = fs.list(p, entries)) {
      report(fs.host(), p, le);
      code = 1;
      continue;
    }
    if (many) out += (k ? "\n" : "") + p + ":\n";
    for (auto& en : entries) out += line(en, en.name, join(p, en.name));
  }
  if (!write_out(out)) return 1;
  return code;
}

int fs_stat(file_system& fs, const std::vector<std::string>& paths) {
  int code = 0;
  std::string out;
  for (auto& p : paths) {
    file_info f;
    if (int e = fs.stat(p, f, false)) {
      report(fs.host(), p, e);
      code = 1;
      continue;
    }
    std::string target;
    if (f.is_link() && fs.readlink(p, target) == 0) target = " -> " + target;
    char mode[16];
    std::snprintf(mode, sizeof mode, "%04o", f.mode & 07777);
    out += "  File: " + p + target + "\n  Size: " + std::to_string(f.size) +
           "\tType: " + type_name(f.mode) + "\n  Mode: " + mode + "/" +
           mode_string(f.mode) + "\tUid: " + std::to_string(f.uid) +
           "\tGid: " + std::to_string(f.gid) +
           "\tLinks: " + std::to_string(f.nlink) +
           "\nModify: " + time_string(f.mtime_ns, true) + "\n";
  }
  if (!write_out(out)) return 1;
  return code;
}

// Removes p and everything under it; reports the first failure of each
// path that could not go.
bool remove_tree(file_system& fs, const std::string& p) {
  file_info f;
  if (int e = fs.stat(p, f, false)) {
    report(fs.host(), p, e);
    return false;
  }
  bool ok = true;
  if (f.is_dir()) {
    std::vector<file_info> entries;
    if (int e = fs.list(p, entries)) {
      report(fs.host(), p, e);
      return false;
    }
    for (auto& en : entries) ok = remove_tree(fs, join(p, en.name)) && ok;
  }
  if (!ok) return false;
  if (int e = fs.remove(p)) {
    report(fs.host(), p, e);
    return false;
  }
  return true;
}

int fs_rm(file_system& fs, const std::vector<std::string>& paths, bool rec,
          bool force) {
  int code = 0;
  for (auto& p : paths) {
    file_info f;
    int e = fs.stat(p, f, false);
    if (e == ENOENT && force) continue;
    if (e == 0 && f.is_dir() && !rec) e = EISDIR;  // like rm without -r
    if (e != 0) {
      report(fs.host(), p, e);
      code = 1;
      continue;
    }
    if (rec) {
      if (!remove_tree(fs, p)) code = 1;
    } else if (int re = fs.remove(p)) {
      report(fs.host(), p, re);
      code = 1;
    }
  }
  return code;
}

// DST itself, or DST/basename(SRC) when DST is a directory (mv, ln).
std::string into(file_system& fs, const std::string& src,
                 const std::string& dst) {
  file_info f;
  if (fs.stat(dst, f, true) == 0 && f.is_dir())
    return join(dst, base_name(src));
  return dst;
}

int fs_cat(file_system& fs, const std::vector<std::string>& paths) {
  int code = 0;
  for (auto& p : paths) {
    std::unique_ptr<file_reader> r;
    int e = fs.open_reader(p, r);
    std::string chunk;
    while (e == 0) {
      e = r->next(chunk);
      if (e != 0 || chunk.empty()) break;
      if (!write_out(chunk)) return errno == EPIPE ? 128 + SIGPIPE : 1;
    }
    if (e != 0) {
      report(fs.host(), p, e);
      code = 1;
    }
  }
  return code;
}

int fs_put(file_system& fs, const std::string& p) {
  std::unique_ptr<file_writer> w;
  int e = fs.open_writer(p, 0666, false, w);
  std::string buf;
  while (e == 0) {
    buf.resize(512 * 1024);
    auto n = ::read(STDIN_FILENO, &buf[0], buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::fprintf(stderr, "remex: stdin: %s\n", std::strerror(errno));
      return 1;
    }
    if (n == 0) {
      e = w->finish();
      break;
    }
    buf.resize(static_cast<std::size_t>(n));
    e = w->write(std::move(buf));
    buf = std::string();
  }
  if (e != 0) {
    report(fs.host(), p, e);
    return 1;
  }
  return 0;
}

}  // namespace

int fs_command(const std::vector<std::string>& args) {
  std::size_t i = 0;
  std::vector<std::string> none;
  auto o = parse_front(args, i, true, fs_usage, "fs", {}, none);
  if (i >= args.size()) usage_error("no operation given", "fs");
  std::string opname = args[i++];
  static const std::map<std::string, std::string> op_flags = {
      {"ls", "l"}, {"stat", ""},  {"mkdir", "p"}, {"rm", "rfR"}, {"mv", ""},
      {"ln", "s"}, {"chmod", ""}, {"cat", ""},    {"put", ""}};
  auto spec = op_flags.find(opname);
  if (spec == op_flags.end())
    usage_error("unknown operation '" + opname + "'", "fs");
  std::string flags;
  std::vector<std::string> ops;
  bool no_more_flags = false;
  for (; i < args.size(); ++i) {
    auto& a = args[i];
    if (!no_more_flags && a == "--") {
      no_more_flags = true;
    } else if (!no_more_flags && a.size() > 1 && a[0] == '-' &&
               !(opname == "chmod" && ops.empty())) {
      for (char c : a.substr(1)) {
        if (spec->second.find(c) == std::string::npos)
          usage_error(opname + ": unknown option '-" + std::string(1, c) + "'",
                      "fs");
        flags += c;
      }
    } else {
      ops.push_back(a);
    }
  }
  auto has = [&](char c) { return flags.find(c) != std::string::npos; };
  std::size_t want_min = opname == "mv" || opname == "ln" ? 2
                         : opname == "chmod"              ? 2
                                                          : 1;
  if (ops.size() < want_min) usage_error(opname + ": missing operand", "fs");
  if ((opname == "ln" && ops.size() != 2) ||
      (opname == "put" && ops.size() != 1))
    usage_error(opname + ": wrong number of operands", "fs");
  std::uint32_t chmod_mode = 0;
  if (opname == "chmod") {
    auto& m = ops[0];
    if (m.empty() || m.size() > 4 ||
        m.find_first_not_of("01234567") != std::string::npos)
      usage_error("chmod: MODE must be octal (like 755), got '" + m + "'",
                  "fs");
    chmod_mode = static_cast<std::uint32_t>(std::stoul(m, nullptr, 8));
  }
  setup_logging(o);
  auto host = o.request.host_label();
  int code = 0;
  try {
    auto fs = connect_fs(o, o.request.target);
    if (opname == "ls") {
      code = fs_ls(*fs, ops, has('l'));
    } else if (opname == "stat") {
      code = fs_stat(*fs, ops);
    } else if (opname == "mkdir") {
      for (auto& p : ops)
        if (int e = fs->mkdir(p, 0777, has('p'))) {
          report(host, p, e);
          code = 1;
        }
    } else if (opname == "rm") {
      code = fs_rm(*fs, ops, has('r') || has('R'), has('f'));
    } else if (opname == "mv") {
      auto dst = ops.back();
      ops.pop_back();
      for (auto& p : ops)
        if (int e = fs->rename(p, into(*fs, p, dst))) {
          report(host, p, e);
          code = 1;
        }
    } else if (opname == "ln") {
      auto link = into(*fs, ops[0], ops[1]);
      int e = has('s') ? fs->symlink(ops[0], link) : fs->link(ops[0], link);
      if (e) {
        report(host, e == ENOENT && !has('s') ? ops[0] : link, e);
        code = 1;
      }
    } else if (opname == "chmod") {
      for (std::size_t k = 1; k < ops.size(); ++k)
        if (int e = fs->chmod(ops[k], chmod_mode)) {
          report(host, ops[k], e);
          code = 1;
        }
    } else if (opname == "cat") {
      code = fs_cat(*fs, ops);
    } else if (opname == "put") {
      code = fs_put(*fs, ops[0]);
    }
  } catch (const link_failure& e) {
    std::fprintf(stderr, "remex: %s\n", e.what());
    finish(255);
  }
  finish(code);
}

// ---- remex cp --------------------------------------------------------------

namespace {

struct operand {
  std::string target;  // "" = this machine
  std::string path;
};

// scp's rule: TARGET:PATH when a ':' comes before any '/'.
operand parse_operand(const std::string& s) {
  auto colon = s.find(':');
  auto slash = s.find('/');
  if (colon == std::string::npos || colon == 0 ||
      (slash != std::string::npos && slash < colon))
    return {"", s};
  auto path = s.substr(colon + 1);
  return {s.substr(0, colon), path.empty() ? "." : path};
}

struct copier {
  bool recursive = false;
  bool preserve = false;
  unsigned serial = 0;

  // Copies the regular file src to dst through a temporary name beside dst,
  // renamed into place once the size is checked. The name is a partial
  // name (protocol/partial_files.hpp): an agent removes such a file when
  // its session ends before the rename (remex killed outright, the link
  // lost), and on this machine it has no name until it is complete.
  bool copy_file(file_system& sfs, const std::string& src,
                 const file_info& info, file_system& dfs,
                 const std::string& dst) {
    auto tmp =
        join(dir_name(dst),
             "." + base_name(dst) + "." + std::to_string(::getpid()) + "-" +
                 std::to_string(++serial) + protocol::partial_file_mark);
    std::unique_ptr<file_reader> r;
    if (int e = sfs.open_reader(src, r)) {
      report(sfs.host(), src, e);
      return false;
    }
    set_temp(&dfs, tmp);
    std::unique_ptr<file_writer> w;
    if (int e = dfs.open_writer(tmp, info.mode & 0777, true, w)) {
      set_temp(nullptr, {});
      report(dfs.host(), dst, e);
      return false;
    }
    std::int64_t total = 0;
    int read_err = 0, write_err = 0;
    std::string chunk;
    for (;;) {
      read_err = r->next(chunk);
      if (read_err || chunk.empty()) break;
      total += static_cast<std::int64_t>(chunk.size());
      if ((write_err = w->write(std::move(chunk)))) break;
      chunk = std::string();
    }
    r.reset();
    int fin = w->finish();
    if (!write_err) write_err = fin;
    std::string problem;
    if (!read_err && !write_err) {
      file_info written;
      if (int e = dfs.stat(tmp, written, false))
        write_err = e;
      else if (written.size != total || total != info.size)
        problem = "size check failed: " + std::to_string(info.size) +
                  " bytes in the source, " + std::to_string(total) + " read, " +
                  std::to_string(written.size) + " written";
    }
    if (!read_err && !write_err && problem.empty() && preserve) {
      write_err = dfs.chmod(tmp, info.mode & 07777);
      if (!write_err)
        write_err = dfs.chtimes(tmp, info.atime_ns, info.mtime_ns);
    }
    if (!read_err && !write_err && problem.empty())
      write_err = dfs.rename(tmp, dst);
    bool ok = !read_err && !write_err && problem.empty();
    if (!ok) dfs.remove(tmp);
    set_temp(nullptr, {});
    if (read_err) report(sfs.host(), src, read_err);
    if (write_err) report(dfs.host(), dst, write_err);
    if (!problem.empty())
      std::fprintf(stderr, "remex: %s: %s: %s\n", dfs.host().c_str(),
                   dst.c_str(), problem.c_str());
    return ok;
  }

  bool copy_tree(file_system& sfs, const std::string& src,
                 const file_info& info, file_system& dfs,
                 const std::string& dst) {
    file_info existing;
    int e = dfs.mkdir(dst, (info.mode & 0777) | 0700, false);
    if (e == EEXIST && dfs.stat(dst, existing, true) == 0 && existing.is_dir())
      e = 0;
    if (e) {
      report(dfs.host(), dst, e);
      return false;
    }
    std::vector<file_info> entries;
    if (int le = sfs.list(src, entries)) {
      report(sfs.host(), src, le);
      return false;
    }
    bool ok = true;
    for (auto& en : entries)
      ok = copy_entry(sfs, join(src, en.name), en, dfs, join(dst, en.name)) &&
           ok;
    // The directory's own mode and times last: its contents changed them.
    int pe = preserve ? dfs.chmod(dst, info.mode & 07777) : 0;
    if (!pe && preserve) pe = dfs.chtimes(dst, info.atime_ns, info.mtime_ns);
    if (pe) {
      report(dfs.host(), dst, pe);
      ok = false;
    }
    return ok;
  }

  bool copy_entry(file_system& sfs, const std::string& src,
                  const file_info& info, file_system& dfs,
                  const std::string& dst) {
    if (info.is_dir()) return copy_tree(sfs, src, info, dfs, dst);
    if (info.is_reg()) return copy_file(sfs, src, info, dfs, dst);
    if (info.is_link()) {
      std::string target;
      if (int e = sfs.readlink(src, target)) {
        report(sfs.host(), src, e);
        return false;
      }
      int e = dfs.symlink(target, dst);
      if (e == EEXIST && dfs.remove(dst) == 0) e = dfs.symlink(target, dst);
      if (e) report(dfs.host(), dst, e);
      return e == 0;
    }
    std::fprintf(stderr, "remex: %s: %s: not a regular file (skipped)\n",
                 sfs.host().c_str(), src.c_str());
    return false;
  }
};

}  // namespace

int cp_command(const std::vector<std::string>& args) {
  std::size_t i = 0;
  std::vector<std::string> flags;
  auto o = parse_front(args, i, false, cp_usage, "cp",
                       {"-r", "-R", "-p", "-rp", "-pr", "-Rp", "-pR"}, flags);
  copier c;
  for (auto& f : flags) {
    if (f.find_first_of("rR") != std::string::npos) c.recursive = true;
    if (f.find('p') != std::string::npos) c.preserve = true;
  }
  std::vector<operand> ops;
  for (; i < args.size(); ++i) ops.push_back(parse_operand(args[i]));
  if (ops.size() < 2) usage_error("cp wants SRC... DST", "cp");
  for (auto& op : ops)
    if (!op.target.empty()) {
      run_options check;
      std::size_t k = 0;
      std::string error;
      std::vector<std::string> probe = {"-H", op.target};
      if (parse_connection_option(probe, k, check, error) < 0)
        usage_error(error, "cp");
    }
  setup_logging(o);
  guard_signals();
  int code = 0;
  try {
    std::map<std::string, std::unique_ptr<file_system>> fss;
    auto fs_for = [&](const std::string& target) -> file_system& {
      auto& slot = fss[target];
      if (!slot)
        slot = target.empty() ? local_file_system() : connect_fs(o, target);
      return *slot;
    };
    auto dst = ops.back();
    ops.pop_back();
    // Connect everywhere first: a host that cannot be reached fails the
    // whole copy before anything is written.
    for (auto& op : ops) fs_for(op.target);
    auto& dfs = fs_for(dst.target);
    file_info dinfo;
    bool dst_dir = dfs.stat(dst.path, dinfo, true) == 0 && dinfo.is_dir();
    if (ops.size() > 1 && !dst_dir) {
      report(dfs.host(), dst.path, ENOTDIR);
      finish(1);
    }
    for (auto& op : ops) {
      auto& sfs = fs_for(op.target);
      file_info info;
      if (int e = sfs.stat(op.path, info, true)) {
        report(sfs.host(), op.path, e);
        code = 1;
        continue;
      }
      auto target = dst_dir ? join(dst.path, base_name(op.path)) : dst.path;
      if (info.is_dir() && !c.recursive) {
        std::fprintf(stderr, "remex: %s: %s: Is a directory (use -r)\n",
                     sfs.host().c_str(), op.path.c_str());
        code = 1;
        continue;
      }
      if (!c.copy_entry(sfs, op.path, info, dfs, target)) code = 1;
    }
  } catch (const link_failure& e) {
    std::fprintf(stderr, "remex: %s\n", e.what());
    finish(255);
  }
  finish(code);
}

}  // namespace remex::cli
