// path-query enumeration.
#define CAF_SUITE agent_query
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

#include "agent_driver.hpp"
#include "caf/test/unit_test.hpp"
#include "tests/protocol/raw_cbor.hpp"

using namespace remex;
using remex::test::agent_driver;

namespace {

void make_file(const std::string& path, mode_t mode) {
  std::ofstream(path) << "#!/bin/sh\n";
  ::chmod(path.c_str(), mode);
}

// Sends a path query as a seed client writes it, by hand: {t: 9, q: {paths:
// [...]}} (an empty list: the agent's PATH); returns the entries.
std::vector<protocol::path_entry> query(agent_driver& a,
                                        const std::vector<std::string>& paths) {
  remex::test::raw r;
  r.map(2).text("t").uint(9).text("q").map(1).text("paths").array(paths.size());
  for (auto& p : paths) r.text(p);
  a.send_raw(r.out);
  a.pump_until([&] { return a.output_closed(); });
  if (a.others.size() != 1 || !a.others[0].i) {
    CAF_FAIL("no path-info");
    return {};
  }
  return a.others[0].i->entries;
}

// Runs f with the test's cwd in dir, where the agent starts too.
template <class F>
void in_directory(const std::string& dir, F f) {
  char old[4096];
  CAF_REQUIRE(::getcwd(old, sizeof old) != nullptr);
  CAF_REQUIRE(::chdir(dir.c_str()) == 0);
  f();
  CAF_REQUIRE(::chdir(old) == 0);
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

CAF_TEST(an empty PATH lists nothing and empty elements are not the cwd) {
  // The agent starts in a directory that holds an executable: reading an
  // empty element as `.` would list it.
  auto cwd = test::make_temp_dir();
  auto d1 = test::make_temp_dir();
  make_file(cwd + "/zz-in-cwd", 0755);
  make_file(d1 + "/zz-in-d1", 0755);
  in_directory(cwd, [&] {
    agent_driver empty({{"PATH="}});
    CAF_CHECK(query(empty, {}).empty());
    agent_driver unset({{"HOME=/"}});
    CAF_CHECK(query(unset, {}).empty());
    agent_driver gaps({{"PATH=:" + d1 + "::"}});
    auto entries = query(gaps, {});
    CAF_REQUIRE_EQUAL(entries.size(), 1u);
    CAF_CHECK_EQUAL(entries[0].name, "zz-in-d1");
  });
  std::remove((cwd + "/zz-in-cwd").c_str());
  std::remove((d1 + "/zz-in-d1").c_str());
  ::rmdir(cwd.c_str());
  ::rmdir(d1.c_str());
}

CAF_TEST(path info paths are cleanly joined and mode is permission bits) {
  auto d1 = test::make_temp_dir();
  ::mkdir((d1 + "/sub").c_str(), 0755);
  make_file(d1 + "/tool", 0755);
  make_file(d1 + "/sub/inner", 0750);
  make_file(d1 + "/suid", 04755);
  agent_driver a;
  auto entries = query(a, {d1 + "//sub/", d1 + "/sub/..//./"});
  std::vector<std::string> got;
  for (auto& e : entries)
    got.push_back(e.name + "=" + e.path + " " + std::to_string(e.mode));
  std::vector<std::string> want{
      "inner=" + d1 + "/sub/inner " + std::to_string(0750),
      "suid=" + d1 + "/suid " + std::to_string(0755),
      "tool=" + d1 + "/tool " + std::to_string(0755)};
  CAF_CHECK_EQUAL(got, want);
  for (auto& p : {d1 + "/tool", d1 + "/sub/inner", d1 + "/suid"})
    std::remove(p.c_str());
  ::rmdir((d1 + "/sub").c_str());
  ::rmdir(d1.c_str());
}
