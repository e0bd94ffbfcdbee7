// The local backend against the backend-neutral behaviour.
#define CAF_SUITE local_provider
#include "caf/test/unit_test.hpp"
#include "tests/transport/behaviour.hpp"
#include "transport/local/local_provider.hpp"

using namespace remex;
namespace b = remex::test::behaviour;

namespace {
struct fixture {
  std::shared_ptr<transport::session_provider> p =
      transport::make_local_provider();
};
}  // namespace

CAF_TEST_FIXTURE_SCOPE(local_provider_tests, fixture)

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

CAF_TEST(a background process holding the pipes holds the exit like sshd) {
  auto r = b::run(*p, "(sleep 1; echo late) & echo bye; exit 4");
  CAF_REQUIRE(r->wait_exit(std::chrono::seconds(10)));
  CAF_CHECK_EQUAL(r->stream(1), "bye\nlate\n");
  CAF_CHECK_EQUAL(r->status.exit_code(), 4);
}

CAF_TEST_FIXTURE_SCOPE_END()
