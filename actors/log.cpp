#include "actors/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace remex::actors {

std::shared_ptr<spdlog::logger> log_actors() {
  // Diagnostics go to stderr: stdout belongs to the remote command.
  static auto logger = [] {
    auto l = spdlog::get("actors");
    return l ? l : spdlog::stderr_logger_mt("actors");
  }();
  return logger;
}

void log_remote(const std::string& host, int level, const std::string& msg) {
  auto lvl = level >= 8   ? spdlog::level::err
             : level >= 4 ? spdlog::level::warn
             : level >= 0 ? spdlog::level::info
                          : spdlog::level::debug;
  log_actors()->log(lvl, "source=agent host={} {}", host, msg);
}

}  // namespace remex::actors
