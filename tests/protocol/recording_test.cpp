// The recorder format: golden bytes written by hand from agentproto.md
// (canonical key order, shortest heads), round trips of every record type,
// and a recording cut at every byte offset.
#define CAF_SUITE recording
#include "protocol/recording.hpp"

#include "caf/test/unit_test.hpp"
#include "frame_sample.hpp"

using namespace remex::protocol;
using namespace remex::protocol::test;

namespace {

template <class T>
std::string encoded(const T& r) {
  std::string out;
  encode_record(r, out);
  return out;
}

// Reads every whole record of bytes; last is the status that ended it.
struct read_result {
  std::vector<record> records;
  recording_reader::status last = recording_reader::status::need_more;
  std::size_t buffered = 0;
  std::string error;
};

read_result read_all(const std::string& bytes, std::size_t chunk = 0) {
  read_result r;
  recording_reader rd;
  std::size_t off = 0;
  do {
    auto n = chunk == 0 ? bytes.size() : std::min(chunk, bytes.size() - off);
    rd.feed(bytes.data() + off, n);
    off += n;
    record rec;
    while ((r.last = rd.next(rec)) == recording_reader::status::record)
      r.records.push_back(rec);
    if (r.last == recording_reader::status::error) break;
  } while (off < bytes.size());
  r.buffered = rd.buffered();
  r.error = rd.error_message();
  return r;
}

recording_header sample_header() {
  recording_header h;
  h.start_time = 1700000000123456789;
  h.local_user = "alice";
  h.local_pid = 4242;
  h.ssh_addr = "web1:22";
  h.ssh_user = "deploy";
  h.backend_type = "agent";
  h.backend_addr = "10.0.0.7";
  h.agent_path = ".cache/remex/agent-abc/remex-agent";
  return h;
}

// One recording with a record of every type and a frame of every type.
std::vector<record> sample_records() {
  std::vector<record> v;
  record r;
  r.type = record_type::header;
  r.header = sample_header();
  v.push_back(r);
  r = record{};
  r.type = record_type::cmd_start;
  r.cmd_start.seq = 0;
  r.cmd_start.start_time = 1700000000200000000;
  r.cmd_start.exec = {
      "/bin/sh", {"sh", "-c", "echo hi"}, {"A=1"}, "/tmp", {3, 4}};
  v.push_back(r);
  std::int64_t ts = 1700000000300000000;
  for (auto& f : full_frames()) {
    r = record{};
    r.type = record_type::frame;
    r.frame.seq = 0;
    r.frame.ts = ts++;
    r.frame.dir = v.size() % 2 ? frame_dir::sent : frame_dir::received;
    r.frame.f = f;
    v.push_back(r);
  }
  r = record{};
  r.type = record_type::cmd_end;
  r.cmd_end.end_time = ts;
  r.cmd_end.exit_code = -1;
  v.push_back(r);
  r = record{};
  r.type = record_type::footer;
  r.footer.end_time = ts + 1;
  r.footer.command_count = 1;
  v.push_back(r);
  return v;
}

bool same(const record& a, const record& b) {
  if (a.type != b.type) return false;
  switch (a.type) {
    case record_type::header:
      return a.header == b.header;
    case record_type::cmd_start:
      return a.cmd_start == b.cmd_start;
    case record_type::frame:
      return a.frame == b.frame;
    case record_type::cmd_end:
      return a.cmd_end == b.cmd_end;
    case record_type::footer:
      return a.footer == b.footer;
  }
  return false;
}

}  // namespace

CAF_TEST(header golden bytes) {
  recording_header h;
  h.start_time = 1000;
  h.local_user = "u";
  h.local_pid = 42;
  h.backend_type = "agent";
  // {"type": 1, "header": {...}}: "type" (4 letters) sorts before "header";
  // inside, shorter keys first, equal lengths bytewise ("local_user" <
  // "start_time"); the empty optional fields are omitted.
  auto want = unhex(
      "A2 64 74797065 01 66 686561646572"
      " A5"
      " 67 76657273696F6E 01"                         // version: 1
      " 69 6C6F63616C5F706964 18 2A"                  // local_pid: 42
      " 6A 6C6F63616C5F75736572 61 75"                // local_user: "u"
      " 6A 73746172745F74696D65 19 03E8"              // start_time: 1000
      " 6C 6261636B656E645F74797065 65 6167656E74");  // backend_type
  CAF_CHECK_EQUAL(hex(encoded(h)), hex(want));
  auto r = read_all(want);
  CAF_REQUIRE_EQUAL(r.records.size(), 1u);
  CAF_CHECK(r.records[0].type == record_type::header);
  CAF_CHECK(r.records[0].header == h);
}

CAF_TEST(data frame record golden bytes) {
  frame_record f;
  f.seq = 0;
  f.ts = 5;
  f.dir = frame_dir::received;
  f.f = make_data(1, "hi");
  // The frame map is canonical too: "d" < "s" < "t" (the wire writes t, s,
  // d). seq 0 is written: it numbers the command.
  auto want = unhex(
      "A2 64 74797065 03 65 6672616D65"
      " A4 62 7473 05 63 646972 02 63 736571 00"
      " 65 6672616D65 A3 61 64 42 6869 61 73 01 61 74 02");
  CAF_CHECK_EQUAL(hex(encoded(f)), hex(want));
  auto r = read_all(want);
  CAF_REQUIRE_EQUAL(r.records.size(), 1u);
  CAF_CHECK(r.records[0].frame == f);
}

CAF_TEST(other frames are sorted canonically) {
  std::string out;
  encode_frame_canonical(make_exit(-1), out);
  CAF_CHECK_EQUAL(hex(out), hex(unhex("A2 61 63 20 61 74 05")));
  out.clear();
  // The wire writes lvl, msg, a; canonical is a, lvl, msg.
  encode_frame_canonical(make_log(4, "m", {"k=v"}), out);
  CAF_CHECK_EQUAL(hex(out), hex(unhex("A2 61 6C A3 61 61 81 63 6B3D76"
                                      " 63 6C766C 04 63 6D7367 61 6D"
                                      " 61 74 07")));
}

CAF_TEST(end and footer golden bytes) {
  command_end e;
  e.seq = 1;
  e.end_time = 7;
  e.exit_code = 300;
  CAF_CHECK_EQUAL(hex(encoded(e)),
                  hex(unhex("A2 64 74797065 04 67 636D645F656E64"
                            " A3 63 736571 01 68 656E645F74696D65 07"
                            " 69 657869745F636F6465 19 012C")));
  recording_footer ft;
  ft.end_time = 9;
  ft.command_count = 2;
  CAF_CHECK_EQUAL(hex(encoded(ft)),
                  hex(unhex("A2 64 74797065 05 66 666F6F746572"
                            " A2 68 656E645F74696D65 09"
                            " 6D 636F6D6D616E645F636F756E74 02")));
}

CAF_TEST(every record type round trips in any chunking) {
  auto recs = sample_records();
  std::string bytes;
  for (auto& r : recs) encode_record(r, bytes);
  for (std::size_t chunk : {0, 1, 7, 4096}) {
    auto got = read_all(bytes, chunk);
    CAF_CHECK(got.last == recording_reader::status::need_more);
    CAF_CHECK_EQUAL(got.buffered, 0u);
    CAF_REQUIRE_EQUAL(got.records.size(), recs.size());
    for (std::size_t i = 0; i < recs.size(); ++i)
      CAF_CHECK(same(got.records[i], recs[i]));
  }
  // Writing what was read gives the same bytes: the encoding is canonical.
  std::string again;
  for (auto& r : read_all(bytes).records) encode_record(r, again);
  CAF_CHECK(again == bytes);
}

CAF_TEST(a recording cut at any byte replays up to the cut) {
  auto recs = sample_records();
  std::string bytes;
  std::vector<std::size_t> ends;  // where each record ends
  for (auto& r : recs) {
    encode_record(r, bytes);
    ends.push_back(bytes.size());
  }
  for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
    auto got = read_all(bytes.substr(0, cut));
    auto whole = static_cast<std::size_t>(
        std::upper_bound(ends.begin(), ends.end(), cut) - ends.begin());
    if (got.last != recording_reader::status::need_more) {
      CAF_FAIL("cut at " << cut << ": " << got.error);
    }
    CAF_REQUIRE_EQUAL(got.records.size(), whole);
    for (std::size_t i = 0; i < whole; ++i)
      CAF_REQUIRE(same(got.records[i], recs[i]));
    std::size_t at = whole == 0 ? 0 : ends[whole - 1];
    CAF_REQUIRE_EQUAL(got.buffered, cut - at);
  }
}

CAF_TEST(garbage is an error not a cut) {
  for (std::string bad :
       {std::string("hello, this is not a recording\n"), unhex("00 01 02"),
        unhex("A1 64 74797065 01"), unhex("A2 64 74797065 03 65 6672616D65 A0"),
        unhex("A2 64 74797065 02 69 636D645F7374617274 01"), unhex("BF FF")}) {
    auto got = read_all(bad);
    CAF_CHECK(got.last == recording_reader::status::error);
    CAF_CHECK(!got.error.empty());
  }
  // A declared length beyond any recording's is garbage, not a long wait.
  auto got =
      read_all(unhex("A2 64 74797065 03 65 6672616D65 5B FFFFFFFFFFFFFFFF"));
  CAF_CHECK(got.last == recording_reader::status::error);
}

CAF_TEST(unknown record types and keys are skipped) {
  // {"type": 9, "later": 1, "x": 2}, then a footer: the reader returns the
  // unknown type with its number and goes on.
  auto bytes = unhex("A3 61 78 02 64 74797065 09 65 6C61746572 01");
  recording_footer ft;
  ft.command_count = 1;
  encode_record(ft, bytes);
  auto got = read_all(bytes);
  CAF_REQUIRE_EQUAL(got.records.size(), 2u);
  CAF_CHECK_EQUAL(static_cast<int>(got.records[0].type), 9);
  CAF_CHECK(got.records[1].footer == ft);
}
