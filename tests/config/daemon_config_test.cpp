// remexd's settings as a user meets them: the defaults, a file and flags over
// it, and for everything wrong the one line the user reads.
#define CAF_SUITE daemon_config

#include "config/daemon_config.hpp"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "caf/test/unit_test.hpp"
#include "config/host_groups.hpp"

using namespace remex::config;
using namespace std::chrono_literals;
using strings = std::vector<std::string>;

namespace {

struct fixture {
  std::string dir;
  std::string conf;  // dir + "/remexd.conf"

  fixture() {
    char pattern[] = "/tmp/remex-config-test-XXXXXX";
    dir = mkdtemp(pattern);
    conf = dir + "/remexd.conf";
    setenv("HOME", dir.c_str(), 1);
    unsetenv("XDG_STATE_HOME");
  }

  ~fixture() { std::filesystem::remove_all(dir); }

  void write(const std::string& text) { std::ofstream{conf} << text; }

  // The settings from file text and flags; none when they are refused.
  std::optional<daemon_settings> read(const std::string& text,
                                      strings flags = {}) {
    write(text);
    flags.insert(flags.begin(), {"--config", conf});
    auto result = read_daemon_settings(flags);
    if (!result.settings) CAF_MESSAGE("refused: " << result.error);
    return result.settings;
  }

  // The error line for file text and flags (none if they were accepted).
  std::string error(const std::string& text, strings flags = {}) {
    write(text);
    flags.insert(flags.begin(), {"--config", conf});
    auto result = read_daemon_settings(flags);
    CAF_CHECK(!result.settings);
    return result.error;
  }

  std::string flag_error(const strings& flags) {
    auto result = read_daemon_settings(flags);
    CAF_CHECK(!result.settings);
    return result.error;
  }
};

std::string host_name() {
  char buf[256] = {};
  gethostname(buf, sizeof(buf) - 1);
  return buf;
}

}  // namespace

CAF_TEST_FIXTURE_SCOPE(daemon_config_tests, fixture)

CAF_TEST(defaults without file or flags) {
  auto result = read_daemon_settings({});
  CAF_REQUIRE(result.settings);
  CAF_CHECK(!result.help);
  CAF_CHECK(!result.check_only);
  CAF_CHECK_EQUAL(result.config_file, "");
  auto& s = *result.settings;
  CAF_CHECK_EQUAL(s.listen_host, "127.0.0.1");
  CAF_CHECK_EQUAL(s.listen_port, 7411u);
  CAF_CHECK_EQUAL(s.name, host_name());
  CAF_CHECK_EQUAL(s.token_file, dir + "/.local/state/remex/token");
  CAF_CHECK_EQUAL(s.log_file, "");
  CAF_CHECK_EQUAL(s.log_level, "info");
  CAF_CHECK_EQUAL(s.ssh.config_file, "");
  CAF_CHECK_EQUAL(s.ssh.known_hosts, "");
  CAF_CHECK(s.ssh.identities.empty());
  CAF_CHECK(!s.ssh.accept_new_host_key);
  CAF_CHECK(s.ssh.connect_timeout == 10s);
  CAF_CHECK(s.ssh.keepalive == 5s);
  CAF_CHECK_EQUAL(s.limits.max_executions, 256u);
  CAF_CHECK_EQUAL(s.limits.credit_window, 1024u * 1024u);
  CAF_CHECK(s.limits.idle_timeout == 5min);
  CAF_CHECK(s.limits.shutdown_grace == 10s);
  CAF_CHECK(s.agent.env_keep.empty());
  CAF_CHECK(s.agent.env_remove.empty());
  CAF_CHECK(!s.agent.persistent);
  CAF_CHECK_EQUAL(s.agent.max_per_agent, 256u);
  // An empty file is the defaults too.
  CAF_CHECK(read("; nothing set\n"));
}

CAF_TEST(the token file follows XDG_STATE_HOME when it is absolute) {
  CAF_CHECK_EQUAL(default_token_file(), dir + "/.local/state/remex/token");
  setenv("XDG_STATE_HOME", "/var/lib/x", 1);
  CAF_CHECK_EQUAL(default_token_file(), "/var/lib/x/remex/token");
  CAF_CHECK_EQUAL(daemon_settings{}.token_file, "/var/lib/x/remex/token");
  setenv("XDG_STATE_HOME", "relative/state", 1);
  CAF_CHECK_EQUAL(default_token_file(), dir + "/.local/state/remex/token");
}

CAF_TEST(every key from the file) {
  auto s = read(R"(; top-level keys are the [remexd] group's
listen = "[::1]:7500"
name = "node-a"
token-file = "~/secret/token"
log-file = "/var/log/remexd.log"
log-level = "debug"
record-dir = "~/recordings"

[ssh]
config-file = "/etc/remex/ssh_config"
known-hosts = "~/.ssh/known_hosts.remex"
identities = ["~/.ssh/id_ed25519", "/keys/deploy"]
accept-new-host-key = true
connect-timeout = 3s
keepalive = 500ms

[limits]
max-executions = 16
credit-window = 65536
idle-timeout = 1h
shutdown-grace = 0s

[agent]
env-keep = ["LANG", "LC_*"]
env-remove = ["AWS_*"]
)");
  CAF_REQUIRE(s);
  CAF_CHECK_EQUAL(s->listen_host, "::1");
  CAF_CHECK_EQUAL(s->listen_port, 7500u);
  CAF_CHECK_EQUAL(s->name, "node-a");
  CAF_CHECK_EQUAL(s->token_file, dir + "/secret/token");
  CAF_CHECK_EQUAL(s->log_file, "/var/log/remexd.log");
  CAF_CHECK_EQUAL(s->log_level, "debug");
  CAF_CHECK_EQUAL(s->record_dir, dir + "/recordings");
  CAF_CHECK_EQUAL(s->ssh.config_file, "/etc/remex/ssh_config");
  CAF_CHECK_EQUAL(s->ssh.known_hosts, dir + "/.ssh/known_hosts.remex");
  CAF_CHECK_EQUAL(s->ssh.identities,
                  (strings{dir + "/.ssh/id_ed25519", "/keys/deploy"}));
  CAF_CHECK(s->ssh.accept_new_host_key);
  CAF_CHECK(s->ssh.connect_timeout == 3s);
  CAF_CHECK(s->ssh.keepalive == 500ms);
  CAF_CHECK_EQUAL(s->limits.max_executions, 16u);
  CAF_CHECK_EQUAL(s->limits.credit_window, 65536u);
  CAF_CHECK(s->limits.idle_timeout == 1h);
  CAF_CHECK(s->limits.shutdown_grace == 0s);
  CAF_CHECK_EQUAL(s->agent.env_keep, (strings{"LANG", "LC_*"}));
  CAF_CHECK_EQUAL(s->agent.env_remove, (strings{"AWS_*"}));
}

CAF_TEST(the remexd group holds the same keys as the top level) {
  auto s = read(
      "[remexd]\nlisten = \"localhost:9000\"\nname = \"b\"\n"
      "log-level = \"warn\"\n");
  CAF_REQUIRE(s);
  CAF_CHECK_EQUAL(s->listen_host, "localhost");
  CAF_CHECK_EQUAL(s->listen_port, 9000u);
  CAF_CHECK_EQUAL(s->name, "b");
  CAF_CHECK_EQUAL(s->log_level, "warn");
  CAF_CHECK_EQUAL(
      error("listen = \"127.0.0.1:1\"\n[remexd]\n"
            "listen = \"127.0.0.1:2\"\n"),
      "remexd: " + conf + ":3: remexd.listen: given twice (first on line 1)");
}

CAF_TEST(flags override the file) {
  auto s = read(
      "name = \"from-file\"\nlog-level = \"error\"\n[limits]\n"
      "idle-timeout = 1min\nmax-executions = 8\n[ssh]\n"
      "identities = [\"/file/key\"]\naccept-new-host-key = true\n",
      {"--name", "from-flag", "-v", "trace", "--limits.idle-timeout=30s",
       "--listen=127.0.0.2:7000", "--ssh.accept-new-host-key=false",
       "--check"});
  CAF_REQUIRE(s);
  CAF_CHECK_EQUAL(s->name, "from-flag");
  CAF_CHECK_EQUAL(s->log_level, "trace");
  CAF_CHECK(s->limits.idle_timeout == 30s);
  CAF_CHECK_EQUAL(s->limits.max_executions, 8u);  // from the file
  CAF_CHECK_EQUAL(s->listen_host, "127.0.0.2");
  CAF_CHECK_EQUAL(s->listen_port, 7000u);
  CAF_CHECK(!s->ssh.accept_new_host_key);
  CAF_CHECK_EQUAL(s->ssh.identities, strings{"/file/key"});
  // Every key has a flag, with or without '='.
  auto r = read_daemon_settings({"--log-level",
                                 "off",
                                 "--token-file=/t",
                                 "--log-file",
                                 "/l",
                                 "--ssh.config-file",
                                 "/c",
                                 "--ssh.known-hosts=/k",
                                 "--ssh.accept-new-host-key",
                                 "--ssh.connect-timeout=2s",
                                 "--ssh.keepalive",
                                 "1min",
                                 "--limits.max-executions=3",
                                 "--limits.credit-window",
                                 "4096",
                                 "--limits.shutdown-grace=250ms",
                                 "--remexd.name=n",
                                 "--agent.env-remove=X_*",
                                 "--agent.persistent",
                                 "--agent.max-per-agent=9"});
  CAF_REQUIRE(r.settings);
  CAF_CHECK_EQUAL(r.settings->log_level, "off");
  CAF_CHECK_EQUAL(r.settings->token_file, "/t");
  CAF_CHECK_EQUAL(r.settings->log_file, "/l");
  CAF_CHECK_EQUAL(r.settings->ssh.config_file, "/c");
  CAF_CHECK_EQUAL(r.settings->ssh.known_hosts, "/k");
  CAF_CHECK(r.settings->ssh.accept_new_host_key);
  CAF_CHECK(r.settings->ssh.connect_timeout == 2s);
  CAF_CHECK(r.settings->ssh.keepalive == 1min);
  CAF_CHECK_EQUAL(r.settings->limits.max_executions, 3u);
  CAF_CHECK_EQUAL(r.settings->limits.credit_window, 4096u);
  CAF_CHECK(r.settings->limits.shutdown_grace == 250ms);
  CAF_CHECK_EQUAL(r.settings->name, "n");
  CAF_CHECK(r.settings->agent.persistent);
  CAF_CHECK_EQUAL(r.settings->agent.max_per_agent, 9u);
  CAF_CHECK_EQUAL(r.settings->agent.env_remove, strings{"X_*"});
}

CAF_TEST(list flags repeat or take a whole list and replace the file) {
  auto s = read(
      "[ssh]\nidentities = [\"/file/key\"]\n[agent]\n"
      "env-keep = [\"A\"]\n",
      {"--ssh.identities=/a", "--ssh.identities", "/b",
       "--agent.env-keep=[\"LC_*\", \"TZ\"]"});
  CAF_REQUIRE(s);
  CAF_CHECK_EQUAL(s->ssh.identities, (strings{"/a", "/b"}));
  CAF_CHECK_EQUAL(s->agent.env_keep, (strings{"LC_*", "TZ"}));
  // A whole list restarts the gathering; later elements add to it.
  auto r = read_daemon_settings(
      {"--agent.env-keep=X", "--agent.env-keep=[]", "--agent.env-keep=Y"});
  CAF_REQUIRE(r.settings);
  CAF_CHECK_EQUAL(r.settings->agent.env_keep, strings{"Y"});
  // Relative paths on the command line mean the working directory.
  r = read_daemon_settings({"--ssh.identities=key", "--token-file", "tok"});
  CAF_REQUIRE(r.settings);
  auto cwd = std::filesystem::current_path().string();
  CAF_CHECK_EQUAL(r.settings->ssh.identities, strings{cwd + "/key"});
  CAF_CHECK_EQUAL(r.settings->token_file, cwd + "/tok");
}

CAF_TEST(durations in CAF syntax) {
  auto s = read(
      "[ssh]\nconnect-timeout = 100ms\nkeepalive = 2min\n"
      "[limits]\nidle-timeout = 1h\nshutdown-grace = 500us\n");
  CAF_REQUIRE(s);
  CAF_CHECK(s->ssh.connect_timeout == 100ms);
  CAF_CHECK(s->ssh.keepalive == 2min);
  CAF_CHECK(s->limits.idle_timeout == 1h);
  CAF_CHECK(s->limits.shutdown_grace == 1ms);  // rounded up, never to 0
}

CAF_TEST(check help and the config path) {
  write("");
  auto r = read_daemon_settings({"--check", "--config", conf});
  CAF_CHECK(r.settings);
  CAF_CHECK(r.check_only);
  CAF_CHECK_EQUAL(r.config_file, conf);
  r = read_daemon_settings({"--bogus", "--help"});
  CAF_CHECK(r.help);
  CAF_CHECK(!r.settings);
  CAF_CHECK_EQUAL(r.error, "");
  CAF_CHECK(std::string{daemon_usage}.find("--limits.idle-timeout") !=
            std::string::npos);
  auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir);
  r = read_daemon_settings({"--config=remexd.conf"});
  std::filesystem::current_path(cwd);
  CAF_CHECK(r.settings);
  CAF_CHECK_EQUAL(r.config_file, conf);
}

CAF_TEST(unknown keys and groups name the file line and key) {
  CAF_CHECK_EQUAL(error("[limits]\nidle-timout = 30s\n"),
                  "remexd: " + conf + ":2: unknown key 'limits.idle-timout'");
  CAF_CHECK_EQUAL(error("\n\nlistn = \"127.0.0.1:1\"\n"),
                  "remexd: " + conf + ":3: unknown key 'listn'");
  CAF_CHECK_EQUAL(error("[remexd]\nidentities = [\"/a\"]\n"),
                  "remexd: " + conf + ":2: unknown key 'remexd.identities'");
  CAF_CHECK_EQUAL(error("identities = [\"/a\"]\n"),
                  "remexd: " + conf + ":1: unknown key 'identities'");
  CAF_CHECK_EQUAL(error("[ssh]\nkeepalive = 1s\n[sssh]\nkeepalive = 2s\n"),
                  "remexd: " + conf + ":3: unknown group [sssh]");
  CAF_CHECK_EQUAL(error("[ssh]\n[empty]\n"),
                  "remexd: " + conf + ":2: unknown group [empty]");
  CAF_CHECK_EQUAL(error("[ssh.extra]\nx = 1\n"),
                  "remexd: " + conf + ":1: unknown key 'ssh.extra'");
  CAF_CHECK_EQUAL(
      error("[ssh]\nkeepalive = 1s\nkeepalive = 2s\n"),
      "remexd: " + conf + ":3: ssh.keepalive: given twice (first on line 2)");
  CAF_CHECK_EQUAL(flag_error({"--limits.idle-timout=30s"}),
                  "remexd: command line: unknown option "
                  "'--limits.idle-timout' (see remexd --help)");
  CAF_CHECK_EQUAL(flag_error({"-x"}),
                  "remexd: command line: unknown option "
                  "'-x' (see remexd --help)");
  CAF_CHECK_EQUAL(flag_error({"run"}),
                  "remexd: command line: unexpected argument 'run'");
  CAF_CHECK_EQUAL(flag_error({"--name"}),
                  "remexd: command line: --name: missing value");
  CAF_CHECK_EQUAL(flag_error({"--config", "/a", "--config", "/b"}),
                  "remexd: command line: --config: given twice");
}

CAF_TEST(a bad value of each type names the key and what was expected) {
  auto at = [&](int line, const std::string& what) {
    return "remexd: " + conf + ":" + std::to_string(line) + ": " + what;
  };
  CAF_CHECK_EQUAL(error("[limits]\nidle-timeout = \"soon\"\n"),
                  at(2,
                     "limits.idle-timeout: expected a duration like 30s "
                     "or 5min, got \"soon\""));
  CAF_CHECK_EQUAL(error("[limits]\nidle-timeout = 30\n"),
                  at(2,
                     "limits.idle-timeout: expected a duration like 30s "
                     "or 5min, got 30"));
  CAF_CHECK_EQUAL(error("[ssh]\nkeepalive = -5s\n"),
                  at(2,
                     "ssh.keepalive: expected a duration above 0s, got "
                     "-5s"));
  CAF_CHECK_EQUAL(error("[ssh]\nconnect-timeout = 0s\n"),
                  at(2,
                     "ssh.connect-timeout: expected a duration above 0s, "
                     "got 0s"));
  CAF_CHECK_EQUAL(error("[limits]\nshutdown-grace = -1ms\n"),
                  at(2,
                     "limits.shutdown-grace: expected a duration of 0s or "
                     "more, got -1ms"));
  CAF_CHECK_EQUAL(error("[limits]\nmax-executions = -3\n"),
                  at(2,
                     "limits.max-executions: expected a whole number of "
                     "at least 1, got -3"));
  CAF_CHECK_EQUAL(error("[limits]\nmax-executions = 0\n"),
                  at(2,
                     "limits.max-executions: expected a whole number of "
                     "at least 1, got 0"));
  CAF_CHECK_EQUAL(error("[limits]\ncredit-window = 1.5\n"),
                  at(2,
                     "limits.credit-window: expected a number of bytes of "
                     "at least 1, got 1.5"));
  CAF_CHECK_EQUAL(error("[ssh]\naccept-new-host-key = \"yes\"\n"),
                  at(2,
                     "ssh.accept-new-host-key: expected true or false, "
                     "got \"yes\""));
  CAF_CHECK_EQUAL(error("name = 42\n"),
                  at(1, "name: expected text in double quotes, got 42"));
  CAF_CHECK_EQUAL(error("name = \"\"\n"), at(1, "name: must not be empty"));
  CAF_CHECK_EQUAL(error("log-level = \"loud\"\n"),
                  at(1,
                     "log-level: expected one of trace, debug, info, warn, "
                     "error, critical, off, got \"loud\""));
  CAF_CHECK_EQUAL(error("token-file = \"state/token\"\n"),
                  at(1,
                     "token-file: expected an absolute path or one "
                     "starting with ~/, got \"state/token\""));
  CAF_CHECK_EQUAL(error("[ssh]\nidentities = \"/a\"\n"),
                  at(2,
                     "ssh.identities: expected a list of texts like "
                     "[\"a\", \"b\"], got \"/a\""));
  CAF_CHECK_EQUAL(error("[agent]\nenv-keep = [\"A\", 1]\n"),
                  at(2,
                     "agent.env-keep: expected a list of texts like "
                     "[\"a\", \"b\"], got [\"A\", 1]"));
  CAF_CHECK_EQUAL(error("[agent]\nenv-keep = { a = 1 }\n"),
                  at(2,
                     "agent.env-keep: expected a list of texts like "
                     "[\"a\", \"b\"], got a group { ... }"));
  CAF_CHECK_EQUAL(error("[agent]\nenv-remove = [\"/TOKEN$/\", \"/[bad/\"]\n"),
                  at(2,
                     "agent.env-remove: \"/[bad/\" is not a valid regular "
                     "expression: Unmatched [, [^, [:, [., or [="));
  // A value on the command line is refused in the same words.
  CAF_CHECK_EQUAL(flag_error({"--limits.idle-timeout=soon"}),
                  "remexd: command line: --limits.idle-timeout: expected a "
                  "duration like 30s or 5min, got \"soon\"");
  CAF_CHECK_EQUAL(flag_error({"--limits.max-executions", "-3"}),
                  "remexd: command line: --limits.max-executions: expected a "
                  "whole number of at least 1, got -3");
  CAF_CHECK_EQUAL(flag_error({"-v", "loud"}),
                  "remexd: command line: -v: expected one of trace, debug, "
                  "info, warn, error, critical, off, got \"loud\"");
  CAF_CHECK_EQUAL(flag_error({"--ssh.accept-new-host-key=yes"}),
                  "remexd: command line: --ssh.accept-new-host-key: expected "
                  "true or false, got \"yes\"");
  CAF_CHECK_EQUAL(flag_error({"--ssh.identities=[a, b]"}),
                  "remexd: command line: --ssh.identities: expected a list of "
                  "texts like [\"a\", \"b\"], got \"[a, b]\"");
  // A value is read before any flag is looked at: the file's fault is the
  // file's, even when a flag would replace it.
  CAF_CHECK_EQUAL(error("name = 1\n", {"--name", "ok"}),
                  at(1, "name: expected text in double quotes, got 1"));
}

CAF_TEST(listen addresses) {
  auto listen = [&](const std::string& value) {
    return read_daemon_settings({"--listen", value});
  };
  for (auto ok : {"127.0.0.1:1", "127.9.8.7:65535", "localhost:7411",
                  "[::1]:7411", "[::ffff:127.0.0.1]:80"})
    CAF_CHECK_EQUAL(listen(ok).error, "");
  auto r = listen("[::1]:7411");
  CAF_REQUIRE(r.settings);
  CAF_CHECK_EQUAL(r.settings->listen_host, "::1");
  auto bad = [](const std::string& value) {
    return "remexd: command line: --listen: expected HOST:PORT like "
           "127.0.0.1:7411 or [::1]:7411, got \"" +
           value + "\"";
  };
  for (auto value : {"127.0.0.1", "127.0.0.1:", ":7411", "127.0.0.1:http",
                     "[::1]7411", "[::1", "[nonsense]:1", "127.0.0.1:-1"})
    CAF_CHECK_EQUAL(listen(value).error, bad(value));
  CAF_CHECK_EQUAL(listen("127.0.0.1:65536").error,
                  "remexd: command line: --listen: expected a port from 1 to "
                  "65535, got \"127.0.0.1:65536\"");
  CAF_CHECK_EQUAL(listen("127.0.0.1:0").error,
                  "remexd: command line: --listen: expected a port from 1 to "
                  "65535, got \"127.0.0.1:0\"");
  CAF_CHECK_EQUAL(listen("::1:7411").error,
                  "remexd: command line: --listen: IPv6 addresses need "
                  "brackets, like [::1]:7411, got \"::1:7411\"");
  auto off_loopback = [](const std::string& where, const std::string& value) {
    return "remexd: " + where + "\"" + value +
           "\" is not on loopback: off loopback remexd needs --tls-cert, "
           "--tls-key and --tls-ca (mutual TLS with a CA)";
  };
  for (auto value : {"0.0.0.0:7411", "10.1.2.3:7411", "[::]:7411",
                     "example.com:7411", "128.0.0.1:7411"})
    CAF_CHECK_EQUAL(listen(value).error,
                    off_loopback("command line: --listen: ", value));
  CAF_CHECK_EQUAL(error("[remexd]\nlisten = \"0.0.0.0:7411\"\n"),
                  off_loopback(conf + ":2: remexd.listen: ", "0.0.0.0:7411"));
  // With the three TLS files, off loopback is fine; with some, not.
  auto tls = read_daemon_settings({"--listen", "0.0.0.0:7411", "--tls-cert",
                                   "/c", "--tls-key", "/k", "--tls-ca", "/a"});
  CAF_REQUIRE(tls.settings);
  CAF_CHECK_EQUAL(tls.settings->listen_host, "0.0.0.0");
  CAF_CHECK_EQUAL(tls.settings->tls_ca, "/a");
  CAF_CHECK_EQUAL(
      read_daemon_settings({"--tls-cert", "/c", "--tls-key", "/k"}).error,
      "remexd: tls-cert, tls-key and tls-ca go together: tls-ca "
      "is missing");
}

CAF_TEST(cluster keys) {
  auto r = read_daemon_settings({"--peer", "127.0.0.1:1", "--peer=[::1]:2",
                                 "--serves", "web*", "--serves", "db1"});
  CAF_REQUIRE(r.settings);
  CAF_CHECK_EQUAL(r.settings->peers,
                  (std::vector<std::string>{"127.0.0.1:1", "[::1]:2"}));
  CAF_CHECK_EQUAL(r.settings->serves,
                  (std::vector<std::string>{"web*", "db1"}));
  // CAF_CHECK_EQUAL keeps a reference to its argument past the statement:
  // a member of a temporary would dangle.
  auto defaults = read_daemon_settings({});
  CAF_REQUIRE(defaults.settings);
  CAF_CHECK_EQUAL(defaults.settings->serves, (std::vector<std::string>{"*"}));
  CAF_CHECK_EQUAL(read_daemon_settings({"--peer", "nowhere"}).error,
                  "remexd: command line: --peer: expected HOST:PORT like "
                  "127.0.0.1:7411 or [::1]:7411, got \"nowhere\"");
}

CAF_TEST(serves may name a host group) {
  auto r = read_daemon_settings(
      {"--groups.web=web[1-2]", "--serves=@web", "--serves=db*"});
  CAF_REQUIRE(r.settings);
  std::string error;
  CAF_CHECK_EQUAL(
      expand_group_patterns(r.settings->serves, r.settings->groups, error),
      (std::vector<std::string>{"web1", "web2", "db*"}));
  CAF_CHECK_EQUAL(error, "");
  CAF_CHECK_EQUAL(read_daemon_settings({"--serves=@nope"}).error,
                  "remexd: serves: unknown group 'nope'");
}

CAF_TEST(unreadable and malformed files) {
  CAF_CHECK_EQUAL(flag_error({"--config", dir + "/missing.conf"}),
                  "remexd: " + dir +
                      "/missing.conf: cannot read: No such file or directory");
  CAF_CHECK_EQUAL(flag_error({"--config", dir}),
                  "remexd: " + dir + ": cannot read: Is a directory");
  auto at = [&](int line, const std::string& what) {
    return "remexd: " + conf + ":" + std::to_string(line) + ": " + what;
  };
  CAF_CHECK_EQUAL(error("\n\n[remexd]\nlisten = 127.0.0.1:7411\n"),
                  at(4,
                     "syntax error at column 15: unexpected '.' (text "
                     "values need double quotes)"));
  CAF_CHECK_EQUAL(error("[limits]\nidle-timeout = soon\n"),
                  at(2,
                     "syntax error at column 16: unexpected 's' (text "
                     "values need double quotes)"));
  CAF_CHECK_EQUAL(error("name = \"abc\nlog-level = \"info\"\n"),
                  at(1,
                     "syntax error: unexpected end of line (unterminated "
                     "string, or a key without a value?)"));
  CAF_CHECK_EQUAL(error("[ssh]\nidentities = [\"/a\"\n"),
                  at(2,
                     "syntax error: unexpected end of file (unterminated "
                     "list or string?)"));
  CAF_CHECK_EQUAL(error("[ssh\nkeepalive = 1s\n"),
                  at(1,
                     "syntax error: unexpected end of line (unterminated "
                     "string, or a key without a value?)"));
  CAF_CHECK_EQUAL(error("[ssh]\nkeepalive = 1.5s\n"),
                  at(2,
                     "syntax error at column 16: durations take whole "
                     "numbers (1500ms, not 1.5s)"));
  CAF_CHECK_EQUAL(error("ssh = 1\n[ssh]\nkeepalive = 1s\n"),
                  at(3, "'ssh' is both a key and a group"));
}

CAF_TEST(the example file shows every key with its default) {
  std::ifstream in{REMEX_SOURCE_DIR "/tools/remexd/remexd.conf.example"};
  CAF_REQUIRE(in);
  std::ostringstream text;
  std::regex commented_key{"^; ([a-z-]+ = .*)$"};
  int keys = 0;
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_match(line, m, commented_key)) {
      line = m[1];
      ++keys;
    }
    text << line << '\n';
  }
  CAF_CHECK_EQUAL(keys, 29);  // 26 keys, 3 example groups
  auto s = read(text.str());
  CAF_REQUIRE(s);
  daemon_settings d;
  CAF_CHECK_EQUAL(s->listen_host, d.listen_host);
  CAF_CHECK_EQUAL(s->listen_port, d.listen_port);
  CAF_CHECK_EQUAL(s->name, "web1");  // stands for the host name
  CAF_CHECK_EQUAL(s->token_file, d.token_file);
  CAF_CHECK_EQUAL(s->log_file, d.log_file);
  CAF_CHECK_EQUAL(s->log_level, d.log_level);
  CAF_CHECK_EQUAL(s->record_dir, d.record_dir);
  CAF_CHECK_EQUAL(s->secret_env, d.secret_env);
  CAF_CHECK_EQUAL(s->ssh.config_file, d.ssh.config_file);
  CAF_CHECK_EQUAL(s->ssh.known_hosts, d.ssh.known_hosts);
  CAF_CHECK_EQUAL(s->ssh.identities, d.ssh.identities);
  CAF_CHECK_EQUAL(s->ssh.accept_new_host_key, d.ssh.accept_new_host_key);
  CAF_CHECK(s->ssh.connect_timeout == d.ssh.connect_timeout);
  CAF_CHECK(s->ssh.keepalive == d.ssh.keepalive);
  CAF_CHECK_EQUAL(s->limits.max_executions, d.limits.max_executions);
  CAF_CHECK_EQUAL(s->limits.credit_window, d.limits.credit_window);
  CAF_CHECK(s->limits.idle_timeout == d.limits.idle_timeout);
  CAF_CHECK(s->limits.shutdown_grace == d.limits.shutdown_grace);
  CAF_CHECK_EQUAL(s->agent.env_keep, d.agent.env_keep);
  CAF_CHECK_EQUAL(s->agent.env_remove, d.agent.env_remove);
  CAF_CHECK(d.groups.empty());
  CAF_CHECK_EQUAL(s->groups.size(), 3u);
  CAF_CHECK_EQUAL(s->groups["all"], "@web,@db");
  CAF_CHECK_EQUAL(s->peers, d.peers);
  CAF_CHECK_EQUAL(s->serves, d.serves);
  CAF_CHECK_EQUAL(s->tls_cert, d.tls_cert);
  CAF_CHECK_EQUAL(s->tls_key, d.tls_key);
  CAF_CHECK_EQUAL(s->tls_ca, d.tls_ca);
  CAF_CHECK_EQUAL(s->agent.persistent, d.agent.persistent);
  CAF_CHECK_EQUAL(s->agent.max_per_agent, d.agent.max_per_agent);
}

CAF_TEST(groups take any name and a host list) {
  auto s = read(
      "[ssh]\nkeepalive = 1s\n[groups]\nweb = \"web[01-20]\"\n"
      "db = \"db[1-3,7],dbx\"\nall = \"@web,@db\"\n",
      {"--groups.extra=x[1-2]", "--groups.db=db9"});
  CAF_REQUIRE(s);
  CAF_CHECK_EQUAL(s->groups.size(), 4u);
  CAF_CHECK_EQUAL(s->groups["web"], "web[01-20]");
  CAF_CHECK_EQUAL(s->groups["db"], "db9");  // the flag wins
  CAF_CHECK_EQUAL(s->groups["extra"], "x[1-2]");
  CAF_CHECK(read("[groups]\n")->groups.empty());
}

CAF_TEST(bad groups name the file line) {
  auto at = [&](int line, const std::string& what) {
    return "remexd: " + conf + ":" + std::to_string(line) + ": " + what;
  };
  CAF_CHECK_EQUAL(error("[groups]\nweb = \"web[01-\"\n"),
                  at(2,
                     "groups.web: bad host list \"web[01-\": unmatched "
                     "'[' in 'web[01-'"));
  CAF_CHECK_EQUAL(error("[groups]\nweb = [\"a\"]\n"),
                  at(2,
                     "groups.web: expected a host list in double quotes "
                     "like \"web[01-20]\", got [\"a\"]"));
  CAF_CHECK_EQUAL(error("[groups]\na = \"x\"\nb = \"@a,@nope\"\n"),
                  at(3, "groups.b: unknown group 'nope'"));
  CAF_CHECK_EQUAL(error("[groups]\na = \"@b\"\n\nb = \"@a\"\n"),
                  at(2, "groups.a: group 'a' includes itself: a -> b -> a"));
  CAF_CHECK_EQUAL(error("[groups]\na = \"x\"\na = \"y\"\n"),
                  at(3, "groups.a: given twice (first on line 2)"));
  CAF_CHECK_EQUAL(error("groups = \"x\"\n"), at(1, "unknown key 'groups'"));
  CAF_CHECK_EQUAL(flag_error({"--groups.a=@b"}),
                  "remexd: command line: --groups.a: unknown group 'b'");
  CAF_CHECK_EQUAL(flag_error({"--groups.a=w["}),
                  "remexd: command line: --groups.a: bad host list \"w[\": "
                  "unmatched '[' in 'w['");
  CAF_CHECK_EQUAL(flag_error({"--groups.=w"}),
                  "remexd: command line: --groups.: bad group name \"\": "
                  "letters, digits, '_' and '-' only");
}

CAF_TEST_FIXTURE_SCOPE_END()
