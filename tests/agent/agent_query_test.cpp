// path-query enumeration.
#define CAF_SUITE agent_query
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

#include "agent_driver.hpp"
#include "caf/test/unit_test.hpp"

using namespace remex;
using remex::test::agent_driver;

namespace {

void make_file(const std::string& path, mode_t mode) {
  std::ofstream(path) << "#!/bin/sh\n";
  ::chmod(path.c_str(), mode);
}

}  // namespace

CAF_TEST(path query dedups by name in PATH order and skips non - executables) {
  auto d1 = test::make_temp_dir();
  auto d2 = test::make_temp_dir();
  make_file(d1 + "/tool", 0755);
  make_file(d1 + "/plain", 0644);
  ::mkdir((d1 + "/subdir").c_str(), 0755);
  make_file(d2 + "/tool", 0755);
  make_file(d2 + "/plain", 0755);
  make_file(d2 + "/other", 0700);
  agent_driver a;
  protocol::frame q;
  q.t = protocol::frame_type::path_query;
  q.q = protocol::path_query{{d1, d2, d1}};
  a.send(q);
  a.pump_until([&] { return a.output_closed(); });
  CAF_REQUIRE_EQUAL(a.others.size(), 1u);
  auto& f = a.others[0];
  CAF_REQUIRE(f.t == protocol::frame_type::path_info && f.i.has_value());
  std::vector<std::string> got;
  for (auto& e : f.i->entries) got.push_back(e.name + "=" + e.path);
  std::vector<std::string> want{"tool=" + d1 + "/tool",
                                "other=" + d2 + "/other",
                                "plain=" + d2 + "/plain"};
  CAF_CHECK_EQUAL(got, want);
  for (auto& e : f.i->entries) {
    CAF_CHECK_EQUAL(e.size, 10);
    CAF_CHECK(e.mtime > 0);
    CAF_CHECK((e.mode & 0111) != 0);
  }
  auto st = a.wait_agent();
  CAF_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  for (auto& p : {d1 + "/tool", d1 + "/plain", d2 + "/tool", d2 + "/plain",
                  d2 + "/other"})
    std::remove(p.c_str());
  ::rmdir((d1 + "/subdir").c_str());
  ::rmdir(d1.c_str());
  ::rmdir(d2.c_str());
}

CAF_TEST(path query without paths uses the agent PATH) {
  auto d1 = test::make_temp_dir();
  make_file(d1 + "/zz-remex-probe", 0755);
  agent_driver a({{"PATH=" + d1 + ":/bin"}});
  protocol::frame q;
  q.t = protocol::frame_type::path_query;
  q.q = protocol::path_query{};
  a.send(q);
  a.pump_until([&] { return a.output_closed(); });
  CAF_REQUIRE_EQUAL(a.others.size(), 1u);
  auto& entries = a.others[0].i->entries;
  CAF_REQUIRE(!entries.empty());
  CAF_CHECK_EQUAL(entries[0].name, "zz-remex-probe");
  bool has_sh = false;
  for (auto& e : entries) has_sh = has_sh || e.name == "sh";
  CAF_CHECK(has_sh);
  std::remove((d1 + "/zz-remex-probe").c_str());
  ::rmdir(d1.c_str());
}
