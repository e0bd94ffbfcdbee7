// The incremental frame decoder. libcbor's streaming decoder reports one item
// head (or one whole definite string) per call and consumes nothing when the
// buffer is short, so decoding resumes exactly where it stopped when more
// bytes arrive. The items of one frame are assembled into a bounded
// cbor_value tree, then checked field by field.
#include <cbor.h>

#include <algorithm>

#include "protocol/cbor_value.hpp"
#include "protocol/codec.hpp"
#include "protocol/frame_from_value.hpp"
#include "protocol/limits.hpp"

namespace remex::protocol {

using detail::cbor_value;

namespace {

// An open container on the builder's stack.
struct open_item {
  cbor_value* value;
  std::uint64_t remaining;  // items still expected (maps count keys+values)
  bool indefinite;
};

struct builder {
  cbor_value root;
  std::vector<open_item> stack;
  bool started = false;
  bool complete = false;
  std::size_t items = 0;
  std::string error;
  // The frame's own `t` (its first one) decides its limits: an exec frame
  // may be as large as execve takes, every other frame stays small.
  const frame_limits* limits = &default_frame_limits;
  bool type_known = false;

  void fail(std::string msg) {
    if (error.empty()) error = std::move(msg);
  }

  // Where the next item goes; nullptr (and an error) when it cannot go
  // anywhere.
  cbor_value* slot() {
    if (!error.empty()) return nullptr;
    if (++items > limits->items) {
      fail("frame has more than " + std::to_string(limits->items) + " items");
      return nullptr;
    }
    if (!started) {
      started = true;
      return &root;
    }
    if (stack.empty()) {
      fail("frame has trailing items");
      return nullptr;
    }
    auto& top = stack.back();
    if (top.value->kind == cbor_value::bytes ||
        top.value->kind == cbor_value::text) {
      fail("indefinite string holds a non-string chunk");
      return nullptr;
    }
    if (top.indefinite) {
      // Definite heads are checked when they open; these count as they come.
      auto is_map = top.value->kind == cbor_value::map;
      if (top.value->items.size() >= (is_map ? 2 : 1) * limits->array_length) {
        fail(std::string(is_map ? "map" : "array") + " longer than " +
             std::to_string(limits->array_length));
        return nullptr;
      }
    }
    top.value->items.emplace_back();
    return &top.value->items.back();
  }

  // An item finished: count it against its container and close every
  // container that is now full.
  void done_item() {
    if (stack.empty()) {
      complete = started && error.empty();
      return;
    }
    auto& top = stack.back();
    if (!top.indefinite && --top.remaining == 0) close_top();
  }

  void close_top() {
    stack.pop_back();
    done_item();
  }

  void scalar(cbor_value::kind_t k, std::uint64_t u = 0) {
    if (auto* v = slot()) {
      if (started && v == &root) return fail("frame is not a CBOR map");
      v->kind = k;
      v->u = u;
      if (k == cbor_value::uint) note_type(u);
      done_item();
    }
  }

  // Called with the uint just placed: when it is the value of the frame
  // map's first "t" key, the frame's type (and so its limits) is known.
  void note_type(std::uint64_t u) {
    if (type_known || stack.size() != 1 || stack.back().value != &root) return;
    auto& items = root.items;
    if (items.size() % 2 != 0 || items.size() < 2) return;  // a key
    auto& key = items[items.size() - 2];
    if (key.kind != cbor_value::text || key.s != "t") return;
    type_known = true;
    if (u == static_cast<std::uint64_t>(frame_type::exec))
      limits = &exec_frame_limits;
  }

  void floating(double f) {
    if (auto* v = slot()) {
      if (v == &root) return fail("frame is not a CBOR map");
      v->kind = cbor_value::floating;
      v->f = f;
      done_item();
    }
  }

  void string(cbor_value::kind_t k, const unsigned char* p, std::size_t n) {
    if (!error.empty()) return;
    auto limit =
        k == cbor_value::bytes ? max_data_chunk : limits->string_length;
    // A chunk of an indefinite string appends to it.
    if (!stack.empty() && stack.back().value->kind == k &&
        stack.back().indefinite &&
        (k == cbor_value::bytes || k == cbor_value::text)) {
      auto& s = stack.back().value->s;
      if (s.size() + n > limit)
        return fail(std::string(k == cbor_value::bytes ? "bytes" : "text") +
                    " longer than " + std::to_string(limit));
      s.append(reinterpret_cast<const char*>(p), n);
      return;
    }
    if (n > limit)
      return fail(std::string(k == cbor_value::bytes ? "bytes" : "text") +
                  " longer than " + std::to_string(limit));
    if (auto* v = slot()) {
      if (v == &root) return fail("frame is not a CBOR map");
      v->kind = k;
      v->s.assign(reinterpret_cast<const char*>(p), n);
      done_item();
    }
  }

  void open(cbor_value::kind_t k, std::uint64_t n, bool indefinite) {
    if (!error.empty()) return;
    if (k != cbor_value::bytes && k != cbor_value::text && !indefinite &&
        n > limits->array_length)
      return fail(std::string(k == cbor_value::map ? "map" : "array") +
                  " longer than " + std::to_string(limits->array_length));
    if (stack.size() >= max_nesting)
      return fail("nesting deeper than " + std::to_string(max_nesting));
    auto* v = slot();
    if (!v) return;
    if (v == &root && k != cbor_value::map)
      return fail("frame is not a CBOR map");
    v->kind = k;
    auto count = k == cbor_value::map ? n * 2 : n;
    if (!indefinite && count == 0) {
      done_item();
      return;
    }
    v->items.reserve(std::min<std::uint64_t>(count, 64));
    stack.push_back({v, count, indefinite});
  }

  void brk() {
    if (!error.empty()) return;
    if (stack.empty() || !stack.back().indefinite)
      return fail("unexpected break");
    auto& top = stack.back();
    if (top.value->kind == cbor_value::map && top.value->items.size() % 2)
      return fail("map ends after a key");
    close_top();
  }
};

builder& ctx(void* p) {
  return *static_cast<builder*>(p);
}

cbor_callbacks make_callbacks() {
  cbor_callbacks cb = cbor_empty_callbacks;
  cb.uint8 = [](void* c, uint8_t v) { ctx(c).scalar(cbor_value::uint, v); };
  cb.uint16 = [](void* c, uint16_t v) { ctx(c).scalar(cbor_value::uint, v); };
  cb.uint32 = [](void* c, uint32_t v) { ctx(c).scalar(cbor_value::uint, v); };
  cb.uint64 = [](void* c, uint64_t v) { ctx(c).scalar(cbor_value::uint, v); };
  cb.negint8 = [](void* c, uint8_t v) { ctx(c).scalar(cbor_value::negint, v); };
  cb.negint16 = [](void* c, uint16_t v) {
    ctx(c).scalar(cbor_value::negint, v);
  };
  cb.negint32 = [](void* c, uint32_t v) {
    ctx(c).scalar(cbor_value::negint, v);
  };
  cb.negint64 = [](void* c, uint64_t v) {
    ctx(c).scalar(cbor_value::negint, v);
  };
  cb.byte_string = [](void* c, cbor_data p, size_t n) {
    ctx(c).string(cbor_value::bytes, p, n);
  };
  cb.byte_string_start = [](void* c) {
    ctx(c).open(cbor_value::bytes, 0, true);
  };
  cb.string = [](void* c, cbor_data p, size_t n) {
    ctx(c).string(cbor_value::text, p, n);
  };
  cb.string_start = [](void* c) { ctx(c).open(cbor_value::text, 0, true); };
  cb.array_start = [](void* c, size_t n) {
    ctx(c).open(cbor_value::array, n, false);
  };
  cb.indef_array_start = [](void* c) {
    ctx(c).open(cbor_value::array, 0, true);
  };
  cb.map_start = [](void* c, size_t n) {
    ctx(c).open(cbor_value::map, n, false);
  };
  cb.indef_map_start = [](void* c) { ctx(c).open(cbor_value::map, 0, true); };
  cb.tag = [](void*, uint64_t) {};  // tags are ignored; their item counts
  cb.float2 = [](void* c, float f) { ctx(c).floating(f); };
  cb.float4 = [](void* c, float f) { ctx(c).floating(f); };
  cb.float8 = [](void* c, double f) { ctx(c).floating(f); };
  cb.undefined = [](void* c) { ctx(c).scalar(cbor_value::undefined); };
  cb.null = [](void* c) { ctx(c).scalar(cbor_value::null); };
  cb.boolean = [](void* c, bool b) {
    ctx(c).scalar(cbor_value::boolean, b ? 1 : 0);
  };
  cb.indef_break = [](void* c) { ctx(c).brk(); };
  return cb;
}

const cbor_callbacks callbacks = make_callbacks();

// libcbor reports a definite string only once all of it is buffered; its head
// already says whether it could ever fit, so read that length here.
std::string oversized_string(const unsigned char* p, std::size_t avail,
                             const frame_limits& limits) {
  auto major = p[0] >> 5;
  auto info = p[0] & 31u;
  if ((major != 2 && major != 3) || info < 24 || info > 27) return {};
  std::size_t width = std::size_t{1} << (info - 24);
  if (avail < 1 + width) return {};
  std::uint64_t len = 0;
  for (std::size_t i = 1; i <= width; ++i) len = (len << 8) | p[i];
  auto limit = major == 2 ? max_data_chunk : limits.string_length;
  if (len <= limit) return {};
  return std::string(major == 2 ? "bytes" : "text") + " longer than " +
         std::to_string(limit);
}

}  // namespace

struct frame_decoder::impl {
  std::string buf;
  std::size_t pos = 0;          // next undecoded byte in buf
  std::size_t frame_start = 0;  // where the current frame began in buf
  // Bytes of the current frame already decoded and dropped from buf.
  std::size_t dropped = 0;
  builder b;
  std::string error;

  void drop_decoded();
};

frame_decoder::frame_decoder() : impl_(new impl) {
  // nop
}

frame_decoder::~frame_decoder() {
  delete impl_;
}

// Everything in buf was decoded: what the current frame took so far only
// counts toward its size, so buf can start over without moving bytes.
void frame_decoder::impl::drop_decoded() {
  if (pos < buf.size()) return;
  dropped += pos - frame_start;
  buf.clear();
  pos = frame_start = 0;
}

void frame_decoder::feed(const char* data, std::size_t len) {
  auto& d = *impl_;
  if (!d.error.empty()) return;
  d.drop_decoded();
  // Drop what earlier frames used, so the buffer holds about one frame.
  if (d.frame_start > 0 && d.frame_start >= d.buf.size() / 2) {
    d.buf.erase(0, d.frame_start);
    d.pos -= d.frame_start;
    d.frame_start = 0;
  }
  d.buf.append(data, len);
}

void frame_decoder::feed(std::string&& bytes) {
  auto& d = *impl_;
  if (!d.error.empty()) return;
  d.drop_decoded();
  if (!d.buf.empty()) return feed(bytes.data(), bytes.size());
  // Nothing left over: the bytes become the buffer as they are (a frame of
  // a megabyte is not copied once more on its way to its fields).
  d.buf = std::move(bytes);
}

frame_decoder::status frame_decoder::next(frame& out) {
  auto& d = *impl_;
  if (!d.error.empty()) return status::error;
  auto fail = [&](std::string msg) {
    d.error = std::move(msg);
    return status::error;
  };
  while (!d.b.complete) {
    if (d.pos >= d.buf.size()) return status::need_more;
    auto* p = reinterpret_cast<const unsigned char*>(d.buf.data()) + d.pos;
    auto avail = d.buf.size() - d.pos;
    auto used = d.dropped + d.pos - d.frame_start;
    auto frame_size = d.b.limits->frame_size;
    auto res = cbor_stream_decode(p, avail, &callbacks, &d.b);
    if (res.status == CBOR_DECODER_ERROR)
      return fail("malformed CBOR at byte " + std::to_string(used) +
                  " of the frame");
    if (res.status == CBOR_DECODER_NEDATA) {
      // Fail now rather than wait for bytes a frame may never have.
      auto over = oversized_string(p, avail, *d.b.limits);
      if (!over.empty()) return fail(std::move(over));
      if (res.required > frame_size - used)
        return fail("frame exceeds " + std::to_string(frame_size) + " bytes");
      return status::need_more;
    }
    d.pos += res.read;
    if (!d.b.error.empty()) return fail(d.b.error);
    // The item just read may have made this an exec frame: the new, larger
    // bound holds from here on.
    frame_size = d.b.limits->frame_size;
    if (d.dropped + d.pos - d.frame_start > frame_size)
      return fail("frame exceeds " + std::to_string(frame_size) + " bytes");
  }
  auto err = detail::frame_from_value(d.b.root, out);
  d.b = builder{};
  d.frame_start = d.pos;
  d.dropped = 0;
  if (!err.empty()) return fail(err);
  return status::frame;
}

const std::string& frame_decoder::error_message() const {
  return impl_->error;
}

std::size_t frame_decoder::buffered() const {
  return impl_->dropped + impl_->buf.size() - impl_->frame_start;
}

}  // namespace remex::protocol
