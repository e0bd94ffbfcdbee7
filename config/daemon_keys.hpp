// The keys of remexd's config file, each with how to check its value and
// store it in daemon_settings. Shared by the file and the command line, so
// that a key means the same, with the same words for a bad value, in both.
#pragma once

#include <caf/config_value.hpp>
#include <string>
#include <string_view>

#include "config/daemon_settings.hpp"

namespace remex::config {

// How a flag's text becomes a value (in the file, CAF's syntax decides).
enum class flag_kind {
  text,    // taken as is: --name=web1, no quotes needed
  toggle,  // alone: true; or =true / =false
  list,    // ["a", "b"] as a whole, or one element per occurrence
  value,   // CAF syntax: 30s, 256
};

struct daemon_key {
  std::string_view name;  // as in the file: "listen", "limits.idle-timeout"
  flag_kind kind;
  // Checks v and stores it; returns what is wrong ("expected ..., got ..."),
  // or "" if nothing is. from_command_line: relative paths are fine there
  // (taken from the working directory), not in a file read by a service.
  std::string (*store)(daemon_settings& s, const caf::config_value& v,
                       bool from_command_line);
};

// The key named `name` as written in the file ("remexd.listen", "listen" and
// "ssh.keepalive" all name keys), or nullptr.
const daemon_key* find_daemon_key(std::string_view name);

// Whether host (an address or "localhost") is on loopback.
bool is_loopback(const std::string& host);

// Whether [name] is a group of remexd's file.
bool is_daemon_group(std::string_view name);

// A value as a user wrote it, for error lines: "soon" quoted, 30s, 5min.
std::string shown(const caf::config_value& v);
std::string in_quotes(std::string_view text);

}  // namespace remex::config
