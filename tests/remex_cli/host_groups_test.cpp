// Host groups as users define them (a hosts file's [groups], remexd's) and
// name them (-g web, @web in a host list), and the one line they get for
// whatever is wrong.
#define CAF_SUITE host_groups

#include "config/host_groups.hpp"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "caf/test/unit_test.hpp"

using namespace remex::config;
using strings = std::vector<std::string>;

namespace {

host_groups parsed(const std::string& text) {
  ini_problem problem;
  auto groups = parse_hosts_file(text, problem);
  CAF_CHECK(groups);
  if (!groups)
    CAF_MESSAGE("refused: line " << problem.line << ": " << problem.what);
  return groups ? *groups : host_groups{};
}

// The problem with text, as "LINE: what" (empty if it was accepted).
std::string problem_of(const std::string& text) {
  ini_problem problem;
  auto groups = parse_hosts_file(text, problem);
  CAF_CHECK(!groups);
  if (groups) return {};
  return std::to_string(problem.line) + ": " + problem.what;
}

strings expand(const std::string& text, const host_groups& groups) {
  std::string error;
  auto hosts = expand_host_list(text, groups, error);
  CAF_CHECK_EQUAL(error, "");
  return hosts;
}

std::string error_of(const std::string& text, const host_groups& groups) {
  std::string error;
  auto hosts = expand_host_list(text, groups, error);
  CAF_CHECK(hosts.empty());
  return error;
}

const char* example = R"(; the hosts file
[groups]
web = "web[01-03]"
db = "db[1-3,7],dbx"
all = "@web,@db,web02"
)";

}  // namespace

CAF_TEST(a hosts file defines groups that expand like host lists) {
  auto groups = parsed(example);
  CAF_CHECK_EQUAL(groups.size(), 3u);
  CAF_CHECK_EQUAL(groups["web"], "web[01-03]");
  std::string error;
  CAF_CHECK_EQUAL(expand_group(groups, "db", error),
                  (strings{"db1", "db2", "db3", "db7", "dbx"}));
  CAF_CHECK_EQUAL(error, "");
  // References expand in place, each host once.
  CAF_CHECK_EQUAL(
      expand_group(groups, "all", error),
      (strings{"web01", "web02", "web03", "db1", "db2", "db3", "db7", "dbx"}));
  CAF_CHECK_EQUAL(expand("x1,@web,user@h2", groups),
                  (strings{"x1", "web01", "web02", "web03", "user@h2"}));
  CAF_CHECK(parsed("").empty());
  CAF_CHECK(parsed("[groups]\n").empty());
}

CAF_TEST(unknown groups and cycles are one line) {
  auto groups = parsed(example);
  CAF_CHECK_EQUAL(error_of("@nope", groups), "unknown group 'nope'");
  CAF_CHECK_EQUAL(error_of("web01,@web,@nope", groups), "unknown group 'nope'");
  host_groups loop{{"a", "x,@b"}, {"b", "@c"}, {"c", "@a"}};
  CAF_CHECK_EQUAL(error_of("@b", loop),
                  "group 'b' includes itself: b -> c -> a -> b");
  host_groups self{{"a", "@a"}};
  CAF_CHECK_EQUAL(error_of("@a", self), "group 'a' includes itself: a -> a");
  // A diamond is no cycle.
  host_groups diamond{
      {"top", "@l,@r"}, {"l", "@base"}, {"r", "@base"}, {"base", "n[1-2]"}};
  CAF_CHECK_EQUAL(expand("@top", diamond), (strings{"n1", "n2"}));
}

CAF_TEST(a bad hosts file names the line) {
  // CAF's syntax: a bare word is a syntax error on its line.
  CAF_CHECK_EQUAL(problem_of("[groups]\nweb = web[01-03]\n").substr(0, 3),
                  "2: ");
  CAF_CHECK_EQUAL(
      problem_of("[groups]\nweb = \"web[01-\"\n"),
      "2: groups.web: bad host list \"web[01-\": unmatched '[' in 'web[01-'");
  CAF_CHECK_EQUAL(problem_of("[groups]\na = \"x\"\nb = 3\n"),
                  "3: groups.b: expected a host list in double quotes like "
                  "\"web[01-20]\", got 3");
  CAF_CHECK_EQUAL(problem_of("[groups]\na = \"x\"\n\n[hosts]\nb = \"y\"\n"),
                  "4: unknown section [hosts] (a hosts file has only "
                  "[groups])");
  CAF_CHECK_EQUAL(problem_of("a = \"x\"\n"), "1: 'a' outside [groups]");
  // What a group refers to is said on the line of the group that does.
  CAF_CHECK_EQUAL(problem_of("[groups]\na = \"x\"\nb = \"@a,@c\"\n"),
                  "3: groups.b: unknown group 'c'");
  CAF_CHECK_EQUAL(problem_of("[groups]\na = \"@b\"\nb = \"@a\"\n"),
                  "2: groups.a: group 'a' includes itself: a -> b -> a");
  CAF_CHECK_EQUAL(problem_of("[groups]\na = \"x\"\na = \"y\"\n"),
                  "3: groups.a: given twice (first on line 2)");
}

CAF_TEST(host list syntax without the groups) {
  CAF_CHECK_EQUAL(check_host_list("@web,h[1-3],u@x"), "");
  CAF_CHECK_EQUAL(check_host_list("@"), "bad group name ''");
  CAF_CHECK_EQUAL(check_host_list("@w!b"), "bad group name 'w!b'");
  CAF_CHECK_EQUAL(check_host_list("a,,b"), "empty host name");
  CAF_CHECK_NOT_EQUAL(check_host_list("h[1-"), "");
  CAF_CHECK(is_group_name("web-01_x"));
  CAF_CHECK(!is_group_name("-web"));
  CAF_CHECK(!is_group_name(""));
  CAF_CHECK(!is_group_name("a.b"));
}

CAF_TEST(the hosts file : REMEX_HOSTS_FILE then XDG_CONFIG_HOME then home) {
  char pattern[] = "/tmp/remex-groups-test-XXXXXX";
  std::string dir = mkdtemp(pattern);
  setenv("HOME", dir.c_str(), 1);
  unsetenv("XDG_CONFIG_HOME");
  unsetenv("REMEX_HOSTS_FILE");
  CAF_CHECK_EQUAL(default_hosts_file(), dir + "/.config/remex/hosts.ini");
  setenv("XDG_CONFIG_HOME", "relative", 1);  // ignored, as XDG says
  CAF_CHECK_EQUAL(default_hosts_file(), dir + "/.config/remex/hosts.ini");
  setenv("XDG_CONFIG_HOME", (dir + "/xdg").c_str(), 1);
  CAF_CHECK_EQUAL(default_hosts_file(), dir + "/xdg/remex/hosts.ini");
  setenv("REMEX_HOSTS_FILE", "/elsewhere/h.ini", 1);
  CAF_CHECK_EQUAL(default_hosts_file(), "/elsewhere/h.ini");
  unsetenv("REMEX_HOSTS_FILE");
  unsetenv("XDG_CONFIG_HOME");

  bool found = true;
  std::string error;
  auto none = read_hosts_file(dir + "/missing.ini", found, error);
  CAF_CHECK(none && none->empty() && !found);
  std::ofstream{dir + "/hosts.ini"} << example;
  auto groups = read_hosts_file(dir + "/hosts.ini", found, error);
  CAF_CHECK(groups && found && groups->size() == 3u);
  std::ofstream{dir + "/bad.ini"} << "[groups]\nweb = \"w[1-\"\n";
  CAF_CHECK(!read_hosts_file(dir + "/bad.ini", found, error));
  CAF_CHECK_EQUAL(error.substr(0, dir.size() + 14), dir + "/bad.ini:2: gr");
  CAF_CHECK(!read_hosts_file(dir, found, error));  // a directory
  CAF_CHECK_EQUAL(error, dir + ": cannot read: Is a directory");
  std::filesystem::remove_all(dir);
}
