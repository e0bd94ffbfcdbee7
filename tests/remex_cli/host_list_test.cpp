// Host lists as users write them for remex fanout, and the JSON text of its
// --json lines.
#define CAF_SUITE host_list

#include "config/host_list.hpp"

#include "caf/test/unit_test.hpp"
#include "tools/remex/fanout_output.hpp"

using namespace remex::cli;
using namespace remex::config;
using strings = std::vector<std::string>;

namespace {

strings expand(const std::string& text) {
  std::string error;
  auto hosts = expand_hosts(text, error);
  CAF_CHECK_EQUAL(error, "");
  return hosts;
}

std::string error_of(const std::string& text) {
  std::string error;
  auto hosts = expand_hosts(text, error);
  CAF_CHECK(hosts.empty());
  return error;
}

}  // namespace

CAF_TEST(ranges keep the padding and expand as a product) {
  CAF_CHECK_EQUAL(expand("web[01-03,07],db1"),
                  (strings{"web01", "web02", "web03", "web07", "db1"}));
  CAF_CHECK_EQUAL(expand("db[1-3,7]"), (strings{"db1", "db2", "db3", "db7"}));
  CAF_CHECK_EQUAL(expand("r[1-2]n[08-09]"),
                  (strings{"r1n08", "r1n09", "r2n08", "r2n09"}));
  CAF_CHECK_EQUAL(expand("n[9-10]"), (strings{"n9", "n10"}));
}

CAF_TEST(duplicates are dropped keeping the first) {
  CAF_CHECK_EQUAL(expand("b,a,b,a[1-2],a1"), (strings{"b", "a", "a1", "a2"}));
}

CAF_TEST(bad syntax is one line) {
  CAF_CHECK_NOT_EQUAL(error_of("web["), "");
  CAF_CHECK_NOT_EQUAL(error_of("web]"), "");
  CAF_CHECK_NOT_EQUAL(error_of("web[3-1]"), "");
  CAF_CHECK_NOT_EQUAL(error_of("web[a-b]"), "");
  CAF_CHECK_NOT_EQUAL(error_of("a,,b"), "");
  CAF_CHECK_NOT_EQUAL(error_of(""), "");
  CAF_CHECK_NOT_EQUAL(error_of("w[[1]]"), "");
  CAF_CHECK_NOT_EQUAL(error_of("w[1-9999999]"), "");
}

CAF_TEST(compress is the inverse) {
  CAF_CHECK_EQUAL(compress_hosts({"web01", "web02", "web03", "web07", "db1"}),
                  "web[01-03,07],db1");
  CAF_CHECK_EQUAL(compress_hosts({"local"}), "local");
  CAF_CHECK_EQUAL(compress_hosts({"n3", "n1", "n2"}), "n[1-3]");
  for (auto text : {"web[01-03,07],db1", "n[9-10],x", "a1b[3-4],c"}) {
    std::string error;
    auto hosts = expand_hosts(text, error);
    auto again = expand_hosts(compress_hosts(hosts), error);
    CAF_CHECK_EQUAL(again, hosts);
  }
}

CAF_TEST(json strings are always valid) {
  CAF_CHECK_EQUAL(json_string("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
  CAF_CHECK_EQUAL(json_string(std::string("\x01\x7f", 2)),
                  "\"\\u0001\\u007f\"");
  CAF_CHECK_EQUAL(json_string("\xc3\xa9"), "\"\xc3\xa9\"");  // é kept
  CAF_CHECK_EQUAL(json_string("\xff\xc3"), "\"\\ufffd\\ufffd\"");
  CAF_CHECK_EQUAL(json_string("\xed\xa0\x80"),  // a surrogate
                  "\"\\ufffd\\ufffd\\ufffd\"");
}
