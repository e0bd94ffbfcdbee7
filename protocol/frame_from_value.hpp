// Checks a decoded CBOR map field by field and turns it into a frame.
// Private to protocol/.
#pragma once

#include <string>

#include "protocol/cbor_value.hpp"
#include "protocol/frame.hpp"

namespace remex::protocol::detail {

// Returns "" on success, else one line naming the problem.
std::string frame_from_value(cbor_value& v, frame& out);

}  // namespace remex::protocol::detail
