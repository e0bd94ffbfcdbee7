#include "tools/remex/json_text.hpp"

#include <cstdio>

namespace remex::cli {

std::string json_string(const std::string& s) {
  std::string out = "\"";
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  for (std::size_t i = 0; i < s.size();) {
    unsigned char c = byte(i);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          if (c < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    // A valid UTF-8 sequence passes as is; anything else (a stray byte, an
    // overlong form, a surrogate, beyond U+10FFFF) becomes U+FFFD per byte.
    std::size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
    bool valid = len > 0 && c <= 0xf4 && i + len <= s.size();
    for (std::size_t k = 1; valid && k < len; ++k)
      valid = (byte(i + k) & 0xc0) == 0x80;
    if (valid && len == 3) {
      unsigned char c1 = byte(i + 1);
      valid = !(c == 0xe0 && c1 < 0xa0) && !(c == 0xed && c1 >= 0xa0);
    }
    if (valid && len == 4) {
      unsigned char c1 = byte(i + 1);
      valid = !(c == 0xf0 && c1 < 0x90) && !(c == 0xf4 && c1 >= 0x90);
    }
    if (!valid) {
      out += "\\ufffd";
      ++i;
      continue;
    }
    out.append(s, i, len);
    i += len;
  }
  return out + "\"";
}

}  // namespace remex::cli
