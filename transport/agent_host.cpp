#include "transport/agent_host.hpp"

#include <vector>

#include "transport/agent_channel.hpp"

namespace remex::transport {

namespace {

// An execution that went the seed's way: its own agent's channel reports
// through the multiplexed channel the requester already holds.
class alone_listener : public channel_listener {
 public:
  explicit alone_listener(std::shared_ptr<multiplexed_exec> x)
      : x_(std::move(x)) {}
  void on_open(std::shared_ptr<exec_channel> ch) override {
    x_->bind_inner(std::move(ch));
    x_->opened();
  }
  void on_data(std::uint32_t s, std::string bytes) override {
    if (x_) x_->listener().on_data(s, std::move(bytes));
  }
  void on_eof(std::uint32_t s) override {
    if (x_) x_->listener().on_eof(s);
  }
  void on_drained(std::uint32_t s, std::size_t n) override {
    if (x_) x_->listener().on_drained(s, n);
  }
  void on_log(int level, std::string message) override {
    if (x_) x_->listener().on_log(level, std::move(message));
  }
  void on_notice(std::string line) override {
    if (x_) x_->listener().on_notice(std::move(line));
  }
  // Exit is terminal: letting go of the execution breaks the cycle
  // execution → its own agent channel → this listener → execution, which
  // leaked every execution of a seed agent.
  void on_exit(exit_status st) override {
    auto x = std::move(x_);
    if (x) x->end(std::move(st));
  }

 private:
  std::shared_ptr<multiplexed_exec> x_;
};

}  // namespace

std::shared_ptr<agent_host> agent_host::make(session_provider& provider,
                                             std::string agent_command_line,
                                             agent_link_options opt) {
  return std::shared_ptr<agent_host>(
      new agent_host(provider, std::move(agent_command_line), opt));
}

agent_host::agent_host(session_provider& provider, std::string cmdline,
                       agent_link_options opt)
    : provider_(provider), cmdline_(std::move(cmdline)), opt_(opt) {}

agent_host::~agent_host() {
  close();
}

std::shared_ptr<exec_channel> agent_host::open(
    const protocol::agent_config& cfg, const command& cmd,
    std::shared_ptr<channel_listener> listener) {
  {
    std::lock_guard<std::mutex> g{mtx_};
    if (seed_)
      return start_agent_exec(provider_, cmdline_, cfg, cmd,
                              std::move(listener));
  }
  auto x = std::make_shared<multiplexed_exec>(std::move(listener), cfg, cmd);
  // A link that ended just now is replaced (its end event may still be on
  // its way here): the command goes to a new agent.
  for (int tries = 0; tries < 2; ++tries) {
    auto l = current();
    if (l->add(x)) return x;
    std::lock_guard<std::mutex> g{mtx_};
    if (link_ == l) link_.reset();
  }
  x->end(exit_status::failed_with(failure_kind::agent, 255,
                                  "the agent on " + provider_.host() +
                                      " ended before the command started"));
  return x;
}

std::shared_ptr<agent_link> agent_host::current() {
  std::shared_ptr<agent_link> fresh;
  {
    std::lock_guard<std::mutex> g{mtx_};
    if (link_) return link_;
    std::weak_ptr<agent_host> self = shared_from_this();
    agent_link::events ev;
    ev.seed = [self](std::vector<std::shared_ptr<multiplexed_exec>> xs) {
      auto host = self.lock();
      if (!host) {
        for (auto& x : xs)
          x->end(exit_status::failed_with(failure_kind::agent, 255,
                                          "the host connection is closed"));
        return;
      }
      {
        std::lock_guard<std::mutex> g{host->mtx_};
        host->seed_ = true;
      }
      for (auto& x : xs) host->start_alone(x);
    };
    ev.ended = [self](agent_link* l) {
      if (auto host = self.lock()) {
        std::lock_guard<std::mutex> g{host->mtx_};
        // The next open starts a new agent.
        if (host->link_.get() == l) host->link_.reset();
      }
    };
    link_ = fresh =
        std::make_shared<agent_link>(provider_.host(), opt_, std::move(ev));
    ++started_;
  }
  // Outside the lock: a channel that fails at once reports from here.
  fresh->start(provider_, cmdline_);
  return fresh;
}

void agent_host::start_alone(const std::shared_ptr<multiplexed_exec>& x) {
  if (x->ended()) return;
  start_agent_exec(provider_, cmdline_, x->config(), x->cmd(),
                   std::make_shared<alone_listener>(x));
}

void agent_host::close() {
  std::shared_ptr<agent_link> l;
  {
    std::lock_guard<std::mutex> g{mtx_};
    l = link_;
  }
  if (l) l->close();
}

std::size_t agent_host::agents_started() const {
  std::lock_guard<std::mutex> g{mtx_};
  return started_;
}

bool agent_host::multi() const {
  std::lock_guard<std::mutex> g{mtx_};
  return link_ && link_->multi();
}

bool agent_host::seed_fallback() const {
  std::lock_guard<std::mutex> g{mtx_};
  return seed_;
}

}  // namespace remex::transport
