// The seed's recorder format (agentproto.md, "Recording"): a CBOR sequence of
// maps {"type": n, <body key>: {...}} in canonical CBOR (keys sorted
// shorter-first then bytewise, shortest integer heads, definite lengths).
// Writing is plain encoding into a byte buffer; reading is incremental and
// stops cleanly at a record cut short. No I/O, no CAF.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "protocol/frame.hpp"

namespace remex::protocol {

enum class record_type : std::uint64_t {
  header = 1,
  cmd_start = 2,
  frame = 3,
  cmd_end = 4,
  footer = 5,
};

// The version this code writes.
constexpr std::uint64_t recording_version = 1;

// Direction of a recorded frame.
enum class frame_dir : std::uint64_t { sent = 1, received = 2 };

struct recording_header {
  std::uint64_t version = recording_version;
  std::int64_t start_time = 0;  // ns since the epoch
  std::string local_user;
  std::int64_t local_pid = 0;
  std::string ssh_addr;  // the optional ones are omitted when empty
  std::string ssh_user;
  std::string backend_type;
  std::string backend_addr;
  std::string agent_path;
  bool operator==(const recording_header&) const;
};

struct command_start {
  std::uint64_t seq = 0;
  std::int64_t start_time = 0;  // ns
  exec_msg exec;
  bool operator==(const command_start&) const;
};

struct frame_record {
  std::uint64_t seq = 0;
  std::int64_t ts = 0;  // ns
  frame_dir dir = frame_dir::received;
  frame f;
  bool operator==(const frame_record&) const;
};

struct command_end {
  std::uint64_t seq = 0;
  std::int64_t end_time = 0;  // ns
  std::int64_t exit_code = 0;
  bool operator==(const command_end&) const;
};

struct recording_footer {
  std::int64_t end_time = 0;  // ns
  std::uint64_t command_count = 0;
  bool operator==(const recording_footer&) const;
};

// One record: `type` says which body is meaningful. A type this version does
// not know keeps its number and has no body.
struct record {
  record_type type = record_type::header;
  recording_header header;
  command_start cmd_start;
  frame_record frame;
  command_end cmd_end;
  recording_footer footer;
};

// Appends the canonical encoding of one record to out.
void encode_record(const recording_header& h, std::string& out);
void encode_record(const command_start& c, std::string& out);
void encode_record(const frame_record& f, std::string& out);
void encode_record(const command_end& c, std::string& out);
void encode_record(const recording_footer& f, std::string& out);
void encode_record(const record& r, std::string& out);

// The canonical encoding of one frame map (the frame record's `frame`): the
// wire map's keys and values, sorted as canonical CBOR wants.
void encode_frame_canonical(const frame& f, std::string& out);

// Rewrites one CBOR data item (definite lengths only) canonically: map keys
// sorted, integer and length heads shortest. False when `in` does not hold
// exactly one such item.
bool canonicalize_cbor(const std::string& in, std::string& out);

// Reads records from bytes fed in chunks of any size.
class recording_reader {
 public:
  enum class status { record, need_more, error };

  // Appends bytes to the reader's buffer.
  void feed(const char* data, std::size_t len);
  void feed(const std::string& bytes) { feed(bytes.data(), bytes.size()); }

  // The next whole record. need_more: feed more, or, at the end of the
  // input, the recording was cut short when buffered() > 0. error: not a
  // recording (or damaged beyond the cut); the reader stays failed.
  status next(record& out);

  const std::string& error_message() const { return error_; }
  // Bytes fed but not yet returned as a record.
  std::size_t buffered() const { return buf_.size() - pos_; }

 private:
  std::string buf_;
  std::size_t pos_ = 0;
  std::string error_;
};

}  // namespace remex::protocol
