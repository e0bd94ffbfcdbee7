// Writes a seed corpus for remex-fuzz-decoder: each file is one split-seed
// byte followed by encoded frames of every type, singly and in sequence.
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "protocol/codec.hpp"

using namespace remex::protocol;

namespace {

std::vector<frame> samples() {
  std::vector<frame> v;
  frame f;
  f.t = frame_type::exec;
  f.x = exec_msg{"/bin/sh", {"sh", "-c", "echo hi"}, {"A=1"}, "/tmp", {3}};
  v.push_back(f);
  v.push_back(make_data(1, "hello"));
  v.push_back(make_data(0, std::string(300, 'x')));
  v.push_back(make_eof(2));
  v.push_back(make_signal(9));
  v.push_back(make_exit(-1));
  v.push_back(make_error("boom"));
  v.push_back(make_log(log_error, "m", {"k=v"}));
  f = frame{};
  f.t = frame_type::config;
  f.cfg = agent_config{{"LANG"}, {"/X/"}};
  v.push_back(f);
  f = frame{};
  f.t = frame_type::path_query;
  f.q = path_query{{"/bin"}};
  v.push_back(f);
  f = frame{};
  f.t = frame_type::path_info;
  f.i = path_info{{{"ls", "/bin/ls", 0755, 1000, -5}}};
  v.push_back(f);
  f = frame{};
  f.t = frame_type::file_op;
  f.fop = file_op_request{};
  f.fop->id = 1;
  f.fop->op = 6;
  f.fop->p = "/a";
  f.fop->of = -1;
  f.fop->d = "xyz";
  v.push_back(f);
  f = frame{};
  f.t = frame_type::file_resp;
  f.frp = file_op_response{};
  f.frp->id = 1;
  f.frp->st = stat_info{};
  f.frp->st->n = "a";
  f.frp->sf = statfs_info{1, 2, 3, 4, 5, 6, 7, 8};
  f.frp->en = {stat_info{}, *f.frp->st};
  v.push_back(f);
  return v;
}

void write(const std::string& dir, int n, const std::string& bytes) {
  std::ofstream(dir + "/seed-" + std::to_string(n), std::ios::binary) << bytes;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  std::string dir = argv[1];
  mkdir(dir.c_str(), 0755);
  int n = 0;
  std::string all(1, '\x03');
  for (auto& f : samples()) {
    write(dir, n, std::string(1, static_cast<char>(n + 1)) + encode(f));
    ++n;
    encode(f, all);
  }
  write(dir, n++, all);
  // Indefinite-length forms other encoders emit.
  write(dir, n++, std::string("\x01\xbf\x61t\x03\x61s\x01\xff", 9));
  write(dir, n++,
        std::string("\x05\xa2\x61t\x02\x61"
                    "d\x5f\x41"
                    "a\xff",
                    11));
  std::printf("%d seeds in %s\n", n, dir.c_str());
}
