#include "transport/ssh/ssh_connect.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <sstream>
#include <vector>

#include "transport/ssh/cipher_order.hpp"
#include "transport/ssh/ssh_config_reader.hpp"

namespace remex::transport {

namespace {

// The reason only: whoever shows it to a user says where (the CLI writes
// "remex: HOST: reason").
exit_status fail(failure_kind k, const std::string& what) {
  return exit_status::failed_with(k, 255, what);
}

// "ssh-ed25519 SHA256:..." for the server's key.
std::string key_description(ssh_session s) {
  ssh_key key = nullptr;
  if (ssh_get_server_publickey(s, &key) != SSH_OK) return "server's";
  std::string out = ssh_key_type_to_char(ssh_key_type(key));
  unsigned char* hash = nullptr;
  size_t len = 0;
  if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &len) ==
      SSH_OK) {
    if (char* fp =
            ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, len)) {
      out += " " + std::string{fp};
      ssh_string_free_char(fp);
    }
    ssh_clean_pubkey_hash(&hash);
  }
  ssh_key_free(key);
  return out;
}

std::string option_string(ssh_session s, ssh_options_e which) {
  char* v = nullptr;
  if (ssh_options_get(s, which, &v) != SSH_OK || v == nullptr) return {};
  std::string out{v};
  ssh_string_free_char(v);
  return out;
}

// The known_hosts line that names this host (plain entries only: hashed ones
// cannot be matched back without the salt walk, the file is still named).
int known_hosts_line(const std::string& file, const std::string& host,
                     unsigned port) {
  std::string want =
      port == 22 ? host : "[" + host + "]:" + std::to_string(port);
  std::ifstream in{file};
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields{line};
    std::string names;
    fields >> names;
    if (!names.empty() && names[0] == '@') fields >> names;  // @cert-authority
    std::istringstream list{names};
    std::string name;
    while (std::getline(list, name, ','))
      if (name == want) return n;
  }
  return 0;
}

// libssh's error text, or otherwise when it left that empty (as for a host
// name with bytes it refuses, or a ProxyJump line it cannot parse).
std::string error_of(ssh_session s, const char* otherwise) {
  const char* e = ssh_get_error(s);
  return e != nullptr && *e != '\0' ? e : otherwise;
}

// Dead peers must surface as errors within keepalive_interval × count: the
// provider sends an SSH_MSG_IGNORE each interval, and unacknowledged data for
// longer than the user timeout makes the kernel drop the connection.
void tune_socket(int fd, const config::ssh_options& opts) {
  int one = 1;
  int idle = opts.keepalive_interval_s;
  int cnt = opts.keepalive_count_max;
  unsigned user_timeout =
      static_cast<unsigned>(opts.keepalive_interval_s) * (cnt + 1) * 1000u;
  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &idle, sizeof idle);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
  setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout,
             sizeof user_timeout);
}

bool authenticate(ssh_session s, const config::ssh_options& opts,
                  exit_status& failure) {
  int rc = ssh_userauth_none(s, nullptr);
  if (rc == SSH_AUTH_SUCCESS) return true;
  if (rc == SSH_AUTH_ERROR) {
    failure = fail(failure_kind::lost,
                   std::string{"authentication: "} + ssh_get_error(s));
    return false;
  }
  if (const char* sock = std::getenv("SSH_AUTH_SOCK"); sock && *sock) {
    if (ssh_userauth_agent(s, nullptr) == SSH_AUTH_SUCCESS) return true;
  }
  for (auto& file : opts.identity_files) {
    ssh_key key = nullptr;
    // No passphrase prompt: encrypted keys belong in the agent.
    if (ssh_pki_import_privkey_file(file.c_str(), nullptr, nullptr, nullptr,
                                    &key) != SSH_OK)
      continue;
    rc = ssh_userauth_publickey(s, nullptr, key);
    ssh_key_free(key);
    if (rc == SSH_AUTH_SUCCESS) return true;
  }
  if (opts.identity_files.empty() &&
      ssh_userauth_publickey_auto(s, nullptr, nullptr) == SSH_AUTH_SUCCESS)
    return true;
  failure = fail(failure_kind::auth, "authentication failed (publickey)");
  return false;
}

}  // namespace

bool check_host_key(ssh_session s, const config::ssh_options& opts,
                    const std::string& display, exit_status& failure,
                    std::vector<std::string>& notices) {
  auto file = option_string(s, SSH_OPTIONS_KNOWNHOSTS);
  auto host = option_string(s, SSH_OPTIONS_HOST);
  unsigned port = 22;
  ssh_options_get_port(s, &port);
  // With StrictHostKeyChecking 0 (ssh_config "no"), libssh calls a host OK
  // whose key is changed or unknown, recording nothing. The truth first;
  // the policy is ours.
  int strict = 1;
  ssh_options_set(s, SSH_OPTIONS_STRICTHOSTKEYCHECK, &strict);
  switch (ssh_session_is_known_server(s)) {
    case SSH_KNOWN_HOSTS_OK:
      return true;
    case SSH_KNOWN_HOSTS_CHANGED:
    case SSH_KNOWN_HOSTS_OTHER: {
      std::string where = file;
      if (int line = known_hosts_line(file, host, port))
        where += ":" + std::to_string(line);
      failure =
          fail(failure_kind::host_key, "host key changed (known key in " +
                                           where + "); refusing to connect");
      return false;
    }
    case SSH_KNOWN_HOSTS_NOT_FOUND:
    case SSH_KNOWN_HOSTS_UNKNOWN:
      if (opts.accept_new_host_key) {
        if (ssh_session_update_known_hosts(s) == SSH_OK) {
          notices.push_back(
              "remex: " + display + ": warning: permanently added the " +
              key_description(s) + " host key of " +
              (port == 22 ? host : "[" + host + "]:" + std::to_string(port)) +
              " to " + file);
          return true;
        }
        failure =
            fail(failure_kind::host_key, "cannot record the host key in " +
                                             file + ": " + ssh_get_error(s));
        return false;
      }
      failure =
          fail(failure_kind::host_key,
               "unknown host key (not in " + file + "); refusing to connect");
      return false;
    case SSH_KNOWN_HOSTS_ERROR:
      break;
  }
  failure = fail(failure_kind::host_key,
                 std::string{"cannot check the host key: "} + ssh_get_error(s));
  return false;
}

connect_result connect_ssh(const ssh_target& target,
                           const config::ssh_options& opts,
                           const std::string& display) {
  connect_result out;
  ssh_session s = ssh_new();
  if (s == nullptr) {
    out.failure = fail(failure_kind::connect, "out of memory");
    return out;
  }
  auto bad = [&](exit_status st) {
    ssh_disconnect(s);
    ssh_free(s);
    out.failure = std::move(st);
    return out;
  };
  if (ssh_options_set(s, SSH_OPTIONS_HOST, target.host.c_str()) != SSH_OK)
    return bad(fail(failure_kind::connect,
                    "invalid host name '" + target.host +
                        "': " + error_of(s, "libssh refuses it")));
  // libssh skips a config file it cannot open, silently: a named one must
  // be readable.
  if (!opts.ssh_config.empty()) {
    int fd = ::open(opts.ssh_config.c_str(), O_RDONLY | O_CLOEXEC);
    char c;
    if (fd < 0 || ::read(fd, &c, 1) < 0) {
      std::string why = std::strerror(errno);
      if (fd >= 0) ::close(fd);
      return bad(fail(failure_kind::connect, "cannot read ssh config " +
                                                 opts.ssh_config + ": " + why));
    }
    ::close(fd);
  }
  // ssh_config first, so that what the target spells out wins over it.
  if (ssh_options_parse_config(
          s, opts.ssh_config.empty() ? nullptr : opts.ssh_config.c_str()) !=
      SSH_OK)
    return bad(fail(failure_kind::connect,
                    "cannot use ssh config " +
                        (opts.ssh_config.empty() ? std::string{"~/.ssh/config"}
                                                 : opts.ssh_config) +
                        ": " +
                        error_of(s,
                                 "libssh cannot parse a line of it "
                                 "(ProxyJump, ProxyCommand, Match?)")));
  // libssh drops a Port it cannot read and goes to 22; OpenSSH refuses the
  // config ("Badly formatted port number"). An explicit port spares it.
  if (target.port == 0)
    if (auto p = ssh_config_value(target.host, target.user, opts.ssh_config,
                                  "Port")) {
      char* end = nullptr;
      errno = 0;
      auto n = std::strtol(p->c_str(), &end, 10);
      if (p->empty() || *end != '\0' || errno == ERANGE || n < 1 || n > 65535)
        return bad(fail(failure_kind::connect, "ssh config: Port '" +
                                                   p->substr(0, 40) +
                                                   "' is not a port number"));
    }
  // The config may let a new host key in (accept-new, no); a changed one is
  // refused whatever it says (check_host_key).
  config::ssh_options key_opts = opts;
  if (auto v =
          strict_host_key_checking(target.host, target.user, opts.ssh_config))
    if (*v == "accept-new" || *v == "no" || *v == "off" || *v == "false")
      key_opts.accept_new_host_key = true;
  if (!target.user.empty())
    ssh_options_set(s, SSH_OPTIONS_USER, target.user.c_str());
  if (target.port != 0) {
    unsigned port = static_cast<unsigned>(target.port);
    ssh_options_set(s, SSH_OPTIONS_PORT, &port);
  }
  if (!opts.known_hosts.empty())
    ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, opts.known_hosts.c_str());
  long timeout = opts.connect_timeout_s;
  ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout);
  int one = 1;
  ssh_options_set(s, SSH_OPTIONS_NODELAY, &one);
  // Diagnostics go through our failures, not libssh's stderr chatter.
  int quiet = SSH_LOG_NOLOG;
  ssh_options_set(s, SSH_OPTIONS_LOG_VERBOSITY, &quiet);
  // The caller's order, else the user's Ciphers (libssh applied it while
  // parsing the config), else ours: the fastest AEAD for this CPU first.
  std::string ciphers = opts.ciphers;
  if (ciphers.empty() &&
      !configured_ciphers(target.host, target.user, opts.ssh_config))
    ciphers = default_ciphers(cpu_has_aes());
  if (!ciphers.empty()) {
    ssh_options_set(s, SSH_OPTIONS_CIPHERS_C_S, ciphers.c_str());
    ssh_options_set(s, SSH_OPTIONS_CIPHERS_S_C, ciphers.c_str());
  }
  for (auto& f : opts.identity_files)
    ssh_options_set(s, SSH_OPTIONS_ADD_IDENTITY, f.c_str());

  if (ssh_connect(s) != SSH_OK)
    return bad(fail(failure_kind::connect,
                    std::string{"cannot connect: "} + ssh_get_error(s)));
  tune_socket(ssh_get_fd(s), opts);
  exit_status st;
  if (!check_host_key(s, key_opts, display, st, out.notices))
    return bad(std::move(st));
  if (!authenticate(s, opts, st)) return bad(std::move(st));
  out.session = s;
  return out;
}

}  // namespace remex::transport
