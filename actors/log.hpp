// The actors layer's logger, and re-logging of the far side's diagnostics
// (agent log frames) with source=agent.
#pragma once

#include <spdlog/logger.h>

#include <memory>
#include <string>

namespace remex::actors {

std::shared_ptr<spdlog::logger> log_actors();

// Re-logs a remote diagnostic; level uses slog numbers (-4 debug ... 8 error).
void log_remote(const std::string& host, int level, const std::string& msg);

}  // namespace remex::actors
