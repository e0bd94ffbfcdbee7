// Recorder format: canonical CBOR written by hand (the bodies are small maps
// of known keys) and read back with a small bounded CBOR parser that tells a
// record cut short (need more) from bytes that cannot be one (error).
#include "protocol/recording.hpp"

#include <algorithm>
#include <limits>
#include <utility>
#include <vector>

#include "protocol/codec.hpp"

namespace remex::protocol {

namespace {

// ---- writing ---------------------------------------------------------------

// A CBOR head: major type and argument, in the shortest form.
void put_head(unsigned major, std::uint64_t v, std::string& out) {
  auto m = static_cast<char>(major << 5);
  if (v < 24) {
    out += static_cast<char>(m | static_cast<char>(v));
    return;
  }
  int n = v <= 0xff ? 1 : v <= 0xffff ? 2 : v <= 0xffffffffULL ? 4 : 8;
  out += static_cast<char>(m | (n == 1 ? 24 : n == 2 ? 25 : n == 4 ? 26 : 27));
  for (int i = n - 1; i >= 0; --i)
    out += static_cast<char>((v >> (8 * i)) & 0xff);
}

void put_uint(std::uint64_t v, std::string& out) {
  put_head(0, v, out);
}
void put_sint(std::int64_t v, std::string& out) {
  if (v >= 0)
    put_head(0, static_cast<std::uint64_t>(v), out);
  else
    put_head(1, static_cast<std::uint64_t>(-(v + 1)), out);
}
void put_text(const std::string& s, std::string& out) {
  put_head(3, s.size(), out);
  out += s;
}
void put_bytes(const std::string& s, std::string& out) {
  put_head(2, s.size(), out);
  out += s;
}

// Canonical order of encoded keys: shorter first, then bytewise (RFC 7049
// §3.9; the same as RFC 8949's bytewise order for short text keys).
bool canonical_less(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return a.size() < b.size();
  return std::lexicographical_compare(
      a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return static_cast<unsigned char>(x) < static_cast<unsigned char>(y);
      });
}

// A map whose entries are sorted canonically when it is written.
class map_builder {
 public:
  void uint(const char* k, std::uint64_t v) { put_uint(v, add(k)); }
  void sint(const char* k, std::int64_t v) { put_sint(v, add(k)); }
  void text(const char* k, const std::string& v) { put_text(v, add(k)); }
  void text_if(const char* k, const std::string& v) {
    if (!v.empty()) text(k, v);
  }
  // v: an already encoded (canonical) item.
  void raw(const char* k, std::string v) { add(k) = std::move(v); }

  void write(std::string& out) {
    std::sort(entries_.begin(), entries_.end(),
              [](const auto& a, const auto& b) {
                return canonical_less(a.first, b.first);
              });
    put_head(5, entries_.size(), out);
    for (auto& [k, v] : entries_) {
      out += k;
      out += v;
    }
  }

 private:
  std::string& add(const char* k) {
    std::string key;
    put_text(k, key);
    entries_.emplace_back(std::move(key), std::string{});
    return entries_.back().second;
  }
  std::vector<std::pair<std::string, std::string>> entries_;
};

void write_record(record_type t, const char* body_key, map_builder& body,
                  std::string& out) {
  std::string b;
  body.write(b);
  map_builder top;
  top.uint("type", static_cast<std::uint64_t>(t));
  top.raw(body_key, std::move(b));
  top.write(out);
}

// Defined with the reader below: the canonical exec map.
std::string canonical_exec(const exec_msg& x);

// ---- reading ---------------------------------------------------------------

enum class parse { ok, need_more, error };

// Bounds for what a recording may hold; beyond them the input is garbage.
constexpr std::uint64_t max_item_length = 64ull * 1024 * 1024;
constexpr std::uint64_t max_item_count = 1024 * 1024;
constexpr int max_depth = 16;

struct item {
  unsigned major = 0;
  unsigned ai = 0;         // the head's additional information
  std::uint64_t arg = 0;   // value (0, 1, 7), length (2, 3), count (4, 5), tag
  std::string str;         // 2, 3
  std::vector<item> kids;  // 4: elements; 5: key, value, key, value ...; 6: 1
  std::size_t begin = 0, end = 0;  // its bytes in the buffer
};

class parser {
 public:
  parser(const std::string& b, std::size_t pos) : b_(b), pos_(pos) {}

  parse next(item& out, int depth = 0) {
    if (depth > max_depth) return fail("nested too deeply");
    out.begin = pos_;
    if (pos_ >= b_.size()) return parse::need_more;
    auto ib = static_cast<unsigned char>(b_[pos_++]);
    out.major = ib >> 5;
    unsigned ai = out.ai = ib & 0x1f;
    if (ai < 24) {
      out.arg = ai;
    } else if (ai <= 27) {
      std::size_t n = std::size_t{1} << (ai - 24);
      if (b_.size() - pos_ < n) return parse::need_more;
      out.arg = 0;
      for (std::size_t i = 0; i < n; ++i)
        out.arg = (out.arg << 8) | static_cast<unsigned char>(b_[pos_++]);
    } else {
      return fail(ai == 31 ? "indefinite length" : "reserved head");
    }
    switch (out.major) {
      case 2:
      case 3:
        if (out.arg > max_item_length) return fail("string too long");
        if (b_.size() - pos_ < out.arg) return parse::need_more;
        out.str.assign(b_, pos_, out.arg);
        pos_ += out.arg;
        break;
      case 4:
      case 5: {
        auto n = out.major == 5 ? out.arg * 2 : out.arg;
        if (out.arg > max_item_count) return fail("too many items");
        for (std::uint64_t i = 0; i < n; ++i) {
          out.kids.emplace_back();
          if (auto r = next(out.kids.back(), depth + 1); r != parse::ok)
            return r;
        }
        break;
      }
      case 6:
        out.kids.emplace_back();
        if (auto r = next(out.kids.back(), depth + 1); r != parse::ok) return r;
        break;
      default:
        break;  // integers and simple values: the head is all
    }
    out.end = pos_;
    return parse::ok;
  }

  std::size_t pos() const { return pos_; }
  const std::string& error() const { return error_; }

 private:
  parse fail(std::string why) {
    error_ = std::move(why);
    return parse::error;
  }
  const std::string& b_;
  std::size_t pos_;
  std::string error_;
};

void emit_canonical(const item& it, std::string& out) {
  switch (it.major) {
    case 2:
    case 3:
      put_head(it.major, it.str.size(), out);
      out += it.str;
      break;
    case 4:
      put_head(4, it.kids.size(), out);
      for (auto& k : it.kids) emit_canonical(k, out);
      break;
    case 5: {
      std::vector<std::pair<std::string, std::string>> pairs;
      for (std::size_t i = 0; i + 1 < it.kids.size(); i += 2) {
        std::string k, v;
        emit_canonical(it.kids[i], k);
        emit_canonical(it.kids[i + 1], v);
        pairs.emplace_back(std::move(k), std::move(v));
      }
      std::sort(pairs.begin(), pairs.end(), [](const auto& a, const auto& b) {
        return canonical_less(a.first, b.first);
      });
      put_head(5, pairs.size(), out);
      for (auto& [k, v] : pairs) out += k + v;
      break;
    }
    case 6:
      put_head(6, it.arg, out);
      emit_canonical(it.kids.front(), out);
      break;
    case 7: {
      // Simple values and floats: kept as they are.
      int n = it.ai < 24 ? 0 : 1 << (it.ai - 24);
      out += static_cast<char>(0xe0 | it.ai);
      for (int i = n - 1; i >= 0; --i)
        out += static_cast<char>((it.arg >> (8 * i)) & 0xff);
      break;
    }
    default:
      put_head(it.major, it.arg, out);
  }
}

// Reading one body's fields; the first problem is kept.
class body_reader {
 public:
  body_reader(const item& m, std::string& error) : m_(m), error_(error) {}

  const item* find(const char* key) const {
    for (std::size_t i = 0; i + 1 < m_.kids.size(); i += 2)
      if (m_.kids[i].major == 3 && m_.kids[i].str == key)
        return &m_.kids[i + 1];
    return nullptr;
  }
  void uint(const char* key, std::uint64_t& v) {
    if (auto* it = find(key)) {
      if (it->major == 0)
        v = it->arg;
      else
        bad(key, "an unsigned integer");
    }
  }
  void sint(const char* key, std::int64_t& v) {
    if (auto* it = find(key)) {
      constexpr auto max =
          static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
      if ((it->major == 0 || it->major == 1) && it->arg <= max)
        v = it->major == 0 ? static_cast<std::int64_t>(it->arg)
                           : -1 - static_cast<std::int64_t>(it->arg);
      else
        bad(key, "an integer");
    }
  }
  void text(const char* key, std::string& v) {
    if (auto* it = find(key)) {
      if (it->major == 3)
        v = it->str;
      else
        bad(key, "a text string");
    }
  }
  void bad(const char* key, const char* want) {
    if (error_.empty()) error_ = std::string("'") + key + "' is not " + want;
  }

 private:
  const item& m_;
  std::string& error_;
};

// Decodes the bytes of one frame map (or a synthetic one) with the wire
// decoder, so the limits and rules of the protocol apply to recordings too.
bool decode_one_frame(const std::string& bytes, frame& out,
                      std::string& error) {
  frame_decoder dec;
  dec.feed(bytes);
  auto st = dec.next(out);
  if (st == frame_decoder::status::frame && dec.buffered() == 0) return true;
  error = st == frame_decoder::status::error ? dec.error_message()
                                             : "incomplete frame";
  return false;
}

std::string canonical_exec(const exec_msg& x) {
  frame f;
  f.t = frame_type::exec;
  f.x = x;
  auto wire = encode(f);
  parser p(wire, 0);
  item whole;
  std::string out;
  if (p.next(whole) != parse::ok) return out;
  for (std::size_t i = 0; i + 1 < whole.kids.size(); i += 2)
    if (whole.kids[i].str == "x") emit_canonical(whole.kids[i + 1], out);
  return out;
}

}  // namespace

// ---- equality
// ----------------------------------------------------------------

bool recording_header::operator==(const recording_header& o) const {
  return version == o.version && start_time == o.start_time &&
         local_user == o.local_user && local_pid == o.local_pid &&
         ssh_addr == o.ssh_addr && ssh_user == o.ssh_user &&
         backend_type == o.backend_type && backend_addr == o.backend_addr &&
         agent_path == o.agent_path;
}
bool command_start::operator==(const command_start& o) const {
  return seq == o.seq && start_time == o.start_time && exec == o.exec;
}
bool frame_record::operator==(const frame_record& o) const {
  return seq == o.seq && ts == o.ts && dir == o.dir && f == o.f;
}
bool command_end::operator==(const command_end& o) const {
  return seq == o.seq && end_time == o.end_time && exit_code == o.exit_code;
}
bool recording_footer::operator==(const recording_footer& o) const {
  return end_time == o.end_time && command_count == o.command_count;
}

// ---- encoding
// ----------------------------------------------------------------

bool canonicalize_cbor(const std::string& in, std::string& out) {
  parser p(in, 0);
  item it;
  if (p.next(it) != parse::ok || p.pos() != in.size()) return false;
  emit_canonical(it, out);
  return true;
}

void encode_frame_canonical(const frame& f, std::string& out) {
  if (f.t == frame_type::data) {
    // The hot path, written directly: "d" < "s" < "t", zeros omitted.
    put_head(5, 1 + !f.d.empty() + (f.s != 0), out);
    if (!f.d.empty()) {
      put_text("d", out);
      put_bytes(f.d, out);
    }
    if (f.s != 0) {
      put_text("s", out);
      put_uint(f.s, out);
    }
    put_text("t", out);
    put_uint(static_cast<std::uint64_t>(f.t), out);
    return;
  }
  canonicalize_cbor(encode(f), out);
}

void encode_record(const recording_header& h, std::string& out) {
  map_builder b;
  b.uint("version", h.version);
  b.sint("start_time", h.start_time);
  b.text("local_user", h.local_user);
  b.sint("local_pid", h.local_pid);
  b.text_if("ssh_addr", h.ssh_addr);
  b.text_if("ssh_user", h.ssh_user);
  b.text("backend_type", h.backend_type);
  b.text_if("backend_addr", h.backend_addr);
  b.text_if("agent_path", h.agent_path);
  write_record(record_type::header, "header", b, out);
}

void encode_record(const command_start& c, std::string& out) {
  map_builder b;
  b.uint("seq", c.seq);
  b.sint("start_time", c.start_time);
  b.raw("exec", canonical_exec(c.exec));
  write_record(record_type::cmd_start, "cmd_start", b, out);
}

void encode_record(const frame_record& f, std::string& out) {
  map_builder b;
  b.uint("seq", f.seq);
  b.sint("ts", f.ts);
  b.uint("dir", static_cast<std::uint64_t>(f.dir));
  std::string fm;
  encode_frame_canonical(f.f, fm);
  b.raw("frame", std::move(fm));
  write_record(record_type::frame, "frame", b, out);
}

void encode_record(const command_end& c, std::string& out) {
  map_builder b;
  b.uint("seq", c.seq);
  b.sint("end_time", c.end_time);
  b.sint("exit_code", c.exit_code);
  write_record(record_type::cmd_end, "cmd_end", b, out);
}

void encode_record(const recording_footer& f, std::string& out) {
  map_builder b;
  b.sint("end_time", f.end_time);
  b.uint("command_count", f.command_count);
  write_record(record_type::footer, "footer", b, out);
}

void encode_record(const record& r, std::string& out) {
  switch (r.type) {
    case record_type::header:
      return encode_record(r.header, out);
    case record_type::cmd_start:
      return encode_record(r.cmd_start, out);
    case record_type::frame:
      return encode_record(r.frame, out);
    case record_type::cmd_end:
      return encode_record(r.cmd_end, out);
    case record_type::footer:
      return encode_record(r.footer, out);
  }
}

// ---- reading
// -----------------------------------------------------------------

void recording_reader::feed(const char* data, std::size_t len) {
  if (pos_ > 0 && pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ > (1u << 20) && pos_ > buf_.size() / 2) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(data, len);
}

recording_reader::status recording_reader::next(record& out) {
  if (!error_.empty()) return status::error;
  if (pos_ == buf_.size()) return status::need_more;
  auto fail = [&](std::string why) {
    error_ = "record at byte " + std::to_string(pos_) + ": " + why;
    return status::error;
  };
  parser p(buf_, pos_);
  item top;
  switch (p.next(top)) {
    case parse::need_more:
      // A cut record must at least begin like one: a map.
      if ((static_cast<unsigned char>(buf_[pos_]) >> 5) != 5)
        return fail("not a CBOR map");
      return status::need_more;
    case parse::error:
      return fail(p.error());
    case parse::ok:
      break;
  }
  if (top.major != 5) return fail("not a CBOR map");
  std::string err;
  body_reader tr(top, err);
  std::uint64_t type = 0;
  if (!tr.find("type")) return fail("no 'type'");
  tr.uint("type", type);
  if (!err.empty()) return fail(err);
  static const char* keys[] = {"",      "header",  "cmd_start",
                               "frame", "cmd_end", "footer"};
  out = record{};
  out.type = static_cast<record_type>(type);
  if (type >= 1 && type <= 5) {
    const item* body = tr.find(keys[type]);
    if (!body || body->major != 5)
      return fail(std::string("no '") + keys[type] + "' map");
    body_reader r(*body, err);
    switch (out.type) {
      case record_type::header: {
        auto& h = out.header;
        h.version = 0;
        r.uint("version", h.version);
        r.sint("start_time", h.start_time);
        r.text("local_user", h.local_user);
        r.sint("local_pid", h.local_pid);
        r.text("ssh_addr", h.ssh_addr);
        r.text("ssh_user", h.ssh_user);
        r.text("backend_type", h.backend_type);
        r.text("backend_addr", h.backend_addr);
        r.text("agent_path", h.agent_path);
        break;
      }
      case record_type::cmd_start: {
        auto& c = out.cmd_start;
        r.uint("seq", c.seq);
        r.sint("start_time", c.start_time);
        if (auto* x = r.find("exec")) {
          // {"t": 1, "x": <the exec map>} through the wire decoder.
          std::string wrapped = "\xa2\x61t\x01\x61x";
          wrapped.append(buf_, x->begin, x->end - x->begin);
          frame f;
          if (!decode_one_frame(wrapped, f, err)) return fail("exec: " + err);
          if (f.x) c.exec = std::move(*f.x);
        }
        break;
      }
      case record_type::frame: {
        auto& f = out.frame;
        r.uint("seq", f.seq);
        r.sint("ts", f.ts);
        std::uint64_t dir = 0;
        r.uint("dir", dir);
        f.dir = static_cast<frame_dir>(dir);
        auto* fm = r.find("frame");
        if (!fm) return fail("frame record without 'frame'");
        if (!decode_one_frame(buf_.substr(fm->begin, fm->end - fm->begin), f.f,
                              err))
          return fail("frame: " + err);
        break;
      }
      case record_type::cmd_end: {
        auto& c = out.cmd_end;
        r.uint("seq", c.seq);
        r.sint("end_time", c.end_time);
        r.sint("exit_code", c.exit_code);
        break;
      }
      case record_type::footer: {
        auto& f = out.footer;
        r.sint("end_time", f.end_time);
        r.uint("command_count", f.command_count);
        break;
      }
    }
    if (!err.empty()) return fail(std::string(keys[type]) + ": " + err);
  }
  pos_ = p.pos();
  return status::record;
}

}  // namespace remex::protocol
