#include "protocol/frame_from_value.hpp"

#include <cmath>
#include <limits>
#include <utility>

namespace remex::protocol::detail {

const char* kind_name(cbor_value::kind_t k) {
  switch (k) {
    case cbor_value::uint:
      return "uint";
    case cbor_value::negint:
      return "negative int";
    case cbor_value::bytes:
      return "bytes";
    case cbor_value::text:
      return "text";
    case cbor_value::array:
      return "array";
    case cbor_value::map:
      return "map";
    case cbor_value::boolean:
      return "bool";
    case cbor_value::null:
      return "null";
    case cbor_value::undefined:
      return "undefined";
    case cbor_value::floating:
      return "float";
  }
  return "unknown";
}

namespace {

// Reads the fields of one CBOR map into a struct. The first problem is kept
// and later reads become no-ops, so converters read straight through.
class reader {
 public:
  reader(cbor_value& map, std::string where, std::string& err)
      : map_(map), where_(std::move(where)), err_(err) {}

  void get(const char* key, std::string& out) {
    if (auto* v = find(key)) {
      if (v->kind != cbor_value::text) return wrong(key, *v, "text");
      out = std::move(v->s);
    }
  }
  void get_bytes(const char* key, std::string& out) {
    if (auto* v = find(key)) {
      // Text is accepted too: some encoders write []byte-ish data as text.
      if (v->kind != cbor_value::bytes && v->kind != cbor_value::text)
        return wrong(key, *v, "bytes");
      out = std::move(v->s);
    }
  }
  void get(const char* key, bool& out) {
    if (auto* v = find(key)) {
      if (v->kind != cbor_value::boolean) return wrong(key, *v, "bool");
      out = v->u != 0;
    }
  }
  template <class Int>
  void get(const char* key, Int& out) {
    static_assert(std::is_integral_v<Int>);
    if (auto* v = find(key)) to_int(key, *v, out);
  }
  void get(const char* key, std::vector<std::string>& out) {
    if (auto* v = find_array(key))
      for (auto& item : v->items) {
        if (item.kind != cbor_value::text)
          return wrong(key, item, "text elements");
        out.push_back(std::move(item.s));
      }
  }
  void get(const char* key, std::vector<std::uint32_t>& out) {
    if (auto* v = find_array(key))
      for (auto& item : v->items) {
        std::uint32_t x = 0;
        if (!to_int(key, item, x)) return;
        out.push_back(x);
      }
  }
  // A nested map field.
  cbor_value* get_map(const char* key) {
    auto* v = find(key);
    if (v && v->kind != cbor_value::map) {
      wrong(key, *v, "map");
      return nullptr;
    }
    return v;
  }
  cbor_value* find_array(const char* key) {
    auto* v = find(key);
    if (v && v->kind != cbor_value::array) {
      wrong(key, *v, "array");
      return nullptr;
    }
    return v;
  }
  bool failed() const { return !err_.empty(); }
  const std::string& where() const { return where_; }
  std::string& err() { return err_; }

 private:
  cbor_value* find(const char* key) {
    if (failed()) return nullptr;
    // Unknown keys and non-text keys are skipped: forward compatibility.
    for (size_t i = 0; i + 1 < map_.items.size(); i += 2) {
      auto& k = map_.items[i];
      if (k.kind != cbor_value::text || k.s != key) continue;
      auto* v = &map_.items[i + 1];
      // Encoders that do not omit zero values write a nil slice, map or
      // pointer as null (Go without omitempty, Python's None): that is the
      // zero value, read as if the field were absent.
      if (v->kind == cbor_value::null || v->kind == cbor_value::undefined)
        return nullptr;
      return v;
    }
    return nullptr;
  }

  template <class Int>
  bool to_int(const char* key, const cbor_value& v, Int& out) {
    using lim = std::numeric_limits<Int>;
    if (v.kind == cbor_value::uint) {
      if (v.u > static_cast<std::uint64_t>(lim::max())) {
        fail(std::string("field '") + key + "' out of range");
        return false;
      }
      out = static_cast<Int>(v.u);
      return true;
    }
    if (v.kind == cbor_value::negint && lim::is_signed) {
      // value = -1 - u; representable when u <= max.
      if (v.u > static_cast<std::uint64_t>(lim::max())) {
        fail(std::string("field '") + key + "' out of range");
        return false;
      }
      out = static_cast<Int>(-1 - static_cast<std::int64_t>(v.u));
      return true;
    }
    if (v.kind == cbor_value::floating) {
      // Some encoders (JavaScript numbers) write a large integer such as a
      // nanosecond time as a float. A whole number in range is that integer;
      // a fraction is not an integer at all.
      // 2^digits bounds the range exactly (digits excludes the sign bit);
      // NaN fails the comparison.
      auto f = v.f;
      auto hi = std::ldexp(1.0, lim::digits);
      auto lo = lim::is_signed ? -hi : 0.0;
      if (!(f >= lo && f < hi) || std::trunc(f) != f) {
        wrong(key, v, lim::is_signed ? "int" : "uint");
        return false;
      }
      out = static_cast<Int>(f);
      return true;
    }
    wrong(key, v, lim::is_signed ? "int" : "uint");
    return false;
  }

  void wrong(const char* key, const cbor_value& v, const char* want) {
    fail(std::string("field '") + key + "' has wrong type (" +
         kind_name(v.kind) + ", want " + want + ")");
  }
  void fail(std::string msg) {
    if (err_.empty())
      err_ = where_.empty() ? std::move(msg) : where_ + ": " + msg;
  }

  cbor_value& map_;
  std::string where_;
  std::string& err_;
};

void read_fields(reader& r, exec_msg& x) {
  r.get("path", x.path);
  r.get("argv", x.argv);
  r.get("env", x.env);
  r.get("cwd", x.cwd);
  r.get("fds", x.fds);
}
void read_fields(reader& r, log_entry& x) {
  r.get("lvl", x.lvl);
  r.get("msg", x.msg);
  r.get("a", x.a);
}
void read_fields(reader& r, agent_config& x) {
  r.get("env_keep", x.env_keep);
  r.get("env_remove", x.env_remove);
}
void read_fields(reader& r, hello_msg& x) {
  r.get("v", x.v);
  r.get("caps", x.caps);
  r.get("max", x.max);
  r.get("win", x.win);
}
void read_fields(reader& r, path_query& x) {
  r.get("paths", x.paths);
}
void read_fields(reader& r, path_entry& x) {
  r.get("name", x.name);
  r.get("path", x.path);
  r.get("mode", x.mode);
  r.get("size", x.size);
  r.get("mtime", x.mtime);
}
void read_fields(reader& r, stat_info& x) {
  r.get("n", x.n);
  r.get("s", x.s);
  r.get("m", x.m);
  r.get("t", x.t);
  r.get("at", x.at);
  r.get("ct", x.ct);
  r.get("uid", x.uid);
  r.get("gid", x.gid);
  r.get("nl", x.nl);
  r.get("rd", x.rd);
  r.get("bl", x.bl);
  r.get("bs", x.bs);
  r.get("ino", x.ino);
  r.get("d", x.d);
}
void read_fields(reader& r, statfs_info& x) {
  r.get("b", x.b);
  r.get("bf", x.bf);
  r.get("ba", x.ba);
  r.get("f", x.f);
  r.get("ff", x.ff);
  r.get("bs", x.bs);
  r.get("fr", x.fr);
  r.get("nl", x.nl);
}

template <class T>
void read_nested(reader& r, const char* key, std::optional<T>& out);

void read_fields(reader& r, path_info& x) {
  if (auto* arr = r.find_array("entries"))
    for (auto& item : arr->items) {
      if (item.kind != cbor_value::map) {
        r.err() = r.where() + ": field 'entries' has wrong type (" +
                  kind_name(item.kind) + " element, want map)";
        return;
      }
      reader sub{item, "entries", r.err()};
      path_entry e;
      read_fields(sub, e);
      x.entries.push_back(std::move(e));
    }
}
void read_fields(reader& r, file_op_request& x) {
  r.get("id", x.id);
  r.get("op", x.op);
  r.get("p", x.p);
  r.get("np", x.np);
  r.get("fl", x.fl);
  r.get("mo", x.mo);
  r.get("uid", x.uid);
  r.get("gid", x.gid);
  r.get("h", x.h);
  r.get("of", x.of);
  r.get("sz", x.sz);
  r.get("at", x.at);
  r.get("mt", x.mt);
  r.get_bytes("d", x.d);
}
void read_fields(reader& r, file_op_response& x) {
  r.get("id", x.id);
  r.get("er", x.er);
  r.get("em", x.em);
  r.get("h", x.h);
  r.get_bytes("d", x.d);
  r.get("n", x.n);
  r.get("eof", x.eof);
  r.get("p", x.p);
  read_nested(r, "st", x.st);
  read_nested(r, "sf", x.sf);
  if (auto* arr = r.find_array("en"))
    for (auto& item : arr->items) {
      if (item.kind != cbor_value::map) {
        r.err() = "frp: field 'en' has wrong type (" +
                  std::string(kind_name(item.kind)) + " element, want map)";
        return;
      }
      reader sub{item, "en", r.err()};
      std::optional<stat_info> st;
      read_nested(sub, "st", st);
      x.en.push_back(st.value_or(stat_info{}));
    }
}

template <class T>
void read_nested(reader& r, const char* key, std::optional<T>& out) {
  if (auto* m = r.get_map(key)) {
    reader sub{*m, key, r.err()};
    T x;
    read_fields(sub, x);
    out = std::move(x);
  }
}

}  // namespace

std::string frame_from_value(cbor_value& v, frame& out) {
  if (v.kind != cbor_value::map) return "frame is not a CBOR map";
  std::string err;
  reader r{v, "", err};
  out = frame{};
  bool has_t = false;
  for (size_t i = 0; i + 1 < v.items.size(); i += 2)
    if (v.items[i].kind == cbor_value::text && v.items[i].s == "t")
      has_t = true;
  if (!has_t) return "frame has no 't'";
  // Any unsigned number is a frame type: one this version does not know is
  // the caller's to log and ignore, not a reason to end the session.
  std::uint64_t t = 0;
  r.get("t", t);
  out.t = static_cast<frame_type>(t);
  r.get("xid", out.xid);
  r.get("s", out.s);
  r.get_bytes("d", out.d);
  r.get("sig", out.sig);
  r.get("c", out.c);
  r.get("e", out.e);
  read_nested(r, "x", out.x);
  read_nested(r, "l", out.l);
  read_nested(r, "cfg", out.cfg);
  read_nested(r, "q", out.q);
  read_nested(r, "i", out.i);
  read_nested(r, "fop", out.fop);
  read_nested(r, "frp", out.frp);
  r.get("n", out.n);
  read_nested(r, "hi", out.hi);
  return err;
}

}  // namespace remex::protocol::detail
