#include "tools/remex/console_output.hpp"

#include <algorithm>
#include <cctype>

#include "tools/remex/json_text.hpp"

namespace remex::cli {

namespace {

// Long command lines would push every other column off the screen.
constexpr std::size_t widest_cell = 48;

bool is_number(const std::string& s) {
  return !s.empty() && s.size() < 19 &&
         std::all_of(s.begin(), s.end(),
                     [](unsigned char c) { return std::isdigit(c); });
}

// A sha256 in a table: its start is enough to tell agents apart by eye
// (--json gives all of it).
constexpr std::size_t digest_shown = 12;

std::string cell(const std::string& column, const std::string& s) {
  if (column == "agent" && s.size() == 64) return s.substr(0, digest_shown);
  return s.size() <= widest_cell ? s : s.substr(0, widest_cell - 3) + "...";
}

const std::string* field(const actors::console_row& r, const std::string& k) {
  for (std::size_t i = 0; i < r.keys.size(); ++i)
    if (r.keys[i] == k) return &r.values[i];
  return nullptr;
}

}  // namespace

std::string json_object(const std::vector<std::string>& keys,
                        const std::vector<std::string>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < keys.size() && i < values.size(); ++i) {
    if (i > 0) out += ",";
    out += json_string(keys[i]) + ":" +
           (is_number(values[i]) ? values[i] : json_string(values[i]));
  }
  return out + "}";
}

std::size_t print_rows(const std::vector<actors::console_row>& rows, bool json,
                       std::FILE* out) {
  std::size_t errors = 0;
  std::vector<const actors::console_row*> table;
  for (auto& r : rows) {
    if (auto* why = field(r, "error")) {
      ++errors;
      if (json) {
        std::fprintf(out, "%s\n", json_object(r.keys, r.values).c_str());
      } else {
        auto* node = field(r, "node");
        std::fprintf(stderr, "remex: %s: %s\n", node ? node->c_str() : "?",
                     why->c_str());
      }
      continue;
    }
    if (json)
      std::fprintf(out, "%s\n", json_object(r.keys, r.values).c_str());
    else
      table.push_back(&r);
  }
  if (json) return errors;
  if (table.empty()) {
    if (errors == 0) std::fprintf(out, "(none)\n");
    return errors;
  }
  // Columns: every field any row has, in the order they first appear.
  std::vector<std::string> columns;
  for (auto* r : table)
    for (auto& k : r->keys)
      if (std::find(columns.begin(), columns.end(), k) == columns.end())
        columns.push_back(k);
  std::vector<std::vector<std::string>> lines;
  std::vector<std::string> header;
  for (auto& c : columns) {
    std::string h;
    for (char ch : c)
      h += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    header.push_back(h);
  }
  lines.push_back(header);
  for (auto* r : table) {
    std::vector<std::string> line;
    for (auto& c : columns) {
      auto* v = field(*r, c);
      line.push_back(v ? cell(c, *v) : "-");
    }
    lines.push_back(std::move(line));
  }
  std::vector<std::size_t> width(columns.size(), 0);
  for (auto& l : lines)
    for (std::size_t i = 0; i < l.size(); ++i)
      width[i] = std::max(width[i], l[i].size());
  for (auto& l : lines) {
    std::string text;
    for (std::size_t i = 0; i < l.size(); ++i) {
      text += l[i];
      if (i + 1 < l.size())
        text += std::string(width[i] - l[i].size() + 2, ' ');
    }
    std::fprintf(out, "%s\n", text.c_str());
  }
  return errors;
}

}  // namespace remex::cli
