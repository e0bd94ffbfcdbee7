// Frames every test shares: one of each type with all fields set, and helpers
// to decode a byte string however it is split.
#pragma once

#include <string>
#include <vector>

#include "protocol/codec.hpp"

namespace remex::protocol::test {

// One frame of every type, each with every field its type uses set to a
// non-zero value (negative where the field is signed).
std::vector<frame> full_frames();

// The same types with every field zero.
std::vector<frame> zero_frames();

// Bytes from a hex string ("A2 61 74"; spaces ignored).
std::string unhex(const std::string& hex);
std::string hex(const std::string& bytes);

struct decode_result {
  std::vector<frame> frames;
  frame_decoder::status last = frame_decoder::status::need_more;
  std::string error;
};

// Feeds bytes in chunks of `chunk` bytes (0: all at once), draining frames
// after every feed; with take_over, each chunk is handed over as a string
// (feed(std::string&&)) instead of copied.
decode_result decode_all(const std::string& bytes, std::size_t chunk = 0,
                         bool take_over = false);

// Feeds bytes as two pieces split at `at`.
decode_result decode_split(const std::string& bytes, std::size_t at);

}  // namespace remex::protocol::test
