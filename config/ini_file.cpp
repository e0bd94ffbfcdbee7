#include "config/ini_file.hpp"

#include <algorithm>
#include <caf/config_option_set.hpp>
#include <caf/detail/ini_consumer.hpp>
#include <caf/detail/parser/read_ini.hpp>
#include <caf/parser_state.hpp>
#include <caf/pec.hpp>
#include <caf/settings.hpp>
#include <cerrno>
#include <cstdio>
#include <map>
#include <set>
#include <utility>

namespace remex::config {
namespace {

using dictionary = caf::config_value::dictionary;

// What the wrappers below learn while CAF's parser runs.
class key_lines {
 public:
  key_lines(std::string_view text, const caf::string_parser_state& ps)
      : begin_(text.data()), ps_(ps) {}

  // The parser's own line counter is off by one when the input starts with
  // a newline or stops on one; counting up to its position never is.
  int line() const {
    return 1 + static_cast<int>(std::count(begin_, ps_.i, '\n'));
  }

  void group(const std::string& name) { groups_.push_back({name, line()}); }

  void key(std::string qualified) {
    auto [at, fresh] = lines_.emplace(std::move(qualified), line());
    if (!fresh && !duplicate_)
      duplicate_ =
          ini_problem{line(), at->first + ": given twice (first on line " +
                                  std::to_string(at->second) + ")"};
  }

  int line_of(const std::string& qualified) const {
    auto i = lines_.find(qualified);
    return i == lines_.end() ? 0 : i->second;
  }

  const std::map<std::string, int>& keys() const { return lines_; }
  std::vector<ini_group>& groups() { return groups_; }
  const std::optional<ini_problem>& duplicate() const { return duplicate_; }

 private:
  const char* begin_;
  const caf::string_parser_state& ps_;
  std::map<std::string, int> lines_;
  std::vector<ini_group> groups_;
  std::optional<ini_problem> duplicate_;
};

// Stands in for CAF's ini_category_consumer (one section) and forwards to it.
// The parser hands out pointers to the inner consumer (maps and lists inside
// a value), so this object is only ever created in place, never moved.
class tracked_section {
 public:
  tracked_section(caf::detail::ini_consumer& file, std::string group,
                  key_lines& lines)
      : inner_(file.begin_map()), group_(std::move(group)), lines_(lines) {}

  void key(std::string name) {
    lines_.key(group_ == "global" ? name : group_ + "." + name);
    inner_.key(std::move(name));
  }

  template <class T>
  void value(T&& x) {
    inner_.value(std::forward<T>(x));
  }

  caf::detail::ini_map_consumer begin_map() { return inner_.begin_map(); }
  caf::detail::ini_list_consumer begin_list() { return inner_.begin_list(); }
  void end_map() { inner_.end_map(); }

 private:
  caf::detail::ini_category_consumer inner_;
  std::string group_;
  key_lines& lines_;
};

// Stands in for CAF's ini_consumer (the whole file).
class tracked_file {
 public:
  tracked_file(const caf::config_option_set& no_options, caf::settings& out,
               key_lines& lines)
      : inner_(no_options, out), lines_(lines) {}

  void key(std::string name) {
    // CAF names the part before the first [group] "global" and merges a
    // [global] section into it: neither is a group of ours.
    if (name != "global") lines_.group(name);
    group_ = name;
    inner_.key(std::move(name));
  }

  tracked_section begin_map() { return {inner_, group_, lines_}; }

 private:
  caf::detail::ini_consumer inner_;
  std::string group_ = "global";
  key_lines& lines_;
};

std::string shown_char(char c) {
  if (c >= 0x20 && c < 0x7f) return std::string{"'"} + c + "'";
  char buf[8];
  std::snprintf(buf, sizeof(buf), "0x%02x",
                static_cast<unsigned>(static_cast<unsigned char>(c)));
  return buf;
}

std::string syntax_error(std::string_view text,
                         const caf::string_parser_state& ps) {
  auto pos = static_cast<std::size_t>(ps.i - text.data());
  auto line_start = text.rfind('\n', pos == 0 ? 0 : pos - 1);
  line_start =
      (line_start == std::string_view::npos || pos == 0) ? 0 : line_start + 1;
  auto before = text.substr(line_start, pos - line_start);
  auto column = std::to_string(pos - line_start + 1);
  auto c = ps.current();
  switch (ps.code) {
    case caf::pec::unexpected_character:
    case caf::pec::trailing_character: {
      std::string what =
          "syntax error at column " + column + ": unexpected " + shown_char(c);
      // The usual cause: a bare word where CAF wants "text".
      if (before.find('=') != std::string_view::npos)
        what += " (text values need double quotes)";
      return what;
    }
    case caf::pec::unexpected_newline:
      return "syntax error: unexpected end of line (unterminated string, or "
             "a key without a value?)";
    case caf::pec::unexpected_eof:
      return "syntax error: unexpected end of file (unterminated list or "
             "string?)";
    case caf::pec::integer_overflow:
    case caf::pec::integer_underflow:
    case caf::pec::timespan_overflow:
    case caf::pec::exponent_overflow:
    case caf::pec::exponent_underflow:
      return "syntax error at column " + column + ": number out of range";
    case caf::pec::fractional_timespan:
      return "syntax error at column " + column +
             ": durations take whole numbers (1500ms, not 1.5s)";
    case caf::pec::too_many_characters:
      return "syntax error at column " + column +
             ": 'atoms' hold at most 10 characters (use \"text\")";
    case caf::pec::illegal_escape_sequence:
      return "syntax error at column " + column + ": bad escape sequence";
    default:
      return "syntax error at column " + column + ": " +
             caf::to_string(ps.code);
  }
}

}  // namespace

std::optional<ini_contents> parse_ini(std::string_view text,
                                      ini_problem& problem) {
  caf::string_parser_state ps{text.data(), text.data() + text.size()};
  key_lines lines{text, ps};
  // No declared options: CAF would then drop ill-typed values with a
  // warning nobody can read. Every value is checked by the caller instead.
  caf::config_option_set no_options;
  caf::settings out;
  tracked_file consumer{no_options, out, lines};
  caf::detail::parser::read_ini(ps, consumer);
  if (ps.i != ps.e || ps.code > caf::pec::trailing_character) {
    // Input that ends early ends after the last newline: the line that
    // wants more is the one before.
    int line = lines.line();
    if (ps.i == ps.e && !text.empty() && text.back() == '\n') --line;
    problem = ini_problem{line, syntax_error(text, ps)};
    return std::nullopt;
  }
  if (lines.duplicate()) {
    problem = *lines.duplicate();
    return std::nullopt;
  }
  ini_contents result;
  result.groups = std::move(lines.groups());
  std::set<std::string> seen;
  auto add = [&](std::string key, caf::config_value value, int fallback_line) {
    int line = lines.line_of(key);
    seen.insert(key);
    result.entries.push_back(
        {std::move(key), std::move(value), line ? line : fallback_line});
  };
  for (auto& [name, value] : out) {
    if (auto group = caf::get_if<dictionary>(&value)) {
      // Keys inside a top-level `name = { ... }` have no line of their own.
      int group_line = lines.line_of(name);
      for (auto i = result.groups.begin();
           !group_line && i != result.groups.end(); ++i)
        if (i->name == name) group_line = i->line;
      seen.insert(name);
      for (auto& [key, inner] : *group)
        add(name + "." + key, std::move(inner), group_line);
    } else {
      add(name, std::move(value), 0);
    }
  }
  // CAF lets a later `name = 1` replace a whole [name] group, and ignores a
  // [name] group after a key `name`: whatever got lost that way is an error.
  for (auto& [key, line] : lines.keys())
    if (!seen.count(key)) {
      problem = ini_problem{line, "'" + key.substr(0, key.find('.')) +
                                      "' is both a key and a group"};
      return std::nullopt;
    }
  std::stable_sort(
      result.entries.begin(), result.entries.end(),
      [](const ini_entry& a, const ini_entry& b) { return a.line < b.line; });
  return result;
}

int read_text_file(const std::string& path, std::string& text) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) return errno;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), file)) > 0) text.append(buf, n);
  bool failed = std::ferror(file);
  int err = errno;
  std::fclose(file);
  return failed ? (err ? err : EIO) : 0;
}

}  // namespace remex::config
