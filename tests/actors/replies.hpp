// What the broker answered a test's requester: every outcome waiting in its
// mailbox now, without waiting for more.
#pragma once

#include <caf/after.hpp>
#include <chrono>
#include <vector>

#include "actors/outcome.hpp"

namespace remex::test {

template <class Self>
std::vector<actors::outcome> replies_in(Self& self) {
  std::vector<actors::outcome> out;
  bool more = true;
  while (more)
    self->receive([&](actors::outcome& o) { out.push_back(std::move(o)); },
                  caf::after(std::chrono::seconds(0)) >> [&] { more = false; });
  return out;
}

}  // namespace remex::test
