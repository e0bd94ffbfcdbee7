#include "transport/local/local_provider.hpp"

#include "transport/local/local_channel.hpp"
#include "transport/poll_loop.hpp"

namespace remex::transport {

namespace {

class local_provider : public session_provider {
 public:
  std::shared_ptr<exec_channel> open_exec(
      std::string command_line, std::vector<std::string> env,
      std::shared_ptr<channel_listener> listener) override {
    return local_channel::start(loop_, {"/bin/sh", "-c", command_line}, env,
                                std::move(listener));
  }

  std::string host() const override { return "local"; }

 private:
  std::shared_ptr<poll_loop> loop_ = poll_loop::make();
};

}  // namespace

std::shared_ptr<session_provider> make_local_provider() {
  return std::make_shared<local_provider>();
}

}  // namespace remex::transport
