#include "tools/remex/fanout_output.hpp"

#include <unistd.h>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/unit.hpp>
#include <cerrno>
#include <cstdio>
#include <map>

#include "config/host_list.hpp"

namespace remex::cli {

using namespace remex::actors;

namespace {

// Output that cannot be written (stdout closed by `| head`) is dropped: the
// hosts keep running and the outcome still counts.
void write_all(int fd, const std::string& s) {
  std::size_t done = 0;
  while (done < s.size()) {
    auto n = ::write(fd, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

struct writer_state {
  std::string live;  // the live line shown, "" when none
};

caf::behavior fd_writer(caf::stateful_actor<writer_state>* self, int fd,
                        bool live_line) {
  return {
      [self, fd, live_line](const std::string& text) {
        auto& live = self->state.live;
        if (live_line && !live.empty())
          write_all(fd, "\r\033[K" + text + live);
        else
          write_all(fd, text);
        return true;
      },
      [self, fd, live_line](progress_atom, const std::string& line) {
        if (!live_line) return;
        self->state.live = line;
        write_all(fd, "\r\033[K" + line);
      },
      [self, fd](done_atom) {
        if (!self->state.live.empty()) write_all(fd, "\r\033[K");
        self->state.live.clear();
        return true;
      },
  };
}

// Beyond this a line without newline is written in pieces: a host printing
// one endless line must not grow remex without bound.
constexpr std::size_t max_line = 64 * 1024;

struct line_state {
  std::string prefix;
  caf::actor writer;
  std::string pending;  // the start of a line not yet ended
};

using line_ptr = host_sink_actor::stateful_pointer<line_state>;

// Whole lines of pending (all of it when flush_all), prefixed; they leave
// pending.
std::string take_lines(line_state& st, bool flush_all) {
  std::string out;
  std::size_t start = 0;
  for (;;) {
    auto nl = st.pending.find('\n', start);
    if (nl == std::string::npos) break;
    out += st.prefix;
    out.append(st.pending, start, nl + 1 - start);
    start = nl + 1;
  }
  st.pending.erase(0, start);
  if (!st.pending.empty() && (flush_all || st.pending.size() >= max_line)) {
    out += st.prefix + st.pending + '\n';
    st.pending.clear();
  }
  return out;
}

host_sink_actor::behavior_type line_sink(line_ptr self, std::string prefix,
                                         caf::actor writer) {
  self->state.prefix = std::move(prefix);
  self->state.writer = std::move(writer);
  // Replies with `reply` once text is written (credit only for what is out,
  // so a slow terminal slows the host, not remex's memory).
  auto write_then = [self](std::string text, auto reply) {
    using reply_t = decltype(reply);
    auto rp = self->template make_response_promise<reply_t>();
    if (text.empty()) {
      rp.deliver(std::move(reply));
      return rp;
    }
    self->request(self->state.writer, caf::infinite, std::move(text))
        .then([rp, reply](bool) mutable { rp.deliver(reply); },
              [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
    return rp;
  };
  return {
      [self, write_then](chunk_atom, std::uint32_t, const std::string& bytes) {
        self->state.pending += bytes;
        return write_then(take_lines(self->state, false),
                          std::uint64_t{bytes.size()});
      },
      [self, write_then](eof_atom, std::uint32_t) {
        return write_then(take_lines(self->state, true), true);
      },
      [self, write_then](done_atom) {
        auto rp = write_then(take_lines(self->state, true), std::string{});
        self->quit();
        return rp;
      },
  };
}

struct collect_state {
  std::string data;
};

// The unused caf::unit_t: CAF 0.17.6 binds a reference to a null argument
// tuple when a function actor is spawned without arguments
// (caf/detail/init_fun_factory.hpp), undefined behaviour that UBSan stops at.
host_sink_actor::behavior_type collect_sink(
    host_sink_actor::stateful_pointer<collect_state> self, caf::unit_t) {
  return {
      [self](chunk_atom, std::uint32_t, const std::string& bytes) {
        self->state.data += bytes;
        return std::uint64_t{bytes.size()};
      },
      [](eof_atom, std::uint32_t) { return true; },
      [self](done_atom) {
        self->quit();
        return std::move(self->state.data);
      },
  };
}

// caf::unit_t: as collect_sink's.
source_actor::behavior_type empty_source(source_actor::pointer self,
                                         caf::unit_t) {
  return {
      [self](attach_atom, input_actor& input) {
        self->send(input, eof_atom::value);
        self->quit();
      },
      [](credit_atom, std::uint64_t) {},
  };
}

}  // namespace

caf::actor spawn_fd_writer(caf::actor_system& sys, int fd, bool live_line) {
  return sys.spawn<caf::detached>(fd_writer, fd, live_line);
}

host_sink_actor spawn_line_sink(caf::actor_system& sys, std::string prefix,
                                caf::actor writer) {
  return sys.spawn(line_sink, std::move(prefix), std::move(writer));
}

host_sink_actor spawn_collect_sink(caf::actor_system& sys) {
  return sys.spawn(collect_sink, caf::unit);
}

source_actor spawn_empty_source(caf::actor_system& sys) {
  return sys.spawn(empty_source, caf::unit);
}

std::string json_line(const host_result& r) {
  auto num = [](const std::optional<int>& n) {
    return n ? std::to_string(*n) : std::string{"null"};
  };
  char dur[32];
  std::snprintf(dur, sizeof dur, "%.3f", r.duration_s);
  return "{\"host\":" + json_string(r.host) +
         ",\"exit_code\":" + num(r.exit_code) + ",\"signal\":" + num(r.signal) +
         ",\"stdout\":" + json_string(r.out) +
         ",\"stderr\":" + json_string(r.err) + ",\"duration_s\":" + dur +
         ",\"error\":" + (r.error.empty() ? "null" : json_string(r.error)) +
         "}\n";
}

std::string collate_text(const std::vector<host_result>& results) {
  struct group {
    std::vector<std::string> hosts;
    const host_result* first;
  };
  std::vector<group> groups;
  std::map<std::pair<std::string, int>, std::size_t> index;
  for (auto& r : results) {
    auto key = std::make_pair(r.out, r.code);
    auto it = index.find(key);
    if (it == index.end()) {
      index.emplace(key, groups.size());
      groups.push_back({{r.host}, &r});
    } else {
      groups[it->second].hosts.push_back(r.host);
    }
  }
  const std::string rule = "----------------\n";
  std::string text;
  for (auto& g : groups) {
    text += rule + config::compress_hosts(g.hosts) + " (exit " +
            std::to_string(g.first->code) + ")\n" + rule + g.first->out;
    // The next header starts on a line of its own.
    if (!g.first->out.empty() && g.first->out.back() != '\n') text += '\n';
  }
  return text;
}

}  // namespace remex::cli
