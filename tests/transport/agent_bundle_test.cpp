// Reading the agent bundle: once per version of its files, whoever asks.
#define CAF_SUITE agent_bundle
#include "transport/agent_bundle.hpp"

#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "caf/test/unit_test.hpp"

using namespace remex;

namespace {

struct fixture {
  std::string dir;
  transport::agent_bundle bundle;

  fixture() {
    char tmpl[] = "/tmp/remex-bundle-XXXXXX";
    dir = ::mkdtemp(tmpl);
    bundle.files = {dir + "/remex-agent", dir + "/libx.so.1"};
    write(bundle.files[0], "agent v1");
    write(bundle.files[1], "library");
  }
  ~fixture() {
    for (auto& f : bundle.files) ::unlink(f.c_str());
    ::rmdir(dir.c_str());
  }
  static void write(const std::string& path, const std::string& bytes) {
    std::ofstream{path, std::ios::binary | std::ios::trunc} << bytes;
  }
};

std::string sha256_hex(const std::string& bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &n, EVP_sha256(), nullptr);
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    static const char* digits = "0123456789abcdef";
    out += digits[md[i] >> 4];
    out += digits[md[i] & 15];
  }
  return out;
}

}  // namespace

CAF_TEST_FIXTURE_SCOPE(agent_bundle_tests, fixture)

CAF_TEST(contents and digests) {
  std::string unreadable;
  auto read = transport::read_bundle(bundle, unreadable);
  CAF_REQUIRE(read != nullptr);
  CAF_CHECK_EQUAL(read->program, "remex-agent");
  CAF_CHECK_EQUAL(read->bytes.at("remex-agent"), "agent v1");
  CAF_CHECK_EQUAL(read->digests.at("libx.so.1"), sha256_hex("library"));
  // The manifest: each file's name, size and content, in bundle order.
  using namespace std::string_literals;
  CAF_CHECK_EQUAL(read->digest,
                  sha256_hex("remex-agent\0"s + "8\0"s + "agent v1" +
                             "libx.so.1\0"s + "7\0"s + "library"));
  CAF_CHECK_EQUAL(transport::bundle_digest(bundle), read->digest);
}

CAF_TEST(read once while the files stay the same) {
  std::string unreadable;
  auto first = transport::read_bundle(bundle, unreadable);
  auto second = transport::read_bundle(bundle, unreadable);
  CAF_REQUIRE(first != nullptr);
  CAF_CHECK_EQUAL(first.get(), second.get());
  // A new agent (another size and mtime) is read again.
  write(bundle.files[0], "agent v2, longer");
  auto third = transport::read_bundle(bundle, unreadable);
  CAF_REQUIRE(third != nullptr);
  CAF_CHECK_NOT_EQUAL(third.get(), first.get());
  CAF_CHECK_EQUAL(third->bytes.at("remex-agent"), "agent v2, longer");
  CAF_CHECK_NOT_EQUAL(third->digest, first->digest);
}

CAF_TEST(an unreadable file is named) {
  std::string unreadable;
  CAF_REQUIRE(transport::read_bundle(bundle, unreadable) != nullptr);
  ::unlink(bundle.files[1].c_str());
  CAF_CHECK(transport::read_bundle(bundle, unreadable) == nullptr);
  CAF_CHECK_EQUAL(unreadable, bundle.files[1]);
  CAF_CHECK_EQUAL(transport::bundle_digest(bundle), "");
}

CAF_TEST_FIXTURE_SCOPE_END()
