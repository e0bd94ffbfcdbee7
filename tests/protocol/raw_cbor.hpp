// Raw CBOR for tests: frames our encoder would never write (wrong types,
// nulls, odd widths), built item by item.
#pragma once

#include <cbor.h>

#include <cstdint>
#include <string>

namespace remex::test {

struct raw {
  std::string out;
  unsigned char b[9];
  raw& put(std::size_t n) {
    out.append(reinterpret_cast<char*>(b), n);
    return *this;
  }
  raw& map(std::size_t n) { return put(cbor_encode_map_start(n, b, 9)); }
  raw& array(std::size_t n) { return put(cbor_encode_array_start(n, b, 9)); }
  raw& uint(std::uint64_t v) { return put(cbor_encode_uint(v, b, 9)); }
  // Any integer: major type 1 (-1 - n) below zero.
  raw& sint(std::int64_t v) {
    return v < 0 ? put(cbor_encode_negint(static_cast<std::uint64_t>(-(v + 1)),
                                          b, 9))
                 : uint(static_cast<std::uint64_t>(v));
  }
  raw& null() { return put(cbor_encode_null(b, 9)); }
  raw& text(const std::string& s) {
    put(cbor_encode_string_start(s.size(), b, 9));
    out += s;
    return *this;
  }
  raw& bytes(const std::string& s) {
    put(cbor_encode_bytestring_start(s.size(), b, 9));
    out += s;
    return *this;
  }
};

}  // namespace remex::test
