// The file systems `remex paths`, `remex fs` and `remex cp` work on: this
// machine's (plain system calls) or a host's (through the agent's file
// session, many requests in flight). Operations return an errno (0 = ok),
// so that the commands print what the local tools print; a lost link or a
// dead agent is not an errno but a link_failure (exit 255).
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "actors/exec_request.hpp"
#include "tools/remex/run_options.hpp"
#include "transport/agent_files.hpp"

namespace caf {
class actor_system;
}

namespace remex::cli {

// The connection or the agent failed: the operation's fate is unknown.
struct link_failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A lost link as one line naming the host ("HOST: reason"), whether or not
// the transport's message already carries "remex: " or the host.
std::string qualified(const std::string& host, std::string why);

// What a stat says, in Unix terms (st_mode with its type bits).
struct file_info {
  std::string name;
  std::uint32_t mode = 0;  // st_mode
  std::int64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::int64_t atime_ns = 0;
  std::uint32_t uid = 0, gid = 0;
  std::uint64_t nlink = 0;
  bool is_dir() const;
  bool is_link() const;
  bool is_reg() const;
};

// A file read from its start to its end, in order, in chunks.
class file_reader {
 public:
  virtual ~file_reader() = default;
  // The next chunk (empty at the end). Returns an errno.
  virtual int next(std::string& chunk) = 0;
};

// A file written from its start, chunk after chunk. An error of an earlier
// chunk may be reported by a later call.
class file_writer {
 public:
  virtual ~file_writer() = default;
  virtual int write(std::string chunk) = 0;
  // Waits for every chunk, closes the file. Returns an errno.
  virtual int finish() = 0;
};

class file_system {
 public:
  virtual ~file_system() = default;
  // "local", or the target as the user wrote it.
  virtual const std::string& host() const = 0;
  virtual int stat(const std::string& p, file_info& out, bool follow) = 0;
  // Every entry (lstat information), sorted by name.
  virtual int list(const std::string& dir, std::vector<file_info>& out) = 0;
  virtual int mkdir(const std::string& p, std::uint32_t mode, bool parents) = 0;
  // A file, a symlink or an empty directory.
  virtual int remove(const std::string& p) = 0;
  virtual int rename(const std::string& from, const std::string& to) = 0;
  virtual int symlink(const std::string& target, const std::string& link) = 0;
  virtual int link(const std::string& target, const std::string& link) = 0;
  virtual int readlink(const std::string& p, std::string& out) = 0;
  virtual int chmod(const std::string& p, std::uint32_t mode) = 0;
  virtual int chtimes(const std::string& p, std::int64_t atime_ns,
                      std::int64_t mtime_ns) = 0;
  virtual int open_reader(const std::string& p,
                          std::unique_ptr<file_reader>& out) = 0;
  // Creates p (exclusive when excl, else truncated) with mode (before the
  // umask).
  virtual int open_writer(const std::string& p, std::uint32_t mode, bool excl,
                          std::unique_ptr<file_writer>& out) = 0;
};

std::unique_ptr<file_system> local_file_system();

// Over an agent file session; the session is closed when it is destroyed.
std::unique_ptr<file_system> agent_file_system(
    std::string host, std::shared_ptr<transport::file_session> session);

// Where file sessions come from: this process (the default), or the remexd
// of o.broker / $REMEX_BROKER with o.token_file. Call before the first
// open_file_session.
void use_broker(const run_options& o);

// Reaches req.target (empty: this machine, with the agent beside remex)
// through a session actor of cli_actor_system(), or through a remexd
// (use_broker), and waits for its agent file session. Throws link_failure
// when there is none.
std::shared_ptr<transport::file_session> open_file_session(
    const actors::exec_request& req);

// The process's actor system for these commands (created on first use).
caf::actor_system& cli_actor_system();

}  // namespace remex::cli
