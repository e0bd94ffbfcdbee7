#include "tools/remex/file_client.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/sec.hpp>
#include <cerrno>
#include <cstdio>
#include <deque>
#include <future>

#include "actors/broker.hpp"
#include "actors/refusal.hpp"
#include "actors/types.hpp"
#include "protocol/limits.hpp"
#include "protocol/partial_files.hpp"
#include "tools/remex/broker_client.hpp"
#include "tools/remex/broker_watch.hpp"
#include "tools/remex/remote_files.hpp"
#include "tools/remex/run_command.hpp"

namespace remex::cli {

namespace {

using protocol::file_op_code;
using protocol::file_op_request;
using protocol::file_op_response;

// Chunks of a streamed file, and how many are in flight at once: enough to
// keep the link busy while the far side reads or writes.
constexpr std::size_t chunk_size = 512 * 1024;
constexpr std::size_t chunks_in_flight = 16;

constexpr std::uint32_t go_dir = 1u << 31, go_symlink = 1u << 27,
                        go_device = 1u << 26, go_named_pipe = 1u << 25,
                        go_socket = 1u << 24, go_setuid = 1u << 23,
                        go_setgid = 1u << 22, go_char_device = 1u << 21,
                        go_sticky = 1u << 20;

// The agent's stat `m` (Go os.FileMode bits) as st_mode.
std::uint32_t unix_mode(std::uint32_t m) {
  std::uint32_t u = m & 0777;
  if (m & go_dir)
    u |= S_IFDIR;
  else if (m & go_symlink)
    u |= S_IFLNK;
  else if (m & go_named_pipe)
    u |= S_IFIFO;
  else if (m & go_socket)
    u |= S_IFSOCK;
  else if (m & go_device)
    u |= (m & go_char_device) ? S_IFCHR : S_IFBLK;
  else
    u |= S_IFREG;
  if (m & go_setuid) u |= S_ISUID;
  if (m & go_setgid) u |= S_ISGID;
  if (m & go_sticky) u |= S_ISVTX;
  return u;
}

file_info from_agent(const protocol::stat_info& s) {
  file_info f;
  f.name = s.n;
  f.mode = unix_mode(s.m);
  f.size = s.s;
  f.mtime_ns = s.t;
  f.atime_ns = s.at;
  f.uid = s.uid;
  f.gid = s.gid;
  f.nlink = s.nl;
  return f;
}

std::int64_t ns(const timespec& ts) {
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

timespec to_timespec(std::int64_t n) {
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(n / 1000000000);
  ts.tv_nsec = static_cast<long>(n % 1000000000);
  if (ts.tv_nsec < 0) {
    ts.tv_nsec += 1000000000;
    --ts.tv_sec;
  }
  return ts;
}

file_info from_local(const struct stat& st, std::string name) {
  file_info f;
  f.name = std::move(name);
  f.mode = st.st_mode;
  f.size = st.st_size;
  f.mtime_ns = ns(st.st_mtim);
  f.atime_ns = ns(st.st_atim);
  f.uid = st.st_uid;
  f.gid = st.st_gid;
  f.nlink = st.st_nlink;
  return f;
}

int rc(int r) {
  return r == 0 ? 0 : errno;
}

// ---- this machine ---------------------------------------------------------

class local_reader : public file_reader {
 public:
  explicit local_reader(int fd) : fd_(fd) {}
  ~local_reader() override { ::close(fd_); }
  int next(std::string& chunk) override {
    chunk.resize(chunk_size);
    for (;;) {
      auto n = ::read(fd_, &chunk[0], chunk.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        chunk.clear();
        return errno;
      }
      chunk.resize(static_cast<std::size_t>(n));
      return 0;
    }
  }

 private:
  int fd_;
};

class local_writer : public file_writer {
 public:
  // name: the name an unnamed (O_TMPFILE) file gets once complete.
  explicit local_writer(int fd, std::string name = {})
      : fd_(fd), name_(std::move(name)) {}
  ~local_writer() override {
    if (fd_ >= 0) ::close(fd_);
  }
  int write(std::string chunk) override {
    std::size_t done = 0;
    while (done < chunk.size()) {
      auto n = ::write(fd_, chunk.data() + done, chunk.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return errno;
      done += static_cast<std::size_t>(n);
    }
    return 0;
  }
  int finish() override {
    int fd = fd_;
    fd_ = -1;
    int e = name_.empty() ? 0 : give_name(fd);
    int c = rc(::close(fd));
    return e ? e : c;
  }

 private:
  // Links the unnamed file in under name_; like O_EXCL, an existing name is
  // EEXIST. Through /proc (AT_EMPTY_PATH would need CAP_DAC_READ_SEARCH).
  int give_name(int fd) {
    auto proc = "/proc/self/fd/" + std::to_string(fd);
    if (::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, name_.c_str(),
                 AT_SYMLINK_FOLLOW) == 0)
      return 0;
    int e = errno;
    if (e != ENOENT || ::access("/proc/self/fd", F_OK) == 0) return e;
    return rc(::linkat(fd, "", AT_FDCWD, name_.c_str(), AT_EMPTY_PATH));
  }

  int fd_;
  std::string name_;
};

class local_fs : public file_system {
 public:
  const std::string& host() const override { return host_; }
  int stat(const std::string& p, file_info& out, bool follow) override {
    struct stat st;
    if ((follow ? ::stat(p.c_str(), &st) : ::lstat(p.c_str(), &st)) != 0)
      return errno;
    out = from_local(st, p.substr(p.rfind('/') + 1));
    return 0;
  }
  int list(const std::string& dir, std::vector<file_info>& out) override {
    DIR* d = ::opendir(dir.c_str());
    if (!d) return errno;
    errno = 0;
    std::vector<std::string> names;
    while (auto* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    int err = errno;
    int dfd = ::dirfd(d);
    std::sort(names.begin(), names.end());
    for (auto& n : names) {
      struct stat st;
      if (::fstatat(dfd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
        out.push_back(from_local(st, n));
    }
    ::closedir(d);
    return err;
  }
  int mkdir(const std::string& p, std::uint32_t mode, bool parents) override {
    if (!parents) return rc(::mkdir(p.c_str(), mode));
    struct stat st;
    if (::stat(p.c_str(), &st) == 0) return S_ISDIR(st.st_mode) ? 0 : EEXIST;
    auto slash = p.find_last_of('/', p.find_last_not_of('/'));
    if (slash != std::string::npos && slash > 0)
      if (int e = mkdir(p.substr(0, slash), 0777, true)) return e;
    if (::mkdir(p.c_str(), mode) == 0 || errno == EEXIST) return 0;
    return errno;
  }
  int remove(const std::string& p) override {
    if (::unlink(p.c_str()) == 0) return 0;
    int e = errno;
    if (e == EISDIR || e == EPERM) return rc(::rmdir(p.c_str()));
    return e;
  }
  int rename(const std::string& a, const std::string& b) override {
    return rc(::rename(a.c_str(), b.c_str()));
  }
  int symlink(const std::string& t, const std::string& l) override {
    return rc(::symlink(t.c_str(), l.c_str()));
  }
  int link(const std::string& t, const std::string& l) override {
    return rc(::link(t.c_str(), l.c_str()));
  }
  int readlink(const std::string& p, std::string& out) override {
    char buf[4096];
    auto n = ::readlink(p.c_str(), buf, sizeof buf);
    if (n < 0) return errno;
    out.assign(buf, static_cast<std::size_t>(n));
    return 0;
  }
  int chmod(const std::string& p, std::uint32_t mode) override {
    return rc(::chmod(p.c_str(), mode & 07777));
  }
  int chtimes(const std::string& p, std::int64_t at, std::int64_t mt) override {
    timespec t[2] = {to_timespec(at), to_timespec(mt)};
    return rc(::utimensat(AT_FDCWD, p.c_str(), t, 0));
  }
  int open_reader(const std::string& p,
                  std::unique_ptr<file_reader>& out) override {
    int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    out = std::make_unique<local_reader>(fd);
    return 0;
  }
  int open_writer(const std::string& p, std::uint32_t mode, bool excl,
                  std::unique_ptr<file_writer>& out) override {
    // A copy's partial file is written without a name and named when
    // complete: remex killed outright (SIGKILL) leaves nothing, the kernel
    // frees the file. Where the file system cannot (no O_TMPFILE), it is
    // an ordinary file, removed on failure and on INT/TERM/HUP/QUIT.
    if (excl && protocol::is_partial_name(p)) {
      auto slash = p.rfind('/');
      auto dir = slash == std::string::npos ? std::string(".")
                 : slash == 0               ? std::string("/")
                                            : p.substr(0, slash);
      int fd =
          ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, mode & 07777);
      if (fd >= 0) {
        out = std::make_unique<local_writer>(fd, p);
        return 0;
      }
    }
    int fd = ::open(p.c_str(),
                    O_WRONLY | O_CREAT | O_CLOEXEC | (excl ? O_EXCL : O_TRUNC),
                    mode & 07777);
    if (fd < 0) return errno;
    out = std::make_unique<local_writer>(fd);
    return 0;
  }

 private:
  std::string host_ = "local";
};

// ---- a host, through the agent --------------------------------------------

using answer_future = std::future<transport::file_answer>;

answer_future send(transport::file_session& s, file_op_request req) {
  auto p = std::make_shared<std::promise<transport::file_answer>>();
  auto f = p->get_future();
  s.request(std::move(req),
            [p](transport::file_answer a) { p->set_value(std::move(a)); });
  return f;
}

file_op_response wait(answer_future& f, const std::string& host) {
  auto a = f.get();
  if (a.lost()) throw link_failure(qualified(host, a.message));
  return std::move(a.resp);
}

file_op_request op(file_op_code code, std::string p = {}, std::string np = {}) {
  file_op_request r;
  r.op = static_cast<std::uint32_t>(code);
  r.p = std::move(p);
  r.np = std::move(np);
  return r;
}

int close_handle(transport::file_session& s, const std::string& host,
                 std::uint64_t h) {
  auto r = op(file_op_code::close);
  r.h = h;
  auto f = send(s, std::move(r));
  return static_cast<int>(wait(f, host).er);
}

// Reads ahead: chunks_in_flight readat requests at consecutive offsets.
class agent_reader : public file_reader {
 public:
  agent_reader(std::shared_ptr<transport::file_session> s, std::string host,
               std::uint64_t h)
      : s_(std::move(s)), host_(std::move(host)), h_(h) {}
  ~agent_reader() override {
    try {
      while (!inflight_.empty()) {
        wait(inflight_.front(), host_);
        inflight_.pop_front();
      }
      close_handle(*s_, host_, h_);
    } catch (const link_failure&) {
    }
  }
  int next(std::string& chunk) override {
    chunk.clear();
    if (done_) return 0;
    while (!ended_ && inflight_.size() < chunks_in_flight) {
      auto r = op(file_op_code::readat);
      r.h = h_;
      r.of = static_cast<std::int64_t>(next_offset_);
      r.sz = static_cast<std::int64_t>(chunk_size);
      next_offset_ += chunk_size;
      inflight_.push_back(send(*s_, std::move(r)));
    }
    // Out of the queue before the wait: a lost link throws from it, and the
    // destructor must not wait on the spent future again.
    auto f = std::move(inflight_.front());
    inflight_.pop_front();
    auto resp = wait(f, host_);
    if (resp.er != 0) {
      done_ = ended_ = true;
      return static_cast<int>(resp.er);
    }
    // A short read before the end would leave a hole in what follows.
    if (!resp.eof && resp.d.size() != chunk_size) {
      done_ = ended_ = true;
      return EIO;
    }
    if (resp.eof) done_ = ended_ = true;
    chunk = std::move(resp.d);
    return 0;
  }

 private:
  std::shared_ptr<transport::file_session> s_;
  std::string host_;
  std::uint64_t h_;
  std::deque<answer_future> inflight_;
  std::uint64_t next_offset_ = 0;
  bool ended_ = false;  // no more requests
  bool done_ = false;   // no more chunks
};

// Writes behind: up to chunks_in_flight writeat requests outstanding.
class agent_writer : public file_writer {
 public:
  agent_writer(std::shared_ptr<transport::file_session> s, std::string host,
               std::uint64_t h)
      : s_(std::move(s)), host_(std::move(host)), h_(h) {}
  ~agent_writer() override {
    if (closed_) return;
    try {
      while (!inflight_.empty()) reap();
      close_handle(*s_, host_, h_);
    } catch (const link_failure&) {
    }
  }
  int write(std::string chunk) override {
    if (error_) return error_;
    std::size_t off = 0;
    while (off < chunk.size()) {
      auto n = std::min(chunk.size() - off, protocol::max_data_chunk);
      if (inflight_.size() >= chunks_in_flight) reap();
      if (error_) return error_;
      auto r = op(file_op_code::writeat);
      r.h = h_;
      r.of = static_cast<std::int64_t>(offset_);
      r.d = off == 0 && n == chunk.size() ? std::move(chunk)
                                          : chunk.substr(off, n);
      offset_ += n;
      off += n;
      inflight_.emplace_back(send(*s_, std::move(r)), n);
    }
    return error_;
  }
  int finish() override {
    while (!inflight_.empty()) reap();
    closed_ = true;
    int e = close_handle(*s_, host_, h_);
    return error_ ? error_ : e;
  }

 private:
  void reap() {
    // Out of the queue before the wait, as in agent_reader::next.
    auto [f, size] = std::move(inflight_.front());
    inflight_.pop_front();
    auto resp = wait(f, host_);
    if (!error_) {
      if (resp.er != 0)
        error_ = static_cast<int>(resp.er);
      else if (resp.n != static_cast<std::int64_t>(size))
        error_ = EIO;
    }
  }

  std::shared_ptr<transport::file_session> s_;
  std::string host_;
  std::uint64_t h_;
  std::deque<std::pair<answer_future, std::size_t>> inflight_;
  std::uint64_t offset_ = 0;
  int error_ = 0;
  bool closed_ = false;
};

class agent_fs : public file_system {
 public:
  agent_fs(std::string host, std::shared_ptr<transport::file_session> s)
      : host_(std::move(host)), s_(std::move(s)) {}
  ~agent_fs() override { s_->close(); }

  const std::string& host() const override { return host_; }

  int stat(const std::string& p, file_info& out, bool follow) override {
    auto r = call(op(follow ? file_op_code::stat : file_op_code::lstat, p));
    if (r.er == 0 && r.st) out = from_agent(*r.st);
    return static_cast<int>(r.er);
  }
  int list(const std::string& dir, std::vector<file_info>& out) override {
    // Paged, so that a huge directory never makes a frame over the limits.
    std::int64_t offset = 0;
    for (;;) {
      auto req = op(file_op_code::readdir, dir);
      req.of = offset;
      req.sz = 4096;
      auto r = call(std::move(req));
      if (r.er != 0) return static_cast<int>(r.er);
      for (auto& e : r.en) out.push_back(from_agent(e));
      offset += static_cast<std::int64_t>(r.en.size());
      if (r.eof || r.en.empty()) return 0;
    }
  }
  int mkdir(const std::string& p, std::uint32_t mode, bool parents) override {
    auto r = op(parents ? file_op_code::mkdirall : file_op_code::mkdir, p);
    r.mo = mode & 07777;
    return er(std::move(r));
  }
  int remove(const std::string& p) override {
    return er(op(file_op_code::remove, p));
  }
  int rename(const std::string& a, const std::string& b) override {
    return er(op(file_op_code::rename, a, b));
  }
  int symlink(const std::string& t, const std::string& l) override {
    return er(op(file_op_code::symlink, t, l));
  }
  int link(const std::string& t, const std::string& l) override {
    return er(op(file_op_code::link, t, l));
  }
  int readlink(const std::string& p, std::string& out) override {
    auto r = call(op(file_op_code::readlink, p));
    out = r.p;
    return static_cast<int>(r.er);
  }
  int chmod(const std::string& p, std::uint32_t mode) override {
    auto r = op(file_op_code::chmod, p);
    r.mo = mode & 07777;
    return er(std::move(r));
  }
  int chtimes(const std::string& p, std::int64_t at, std::int64_t mt) override {
    auto r = op(file_op_code::chtimes, p);
    r.at = at;
    r.mt = mt;
    return er(std::move(r));
  }
  int open_reader(const std::string& p,
                  std::unique_ptr<file_reader>& out) override {
    auto r = call(op(file_op_code::open, p));
    if (r.er != 0) return static_cast<int>(r.er);
    out = std::make_unique<agent_reader>(s_, host_, r.h);
    return 0;
  }
  int open_writer(const std::string& p, std::uint32_t mode, bool excl,
                  std::unique_ptr<file_writer>& out) override {
    auto req = op(file_op_code::openfile, p);
    req.fl = O_WRONLY | O_CREAT | (excl ? O_EXCL : O_TRUNC);
    req.mo = mode & 07777;
    auto r = call(std::move(req));
    if (r.er != 0) return static_cast<int>(r.er);
    out = std::make_unique<agent_writer>(s_, host_, r.h);
    return 0;
  }

 private:
  file_op_response call(file_op_request req) {
    auto f = send(*s_, std::move(req));
    return wait(f, host_);
  }
  int er(file_op_request req) {
    return static_cast<int>(call(std::move(req)).er);
  }

  std::string host_;
  std::shared_ptr<transport::file_session> s_;
};

// What keeps the sessions (and their connections) alive until the process
// ends: the commands end with _exit, like run.
struct cli_actors {
  caf::actor_system_config cfg;
  broker_client client;         // embedded (sessions spawned here) or a remexd
  actors::broker_actor broker;  // a remexd's, once connected
  std::unique_ptr<caf::actor_system> sys;
  std::unique_ptr<caf::scoped_actor> self;
  std::vector<actors::session_actor> sessions;
};

run_options broker_choice;  // --broker, --token-file (use_broker)

cli_actors& the_actors() {
  static cli_actors* a = [] {
    auto* x = new cli_actors;
    if (auto why = x->client.prepare(broker_choice, x->cfg); !why.empty())
      throw link_failure(why);
    x->sys = std::make_unique<caf::actor_system>(x->cfg);
    x->self = std::make_unique<caf::scoped_actor>(*x->sys);
    return x;
  }();
  return *a;
}

// The file session a remexd holds for us on req's host.
std::shared_ptr<transport::file_session> open_remote_files(
    cli_actors& a, const actors::exec_request& req) {
  std::string error;
  if (!a.broker) a.broker = a.client.open(*a.sys, error);
  if (!a.broker) throw link_failure(error);
  actors::files_actor files;
  // The scoped actor asks: the session lives as long as its requester. A
  // remexd killed while it opens the session never answers; the watch does.
  receive_watched(
      *a.sys, a.client.liveness(),
      (*a.self)->request(a.broker, caf::infinite, actors::files_atom::value,
                         req),
      [&](actors::files_actor& f) { files = std::move(f); },
      [&](caf::error& e) {
        error = e == caf::sec::request_receiver_down
                    ? a.client.label() + ": connection lost"
                    : actors::refusal_line(*a.sys, e);
      });
  if (!files) throw link_failure(qualified(req.host_label(), error));
  return remote_file_session(*a.sys, std::move(files), a.client.label(),
                             a.client.liveness());
}

}  // namespace

std::string qualified(const std::string& host, std::string why) {
  if (why.rfind("remex: ", 0) == 0) why.erase(0, 7);
  if (why.rfind(host + ":", 0) != 0) why = host + ": " + why;
  return why;
}

bool file_info::is_dir() const {
  return S_ISDIR(mode);
}
bool file_info::is_link() const {
  return S_ISLNK(mode);
}
bool file_info::is_reg() const {
  return S_ISREG(mode);
}

std::unique_ptr<file_system> local_file_system() {
  return std::make_unique<local_fs>();
}

std::unique_ptr<file_system> agent_file_system(
    std::string host, std::shared_ptr<transport::file_session> session) {
  return std::make_unique<agent_fs>(std::move(host), std::move(session));
}

caf::actor_system& cli_actor_system() {
  return *the_actors().sys;
}

void use_broker(const run_options& o) {
  broker_choice.broker = o.broker;
  broker_choice.token_file = o.token_file;
  broker_choice.log_level = o.log_level;
}

std::shared_ptr<transport::file_session> open_file_session(
    const actors::exec_request& req) {
  auto& a = the_actors();
  if (a.client.remote()) return open_remote_files(a, req);
  auto t = actors::default_provider(req);
  config::agent_settings agent;
  agent.local_dir = config::default_agent_dir();
  auto session = actors::spawn_session(a.self->ptr(), std::move(t.provider),
                                       std::move(agent), std::move(t.shipping));
  a.sessions.push_back(session);
  std::shared_ptr<transport::file_session> files;
  std::string error;
  (*a.self)
      ->request(session, caf::infinite, actors::files_atom::value)
      .receive([&](actors::file_session_ptr& s) { files = std::move(s); },
               [&](caf::error& e) { error = actors::refusal_line(*a.sys, e); });
  if (!files) throw link_failure(qualified(req.host_label(), error));
  return files;
}

}  // namespace remex::cli
