#include "tools/remexd/daemon_log.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace remex::daemon {

std::string start_logging(const std::string& log_file,
                          const std::string& level) {
  spdlog::sink_ptr sink;
  try {
    if (log_file.empty())
      sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    else
      sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(log_file);
  } catch (const spdlog::spdlog_ex& e) {
    return "cannot open log file " + log_file + ": " + e.what();
  }
  // Registered before anything logs: actors/log.cpp takes the "actors"
  // logger from the registry when there is one.
  for (auto* name : {"remexd", "actors"}) {
    spdlog::drop(name);
    auto l = std::make_shared<spdlog::logger>(name, sink);
    l->flush_on(spdlog::level::info);
    spdlog::register_logger(l);
  }
  set_log_level(level);
  return {};
}

void set_log_level(const std::string& level) {
  spdlog::set_level(spdlog::level::from_str(level));
}

std::shared_ptr<spdlog::logger> log() {
  static auto l = spdlog::get("remexd");
  return l;
}

}  // namespace remex::daemon
