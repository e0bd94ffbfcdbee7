#include "tools/remex/replay_command.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <thread>

#include "protocol/recording.hpp"
#include "transport/shell_command.hpp"

namespace remex::cli {

const char* replay_usage =
    "usage: remex replay [OPTIONS] FILE\n"
    "  prints what the recorded command printed: its stdout to stdout, its\n"
    "  stderr to stderr, byte-exact\n"
    "      --timing       keep the original pacing\n"
    "      --speed N      with the delays divided by N (implies --timing)\n"
    "      --info         list the recorded commands instead: seq, exit "
    "code,\n"
    "                     duration, argv\n";

namespace {

using protocol::frame_type;
using protocol::record;
using protocol::record_type;

struct replay_options {
  std::string file;
  bool timing = false;
  double speed = 1;
  bool info = false;
};

bool write_all(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    auto n = ::write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

struct command_info {
  std::uint64_t seq = 0;
  std::vector<std::string> argv;
  std::int64_t start = 0;
  bool ended = false;
  std::int64_t exit_code = 0;
  std::int64_t end = 0;
};

std::string quoted_argv(const std::vector<std::string>& argv) {
  std::string out;
  for (auto& a : argv) {
    if (!out.empty()) out += ' ';
    bool plain = !a.empty() &&
                 a.find_first_not_of(
                     "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"
                     "QRSTUVWXYZ0123456789_-./=:,+@%") == std::string::npos;
    out += plain ? a : transport::shell_quote(a);
  }
  return out;
}

std::string utc_time(std::int64_t ns) {
  std::time_t secs = static_cast<std::time_t>(ns / 1000000000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void print_info(const protocol::recording_header* h,
                const std::vector<command_info>& cmds) {
  if (h) {
    std::string where =
        h->ssh_addr.empty()
            ? std::string("this machine")
            : (h->ssh_user.empty() ? "" : h->ssh_user + "@") + h->ssh_addr;
    std::printf("recorded %s by %s (pid %lld), backend %s on %s\n",
                utc_time(h->start_time).c_str(), h->local_user.c_str(),
                static_cast<long long>(h->local_pid), h->backend_type.c_str(),
                where.c_str());
  }
  std::printf("%-4s %-5s %-10s %s\n", "SEQ", "EXIT", "DURATION", "ARGV");
  for (auto& c : cmds) {
    std::string code = c.ended ? std::to_string(c.exit_code) : "?";
    char dur[32] = "?";
    if (c.ended)
      std::snprintf(dur, sizeof dur, "%.3fs", (c.end - c.start) / 1e9);
    std::printf("%-4llu %-5s %-10s %s\n",
                static_cast<unsigned long long>(c.seq), code.c_str(), dur,
                quoted_argv(c.argv).c_str());
  }
}

}  // namespace

int replay_command(const std::vector<std::string>& args) {
  replay_options o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    if (a == "--timing") {
      o.timing = true;
    } else if (a == "--info") {
      o.info = true;
    } else if (a == "--speed" || a.rfind("--speed=", 0) == 0) {
      std::string v;
      if (a == "--speed") {
        if (i + 1 >= args.size()) {
          std::fprintf(stderr, "remex: option '--speed' needs a value\n");
          return 255;
        }
        v = args[++i];
      } else {
        v = a.substr(8);
      }
      char* end = nullptr;
      o.speed = std::strtod(v.c_str(), &end);
      if (v.empty() || *end != '\0' || !(o.speed > 0) || o.speed > 1e9) {
        std::fprintf(stderr,
                     "remex: --speed wants a positive number, got '%s'\n",
                     v.c_str());
        return 255;
      }
      o.timing = true;
    } else if (a == "--") {
      if (i + 2 != args.size()) break;
      o.file = args[i + 1];
      i = args.size();
    } else if (!a.empty() && a[0] == '-' && a != "-") {
      std::fprintf(stderr,
                   "remex: unknown option '%s' (see 'remex replay --help')\n",
                   a.c_str());
      return 255;
    } else if (o.file.empty()) {
      o.file = a;
    } else {
      std::fprintf(stderr, "remex: replay takes one FILE, got '%s' too\n",
                   a.c_str());
      return 255;
    }
  }
  if (o.file.empty()) {
    std::fprintf(stderr,
                 "remex: replay needs a FILE (see 'remex replay --help')\n");
    return 255;
  }
  int fd = o.file == "-" ? STDIN_FILENO
                         : ::open(o.file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    std::fprintf(stderr, "remex: replay %s: %s\n", o.file.c_str(),
                 std::strerror(errno));
    return 255;
  }

  protocol::recording_reader reader;
  protocol::record rec;
  bool have_header = false;
  bool have_footer = false;
  protocol::recording_header header;
  std::vector<command_info> cmds;
  // Pacing: the first command's start (else the first frame) is "now".
  auto replay_start = std::chrono::steady_clock::now();
  std::int64_t base_ts = 0;
  bool have_base = false;
  std::size_t records = 0;
  std::string buf(256 * 1024, '\0');
  bool at_end = false;
  while (!at_end) {
    auto n = ::read(fd, &buf[0], buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::fprintf(stderr, "remex: replay %s: %s\n", o.file.c_str(),
                   std::strerror(errno));
      return 255;
    }
    if (n == 0)
      at_end = true;
    else
      reader.feed(buf.data(), static_cast<std::size_t>(n));
    for (;;) {
      auto st = reader.next(rec);
      if (st == protocol::recording_reader::status::need_more) break;
      if (st == protocol::recording_reader::status::error) {
        std::fprintf(stderr, "remex: replay %s: not a recording (%s)\n",
                     o.file.c_str(), reader.error_message().c_str());
        return 255;
      }
      if (records++ == 0 && rec.type != record_type::header) {
        std::fprintf(stderr,
                     "remex: replay %s: not a recording (no header first)\n",
                     o.file.c_str());
        return 255;
      }
      switch (rec.type) {
        case record_type::header:
          have_header = true;
          header = rec.header;
          break;
        case record_type::cmd_start: {
          command_info c;
          c.seq = rec.cmd_start.seq;
          c.argv = rec.cmd_start.exec.argv;
          c.start = rec.cmd_start.start_time;
          cmds.push_back(std::move(c));
          if (!have_base) {
            base_ts = rec.cmd_start.start_time;
            have_base = true;
          }
          break;
        }
        case record_type::cmd_end:
          for (auto& c : cmds)
            if (c.seq == rec.cmd_end.seq) {
              c.ended = true;
              c.exit_code = rec.cmd_end.exit_code;
              c.end = rec.cmd_end.end_time;
            }
          break;
        case record_type::frame: {
          auto& f = rec.frame.f;
          if (o.info || rec.frame.dir != protocol::frame_dir::received ||
              f.t != frame_type::data || (f.s != 1 && f.s != 2))
            break;
          if (!have_base) {
            base_ts = rec.frame.ts;
            have_base = true;
          }
          if (o.timing && rec.frame.ts > base_ts) {
            auto delay = std::chrono::nanoseconds(static_cast<std::int64_t>(
                static_cast<double>(rec.frame.ts - base_ts) / o.speed));
            std::this_thread::sleep_until(replay_start + delay);
          }
          if (!write_all(f.s == 1 ? STDOUT_FILENO : STDERR_FILENO, f.d))
            return f.s == 1 && errno == EPIPE ? 0 : 255;
          break;
        }
        case record_type::footer:
          have_footer = true;
          break;
        default:
          break;  // types of later versions
      }
    }
  }
  if (o.info) print_info(have_header ? &header : nullptr, cmds);
  std::fflush(stdout);
  // No footer: the recorder stopped before the end (crash, full disk, a
  // cut); what was there has been replayed.
  if (reader.buffered() > 0 || !have_footer) {
    std::fprintf(stderr,
                 "remex: replay %s: the recording was cut short; replayed up "
                 "to the cut\n",
                 o.file.c_str());
  }
  return 0;
}

}  // namespace remex::cli
