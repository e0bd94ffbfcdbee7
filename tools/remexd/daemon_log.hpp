// remexd's logs: one sink (stderr or the log file) shared by the daemon's
// own logger and the actors layer's, so an execution's start and end lines
// and the daemon's lifecycle land in one place.
#pragma once

#include <spdlog/logger.h>

#include <memory>
#include <string>

namespace remex::daemon {

// Empty when fine, else why not (the log file cannot be opened).
std::string start_logging(const std::string& log_file,
                          const std::string& level);

// A new level (SIGHUP); the sink stays.
void set_log_level(const std::string& level);

std::shared_ptr<spdlog::logger> log();

}  // namespace remex::daemon
