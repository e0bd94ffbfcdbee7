#include "actors/broker.hpp"
#include "transport/local/local_provider.hpp"

namespace remex::actors {

std::shared_ptr<transport::session_provider> default_provider(
    const exec_request& req) {
  return transport::make_local_provider();
}

}  // namespace remex::actors
