// A small generic CBOR value: what the streaming decoder builds for one frame
// before it is checked field by field. Private to protocol/.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace remex::protocol::detail {

struct cbor_value {
  enum kind_t : std::uint8_t {
    uint,     // u
    negint,   // -1 - u
    bytes,    // s
    text,     // s
    array,    // items
    map,      // items: key, value, key, value ...
    boolean,  // u (0/1)
    null,
    undefined,
    floating,  // f
  };
  kind_t kind = null;
  std::uint64_t u = 0;
  double f = 0;
  std::string s;
  std::vector<cbor_value> items;
};

const char* kind_name(cbor_value::kind_t k);

}  // namespace remex::protocol::detail
