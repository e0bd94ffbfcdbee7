// How many of one execution's remote log lines reach remexd's log: a
// burst, then a steady rate; the rest are counted and reported as one line.
// An agent may send log frames without end (a bug, or a hostile one): each
// would be a line in the log file and a message in the supervisor's
// mailbox, and a million of them grew remexd by 330 MB and its log by 1 GB.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <utility>

namespace remex::actors {

class log_budget {
 public:
  using clock = std::chrono::steady_clock;

  log_budget(double burst, double per_second)
      : burst_(burst), rate_(per_second), tokens_(burst) {}

  // True when a line may pass now; else it is counted as dropped.
  bool take(clock::time_point now) {
    std::chrono::duration<double> since = now - refilled_;
    refilled_ = now;
    tokens_ = std::min(burst_, tokens_ + since.count() * rate_);
    if (tokens_ >= 1) {
      tokens_ -= 1;
      return true;
    }
    ++dropped_;
    return false;
  }

  // The lines dropped since the last report, when a second has passed since
  // it (or when final); 0 otherwise.
  std::uint64_t report(clock::time_point now, bool final = false) {
    if (dropped_ == 0 || (!final && now - reported_ < std::chrono::seconds(1)))
      return 0;
    reported_ = now;
    return std::exchange(dropped_, 0);
  }

 private:
  double burst_;
  double rate_;
  double tokens_;
  clock::time_point refilled_ = clock::now();
  clock::time_point reported_ = clock::now();
  std::uint64_t dropped_ = 0;
};

}  // namespace remex::actors
