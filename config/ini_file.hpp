// A CAF 0.17 INI text as a flat list of keys with the lines they are on.
// CAF's own parser does the reading; what it lacks for a strict config file
// is added here: its consumer keeps unknown keys without a word and drops
// the first of two equal keys silently, and it reports no line for a key, so
// nobody could say "line 3: unknown key". This wrapper watches the parser's
// position whenever a key or group is named.
#pragma once

#include <caf/config_value.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace remex::config {

struct ini_entry {
  std::string key;  // "group.key" as written; keys before any [group] bare
  caf::config_value value;
  int line = 0;  // 1-based; 0 if unknown (a key inside a { } map value)
};

struct ini_group {
  std::string name;  // a [name] header, or a top-level `name = { ... }`
  int line = 0;
};

struct ini_contents {
  std::vector<ini_group> groups;   // in file order, repeated headers too
  std::vector<ini_entry> entries;  // in line order
};

struct ini_problem {
  int line = 0;      // 0: not tied to a line
  std::string what;  // "syntax error at column 9: ...", "KEY: given twice..."
};

// Reads text in CAF's INI syntax. A syntax error, a key given twice, or a key
// that is also a group yields nullopt and the problem.
std::optional<ini_contents> parse_ini(std::string_view text,
                                      ini_problem& problem);

// Reads the whole file at path into text: 0, or the errno of what failed
// (ENOENT: no such file; EISDIR: a directory).
int read_text_file(const std::string& path, std::string& text);

}  // namespace remex::config
