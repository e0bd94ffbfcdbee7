// Runs the real remex-agent behind pipes and speaks the agent protocol to it:
// input is written and output read in one poll loop, so large transfers in
// both directions never deadlock.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "protocol/codec.hpp"
#include "tests/common/processes.hpp"

namespace remex::test {

class agent_driver {
 public:
  // Starts the agent with env as its whole environment (default: ours).
  explicit agent_driver(std::optional<std::vector<std::string>> env = {});
  ~agent_driver();
  agent_driver(const agent_driver&) = delete;
  agent_driver& operator=(const agent_driver&) = delete;

  void send(const protocol::frame& f);
  void send_raw(const std::string& bytes);
  void send_exec(std::string path, std::vector<std::string> argv,
                 std::vector<std::uint32_t> fds = {});
  // The persistent agent's frames (protocol/PERSISTENT.md).
  void send_hello(std::uint64_t max = 0, std::uint64_t win = 0);
  void send_exec(std::uint32_t xid, std::string path,
                 std::vector<std::string> argv,
                 std::vector<std::uint32_t> fds = {});
  // Closes the agent's stdin once what is queued has been written.
  void close_input();
  // Stops listening: the agent's next write to stdout fails with EPIPE.
  void close_output();

  // Moves bytes until done() holds or timeout_ms passed; false on timeout.
  bool pump_until(const std::function<bool()>& done, int timeout_ms = 20000);
  // Until the exit frame arrived and the agent's stdout closed.
  bool run_to_end(int timeout_ms = 20000);
  // Waits for the agent process itself; its wait status.
  int wait_agent(int timeout_ms = 10000);

  pid_t pid() const { return pid_; }
  bool output_closed() const { return out_fd_ < 0; }

  // What arrived, by kind.
  std::map<std::uint32_t, std::string> data;
  std::map<std::uint32_t, std::size_t> data_bytes;
  std::set<std::uint32_t> eofs;
  std::optional<std::int64_t> exit_code;
  std::vector<std::string> errors;
  std::vector<protocol::log_entry> logs;
  std::vector<protocol::frame> others;  // path-info, file-resp, ...
  std::vector<protocol::frame_type> order;
  std::string decode_error;
  bool keep_data = true;    // false: only count data bytes
  bool read_output = true;  // false: leave the agent's stdout unread

  // What arrived per execution id (frames with a non-zero xid).
  struct exec_view {
    std::map<std::uint32_t, std::string> data;
    std::set<std::uint32_t> eofs;
    std::optional<std::int64_t> exit_code;
    std::vector<std::string> errors;
    std::map<std::uint32_t, std::uint64_t> credit;  // input granted back
  };
  std::map<std::uint32_t, exec_view> execs;
  std::optional<protocol::hello_msg> hello;
  // Output of these executions is never granted back as credit; that of
  // all others is, as soon as it arrives.
  std::set<std::uint32_t> withhold_credit;

 private:
  void handle(protocol::frame& f);

  pid_t pid_ = -1;
  int in_fd_ = -1;   // agent's stdin
  int out_fd_ = -1;  // agent's stdout
  bool close_when_sent_ = false;
  std::string pending_;
  std::size_t pending_off_ = 0;
  protocol::frame_decoder decoder_;
  int status_ = -1;
};

// A fresh temporary directory.
std::string make_temp_dir();
// A fresh temporary directory in memory (/dev/shm, a tmpfs) when there is
// one, else make_temp_dir(): for cases that create thousands of files, which
// on a disk file system under load cost seconds to tens of seconds (every
// create goes through the journal) while the agent reads them in well under
// a second.
std::string make_memory_temp_dir();

}  // namespace remex::test
