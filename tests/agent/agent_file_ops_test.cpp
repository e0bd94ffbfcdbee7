// File sessions: every file-op the protocol lists is performed and answered
// with its file-resp, errors carry errno and a message, handles are the
// agent's own numbers.
#define CAF_SUITE agent_file_ops
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "agent_driver.hpp"
#include "caf/test/unit_test.hpp"
#include "tests/protocol/raw_cbor.hpp"

using namespace remex;
using protocol::file_op_code;
using protocol::file_op_request;
using protocol::file_op_response;
using remex::test::agent_driver;
using remex::test::raw;

namespace {

std::uint32_t next_id = 100;

// Waits for the response to request id.
file_op_response response(agent_driver& a, std::uint32_t id) {
  auto find = [&]() -> const protocol::frame* {
    for (auto& o : a.others)
      if (o.t == protocol::frame_type::file_resp && o.frp && o.frp->id == id)
        return &o;
    return nullptr;
  };
  if (!a.pump_until([&] { return find() != nullptr; }, 10000)) {
    CAF_FAIL("no file-resp for request " << id);
  }
  return *find()->frp;
}

// Sends one request and waits for the response with its id.
file_op_response call(agent_driver& a, file_op_request req) {
  req.id = next_id++;
  protocol::frame f;
  f.t = protocol::frame_type::file_op;
  f.fop = req;
  a.send(f);
  return response(a, req.id);
}

// A request as a seed client writes it, built by hand: {t: 11, fop: {id,
// op, <fields>}}; fields(r) appends `n_fields` key/value pairs.
template <class Fields>
file_op_response call_raw(agent_driver& a, file_op_code code,
                          std::size_t n_fields, Fields fields) {
  auto id = next_id++;
  raw r;
  r.map(2).text("t").uint(11).text("fop").map(2 + n_fields);
  r.text("id").uint(id).text("op").uint(static_cast<std::uint64_t>(code));
  fields(r);
  a.send_raw(r.out);
  return response(a, id);
}

file_op_response call_raw(agent_driver& a, file_op_code code,
                          const std::string& p) {
  return call_raw(a, code, 1, [&](raw& r) { r.text("p").text(p); });
}

// Go os.FileMode bits.
constexpr std::uint32_t go_dir = 1u << 31, go_symlink = 1u << 27,
                        go_device = 1u << 26, go_pipe = 1u << 25,
                        go_socket = 1u << 24, go_setuid = 1u << 23,
                        go_setgid = 1u << 22, go_char = 1u << 21,
                        go_sticky = 1u << 20;

file_op_request op(file_op_code code, std::string p = {}, std::string np = {}) {
  file_op_request r;
  r.op = static_cast<std::uint32_t>(code);
  r.p = std::move(p);
  r.np = std::move(np);
  return r;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string names_of(const file_op_response& r) {
  std::string out;
  for (auto& e : r.en) out += (out.empty() ? "" : ",") + e.n;
  return out;
}

void remove_tree(const std::string& dir) {
  auto cmd = "rm -rf '" + dir + "'";
  CAF_CHECK_EQUAL(std::system(cmd.c_str()), 0);
}

// A directory of `count` empty files e00000, e00001, ...
std::string large_dir(int count) {
  auto dir = test::make_memory_temp_dir();
  for (int i = 0; i < count; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "/e%05d", i);
    std::ofstream(dir + name);
  }
  return dir;
}

}  // namespace

CAF_TEST(create write read stat and close a file through handles) {
  auto dir = test::make_temp_dir();
  auto file = dir + "/f.bin";
  agent_driver a;
  auto r = call(a, op(file_op_code::create, file));
  CAF_REQUIRE_EQUAL(r.er, 0);
  CAF_REQUIRE(r.h != 0);
  auto h = r.h;
  auto w = op(file_op_code::writeat);
  w.h = h;
  w.of = 3;
  w.d = std::string("ab\0cd", 5);
  r = call(a, w);
  CAF_CHECK_EQUAL(r.er, 0);
  CAF_CHECK_EQUAL(r.n, 5);
  CAF_CHECK_EQUAL(slurp(file), std::string("\0\0\0ab\0cd", 8));
  // A read past the end is short and says eof.
  auto rd = op(file_op_code::readat);
  rd.h = h;
  rd.of = 2;
  rd.sz = 100;
  r = call(a, rd);
  CAF_CHECK_EQUAL(r.er, 0);
  CAF_CHECK_EQUAL(r.d, std::string("\0ab\0cd", 6));
  CAF_CHECK_EQUAL(r.n, 6);
  CAF_CHECK(r.eof);
  // A read inside the file is whole and not eof.
  rd.of = 3;
  rd.sz = 2;
  r = call(a, rd);
  CAF_CHECK_EQUAL(r.d, "ab");
  CAF_CHECK(!r.eof);
  auto fs = op(file_op_code::fstat);
  fs.h = h;
  r = call(a, fs);
  CAF_REQUIRE(r.st.has_value());
  CAF_CHECK_EQUAL(r.st->n, "f.bin");
  CAF_CHECK_EQUAL(r.st->s, 8);
  CAF_CHECK_EQUAL(r.st->m & ~0777u, 0u);  // a regular file: no type bit
  CAF_CHECK(!r.st->d);
  auto sy = op(file_op_code::fsync);
  sy.h = h;
  CAF_CHECK_EQUAL(call(a, sy).er, 0);
  auto ft = op(file_op_code::ftruncate);
  ft.h = h;
  ft.sz = 4;
  CAF_CHECK_EQUAL(call(a, ft).er, 0);
  CAF_CHECK_EQUAL(slurp(file).size(), 4u);
  auto cl = op(file_op_code::close);
  cl.h = h;
  CAF_CHECK_EQUAL(call(a, cl).er, 0);
  // The handle is gone now.
  r = call(a, cl);
  CAF_CHECK_EQUAL(r.er, EBADF);
  CAF_CHECK(!r.em.empty());
  r = call(a, rd);
  CAF_CHECK_EQUAL(r.er, EBADF);
  // Open reads; openfile takes Linux O_* flags and a mode.
  r = call(a, op(file_op_code::open, file));
  CAF_REQUIRE_EQUAL(r.er, 0);
  CAF_CHECK(r.h != h);
  auto of = op(file_op_code::openfile, dir + "/g");
  of.fl = O_WRONLY | O_CREAT | O_APPEND;
  of.mo = 0640;
  r = call(a, of);
  CAF_REQUIRE_EQUAL(r.er, 0);
  struct stat st;
  CAF_REQUIRE(::stat((dir + "/g").c_str(), &st) == 0);
  auto mask = ::umask(0);
  ::umask(mask);
  CAF_CHECK_EQUAL(st.st_mode & 0777, 0640u & ~mask);
  // exclusive create of an existing file fails with EEXIST
  of.fl = O_WRONLY | O_CREAT | O_EXCL;
  r = call(a, of);
  CAF_CHECK_EQUAL(r.er, EEXIST);
  CAF_CHECK(r.em.find(dir + "/g") != std::string::npos);
  CAF_CHECK_EQUAL(r.h, 0u);
  a.close_input();
  CAF_CHECK(a.pump_until([&] { return a.output_closed(); }));
  auto ws = a.wait_agent();
  CAF_CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
  remove_tree(dir);
}

CAF_TEST(stat lstat readlink symlink link and errors name the path) {
  auto dir = test::make_temp_dir();
  std::ofstream(dir + "/t") << "12345";
  agent_driver a;
  CAF_CHECK_EQUAL(call(a, op(file_op_code::symlink, "t", dir + "/l")).er, 0);
  CAF_CHECK_EQUAL(call(a, op(file_op_code::link, dir + "/t", dir + "/h")).er,
                  0);
  auto r = call(a, op(file_op_code::stat, dir + "/l"));
  CAF_REQUIRE(r.st.has_value());
  CAF_CHECK_EQUAL(r.st->n, "l");
  CAF_CHECK_EQUAL(r.st->s, 5);
  CAF_CHECK_EQUAL(r.st->nl, 2u);
  CAF_CHECK(r.st->ino != 0);
  CAF_CHECK(r.st->t > 0 && r.st->at > 0 && r.st->ct > 0);
  CAF_CHECK_EQUAL(r.st->uid, ::getuid());
  CAF_CHECK_EQUAL(r.st->gid, ::getgid());
  CAF_CHECK(r.st->bs > 0);
  r = call(a, op(file_op_code::lstat, dir + "/l"));
  CAF_REQUIRE(r.st.has_value());
  CAF_CHECK_EQUAL(r.st->m & ~0777u, go_symlink);
  r = call(a, op(file_op_code::readlink, dir + "/l"));
  CAF_CHECK_EQUAL(r.er, 0);
  CAF_CHECK_EQUAL(r.p, "t");
  r = call(a, op(file_op_code::stat, dir + "/missing"));
  CAF_CHECK_EQUAL(r.er, ENOENT);
  CAF_CHECK(!r.st.has_value());
  CAF_CHECK(r.em.find("stat") != std::string::npos);
  CAF_CHECK(r.em.find(dir + "/missing") != std::string::npos);
  r = call(a, op(file_op_code::stat, dir));
  CAF_REQUIRE(r.st.has_value());
  CAF_CHECK(r.st->d);
  r = call(a, op(file_op_code::statfs, dir));
  CAF_CHECK_EQUAL(r.er, 0);
  CAF_REQUIRE(r.sf.has_value());
  CAF_CHECK(r.sf->b > 0 && r.sf->bs > 0 && r.sf->fr > 0 && r.sf->nl > 0);
  CAF_CHECK(r.sf->ba <= r.sf->bf && r.sf->bf <= r.sf->b);
  CAF_CHECK_EQUAL(call(a, op(file_op_code::statfs, dir + "/nope")).er, ENOENT);
  remove_tree(dir);
}

CAF_TEST(directories mkdir mkdirall readdir rename remove) {
  auto dir = test::make_temp_dir();
  agent_driver a;
  auto md = op(file_op_code::mkdir, dir + "/d");
  md.mo = 0750;
  CAF_CHECK_EQUAL(call(a, md).er, 0);
  CAF_CHECK_EQUAL(call(a, md).er, EEXIST);
  auto mda = op(file_op_code::mkdirall, dir + "/d/x/y/z/");
  mda.mo = 0755;
  CAF_CHECK_EQUAL(call(a, mda).er, 0);
  CAF_CHECK_EQUAL(call(a, mda).er, 0);  // existing: fine
  std::ofstream(dir + "/d/file") << "x";
  mda.p = dir + "/d/file/sub";
  CAF_CHECK_EQUAL(call(a, mda).er, ENOTDIR);
  auto r = call(a, op(file_op_code::readdir, dir + "/d"));
  CAF_CHECK_EQUAL(r.er, 0);
  CAF_CHECK_EQUAL(names_of(r), "file,x");
  CAF_CHECK(r.eof);
  CAF_CHECK_EQUAL(r.n, 2);
  CAF_REQUIRE_EQUAL(r.en.size(), 2u);
  CAF_CHECK(!r.en[0].d && r.en[0].s == 1);
  CAF_CHECK(r.en[1].d);
  // Removing a non-empty directory says so; a file and an empty one go.
  r = call(a, op(file_op_code::remove, dir + "/d/x"));
  CAF_CHECK_EQUAL(r.er, ENOTEMPTY);
  CAF_CHECK_EQUAL(call(a, op(file_op_code::remove, dir + "/d/x/y/z")).er, 0);
  CAF_CHECK_EQUAL(call(a, op(file_op_code::remove, dir + "/d/file")).er, 0);
  CAF_CHECK_EQUAL(call(a, op(file_op_code::remove, dir + "/d/file")).er,
                  ENOENT);
  CAF_CHECK_EQUAL(
      call(a, op(file_op_code::rename, dir + "/d/x", dir + "/d/renamed")).er,
      0);
  r = call(a, op(file_op_code::readdir, dir + "/d"));
  CAF_CHECK_EQUAL(names_of(r), "renamed");
  // readdir of an open directory handle works too
  r = call(a, op(file_op_code::open, dir + "/d"));
  CAF_REQUIRE_EQUAL(r.er, 0);
  auto rd = op(file_op_code::readdir);
  rd.h = r.h;
  r = call(a, rd);
  CAF_CHECK_EQUAL(r.er, 0);
  CAF_CHECK_EQUAL(names_of(r), "renamed");
  CAF_CHECK_EQUAL(call(a, op(file_op_code::readdir, dir + "/none")).er, ENOENT);
  remove_tree(dir);
}

CAF_TEST(readdir pages through a large directory) {
  auto dir = large_dir(5000);
  agent_driver a;
  std::size_t total = 0;
  std::string last;
  bool sorted = true;
  auto rd = op(file_op_code::readdir, dir);
  for (int page = 0; page < 10; ++page) {
    rd.of = static_cast<std::int64_t>(total);
    auto r = call(a, rd);
    CAF_REQUIRE_EQUAL(r.er, 0);
    CAF_CHECK_EQUAL(r.n, static_cast<std::int64_t>(r.en.size()));
    for (auto& e : r.en) {
      sorted = sorted && e.n > last;
      last = e.n;
    }
    total += r.en.size();
    if (r.eof) break;
    CAF_CHECK(!r.en.empty());
  }
  CAF_CHECK_EQUAL(total, 5000u);
  CAF_CHECK(sorted);
  // sz bounds one page
  rd.of = 10;
  rd.sz = 3;
  auto r = call(a, rd);
  CAF_CHECK_EQUAL(names_of(r), "e00010,e00011,e00012");
  CAF_CHECK(!r.eof);
  remove_tree(dir);
}

CAF_TEST(stat mode carries Go FileMode bits as the seed does) {
  auto dir = test::make_temp_dir();
  auto file = dir + "/f";
  std::ofstream(file) << "x";
  ::chmod(file.c_str(), 0640);
  ::mkdir((dir + "/d").c_str(), 0755);
  ::chmod((dir + "/d").c_str(), 01755);
  std::ofstream(dir + "/s") << "x";
  ::chmod((dir + "/s").c_str(), 06755);
  ::symlink("f", (dir + "/l").c_str());
  ::mkfifo((dir + "/p").c_str(), 0600);
  ::chmod((dir + "/p").c_str(), 0600);
  int sock = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s/u", dir.c_str());
  CAF_REQUIRE(::bind(sock, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
  ::chmod((dir + "/u").c_str(), 0755);
  agent_driver a;
  auto mode_of = [&](file_op_code code, const std::string& p) {
    auto r = call_raw(a, code, p);
    CAF_CHECK_EQUAL(r.er, 0);
    return r.st ? r.st->m : 0xFFFFFFFFu;
  };
  CAF_CHECK_EQUAL(mode_of(file_op_code::stat, file), 0640u);
  CAF_CHECK_EQUAL(mode_of(file_op_code::stat, dir + "/d"),
                  go_dir | go_sticky | 0755u);
  CAF_CHECK_EQUAL(mode_of(file_op_code::stat, dir + "/s"),
                  go_setuid | go_setgid | 0755u);
  CAF_CHECK_EQUAL(mode_of(file_op_code::lstat, dir + "/l"), go_symlink | 0777u);
  CAF_CHECK_EQUAL(mode_of(file_op_code::stat, dir + "/l"), 0640u);
  CAF_CHECK_EQUAL(mode_of(file_op_code::stat, dir + "/p"), go_pipe | 0600u);
  CAF_CHECK_EQUAL(mode_of(file_op_code::stat, dir + "/u"), go_socket | 0755u);
  CAF_CHECK_EQUAL(mode_of(file_op_code::stat, "/dev/null"),
                  go_device | go_char | 0666u);
  // fstat and readdir entries say it the same way.
  auto h = call_raw(a, file_op_code::open, file).h;
  auto r =
      call_raw(a, file_op_code::fstat, 1, [&](raw& q) { q.text("h").uint(h); });
  CAF_REQUIRE(r.st.has_value());
  CAF_CHECK_EQUAL(r.st->m, 0640u);
  r = call_raw(a, file_op_code::readdir, dir);
  CAF_CHECK_EQUAL(names_of(r), "d,f,l,p,s,u");
  CAF_REQUIRE_EQUAL(r.en.size(), 6u);
  CAF_CHECK_EQUAL(r.en[0].m, go_dir | go_sticky | 0755u);
  CAF_CHECK_EQUAL(r.en[2].m, go_symlink | 0777u);
  ::close(sock);
  remove_tree(dir);
}

CAF_TEST(readdir without sz returns every entry in one response) {
  constexpr int count = 5000;  // more than one page holds
  auto dir = large_dir(count);
  agent_driver a;
  auto r = call_raw(a, file_op_code::readdir, dir);
  CAF_CHECK_EQUAL(r.er, 0);
  CAF_CHECK_EQUAL(r.en.size(), static_cast<std::size_t>(count));
  CAF_CHECK_EQUAL(r.n, count);
  CAF_CHECK(r.eof);
  CAF_CHECK(a.decode_error.empty());
  bool sorted = true;
  for (std::size_t i = 1; i < r.en.size(); ++i)
    sorted = sorted && r.en[i - 1].n < r.en[i].n;
  CAF_CHECK(sorted);
  // Paging only when asked: sz entries from of, eof on the last page.
  r = call_raw(a, file_op_code::readdir, 3, [&](raw& q) {
    q.text("p").text(dir).text("of").uint(count - 2).text("sz").uint(5);
  });
  CAF_CHECK_EQUAL(names_of(r), "e04998,e04999");
  CAF_CHECK(r.eof);
  remove_tree(dir);
}

CAF_TEST(writeat with a negative offset writes at the file position) {
  auto dir = test::make_temp_dir();
  auto file = dir + "/log";
  std::ofstream(file) << "abc";
  agent_driver a;
  auto open_with = [&](std::int64_t flags) {
    auto r = call_raw(a, file_op_code::openfile, 3, [&](raw& q) {
      q.text("p").text(file).text("fl").sint(flags).text("mo").uint(0644);
    });
    CAF_REQUIRE_EQUAL(r.er, 0);
    return r.h;
  };
  auto write_at = [&](std::uint64_t h, std::int64_t of, std::string d) {
    return call_raw(a, file_op_code::writeat, 3, [&](raw& q) {
      q.text("h").uint(h).text("of").sint(of).text("d").bytes(d);
    });
  };
  // An O_APPEND handle appends (the seed's Write on an append-mode file).
  auto h = open_with(O_WRONLY | O_APPEND);
  auto r = write_at(h, -1, "def");
  CAF_CHECK_EQUAL(r.er, 0);
  CAF_CHECK_EQUAL(r.n, 3);
  CAF_CHECK_EQUAL(write_at(h, -1, "gh").n, 2);
  CAF_CHECK_EQUAL(slurp(file), "abcdefgh");
  // Without O_APPEND the position starts at 0 and moves with each write.
  h = open_with(O_RDWR);
  CAF_CHECK_EQUAL(write_at(h, -1, "XY").n, 2);
  CAF_CHECK_EQUAL(write_at(h, -1, "Z").n, 1);
  CAF_CHECK_EQUAL(slurp(file), "XYZdefgh");
  // A non-negative offset still writes there, leaving the position alone.
  CAF_CHECK_EQUAL(write_at(h, 7, "!").n, 1);
  CAF_CHECK_EQUAL(write_at(h, -1, "w").n, 1);
  CAF_CHECK_EQUAL(slurp(file), "XYZwefg!");
  remove_tree(dir);
}

CAF_TEST(readat with sz of zero or less is an empty success) {
  auto dir = test::make_temp_dir();
  std::ofstream(dir + "/f") << "data";
  agent_driver a;
  auto h = call_raw(a, file_op_code::open, dir + "/f").h;
  for (std::int64_t sz : {0, -1, -4096}) {
    auto r = call_raw(a, file_op_code::readat, 3, [&](raw& q) {
      q.text("h").uint(h).text("of").uint(1).text("sz").sint(sz);
    });
    CAF_CHECK_EQUAL(r.er, 0);
    CAF_CHECK_EQUAL(r.n, 0);
    CAF_CHECK(r.d.empty());
  }
  remove_tree(dir);
}

CAF_TEST(chmod truncate chtimes chown getwd) {
  auto dir = test::make_temp_dir();
  auto file = dir + "/f";
  std::ofstream(file) << "0123456789";
  agent_driver a;
  auto cm = op(file_op_code::chmod, file);
  cm.mo = 0604;
  CAF_CHECK_EQUAL(call(a, cm).er, 0);
  struct stat st;
  ::stat(file.c_str(), &st);
  CAF_CHECK_EQUAL(st.st_mode & 07777, 0604u);
  // A Go os.FileMode's setgid bit (1 << 22) is honoured.
  cm.mo = (1u << 22) | 0750;
  CAF_CHECK_EQUAL(call(a, cm).er, 0);
  ::stat(file.c_str(), &st);
  CAF_CHECK_EQUAL(st.st_mode & 07777, static_cast<unsigned>(S_ISGID | 0750));
  auto tr = op(file_op_code::truncate, file);
  tr.sz = 3;
  CAF_CHECK_EQUAL(call(a, tr).er, 0);
  CAF_CHECK_EQUAL(slurp(file), "012");
  auto ct = op(file_op_code::chtimes, file);
  ct.at = 1000000000LL * 1000000000 + 5;
  ct.mt = 1234567890LL * 1000000000 + 123456789;
  CAF_CHECK_EQUAL(call(a, ct).er, 0);
  auto r = call(a, op(file_op_code::stat, file));
  CAF_REQUIRE(r.st.has_value());
  CAF_CHECK_EQUAL(r.st->t, ct.mt);
  CAF_CHECK_EQUAL(r.st->at, ct.at);
  auto co = op(file_op_code::chown, file);
  co.uid = -1;
  co.gid = static_cast<std::int64_t>(::getgid());
  CAF_CHECK_EQUAL(call(a, co).er, 0);
  r = call(a, op(file_op_code::getwd));
  CAF_CHECK_EQUAL(r.er, 0);
  char cwd[4096];
  CAF_CHECK_EQUAL(r.p, std::string(::getcwd(cwd, sizeof cwd)));
  remove_tree(dir);
}

CAF_TEST(large reads are bounded and unknown ops are not implemented) {
  auto dir = test::make_temp_dir();
  auto file = dir + "/big";
  std::ofstream(file) << std::string(3 * 1024 * 1024, 'z');
  agent_driver a;
  auto r = call(a, op(file_op_code::open, file));
  CAF_REQUIRE_EQUAL(r.er, 0);
  auto rd = op(file_op_code::readat);
  rd.h = r.h;
  rd.sz = 3 * 1024 * 1024;
  r = call(a, rd);
  CAF_CHECK_EQUAL(r.er, 0);
  CAF_CHECK_EQUAL(r.d.size(), 1024u * 1024);
  CAF_CHECK(!r.eof);
  CAF_CHECK(a.decode_error.empty());
  rd.of = -1;
  CAF_CHECK_EQUAL(call(a, rd).er, EINVAL);
  file_op_request odd;
  odd.op = 99;
  r = call(a, odd);
  CAF_CHECK_EQUAL(r.er, ENOSYS);
  CAF_CHECK(r.em.find("99") != std::string::npos);
  // a file-op without `fop` is the zero request: op 0 is unknown too
  protocol::frame bare;
  bare.t = protocol::frame_type::file_op;
  a.send(bare);
  a.close_input();
  CAF_CHECK(a.pump_until([&] { return a.output_closed(); }));
  CAF_REQUIRE(!a.others.empty());
  CAF_REQUIRE(a.others.back().frp.has_value());
  CAF_CHECK_EQUAL(a.others.back().frp->id, 0u);
  CAF_CHECK_EQUAL(a.others.back().frp->er, ENOSYS);
  remove_tree(dir);
}

CAF_TEST(a file op during an execution is answered) {
  auto dir = test::make_temp_dir();
  std::ofstream(dir + "/f") << "abc";
  agent_driver a;
  a.send_exec("/bin/sh", {"sh", "-c", "read x; echo $x"});
  auto r = call(a, op(file_op_code::stat, dir + "/f"));
  CAF_CHECK_EQUAL(r.er, 0);
  CAF_REQUIRE(r.st.has_value());
  CAF_CHECK_EQUAL(r.st->s, 3);
  a.send(protocol::make_data(0, "go\n"));
  CAF_REQUIRE(a.run_to_end());
  CAF_CHECK_EQUAL(a.data[1], "go\n");
  CAF_CHECK_EQUAL(*a.exit_code, 0);
  remove_tree(dir);
}

CAF_TEST(opening a fifo without a peer does not stall the session) {
  auto dir = test::make_temp_dir();
  auto fifo = dir + "/fifo";
  CAF_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  agent_driver a;
  auto of = op(file_op_code::openfile, fifo);
  of.fl = O_WRONLY;
  auto r = call(a, of);
  CAF_CHECK_EQUAL(r.er, ENXIO);
  r = call(a, op(file_op_code::open, fifo));
  CAF_CHECK_EQUAL(r.er, 0);
  CAF_CHECK(r.h != 0);
  remove_tree(dir);
}

namespace {

// Creates path through the agent as remex cp does (exclusively, or not)
// and writes a few bytes into it.
void create_through(agent_driver& a, const std::string& path, bool excl) {
  auto of = op(file_op_code::openfile, path);
  of.fl = O_WRONLY | O_CREAT | (excl ? O_EXCL : O_TRUNC);
  of.mo = 0644;
  auto r = call(a, of);
  CAF_REQUIRE_EQUAL(r.er, 0);
  auto w = op(file_op_code::writeat);
  w.h = r.h;
  w.d = "partial";
  CAF_CHECK_EQUAL(call(a, w).n, 7);
}

bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

}  // namespace

CAF_TEST(partial files of a copy go when the session ends without them) {
  auto dir = test::make_temp_dir();
  auto left = dir + "/.f.1-1.remex-part";      // the client went away
  auto done = dir + "/.g.1-2.remex-part";      // renamed into place
  auto removed = dir + "/.h.1-3.remex-part";   // removed by the client
  auto replaced = dir + "/.i.1-4.remex-part";  // someone else's file now
  auto not_excl = dir + "/.j.1-5.remex-part";  // not created exclusively
  auto plain = dir + "/k";                     // not a partial name
  {
    agent_driver a;
    create_through(a, left, true);
    create_through(a, done, true);
    CAF_CHECK_EQUAL(call(a, op(file_op_code::rename, done, dir + "/g")).er, 0);
    create_through(a, removed, true);
    CAF_CHECK_EQUAL(call(a, op(file_op_code::remove, removed)).er, 0);
    create_through(a, replaced, true);
    CAF_REQUIRE(::unlink(replaced.c_str()) == 0);
    std::ofstream(replaced) << "theirs";
    create_through(a, not_excl, false);
    create_through(a, plain, true);
    CAF_CHECK(exists(left));
    a.close_input();
    CAF_CHECK(a.pump_until([&] { return a.output_closed(); }));
    auto ws = a.wait_agent();
    CAF_CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
  }
  CAF_CHECK(!exists(left));
  CAF_CHECK_EQUAL(slurp(dir + "/g"), "partial");
  CAF_CHECK(!exists(removed));
  CAF_CHECK_EQUAL(slurp(replaced), "theirs");
  CAF_CHECK(exists(not_excl));
  CAF_CHECK(exists(plain));
  remove_tree(dir);
}

CAF_TEST(partial files go when the session ends on bad input or a signal) {
  auto dir = test::make_temp_dir();
  auto p1 = dir + "/.a.1-1.remex-part";
  auto p2 = dir + "/.b.1-2.remex-part";
  {
    agent_driver a;
    create_through(a, p1, true);
    a.send_raw(std::string("\xff\xfe\x00garbage", 10));
    CAF_CHECK(a.pump_until([&] { return a.output_closed(); }));
    auto ws = a.wait_agent();
    CAF_CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 2);
  }
  CAF_CHECK(!exists(p1));
  {
    agent_driver a;
    create_through(a, p2, true);
    ::kill(a.pid(), SIGTERM);
    auto ws = a.wait_agent();
    CAF_CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 3);
  }
  CAF_CHECK(!exists(p2));
  remove_tree(dir);
}
