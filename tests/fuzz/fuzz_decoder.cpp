// Feeds arbitrary bytes to frame_decoder in varying chunk sizes. Any frame it
// returns must re-encode and decode back to an equal frame; the same input
// fed whole must yield the same frames and the same outcome.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "protocol/codec.hpp"

using namespace remex::protocol;

namespace {

struct outcome {
  std::vector<frame> frames;
  bool failed = false;
};

outcome decode(const std::uint8_t* data, std::size_t size,
               std::uint8_t split_seed) {
  outcome o;
  frame_decoder d;
  std::size_t at = 0;
  unsigned step = split_seed;
  while (at < size && !o.failed) {
    // Chunk sizes cycle through small and large values, seeded by the input.
    std::size_t n = split_seed == 0 ? size : 1 + (step % 17) * (step % 5);
    step = step * 33 + 7;
    n = std::min(n, size - at);
    d.feed(reinterpret_cast<const char*>(data) + at, n);
    at += n;
    for (;;) {
      frame f;
      auto st = d.next(f);
      if (st == frame_decoder::status::frame) {
        o.frames.push_back(std::move(f));
        continue;
      }
      if (st == frame_decoder::status::error) {
        o.failed = true;
        if (d.error_message().empty()) std::abort();
      }
      break;
    }
  }
  return o;
}

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  if (size == 0) return 0;
  auto split = decode(data + 1, size - 1, data[0]);
  auto whole = decode(data + 1, size - 1, 0);
  check(split.frames == whole.frames, "split and whole decode differ");
  check(split.failed == whole.failed, "split and whole outcome differ");
  for (auto& f : split.frames) {
    auto bytes = encode(f);
    frame_decoder d;
    d.feed(bytes);
    frame g;
    check(d.next(g) == frame_decoder::status::frame, "re-encoded frame fails");
    check(g == f, "re-encoded frame decodes differently");
    check(d.buffered() == 0, "re-encoded frame leaves bytes behind");
  }
  return 0;
}
