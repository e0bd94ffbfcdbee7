#include "transport/ssh/ssh_provider.hpp"

#include <cstdlib>

#include "transport/ssh/ssh_config_reader.hpp"
#include "transport/ssh/ssh_pool.hpp"
#include "transport/ssh/ssh_target.hpp"

namespace remex::transport {

namespace {

// A positive whole number from ssh_config's keyword for target, else 0.
int config_number(const std::string& target, const std::string& config_file,
                  const char* keyword) {
  ssh_target t;
  if (!parse_ssh_target(target, t)) return 0;
  auto v = ssh_config_value(t.host, t.user, config_file, keyword);
  if (!v || v->empty() || v->size() > 6 ||
      v->find_first_not_of("0123456789") != std::string::npos)
    return 0;
  return std::atoi(v->c_str());
}

// Holds the pool and the placements memo; when the provider goes, the pool
// fails what is still queued or running ("provider closed") and stops.
class ssh_provider : public ssh_session_provider {
 public:
  ssh_provider(std::string target, config::ssh_options opts)
      : pool_(std::make_shared<ssh::pool>(std::move(target), std::move(opts))) {
    pool_->start();
  }
  ~ssh_provider() override { pool_->shutdown(); }

  std::shared_ptr<exec_channel> open_exec(
      std::string command_line, std::vector<std::string> env,
      std::shared_ptr<channel_listener> listener) override {
    return pool_->open_exec(std::move(command_line), std::move(env),
                            std::move(listener));
  }

  std::string host() const override { return pool_->display(); }

  ssh_link_info link_info() const override { return pool_->info(); }

  connect_result connect_like() const override { return pool_->connect_now(); }

  verified_placements& placements() override { return placements_; }

  host_status status() const override {
    auto st = pool_->status();
    // The placement's directory is named for the bundle's digest.
    auto dir = placements_.latest();
    auto at = dir.rfind("agent-");
    if (at != std::string::npos) st.agent_digest = dir.substr(at + 6);
    return st;
  }

  void watch_connections(connection_watcher w) override {
    pool_->watch_connections(std::move(w));
  }

 private:
  std::shared_ptr<ssh::pool> pool_;
  verified_placements placements_;
};

}  // namespace

std::shared_ptr<ssh_session_provider> make_ssh_provider(
    std::string target, config::ssh_options opts) {
  // The host's own keepalive, as ssh would use it, wins over the defaults
  // (remexd's ssh.keepalive, the CLI's 5 s).
  if (int n = config_number(target, opts.ssh_config, "ServerAliveInterval"))
    opts.keepalive_interval_s = n;
  if (int n = config_number(target, opts.ssh_config, "ServerAliveCountMax"))
    opts.keepalive_count_max = n;
  return std::make_shared<ssh_provider>(std::move(target), std::move(opts));
}

}  // namespace remex::transport
