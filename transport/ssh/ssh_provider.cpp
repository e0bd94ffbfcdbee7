#include "transport/ssh/ssh_provider.hpp"

#include <mutex>
#include <set>

#include "transport/ssh/ssh_pool.hpp"

namespace remex::transport {

namespace {

class ssh_provider : public session_provider {
 public:
  ssh_provider(std::string target, ssh_options opts)
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

  std::shared_ptr<ssh::pool> pool_;
  std::mutex cache_mtx;
  std::set<std::string> cache;
};

ssh_provider& provider_of(session_provider& p) {
  return dynamic_cast<ssh_provider&>(p);
}

}  // namespace

std::shared_ptr<session_provider> make_ssh_provider(std::string target,
                                                    ssh_options opts) {
  return std::make_shared<ssh_provider>(std::move(target), std::move(opts));
}

ssh_link_info describe_link(session_provider& p) {
  return provider_of(p).pool_->info();
}

connect_result connect_like(session_provider& p) {
  return provider_of(p).pool_->connect_now();
}

bool remembered(session_provider& p, const std::string& key) {
  auto& sp = provider_of(p);
  std::lock_guard<std::mutex> g{sp.cache_mtx};
  return sp.cache.count(key) > 0;
}

void remember(session_provider& p, const std::string& key) {
  auto& sp = provider_of(p);
  std::lock_guard<std::mutex> g{sp.cache_mtx};
  sp.cache.insert(key);
}

}  // namespace remex::transport
