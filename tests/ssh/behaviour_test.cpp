// The libssh backend against the backend-neutral behaviour checks
// (tests/transport/behaviour.hpp), over the sshd fixture.
#define CAF_SUITE ssh_behaviour
#include "tests/transport/behaviour.hpp"

#include "caf/test/unit_test.hpp"
#include "tests/ssh/sshd_fixture.hpp"
#include "transport/ssh/ssh_provider.hpp"

using namespace remex;
namespace b = remex::test::behaviour;

namespace {
struct fixture {
  test::sshd_fixture sshd;
  std::shared_ptr<transport::session_provider> p;
  fixture() {
    config::ssh_options o;
    o.ssh_config = sshd["FIXTURE_SSH_CONFIG"];
    p = transport::make_ssh_provider("fixture", o);
  }
};
}  // namespace

CAF_TEST_FIXTURE_SCOPE(ssh_behaviour_tests, fixture)

CAF_TEST(exec output and exit codes) {
  b::exec_output_and_codes(*p);
}
CAF_TEST(stdin round trip) {
  b::stdin_round_trip(*p);
}
CAF_TEST(exit signal mapping) {
  b::exit_signal_mapping(*p);
}
CAF_TEST(env entries) {
  b::env_entries(*p);
}
CAF_TEST(signal to trapping script) {
  b::signal_to_trapping_script(*p);
}
CAF_TEST(many concurrent channels) {
  b::many_concurrent_channels(*p);
}
CAF_TEST(terminate kills the process group) {
  b::terminate_kills_group(*p);
}
CAF_TEST(flow control) {
  b::flow_control(*p);
}
CAF_TEST(quoting round trip) {
  b::quoting_round_trip(*p);
}

CAF_TEST_FIXTURE_SCOPE_END()
