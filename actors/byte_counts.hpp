// Bytes an execution has moved so far, counted by its stream pumps and read
// by the broker for consoles (ps, stats) while it runs: shared, not sent.
#pragma once

#include <atomic>
#include <cstdint>

namespace remex::actors {

struct byte_counts {
  std::atomic<std::uint64_t> in{0};   // requester → remote (stdin, fds)
  std::atomic<std::uint64_t> out{0};  // remote → requester (stdout, stderr)
};

}  // namespace remex::actors
