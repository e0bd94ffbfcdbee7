// remexd's settings from its command line and config file (CAF 0.17 INI).
//
// Every key of the file is also a flag: `--group.key=VALUE` (or
// `--group.key VALUE`), e.g. --limits.idle-timeout=30s; the [remexd] keys are
// plain --listen, --name, --token-file, --log-file, --log-level (-v). Values
// on the command line are written as in the file, except that text needs no
// quotes, a bool flag alone means true, and a list flag takes either a whole
// list (--ssh.identities='["a", "b"]') or one element per occurrence
// (--ssh.identities=a --ssh.identities=b). Flags override the file.
//
// Reading is strict: an unknown key or group, a value of the wrong type or
// out of range, or an unreadable or malformed file yields no settings and one
// line naming where and what, e.g.
//   remexd: /etc/remex/remexd.conf:7: limits.idle-timeout: expected a
//   duration like 30s or 5min, got "soon"
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/daemon_settings.hpp"

namespace remex::config {

struct daemon_config {
  std::optional<daemon_settings> settings;  // empty: see error (or help)
  std::string error;                        // one line, no trailing newline
  std::string config_file;  // --config as an absolute path; empty if none
  bool check_only = false;  // --check: validate, report, exit
  bool help = false;        // --help: print daemon_usage, exit 0
};

// args are argv[1..] (without the program name). Reading again with the same
// args is how a reload (SIGHUP) picks up an edited file.
daemon_config read_daemon_settings(const std::vector<std::string>& args);

// The --help text, ending in a newline.
extern const char* const daemon_usage;

}  // namespace remex::config
