// Starts tests/fixtures/sshd-fixture in a fresh directory for one test and
// stops it (by its pid, through the script) when the test ends.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>

namespace remex::test {

inline int run_shell(const std::string& cmd) {
  int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : 255;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  return std::string{std::istreambuf_iterator<char>{in}, {}};
}

class sshd_fixture {
 public:
  explicit sshd_fixture(const std::string& extra = "") {
    char tmpl[] = "/tmp/remex-ssh-test.XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp");
    dir = tmpl;
    if (run_shell(std::string{REMEX_SSHD_FIXTURE} + " start " + dir + " " +
                  extra + " >/dev/null") != 0)
      throw std::runtime_error("sshd fixture did not start");
    std::ifstream env{dir + "/env"};
    std::string line;
    while (std::getline(env, line)) {
      auto eq = line.find('=');
      if (eq != std::string::npos)
        vars[line.substr(0, eq)] = line.substr(eq + 1);
    }
  }
  ~sshd_fixture() {
    stop();
    run_shell("rm -rf " + dir);
  }
  void stop() { run_shell(std::string{REMEX_SSHD_FIXTURE} + " stop " + dir); }
  std::string operator[](const std::string& k) const {
    auto i = vars.find(k);
    return i == vars.end() ? std::string{} : i->second;
  }
  // user@127.0.0.1:port, for tests that bypass ssh_config.
  std::string target() const {
    return (*this)["FIXTURE_USER"] + "@127.0.0.1:" + (*this)["FIXTURE_PORT"];
  }
  // As a user of remote files sees them (the throwaway user's home).
  std::string home() const { return "/home/" + (*this)["FIXTURE_USER"]; }

  std::string dir;
  std::map<std::string, std::string> vars;
};

}  // namespace remex::test
