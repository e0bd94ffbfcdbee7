#include "transport/ssh/ssh_target.hpp"

#include <cctype>
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

// What OpenSSH refuses in a user or host name from the command line: it could
// turn into an option ("-o...") or mean something to a shell that expands
// %h / %r (ProxyCommand, Match exec). Empty when the name is fine.
std::string name_problem(const std::string& what, const std::string& name) {
  if (name.empty()) return "no " + what;
  if (name[0] == '-') return "the " + what + " starts with '-'";
  for (unsigned char c : name) {
    if (c == ' ' || c == '\t') return "the " + what + " contains a space";
    if (std::isspace(c) || std::iscntrl(c))
      return "the " + what + " contains a control character";
    static const std::string refused = "'`\"$\\;&<>|(){},";
    if (refused.find(static_cast<char>(c)) != std::string::npos)
      return "the " + what + " contains '" + std::string(1, char(c)) + "'";
  }
  return {};
}

std::string bad_port(const std::string& s) {
  return "the port '" + s + "' is not a number from 1 to 65535";
}

}  // namespace

std::string check_ssh_target(const std::string& text, ssh_target& out) {
  out = ssh_target{};
  if (text.empty()) return "empty target";
  std::string rest = text;
  auto at = rest.rfind('@');
  if (at != std::string::npos) {
    out.user = rest.substr(0, at);
    rest = rest.substr(at + 1);
    if (auto p = name_problem("user name", out.user); !p.empty()) return p;
  }
  if (!rest.empty() && rest[0] == '[') {
    auto close = rest.find(']');
    if (close == std::string::npos) return "'[' without a closing ']'";
    out.host = rest.substr(1, close - 1);
    auto tail = rest.substr(close + 1);
    if (!tail.empty()) {
      if (tail[0] != ':') return "only ':PORT' may follow ']'";
      if (!parse_port(tail.substr(1), out.port))
        return bad_port(tail.substr(1));
    }
  } else {
    auto colon = rest.find(':');
    // More than one colon: a bare IPv6 address without a port.
    if (colon != std::string::npos && rest.find(':', colon + 1) == rest.npos) {
      if (!parse_port(rest.substr(colon + 1), out.port))
        return bad_port(rest.substr(colon + 1));
      rest = rest.substr(0, colon);
    }
    out.host = rest;
  }
  return name_problem("host name", out.host);
}

bool parse_ssh_target(const std::string& text, ssh_target& out) {
  return check_ssh_target(text, out).empty();
}

}  // namespace remex::transport
