// Byte vectors written by hand from agentproto.md, so that any change of the
// wire encoding (key order, omitted zeros, integer heads, nesting) is caught.
#define CAF_SUITE codec_golden
#include "caf/test/unit_test.hpp"
#include "frame_sample.hpp"

using namespace remex::protocol;
using namespace remex::protocol::test;

namespace {

void check_golden(const frame& f, const std::string& want_hex) {
  auto got = encode(f);
  CAF_CHECK_EQUAL(hex(got), hex(unhex(want_hex)));
  auto r = decode_all(unhex(want_hex));
  CAF_REQUIRE_EQUAL(r.frames.size(), 1u);
  CAF_CHECK(r.frames[0] == f);
  CAF_CHECK(r.last == frame_decoder::status::need_more);
}

}  // namespace

CAF_TEST(eof on stdout) {
  check_golden(make_eof(1), "A2 61 74 03 61 73 01");
}

CAF_TEST(eof on stdin omits the zero stream) {
  check_golden(make_eof(0), "A1 61 74 03");
}

CAF_TEST(data frame) {
  check_golden(make_data(1, "hi"), "A3 61 74 02 61 73 01 61 64 42 68 69");
  // 24 bytes need a one-byte length after the head (0x58).
  check_golden(
      make_data(2, std::string(24, 'z')),
      "A3 61 74 02 61 73 02 61 64 58 18" + [] {
        std::string s;
        for (int i = 0; i < 24; ++i) s += "7A";
        return s;
      }());
}

CAF_TEST(exit codes are signed) {
  check_golden(make_exit(3), "A2 61 74 05 61 63 03");
  check_golden(make_exit(-1), "A2 61 74 05 61 63 20");
  check_golden(make_exit(-300), "A2 61 74 05 61 63 39 01 2B");
  check_golden(make_exit(0), "A1 61 74 05");
  check_golden(make_exit(255), "A2 61 74 05 61 63 18 FF");
}

CAF_TEST(signal and error) {
  check_golden(make_signal(15), "A2 61 74 04 63 73 69 67 0F");
  check_golden(make_error("no"), "A2 61 74 06 61 65 62 6E 6F");
}

CAF_TEST(exec with argv env cwd) {
  frame f;
  f.t = frame_type::exec;
  f.x = exec_msg{"/bin/echo", {"echo", "hi"}, {"A=1"}, "/", {}};
  check_golden(f,
               "A2 61 74 01 61 78 A4"
               " 64 70 61 74 68 69 2F 62 69 6E 2F 65 63 68 6F"  // path
               " 64 61 72 67 76 82 64 65 63 68 6F 62 68 69"     // argv
               " 63 65 6E 76 81 63 41 3D 31"                    // env
               " 63 63 77 64 61 2F");                           // cwd
}

CAF_TEST(log with negative level) {
  check_golden(make_log(log_debug, "m", {"k=v"}),
               "A2 61 74 07 61 6C A3 63 6C 76 6C 23 63 6D 73 67 61 6D"
               " 61 61 81 63 6B 3D 76");
}

CAF_TEST(readdir entries nest stat under st) {
  frame f;
  f.t = frame_type::file_resp;
  f.frp = file_op_response{};
  stat_info s;
  s.n = "a";
  s.d = true;
  f.frp->en = {s};
  check_golden(f,
               "A2 61 74 0C 63 66 72 70 A1 62 65 6E 81 A1 62 73 74"
               " A2 61 6E 61 61 61 64 F5");
}

CAF_TEST(data head plus payload equals the encoded frame) {
  for (std::uint32_t s : {0u, 1u, 23u, 24u, 255u, 256u, 70000u, 4294967295u})
    for (std::size_t len : {0, 1, 23, 24, 255, 256, 65535, 65536, 1 << 20}) {
      std::string payload(len, 'p');
      std::string head;
      encode_data_head(s, len, head);
      auto want = encode(make_data(s, payload));
      CAF_CHECK_EQUAL(hex(head), hex(want.substr(0, head.size())));
      CAF_CHECK_EQUAL(head.size() + len, want.size());
    }
  std::string out = "prefix";
  encode_data_head(1, 2, out);
  CAF_CHECK_EQUAL(hex(out),
                  hex("prefix" + unhex("A3 61 74 02 61 73 01 61 64 42")));
}
