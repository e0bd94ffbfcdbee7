// Command lines for the plain-ssh backend: the request's exact argv, env and
// cwd, made safe for the remote user's shell (sshd runs `$SHELL -c LINE`).
#pragma once

#include <string>

#include "transport/session_provider.hpp"

namespace remex::transport {

// POSIX sh single-quoting: byte-exact for any content, including newlines,
// quotes, non-UTF-8 bytes and the empty string.
std::string shell_quote(const std::string& s);

// `cd DIR && exec env K=V... PATH ARG...` plus an orphan guard: a watcher in
// the command's process group that kills the group when the parent (sshd's
// session, or the local provider) disappears, since a plain exec channel
// that drops leaves its command running. argv[0] is not preserved: the
// program sees PATH as its argv[0], as with any exec through a shell.
std::string ssh_command_line(const command& cmd);

}  // namespace remex::transport
