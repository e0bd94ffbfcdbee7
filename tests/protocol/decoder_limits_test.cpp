// Hostile and malformed input: every limit of limits.hpp holds at its edge,
// and every malformed frame fails with a message naming the problem.
#define CAF_SUITE decoder_limits
#include <cbor.h>

#include "caf/test/unit_test.hpp"
#include "frame_sample.hpp"
#include "protocol/limits.hpp"
#include "tests/protocol/raw_cbor.hpp"

using namespace remex::protocol;
using namespace remex::protocol::test;

namespace {

using remex::test::raw;

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// Decodes bytes expecting an error mentioning `what`, both all at once and a
// few bytes at a time, copied and taken over (bytes of a frame the decoder
// already dropped still count toward its size).
void check_error(const std::string& bytes, const std::string& what) {
  for (bool take_over : {false, true})
    for (std::size_t chunk : {std::size_t{0}, std::size_t{3}}) {
      auto r = decode_all(bytes, chunk, take_over);
      CAF_CHECK(r.last == frame_decoder::status::error);
      CAF_CHECK(r.frames.empty());
      if (!contains(r.error, what))
        CAF_FAIL("error '" << r.error << "' does not mention '" << what << "'");
    }
}

frame decode_one(const std::string& bytes) {
  auto r = decode_all(bytes);
  if (r.frames.size() != 1)
    CAF_FAIL("expected one frame, got " << r.frames.size() << ": " << r.error);
  return r.frames.empty() ? frame{} : r.frames[0];
}

// A frame {t: 6, e: "x..."} padded with unknown text fields to exactly n
// bytes, around a full data chunk.
std::string frame_of_size(std::size_t n) {
  auto build = [](std::size_t pad) {
    raw r;
    r.map(4).text("t").uint(2).text("d").bytes(
        std::string(max_data_chunk, 'd'));
    r.text("p0").text(std::string(60000, 'p'));
    r.text("p1").text(std::string(pad, 'q'));
    return r.out;
  };
  auto probe = build(1000).size();
  return build(1000 + n - probe);
}

}  // namespace

CAF_TEST(frame size at the limit) {
  auto ok = frame_of_size(max_frame_size);
  CAF_REQUIRE_EQUAL(ok.size(), max_frame_size);
  auto f = decode_one(ok);
  CAF_CHECK_EQUAL(f.d.size(), max_data_chunk);
  check_error(frame_of_size(max_frame_size + 1),
              "frame exceeds " + std::to_string(max_frame_size) + " bytes");
}

CAF_TEST(data chunk at the limit) {
  auto f = decode_one(encode(make_data(1, std::string(max_data_chunk, 'x'))));
  CAF_CHECK_EQUAL(f.d.size(), max_data_chunk);
  check_error(encode(make_data(1, std::string(max_data_chunk + 1, 'x'))),
              "longer than");
}

CAF_TEST(string length at the limit) {
  auto f = decode_one(encode(make_error(std::string(max_string_length, 'e'))));
  CAF_CHECK_EQUAL(f.e.size(), max_string_length);
  check_error(encode(make_error(std::string(max_string_length + 1, 'e'))),
              "text longer than");
  // Indefinite text is bounded by its total, not its chunks.
  raw r;
  r.map(2).text("t").uint(6).text("e");
  r.out += '\x7f';
  r.text(std::string(max_string_length, 'a')).text("b");
  r.out += '\xff';
  check_error(r.out, "text longer than");
}

CAF_TEST(huge declared lengths fail before the bytes arrive) {
  // d declares 2^64-1 bytes, e declares 2^32 bytes; only a few are present.
  auto bytes = unhex("A2 61 74 02 61 64 5B FF FF FF FF FF FF FF FF 00 01");
  check_error(bytes, "bytes longer than");
  check_error(unhex("A2 61 74 06 61 65 7A FF FF FF FF 41 41"), "");
  // Lengths under the frame size but over the field limits do not wait for
  // their bytes either.
  // text of max_string_length + 1, head only
  raw over;
  over.map(2).text("t").uint(6).text("e");
  over.put(cbor_encode_string_start(max_string_length + 1, over.b, 9));
  frame_decoder d;
  d.feed(over.out);
  frame f;
  CAF_CHECK(d.next(f) == frame_decoder::status::error);
  d.feed(over.out);
  CAF_CHECK(d.next(f) == frame_decoder::status::error);
  frame_decoder d2;
  d2.feed(unhex("A2 61 74 02 61 64 5A 00 10 00 01"));  // bytes of 1 MiB + 1
  CAF_CHECK(d2.next(f) == frame_decoder::status::error);
  CAF_CHECK(contains(d2.error_message(), "longer than"));
  // A huge declared array or map fails at its head too.
  check_error(unhex("A2 61 74 01 61 78 A1 64 61 72 67 76 9B 00 00 00 01 00 00 "
                    "00 00"),
              "array longer than");
  check_error(unhex("BB 00 00 00 01 00 00 00 00"), "map longer than");
}

CAF_TEST(array and map length at the limit) {
  raw ok;
  ok.map(2)
      .text("t")
      .uint(8)
      .text("cfg")
      .map(1)
      .text("env_keep")
      .array(max_array_length);
  for (std::size_t i = 0; i < max_array_length; ++i) ok.text("");
  auto f = decode_one(ok.out);
  CAF_REQUIRE(f.cfg.has_value());
  CAF_CHECK_EQUAL(f.cfg->env_keep.size(), max_array_length);
  raw over;
  over.map(2)
      .text("t")
      .uint(8)
      .text("cfg")
      .map(1)
      .text("env_keep")
      .array(max_array_length + 1);
  for (std::size_t i = 0; i <= max_array_length; ++i) over.text("");
  check_error(over.out, "array longer than");
  raw big_map;
  big_map.map(max_array_length + 1).text("t").uint(1);
  check_error(big_map.out, "map longer than");
  // Indefinite arrays count their elements as they come.
  raw indef;
  indef.map(2).text("t").uint(8).text("z");
  indef.out += '\x9f';
  for (std::size_t i = 0; i <= max_array_length; ++i) indef.uint(0);
  indef.out += '\xff';
  check_error(indef.out, "longer than");
}

namespace {

// An exec frame as the seed writes it, by hand: {t: 1, x: {path, argv,
// env}}.
std::string exec_frame(const std::vector<std::string>& argv,
                       const std::vector<std::string>& env = {}) {
  raw r;
  r.map(2).text("t").uint(1).text("x").map(3);
  r.text("path").text("/bin/sh");
  r.text("argv").array(argv.size());
  for (auto& a : argv) r.text(a);
  r.text("env").array(env.size());
  for (auto& e : env) r.text(e);
  return r.out;
}

}  // namespace

CAF_TEST(an exec frame may be as large as execve takes) {
  // 1.5 MB of argv and of env, well over the default frame size.
  std::vector<std::string> argv(15000, std::string(99, 'a'));
  std::vector<std::string> env(15000, "K=" + std::string(97, 'v'));
  auto bytes = exec_frame(argv, env);
  CAF_REQUIRE(bytes.size() > 2 * max_frame_size);
  for (std::size_t chunk : {std::size_t{0}, std::size_t{64 * 1024 + 7}}) {
    auto r = decode_all(bytes, chunk);
    CAF_REQUIRE_EQUAL(r.frames.size(), 1u);
    CAF_REQUIRE(r.frames[0].x.has_value());
    CAF_CHECK(r.frames[0].x->argv == argv);
    CAF_CHECK(r.frames[0].x->env == env);
  }
  // As many strings as Linux could take (one byte each with a pointer).
  auto many = decode_one(exec_frame(std::vector<std::string>(700000, "")));
  CAF_CHECK_EQUAL(many.x->argv.size(), 700000u);
  // One string over MAX_ARG_STRLEN is for execve to refuse, not the decoder.
  auto long_arg = decode_one(exec_frame({std::string(200 * 1024, 'l')}));
  CAF_CHECK_EQUAL(long_arg.x->argv.at(0).size(), 200u * 1024);
  // Up to the exec frame size, and no further.
  auto sized = [](std::size_t n) {
    // The probe's string has the same 5-byte head as the real one.
    auto probe = exec_frame({std::string(100000, 'p')}).size();
    return exec_frame({std::string(100000 + n - probe, 'p')});
  };
  auto at_limit = sized(max_exec_frame_size);
  CAF_REQUIRE_EQUAL(at_limit.size(), max_exec_frame_size);
  CAF_CHECK_EQUAL(decode_one(at_limit).x->argv.size(), 1u);
  check_error(sized(max_exec_frame_size + 1),
              "frame exceeds " + std::to_string(max_exec_frame_size));
}

CAF_TEST(only an exec frame gets the exec limits) {
  // A data frame (and any other) stays within the default bounds ...
  raw big_text;
  big_text.map(3).text("t").uint(2).text("s").uint(1).text("z").text(
      std::string(max_string_length + 1, 'z'));
  check_error(big_text.out, "text longer than");
  raw many;
  many.map(2).text("t").uint(11).text("z").array(max_array_length + 1);
  check_error(many.out, "array longer than");
  // ... even when it names a second `t` later: the first one decides.
  raw second_t;
  second_t.map(3).text("t").uint(2).text("t").uint(1).text("z").text(
      std::string(max_string_length + 1, 'z'));
  check_error(second_t.out, "text longer than");
  // The type has to be known before the exec's bulk arrives.
  raw late_t;
  late_t.map(2).text("x").map(1).text("argv").array(1).text(
      std::string(max_string_length + 1, 'a'));
  late_t.text("t").uint(1);
  check_error(late_t.out, "text longer than");
}

CAF_TEST(nesting at the limit) {
  // The frame map is level 1; an unknown key holds the rest.
  auto nested = [](std::size_t levels) {
    raw r;
    r.map(2).text("t").uint(3).text("z");
    for (std::size_t i = 1; i < levels; ++i) r.array(1);
    r.out.back() = '\x80';  // innermost array is empty
    return r.out;
  };
  decode_one(nested(max_nesting));
  check_error(nested(max_nesting + 1),
              "nesting deeper than " + std::to_string(max_nesting));
  // Deep indefinite nesting is refused as early.
  check_error(unhex("A2 61 74 03 61 7A") + std::string(100000, '\x9f'),
              "nesting deeper than");
}

CAF_TEST(items per frame at the limit) {
  // root, "t", 2, then four unknown arrays: 3 + 4 * 2 + elements.
  auto frame_with = [](std::size_t elements) {
    raw r;
    r.map(5).text("t").uint(2);
    for (int k = 0; k < 4; ++k) {
      auto n = std::min(elements, max_array_length);
      elements -= n;
      r.text("z" + std::to_string(k)).array(n);
      for (std::size_t i = 0; i < n; ++i) r.uint(0);
    }
    return r.out;
  };
  auto budget = max_items_per_frame - 11;
  decode_one(frame_with(budget));
  check_error(frame_with(budget + 1),
              "more than " + std::to_string(max_items_per_frame) + " items");
}

CAF_TEST(not a map) {
  check_error(unhex("01"), "frame is not a CBOR map");
  check_error(unhex("82 01 02"), "frame is not a CBOR map");
  check_error(unhex("43 61 62 63"), "frame is not a CBOR map");
  check_error(unhex("F6"), "frame is not a CBOR map");
  check_error(unhex("FB 3F F0 00 00 00 00 00 00"), "frame is not a CBOR map");
}

CAF_TEST(missing t) {
  check_error(unhex("A1 61 73 01"), "frame has no 't'");
  check_error(unhex("A0"), "frame has no 't'");
  // a non-text key 't'... is not the text key "t"
  check_error(unhex("A1 41 74 03"), "frame has no 't'");
}

CAF_TEST(wrong field types) {
  check_error(unhex("A2 61 74 03 61 73 61 78"),
              "field 's' has wrong type (text, want uint)");
  check_error(unhex("A1 61 74 61 78"), "field 't' has wrong type");
  check_error(unhex("A2 61 74 03 61 73 20"), "field 's' has wrong type");
  check_error(unhex("A2 61 74 02 61 64 01"), "field 'd' has wrong type");
  check_error(unhex("A2 61 74 01 61 78 01"), "field 'x' has wrong type");
  check_error(unhex("A2 61 74 01 61 78 A1 64 61 72 67 76 81 01"),
              "field 'argv' has wrong type");
  check_error(unhex("A2 61 74 05 61 63 F5"), "field 'c' has wrong type");
  // out of range for the field's width
  CAF_CHECK_EQUAL(decode_one(unhex("A2 61 74 03 61 73 1A FF FF FF FF")).s,
                  4294967295u);
  check_error(unhex("A2 61 74 03 61 73 1B 00 00 00 01 00 00 00 00"),
              "out of range");
  check_error(unhex("A2 61 74 05 61 63 3B 80 00 00 00 00 00 00 00"),
              "out of range");
  // t is any uint: a frame type beyond 255 is unknown, not out of range
  CAF_CHECK_EQUAL(
      static_cast<std::uint64_t>(decode_one(unhex("A1 61 74 19 01 00")).t),
      256u);
  // a float that is not a whole number, or out of range, is not an int
  check_error(unhex("A2 61 74 05 61 63 F9 3E 00"), "field 'c' has wrong type");
  check_error(unhex("A2 61 74 03 61 73 FA 4F 80 00 00"),
              "field 's' has wrong type");
  check_error(unhex("A2 61 74 03 61 73 F9 BC 00"), "field 's' has wrong type");
  check_error(unhex("A2 61 74 05 61 63 F9 7E 00"), "field 'c' has wrong type");
}

CAF_TEST(invalid cbor bytes) {
  check_error(unhex("1C"), "");
  check_error(unhex("FF"), "");
  check_error(unhex("A2 61 74 03 61 73 1E"), "");
  check_error(unhex("A2 61 74 03 61 73 FF"), "");
  // a map closed after a key
  check_error(unhex("BF 61 74 03 61 73 FF"), "");
  // an indefinite string holding a chunk of another kind
  check_error(unhex("A2 61 74 02 61 64 5F 61 61 FF"), "");
}

CAF_TEST(truncated then garbage) {
  auto good = encode(full_frames()[0]);
  auto bytes = good.substr(0, good.size() / 2) + unhex("1C 1C 1C 1C");
  auto r = decode_all(bytes);
  CAF_CHECK(r.last == frame_decoder::status::error);
  CAF_CHECK(!r.error.empty());
}

CAF_TEST(errors are sticky) {
  frame_decoder d;
  d.feed(encode(make_eof(1)) + unhex("01") + encode(make_eof(2)));
  frame f;
  CAF_REQUIRE(d.next(f) == frame_decoder::status::frame);
  CAF_CHECK(f == make_eof(1));
  CAF_CHECK(d.next(f) == frame_decoder::status::error);
  auto msg = d.error_message();
  CAF_CHECK_EQUAL(msg, "frame is not a CBOR map");
  d.feed(encode(make_eof(3)));
  CAF_CHECK(d.next(f) == frame_decoder::status::error);
  CAF_CHECK_EQUAL(d.error_message(), msg);
}

CAF_TEST(incomplete input waits) {
  auto bytes = encode(make_data(1, "hello"));
  frame_decoder d;
  d.feed(bytes.data(), bytes.size() - 1);
  frame f;
  CAF_CHECK(d.next(f) == frame_decoder::status::need_more);
  CAF_CHECK(d.next(f) == frame_decoder::status::need_more);
  CAF_CHECK_EQUAL(d.buffered(), bytes.size() - 1);
  d.feed(bytes.data() + bytes.size() - 1, 1);
  CAF_CHECK(d.next(f) == frame_decoder::status::frame);
  CAF_CHECK(f == make_data(1, "hello"));
}
