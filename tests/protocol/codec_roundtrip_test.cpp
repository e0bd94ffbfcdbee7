// Every frame type survives encode → decode, however the bytes are split.
#define CAF_SUITE codec_roundtrip
#include "caf/test/unit_test.hpp"
#include "frame_sample.hpp"

using namespace remex::protocol;
using namespace remex::protocol::test;

namespace {

std::string encode_all(const std::vector<frame>& fs) {
  std::string out;
  for (auto& f : fs) encode(f, out);
  return out;
}

bool same(const std::vector<frame>& a, const std::vector<frame>& b) {
  return a == b;
}

}  // namespace

CAF_TEST(every type with all fields set round trips) {
  for (auto& f : full_frames()) {
    CAF_MESSAGE("type " << to_string(f.t));
    auto r = decode_all(encode(f));
    CAF_REQUIRE_EQUAL(r.frames.size(), 1u);
    CAF_CHECK(r.frames[0] == f);
    CAF_CHECK(r.error.empty());
  }
}

CAF_TEST(every type with zero fields round trips) {
  for (auto& f : zero_frames()) {
    CAF_MESSAGE("type " << to_string(f.t));
    auto r = decode_all(encode(f));
    CAF_REQUIRE_EQUAL(r.frames.size(), 1u);
    CAF_CHECK(r.frames[0] == f);
  }
}

CAF_TEST(equality sees every field) {
  auto fs = full_frames();
  CAF_CHECK(fs == full_frames());
  auto g = fs;
  g.back().frp->en[0].ino = 1;
  CAF_CHECK(g.back() != fs.back());
  g = fs;
  g[0].x->fds.pop_back();
  CAF_CHECK(g[0] != fs[0]);
  g = fs;
  g[10].fop->d = "x";
  CAF_CHECK(g[10] != fs[10]);
  CAF_CHECK(make_data(1, "a") != make_data(2, "a"));
  CAF_CHECK(make_exit(1) != make_exit(-1));
}

CAF_TEST(type names) {
  CAF_CHECK_EQUAL(std::string(to_string(frame_type::exec)), "exec");
  CAF_CHECK_EQUAL(std::string(to_string(frame_type::path_query)), "path-query");
  CAF_CHECK_EQUAL(std::string(to_string(frame_type::file_resp)), "file-resp");
  CAF_CHECK_EQUAL(std::string(to_string(static_cast<frame_type>(99))),
                  "unknown");
}

CAF_TEST(a sequence decodes at every split point) {
  auto fs = full_frames();
  auto zs = zero_frames();
  fs.insert(fs.end(), zs.begin(), zs.end());
  auto bytes = encode_all(fs);
  CAF_MESSAGE(bytes.size() << " bytes, " << fs.size() << " frames");
  bool all_ok = true;
  for (std::size_t at = 0; at <= bytes.size(); ++at) {
    auto r = decode_split(bytes, at);
    if (!same(r.frames, fs) || r.last != frame_decoder::status::need_more) {
      CAF_FAIL("split at " << at << " decoded " << r.frames.size()
                           << " frames: " << r.error);
      all_ok = false;
      break;
    }
  }
  CAF_CHECK(all_ok);
}

CAF_TEST(a sequence decodes in chunks of any size) {
  auto fs = full_frames();
  auto bytes = encode_all(fs);
  for (std::size_t chunk : {1, 2, 3, 5, 7, 16, 64, 1000}) {
    auto r = decode_all(bytes, chunk);
    CAF_CHECK(same(r.frames, fs));
    CAF_CHECK(r.last == frame_decoder::status::need_more);
  }
}

CAF_TEST(a sequence decodes when the decoder takes its chunks over) {
  // Taken-over chunks become the buffer whenever everything before them was
  // decoded: frames that span several of them still come out whole.
  auto fs = full_frames();
  fs.push_back(make_data(1, std::string(300000, 'z')));
  fs.push_back(make_eof(1));
  auto bytes = encode_all(fs);
  for (std::size_t chunk : {1, 3, 7, 64, 1000, 65536, 1 << 20}) {
    auto r = decode_all(bytes, chunk, true);
    CAF_CHECK(same(r.frames, fs));
    CAF_CHECK(r.last == frame_decoder::status::need_more);
  }
  // Exactly one frame per chunk: each is taken over whole.
  frame_decoder d;
  std::vector<frame> got;
  for (auto& f : fs) {
    d.feed(encode(f));
    frame g;
    while (d.next(g) == frame_decoder::status::frame) got.push_back(g);
  }
  CAF_CHECK(got == fs);
  CAF_CHECK_EQUAL(d.buffered(), 0u);
}

CAF_TEST(large data frames fed a byte at a time) {
  // A 1 MiB payload fed one byte at a time must not be quadratic: this runs
  // in well under a second when every feed costs O(1).
  std::vector<frame> fs{make_data(1, std::string(1 << 20, 'a')), make_eof(1)};
  auto bytes = encode_all(fs);
  frame_decoder d;
  std::vector<frame> got;
  std::size_t max_buffered = 0;
  for (char c : bytes) {
    d.feed(&c, 1);
    max_buffered = std::max(max_buffered, d.buffered());
    frame f;
    while (d.next(f) == frame_decoder::status::frame) got.push_back(f);
  }
  CAF_CHECK(got == fs);
  CAF_CHECK_EQUAL(d.buffered(), 0u);
  CAF_CHECK_LESS_OR_EQUAL(max_buffered, bytes.size());
}

CAF_TEST(the buffer holds about one frame) {
  frame_decoder d;
  auto one = encode(make_data(1, std::string(4096, 'b')));
  std::size_t frames = 0;
  for (int i = 0; i < 1000; ++i) {
    d.feed(one);
    frame f;
    while (d.next(f) == frame_decoder::status::frame) ++frames;
    CAF_REQUIRE_EQUAL(d.buffered(), 0u);
  }
  CAF_CHECK_EQUAL(frames, 1000u);
}

CAF_TEST(indefinite lengths from other encoders) {
  // {_ "t": 3, "s": 1}
  auto r = decode_all(unhex("BF 61 74 03 61 73 01 FF"));
  CAF_REQUIRE_EQUAL(r.frames.size(), 1u);
  CAF_CHECK(r.frames[0] == make_eof(1));
  // {"t": 2, "d": (_ h'61', h'62'), "s": 1} with the key order shuffled
  r = decode_all(unhex("A3 61 74 02 61 64 5F 41 61 41 62 FF 61 73 01"));
  CAF_REQUIRE_EQUAL(r.frames.size(), 1u);
  CAF_CHECK(r.frames[0] == make_data(1, "ab"));
  // exec with an indefinite argv array of indefinite text
  r = decode_all(
      unhex("A2 61 74 01 61 78 A1 64 61 72 67 76 9F 7F 61 61 61 62 FF 60 FF"));
  CAF_REQUIRE_EQUAL(r.frames.size(), 1u);
  CAF_REQUIRE(r.frames[0].x.has_value());
  CAF_CHECK(r.frames[0].x->argv == (std::vector<std::string>{"ab", ""}));
}

CAF_TEST(unknown keys are ignored) {
  // {"t": 3, "s": 1, "zz": [1, {}, 2.5, null], 7: "x", "s2": h''}
  auto r =
      decode_all(unhex("A5 61 74 03 61 73 01 62 7A 7A 84 01 A0 F9 41 00 F6"
                       " 07 61 78 62 73 32 40"));
  CAF_REQUIRE_EQUAL(r.frames.size(), 1u);
  CAF_CHECK(r.frames[0] == make_eof(1));
  // unknown keys inside nested maps too
  r = decode_all(
      unhex("A2 61 74 05 61 63 03") +
      unhex("A2 61 74 07 61 6C A2 63 6D 73 67 61 6D 63 6E 65 77 F5"));
  CAF_REQUIRE_EQUAL(r.frames.size(), 2u);
  CAF_CHECK(r.frames[1] == make_log(0, "m"));
}

CAF_TEST(unknown frame types are returned as they are) {
  auto r = decode_all(unhex("A2 61 74 18 63 61 73 01"));
  CAF_REQUIRE_EQUAL(r.frames.size(), 1u);
  CAF_CHECK_EQUAL(static_cast<int>(r.frames[0].t), 99);
  CAF_CHECK_EQUAL(r.frames[0].s, 1u);
  // and they re-encode the same way
  CAF_CHECK_EQUAL(hex(encode(r.frames[0])), "A2 61 74 18 63 61 73 01");
}

CAF_TEST(tags are transparent) {
  // {"t": 3, "s": 1(1)}
  auto r = decode_all(unhex("A2 61 74 03 61 73 C1 01"));
  CAF_REQUIRE_EQUAL(r.frames.size(), 1u);
  CAF_CHECK(r.frames[0] == make_eof(1));
}

CAF_TEST(type zero keeps its t when re - encoded) {
  // Found by the fuzzer: t = 0 is unknown but present, and "t" is never
  // omitted, so the frame survives a round trip.
  auto r = decode_all(unhex("A1 61 74 00"));
  CAF_REQUIRE_EQUAL(r.frames.size(), 1u);
  CAF_CHECK_EQUAL(hex(encode(r.frames[0])), "A1 61 74 00");
}

CAF_TEST(frame types beyond 255 are returned as they are) {
  // {"t": 70000, "s": 1}
  auto r = decode_all(unhex("A2 61 74 1A 00 01 11 70 61 73 01"));
  CAF_REQUIRE_EQUAL(r.frames.size(), 1u);
  CAF_CHECK_EQUAL(static_cast<std::uint64_t>(r.frames[0].t), 70000u);
  CAF_CHECK_EQUAL(hex(encode(r.frames[0])), "A2 61 74 1A 00 01 11 70 61 73 01");
}

CAF_TEST(null and undefined fields read as zero) {
  // {"t": 1, "s": null, "x": {"path": "p", "argv": null, "env": undefined,
  //  "cwd": null, "fds": null}}
  auto r = decode_all(
      unhex("A3 61 74 01 61 73 F6 61 78 A5 64 70 61 74 68 61 70"
            " 64 61 72 67 76 F6 63 65 6E 76 F7 63 63 77 64 F6 63 66 64 73 F6"));
  CAF_REQUIRE_EQUAL(r.frames.size(), 1u);
  CAF_REQUIRE(r.frames[0].x.has_value());
  CAF_CHECK_EQUAL(r.frames[0].x->path, "p");
  CAF_CHECK(r.frames[0].x->argv.empty());
  // a null nested map is no map at all
  r = decode_all(unhex("A2 61 74 08 63 63 66 67 F6"));
  CAF_REQUIRE_EQUAL(r.frames.size(), 1u);
  CAF_CHECK(!r.frames[0].cfg.has_value());
}

CAF_TEST(whole floats are accepted for integer fields) {
  // {"t": 5.0, "c": -3.0} as half floats; {"t": 7, "l": {"lvl": 4.0}} as a
  // double; a nanosecond time 1.7e18 as a double.
  auto r = decode_all(unhex("A2 61 74 F9 45 00 61 63 F9 C2 00"));
  CAF_REQUIRE_EQUAL(r.frames.size(), 1u);
  CAF_CHECK(r.frames[0] == make_exit(-3));
  r =
      decode_all(unhex("A2 61 74 07 61 6C A1 63 6C 76 6C FB 40 10 00 00 00 00"
                       " 00 00"));
  CAF_REQUIRE_EQUAL(r.frames.size(), 1u);
  CAF_CHECK(r.frames[0] == make_log(4, ""));
  // {"t": 11, "fop": {"mt": 1.7e18}}
  r =
      decode_all(unhex("A2 61 74 0B 63 66 6F 70 A1 62 6D 74 FB 43 B7 97 9C"
                       " FE 36 2A 00"));
  CAF_REQUIRE_EQUAL(r.frames.size(), 1u);
  CAF_REQUIRE(r.frames[0].fop.has_value());
  CAF_CHECK_EQUAL(r.frames[0].fop->mt, 1700000000000000000);
}

CAF_TEST(a self - described CBOR tag before a frame is transparent) {
  // 55799(A1 61 74 03), as encoders that mark their output write it.
  auto r =
      decode_all(unhex("D9 D9 F7 A1 61 74 03 D9 D9 F7 A2 61 74 03 61 73 01"));
  CAF_REQUIRE_EQUAL(r.frames.size(), 2u);
  CAF_CHECK(r.frames[0] == make_eof(0));
  CAF_CHECK(r.frames[1] == make_eof(1));
}
