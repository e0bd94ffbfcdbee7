// Commands on a plain channel (the ssh backend, and remex's own checks on a
// host): sshd runs `$SHELL -c LINE` with the user's login shell, which may be
// sh, bash, zsh, fish or tcsh. So the line is one fixed `exec /bin/sh -c '…'`
// that every one of them reads alike, and the real script (argv, env values,
// cwd) travels in-band on the channel's stdin ahead of the command's own
// input: nothing of the request is ever re-read by the login shell, and no
// env value appears in any process's argv.
#pragma once

#include <memory>
#include <string>

#include "transport/session_provider.hpp"

namespace remex::transport {

// POSIX sh single-quoting: byte-exact for any content, including newlines,
// quotes, non-UTF-8 bytes and the empty string.
std::string shell_quote(const std::string& s);

// The line sshd hands to the login shell: the same for every script.
const std::string& sh_bootstrap_line();

// What the bootstrap reads from stdin before it runs `script` with /bin/sh.
std::string sh_payload(const std::string& script);

// Runs `script` with /bin/sh on p: the bootstrap line, then the payload
// written ahead of anything the caller writes. The listener's stdin credit
// (on_drained of stream 0) counts only the caller's bytes. Without stdin,
// the script's stdin ends after the payload.
std::shared_ptr<exec_channel> open_sh_script(
    session_provider& p, const std::string& script,
    std::shared_ptr<channel_listener> listener, bool with_stdin = true);

// The plain-ssh backend's script for cmd: `cd DIR && export K=V… && exec
// PATH ARG…`, plus an orphan guard: a watcher in the command's process
// group that kills the group when its parent (sshd's session, or the local
// provider) disappears, since a plain exec channel that drops leaves its
// command running. argv[0] is not preserved: the program sees PATH as its
// argv[0], as with any exec through a shell.
std::string ssh_command_script(const command& cmd);

}  // namespace remex::transport
