// The composition root: the only place in actors/ that knows the concrete
// transports.
#include "actors/broker.hpp"
#include "transport/local/local_provider.hpp"
#include "transport/ssh/agent_transfer.hpp"
#include "transport/ssh/ssh_provider.hpp"

namespace remex::actors {

host_transport default_provider(const exec_request& req) {
  if (req.target.empty()) return {transport::make_local_provider(), {}};
  config::ssh_options opts;
  opts.identity_files = req.connect.identities;
  opts.ssh_config = req.connect.ssh_config;
  opts.known_hosts = req.connect.known_hosts;
  opts.accept_new_host_key = req.connect.accept_new_host_key;
  // Whole seconds, rounded up: libssh takes its timeouts in seconds.
  auto seconds = [](std::uint32_t ms, int otherwise) {
    return ms == 0 ? otherwise : static_cast<int>((ms + 999) / 1000);
  };
  opts.connect_timeout_s =
      seconds(req.connect.connect_timeout_ms, opts.connect_timeout_s);
  opts.keepalive_interval_s =
      seconds(req.connect.keepalive_ms, opts.keepalive_interval_s);
  if (req.connect.max_connections > 0)
    opts.max_connections = static_cast<int>(req.connect.max_connections);
  auto ssh = transport::make_ssh_provider(req.target, std::move(opts));
  agent_shipping shipping;
  shipping.check = [ssh](const transport::agent_bundle& b,
                         std::function<void(transport::agent_placement)> done) {
    transport::check_agent(*ssh, b, std::move(done), &ssh->placements());
  };
  shipping.place = [ssh](const transport::agent_bundle& b) {
    return transport::ensure_agent(*ssh, b);
  };
  return {ssh, std::move(shipping)};
}

}  // namespace remex::actors
