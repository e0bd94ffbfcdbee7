// The persistent-agent extension's frames (protocol/PERSISTENT.md): they
// round trip, data heads with an xid match the full encoding, and a decoder
// that knows nothing of them (the seed's rule: unknown keys are ignored)
// reads an execution's frames as the base frames they carry.
#define CAF_SUITE persistent_frames
#include "caf/test/unit_test.hpp"
#include "protocol/codec.hpp"
#include "tests/protocol/raw_cbor.hpp"

using namespace remex::protocol;

namespace {

std::vector<frame> decode_all(const std::string& bytes) {
  frame_decoder d;
  d.feed(bytes);
  std::vector<frame> out;
  frame f;
  while (d.next(f) == frame_decoder::status::frame) {
    out.push_back(f);
    f = frame{};
  }
  return out;
}

}  // namespace

CAF_TEST(hello credit stop and tagged frames round trip) {
  hello_msg h{1, {"multi"}, 64, 1 << 20};
  frame stop;
  stop.t = frame_type::stop;
  stop.xid = 9;
  std::vector<frame> fs = {make_hello(h),
                           make_credit(7, 1, 65536),
                           stop,
                           with_xid(make_data(2, "err"), 7),
                           with_xid(make_exit(3), 7),
                           with_xid(make_signal(15), 4294967295u)};
  std::string bytes;
  for (auto& f : fs) encode(f, bytes);
  auto got = decode_all(bytes);
  CAF_REQUIRE_EQUAL(got.size(), fs.size());
  for (size_t i = 0; i < fs.size(); ++i) CAF_CHECK(got[i] == fs[i]);
  CAF_CHECK_EQUAL(std::string(to_string(frame_type::hello)), "hello");
  CAF_CHECK_EQUAL(std::string(to_string(frame_type::credit)), "credit");
  CAF_CHECK_EQUAL(std::string(to_string(frame_type::stop)), "stop");
}

CAF_TEST(a data head with an xid is the full encoding without its payload) {
  for (std::uint32_t xid : {0u, 1u, 300u, 70000u})
    for (std::uint32_t s : {0u, 1u, 5u}) {
      std::string payload(1000, 'x');
      std::string head;
      encode_data_head(s, payload.size(), head, xid);
      CAF_CHECK_EQUAL(head + payload,
                      encode(with_xid(make_data(s, payload), xid)));
    }
}

CAF_TEST(without an xid the encoding is the seed encoding byte for byte) {
  // {t: 2, s: 1, d: h'6869'}, as the seed writes it.
  remex::test::raw r;
  r.map(3).text("t").uint(2).text("s").uint(1).text("d").bytes("hi");
  CAF_CHECK_EQUAL(encode(make_data(1, "hi")), r.out);
}

CAF_TEST(unknown keys are ignored so tagged frames read as base frames) {
  // What a decoder that predates the extension sees of a tagged frame: the
  // base fields, with the tag skipped like any unknown key.
  remex::test::raw r;
  r.map(4).text("t").uint(2).text("zz").uint(7).text("s").uint(1);
  r.text("d").bytes("ok");
  auto got = decode_all(r.out);
  CAF_REQUIRE_EQUAL(got.size(), 1u);
  CAF_CHECK(got[0] == make_data(1, "ok"));
  // And an unknown frame type keeps its number for the caller to ignore.
  remex::test::raw u;
  u.map(2).text("t").uint(99).text("hi").map(1).text("v").uint(1);
  auto got2 = decode_all(u.out);
  CAF_REQUIRE_EQUAL(got2.size(), 1u);
  CAF_CHECK_EQUAL(static_cast<std::uint64_t>(got2[0].t), 99u);
}
