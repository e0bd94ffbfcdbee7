// The ssh_config settings remex reads itself, because libssh cannot report
// them: StrictHostKeyChecking (libssh has no getter, ignores accept-new, and
// reads "no" as "accept any key, changed ones too"), Ciphers (no getter:
// remex must know whether the user chose, before putting its own order), and
// ServerAliveInterval / ServerAliveCountMax (libssh ignores them).
#pragma once

#include <optional>
#include <string>

namespace remex::transport {

// StrictHostKeyChecking for host (as the user wrote it) and user (empty:
// the local user), read the way OpenSSH reads it: config_file alone, else
// ~/.ssh/config then /etc/ssh/ssh_config; the first value obtained wins.
// nullopt when no file sets it.
std::optional<std::string> strict_host_key_checking(
    const std::string& host, const std::string& user,
    const std::string& config_file);

// The same reading for any keyword (case-insensitive): its first value.
std::optional<std::string> ssh_config_value(const std::string& host,
                                            const std::string& user,
                                            const std::string& config_file,
                                            const std::string& keyword);

// Ciphers for host and user, read the same way (the value as written, in
// lower case: a list, maybe with OpenSSH's +, - or ^ in front); nullopt when
// no file sets it.
std::optional<std::string> configured_ciphers(const std::string& host,
                                              const std::string& user,
                                              const std::string& config_file);

}  // namespace remex::transport
