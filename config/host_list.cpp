#include "config/host_list.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <utility>

namespace remex::config {

namespace {

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isdigit(c) != 0;
  });
}

std::string pad(unsigned long long n, std::size_t width) {
  auto s = std::to_string(n);
  if (s.size() < width) s.insert(0, width - s.size(), '0');
  return s;
}

// "01-03,7" → {"01","02","03","7"}.
bool expand_range_list(const std::string& body, std::vector<std::string>& out,
                       std::string& error) {
  std::size_t start = 0;
  while (start <= body.size()) {
    auto comma = body.find(',', start);
    if (comma == std::string::npos) comma = body.size();
    auto part = body.substr(start, comma - start);
    auto dash = part.find('-');
    auto lo = part.substr(0, dash);
    auto hi = dash == std::string::npos ? lo : part.substr(dash + 1);
    if (!all_digits(lo) || !all_digits(hi) || lo.size() > 18 ||
        hi.size() > 18) {
      error = "bad range '" + part + "' in [" + body + "]";
      return false;
    }
    auto a = std::stoull(lo), b = std::stoull(hi);
    if (a > b) {
      error = "range '" + part + "' goes backwards";
      return false;
    }
    if (b - a >= max_listed_hosts) {
      error = "range '" + part + "' is too large";
      return false;
    }
    for (auto n = a; n <= b; ++n) out.push_back(pad(n, lo.size()));
    start = comma + 1;
  }
  return true;
}

// One name with any number of bracket groups, expanded as a product.
bool expand_name(const std::string& name, std::vector<std::string>& out,
                 std::string& error) {
  std::vector<std::string> acc{""};
  std::size_t i = 0;
  while (i < name.size()) {
    auto open = name.find('[', i);
    auto close = name.find(']', i);
    if (close != std::string::npos &&
        (open == std::string::npos || close < open)) {
      error = "unmatched ']' in '" + name + "'";
      return false;
    }
    auto literal = name.substr(
        i, open == std::string::npos ? std::string::npos : open - i);
    for (auto& a : acc) a += literal;
    if (open == std::string::npos) break;
    if (close == std::string::npos) {
      error = "unmatched '[' in '" + name + "'";
      return false;
    }
    auto body = name.substr(open + 1, close - open - 1);
    if (body.find('[') != std::string::npos) {
      error = "nested '[' in '" + name + "'";
      return false;
    }
    std::vector<std::string> parts;
    if (!expand_range_list(body, parts, error)) return false;
    if (acc.size() * parts.size() > max_listed_hosts) {
      error = "'" + name + "' expands to too many hosts";
      return false;
    }
    std::vector<std::string> next;
    next.reserve(acc.size() * parts.size());
    for (auto& a : acc)
      for (auto& p : parts) next.push_back(a + p);
    acc = std::move(next);
    i = close + 1;
  }
  out.insert(out.end(), acc.begin(), acc.end());
  return true;
}

}  // namespace

std::vector<std::string> split_host_list(const std::string& text) {
  std::vector<std::string> items{""};
  int depth = 0;
  for (char c : text) {
    if (c == '[') ++depth;
    if (c == ']') --depth;
    if (c == ',' && depth == 0)
      items.emplace_back();
    else
      items.back() += c;
  }
  return items;
}

std::vector<std::string> expand_hosts(const std::string& text,
                                      std::string& error) {
  std::vector<std::string> names;
  for (auto& item : split_host_list(text)) {
    if (item.empty()) {
      error = "empty host name in '" + text + "'";
      return {};
    }
    if (!expand_name(item, names, error)) return {};
  }
  if (names.size() > max_listed_hosts) {
    error = "'" + text + "' expands to too many hosts";
    return {};
  }
  std::vector<std::string> unique;
  std::set<std::string> seen;
  for (auto& n : names)
    if (seen.insert(n).second) unique.push_back(n);
  return unique;
}

std::string compress_hosts(std::vector<std::string> hosts) {
  // Key: the name without its trailing digits, and their count (so that
  // web01 and web1 never share a bracket, and every range expands back to
  // exactly its hosts).
  struct group {
    std::string prefix;
    std::size_t width = 0;
    std::vector<unsigned long long> numbers;
  };
  std::vector<group> groups;
  for (auto& h : hosts) {
    auto cut = h.size();
    while (cut > 0 && std::isdigit(static_cast<unsigned char>(h[cut - 1])))
      --cut;
    auto digits = h.substr(cut);
    // Names without a number, or with one too long for a range, stay whole.
    if (digits.empty() || digits.size() > 18 ||
        h.find_first_of("[]") != std::string::npos) {
      groups.push_back({h, 0, {}});
      continue;
    }
    auto prefix = h.substr(0, cut);
    auto it = std::find_if(groups.begin(), groups.end(), [&](const group& g) {
      return g.width == digits.size() && g.prefix == prefix;
    });
    if (it == groups.end()) {
      groups.push_back({prefix, digits.size(), {}});
      it = groups.end() - 1;
    }
    it->numbers.push_back(std::stoull(digits));
  }
  std::string out;
  for (auto& g : groups) {
    if (!out.empty()) out += ',';
    auto& ns = g.numbers;
    if (ns.empty()) {
      out += g.prefix;
      continue;
    }
    std::sort(ns.begin(), ns.end());
    ns.erase(std::unique(ns.begin(), ns.end()), ns.end());
    if (ns.size() == 1) {
      out += g.prefix + pad(ns[0], g.width);
      continue;
    }
    out += g.prefix + '[';
    for (std::size_t i = 0; i < ns.size();) {
      auto j = i;
      while (j + 1 < ns.size() && ns[j + 1] == ns[j] + 1) ++j;
      if (i > 0) out += ',';
      out += pad(ns[i], g.width);
      if (j > i) out += '-' + pad(ns[j], g.width);
      i = j + 1;
    }
    out += ']';
  }
  return out;
}

}  // namespace remex::config
