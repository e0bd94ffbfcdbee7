#include "transport/ssh/ssh_target.hpp"

#include <cstdlib>

namespace remex::transport {

namespace {

bool parse_port(const std::string& s, int& port) {
  if (s.empty() || s.size() > 5) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  port = std::atoi(s.c_str());
  return port > 0 && port < 65536;
}

}  // namespace

bool parse_ssh_target(const std::string& text, ssh_target& out) {
  out = ssh_target{};
  std::string rest = text;
  auto at = rest.rfind('@');
  if (at != std::string::npos) {
    out.user = rest.substr(0, at);
    rest = rest.substr(at + 1);
    if (out.user.empty()) return false;
  }
  if (!rest.empty() && rest[0] == '[') {
    auto close = rest.find(']');
    if (close == std::string::npos) return false;
    out.host = rest.substr(1, close - 1);
    auto tail = rest.substr(close + 1);
    if (!tail.empty()) {
      if (tail[0] != ':' || !parse_port(tail.substr(1), out.port)) return false;
    }
  } else {
    auto colon = rest.find(':');
    // More than one colon: a bare IPv6 address without a port.
    if (colon != std::string::npos && rest.find(':', colon + 1) == rest.npos) {
      if (!parse_port(rest.substr(colon + 1), out.port)) return false;
      rest = rest.substr(0, colon);
    }
    out.host = rest;
  }
  return !out.host.empty();
}

}  // namespace remex::transport
