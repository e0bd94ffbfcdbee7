// Frame → CBOR. Every struct lists its fields once (fields_of); a counting pass
// sizes the map head, a writing pass emits the non-zero fields in that order.
#include <cbor.h>

#include "protocol/codec.hpp"

namespace remex::protocol {

namespace {

class writer {
 public:
  explicit writer(std::string& out) : out_(out) {}

  void uint(std::uint64_t v) { put(cbor_encode_uint(v, buf_, sizeof buf_)); }
  void sint(std::int64_t v) {
    if (v >= 0)
      uint(static_cast<std::uint64_t>(v));
    else
      put(cbor_encode_negint(static_cast<std::uint64_t>(-(v + 1)), buf_,
                             sizeof buf_));
  }
  void text(const std::string& s) {
    put(cbor_encode_string_start(s.size(), buf_, sizeof buf_));
    out_.append(s);
  }
  void bytes(const std::string& s) {
    put(cbor_encode_bytestring_start(s.size(), buf_, sizeof buf_));
    out_.append(s);
  }
  void boolean(bool b) { put(cbor_encode_bool(b, buf_, sizeof buf_)); }
  void map(std::size_t n) { put(cbor_encode_map_start(n, buf_, sizeof buf_)); }
  void array(std::size_t n) {
    put(cbor_encode_array_start(n, buf_, sizeof buf_));
  }

 private:
  void put(std::size_t n) { out_.append(reinterpret_cast<char*>(buf_), n); }
  std::string& out_;
  unsigned char buf_[9];
};

// A bytes field (CBOR major type 2) as opposed to text.
struct as_bytes {
  const std::string& v;
};

// A readdir entry travels as {"st": stat}.
struct stat_entries {
  const std::vector<stat_info>& v;
};

// The frame type, written even when a peer sent the unknown type 0: "t" is
// the one field every frame has.
struct frame_tag {
  std::uint64_t v;
};

template <class T>
bool is_zero(const T& v) {
  if constexpr (std::is_arithmetic_v<T>)
    return v == T{};
  else
    return v.empty();
}
template <class T>
bool is_zero(const std::optional<T>& v) {
  return !v.has_value();
}
inline bool is_zero(const as_bytes& b) {
  return b.v.empty();
}
inline bool is_zero(const stat_entries& e) {
  return e.v.empty();
}
inline bool is_zero(const frame_tag&) {
  return false;
}

template <class V>
void fields_of(V& v, const exec_msg& x) {
  v("path", x.path);
  v("argv", x.argv);
  v("env", x.env);
  v("cwd", x.cwd);
  v("fds", x.fds);
}
template <class V>
void fields_of(V& v, const log_entry& x) {
  v("lvl", x.lvl);
  v("msg", x.msg);
  v("a", x.a);
}
template <class V>
void fields_of(V& v, const agent_config& x) {
  v("env_keep", x.env_keep);
  v("env_remove", x.env_remove);
}
template <class V>
void fields_of(V& v, const path_query& x) {
  v("paths", x.paths);
}
template <class V>
void fields_of(V& v, const path_entry& x) {
  v("name", x.name);
  v("path", x.path);
  v("mode", x.mode);
  v("size", x.size);
  v("mtime", x.mtime);
}
template <class V>
void fields_of(V& v, const path_info& x) {
  v("entries", x.entries);
}
template <class V>
void fields_of(V& v, const stat_info& x) {
  v("n", x.n);
  v("s", x.s);
  v("m", x.m);
  v("t", x.t);
  v("at", x.at);
  v("ct", x.ct);
  v("uid", x.uid);
  v("gid", x.gid);
  v("nl", x.nl);
  v("rd", x.rd);
  v("bl", x.bl);
  v("bs", x.bs);
  v("ino", x.ino);
  v("d", x.d);
}
template <class V>
void fields_of(V& v, const statfs_info& x) {
  v("b", x.b);
  v("bf", x.bf);
  v("ba", x.ba);
  v("f", x.f);
  v("ff", x.ff);
  v("bs", x.bs);
  v("fr", x.fr);
  v("nl", x.nl);
}
template <class V>
void fields_of(V& v, const file_op_request& x) {
  v("id", x.id);
  v("op", x.op);
  v("p", x.p);
  v("np", x.np);
  v("fl", x.fl);
  v("mo", x.mo);
  v("uid", x.uid);
  v("gid", x.gid);
  v("h", x.h);
  v("of", x.of);
  v("sz", x.sz);
  v("at", x.at);
  v("mt", x.mt);
  v("d", as_bytes{x.d});
}
template <class V>
void fields_of(V& v, const file_op_response& x) {
  v("id", x.id);
  v("er", x.er);
  v("em", x.em);
  v("h", x.h);
  v("d", as_bytes{x.d});
  v("n", x.n);
  v("eof", x.eof);
  v("p", x.p);
  v("st", x.st);
  v("sf", x.sf);
  v("en", stat_entries{x.en});
}
template <class V>
void fields_of(V& v, const hello_msg& x) {
  v("v", x.v);
  v("caps", x.caps);
  v("max", x.max);
  v("win", x.win);
}
template <class V>
void fields_of(V& v, const frame& x) {
  v("t", frame_tag{static_cast<std::uint64_t>(x.t)});
  v("xid", x.xid);
  v("s", x.s);
  v("d", as_bytes{x.d});
  v("sig", x.sig);
  v("c", x.c);
  v("e", x.e);
  v("x", x.x);
  v("l", x.l);
  v("cfg", x.cfg);
  v("q", x.q);
  v("i", x.i);
  v("fop", x.fop);
  v("frp", x.frp);
  v("n", x.n);
  v("hi", x.hi);
}

struct counter {
  std::size_t n = 0;
  template <class T>
  void operator()(const char*, const T& value) {
    if (!is_zero(value)) ++n;
  }
};

template <class T>
void write_map(writer& w, const T& x);

struct field_writer {
  writer& w;

  template <class T>
  void operator()(const char* key, const T& value) {
    if (is_zero(value)) return;
    w.text(key);
    write_value(value);
  }

  void write_value(bool b) { w.boolean(b); }
  void write_value(frame_tag t) { w.uint(t.v); }
  void write_value(std::uint32_t v) { w.uint(v); }
  void write_value(std::uint64_t v) { w.uint(v); }
  void write_value(std::int64_t v) { w.sint(v); }
  void write_value(const std::string& s) { w.text(s); }
  void write_value(const as_bytes& b) { w.bytes(b.v); }
  void write_value(const std::vector<std::string>& xs) {
    w.array(xs.size());
    for (auto& x : xs) w.text(x);
  }
  void write_value(const std::vector<std::uint32_t>& xs) {
    w.array(xs.size());
    for (auto x : xs) w.uint(x);
  }
  void write_value(const std::vector<path_entry>& xs) {
    w.array(xs.size());
    for (auto& x : xs) write_map(w, x);
  }
  void write_value(const stat_entries& e) {
    w.array(e.v.size());
    for (auto& x : e.v) {
      w.map(1);
      w.text("st");
      write_map(w, x);
    }
  }
  template <class T>
  void write_value(const std::optional<T>& x) {
    write_map(w, *x);
  }
};

template <class T>
void write_map(writer& w, const T& x) {
  counter c;
  fields_of(c, x);
  w.map(c.n);
  field_writer fw{w};
  fields_of(fw, x);
}

}  // namespace

void encode(const frame& f, std::string& out) {
  writer w{out};
  write_map(w, f);
}

std::string encode(const frame& f) {
  std::string out;
  encode(f, out);
  return out;
}

void encode_data_head(std::uint32_t s, std::size_t len, std::string& out,
                      std::uint32_t xid) {
  writer w{out};
  w.map(1 + (xid != 0 ? 1 : 0) + (s != 0 ? 1 : 0) + (len != 0 ? 1 : 0));
  w.text("t");
  w.uint(static_cast<std::uint64_t>(frame_type::data));
  if (xid != 0) {
    w.text("xid");
    w.uint(xid);
  }
  if (s != 0) {
    w.text("s");
    w.uint(s);
  }
  if (len != 0) {
    w.text("d");
    unsigned char buf[9];
    auto n = cbor_encode_bytestring_start(len, buf, sizeof buf);
    out.append(reinterpret_cast<char*>(buf), n);
  }
}

}  // namespace remex::protocol
