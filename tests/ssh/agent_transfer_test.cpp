// Agent bundle transfer to a real sshd: upload once, reuse, replace tampering.
#define CAF_SUITE ssh_agent_transfer
#include "transport/ssh/agent_transfer.hpp"

#include "caf/test/unit_test.hpp"
#include "tests/ssh/collector.hpp"
#include "tests/ssh/sshd_fixture.hpp"
#include "transport/ssh/ssh_provider.hpp"

using namespace remex;
using namespace remex::transport;
using namespace std::chrono_literals;

namespace {

struct fixture {
  test::sshd_fixture sshd;
  agent_bundle bundle;
  std::string cache;

  fixture() {
    // A stand-in bundle: a program and a library beside it, as the agent
    // build lays them out.
    test::run_shell("printf '#!/bin/sh\\necho agent-ran\\n' > " + sshd.dir +
                    "/remex-agent && head -c 300000 /dev/urandom > " +
                    sshd.dir + "/libcbor.so.0.8");
    bundle.files = {sshd.dir + "/remex-agent", sshd.dir + "/libcbor.so.0.8"};
    cache = ".cache/remex-test-" + sshd["FIXTURE_PORT"];
  }
  ~fixture() { test::run_shell("rm -rf " + sshd.home() + "/" + cache); }

  std::shared_ptr<ssh_session_provider> provider() {
    config::ssh_options o;
    o.ssh_config = sshd["FIXTURE_SSH_CONFIG"];
    return make_ssh_provider("fixture", o);
  }
};

}  // namespace

CAF_TEST_FIXTURE_SCOPE(agent_transfer_tests, fixture)

CAF_TEST(first run uploads and second does not ) {
  auto p = provider();
  auto first = ensure_agent(*p, bundle, cache);
  CAF_REQUIRE(first.ok);
  CAF_CHECK(first.uploaded);
  CAF_CHECK_EQUAL(first.directory, cache + "/agent-" + bundle_digest(bundle));
  auto remote_lib = sshd.home() + "/" + first.directory + "/libcbor.so.0.8";
  CAF_CHECK(test::read_file(remote_lib) == test::read_file(bundle.files[1]));
  // Installed as the program, runnable by the remote user.
  auto col = test::run(*p, first.program);
  CAF_REQUIRE(col->wait_exit(20s));
  CAF_CHECK_EQUAL(col->stream(1), "agent-ran\n");
  // No leftovers from the temporary upload directory.
  auto ls = test::run(*p, "ls " + cache);
  CAF_REQUIRE(ls->wait_exit(20s));
  CAF_CHECK_EQUAL(ls->stream(1), "agent-" + bundle_digest(bundle) + "\n");

  auto again = ensure_agent(*p, bundle, cache);
  CAF_CHECK(again.ok && !again.uploaded);
  // A new connection finds it intact on the host.
  auto p2 = provider();
  auto fresh = ensure_agent(*p2, bundle, cache);
  CAF_CHECK(fresh.ok && !fresh.uploaded);
}

CAF_TEST(tampered remote file is replaced) {
  auto p = provider();
  auto first = ensure_agent(*p, bundle, cache);
  CAF_REQUIRE(first.ok);
  auto remote_prog = sshd.home() + "/" + first.program;
  test::run_shell("printf '#!/bin/sh\\necho evil\\n' > " + remote_prog);
  auto p2 = provider();
  auto fixed = ensure_agent(*p2, bundle, cache);
  CAF_REQUIRE(fixed.ok);
  CAF_CHECK(fixed.uploaded);
  CAF_CHECK(test::read_file(remote_prog) == test::read_file(bundle.files[0]));
  auto col = test::run(*p2, fixed.program);
  CAF_REQUIRE(col->wait_exit(20s));
  CAF_CHECK_EQUAL(col->stream(1), "agent-ran\n");
}

CAF_TEST_FIXTURE_SCOPE_END()
