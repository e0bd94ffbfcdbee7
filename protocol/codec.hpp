// CBOR encoding of frames and the incremental frame decoder (libcbor).
#pragma once

#include <cstddef>
#include <string>

#include "protocol/frame.hpp"

namespace remex::protocol {

// Appends the CBOR encoding of f to out (a byte buffer). Keys are written in
// the order of agentproto.md's table; zero-valued fields are omitted.
void encode(const frame& f, std::string& out);
std::string encode(const frame& f);

// Appends only the head of a data frame carrying len bytes for stream s, so a
// sender can write the payload straight from its own buffer (writev) without
// copying it. head + payload is byte-identical to encode(make_data(s,
// payload)), and with xid to encode(with_xid(make_data(s, payload), xid)).
void encode_data_head(std::uint32_t s, std::size_t len, std::string& out,
                      std::uint32_t xid = 0);

// Turns a byte stream, fed in chunks of any size, into frames. Every length is
// checked against limits.hpp before anything is allocated for it. After an
// error the decoder stays failed: the stream cannot be resynchronised.
class frame_decoder {
 public:
  enum class status { frame, need_more, error };

  frame_decoder();
  ~frame_decoder();
  frame_decoder(const frame_decoder&) = delete;
  frame_decoder& operator=(const frame_decoder&) = delete;

  // Appends bytes to the decoder's buffer.
  void feed(const char* data, std::size_t len);
  void feed(const std::string& bytes) { feed(bytes.data(), bytes.size()); }
  // The same, taking the bytes over when nothing earlier is left undecoded.
  void feed(std::string&& bytes);

  // Extracts the next whole frame into out. need_more: feed more bytes.
  // error: the input is malformed or over a limit; error_message() says which.
  // Frames of a type this version does not know are returned as they are
  // (frame.t holds the raw number) so the caller can log and ignore them.
  status next(frame& out);

  const std::string& error_message() const;
  // Bytes buffered but not yet returned as a frame.
  std::size_t buffered() const;

 private:
  struct impl;
  impl* impl_;
};

}  // namespace remex::protocol
