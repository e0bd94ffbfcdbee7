#include "tools/remex/console_command.hpp"

#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/after.hpp>
#include <caf/scoped_actor.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>

#include "actors/console_queries.hpp"
#include "tools/remex/broker_client.hpp"
#include "tools/remex/console_line.hpp"
#include "tools/remex/console_output.hpp"
#include "tools/remex/console_parse.hpp"

namespace remex::cli {

namespace {

using actors::console_row;
using rows_t = std::vector<console_row>;

// Longer than a node waits for its peers (3 s), so that a silent peer shows
// as its own line rather than as this request's timeout.
constexpr auto answer_timeout = std::chrono::seconds(8);

volatile std::sig_atomic_t interrupted = 0;

void on_sigint(int) {
  interrupted = 1;
}

struct console {
  caf::actor_system& sys;
  actors::broker_actor broker;
  broker_client& client;
  bool json = false;
};

// One command to the node; false with the line printed when refused.
// A request the node did not answer: one line, on stdout as JSON for
// scripts, else on stderr.
void report(console& c, const caf::error& err) {
  auto why = err == caf::sec::request_timeout
                 ? c.client.label() + ": no answer"
                 : actors::refusal_line(c.sys, err);
  if (c.json)
    std::printf("%s\n", json_object({"error"}, {why}).c_str());
  else
    std::fprintf(stderr, "remex: %s\n", why.c_str());
}

bool ask(console& c, const std::vector<std::string>& words, rows_t& rows) {
  bool ok = false;
  caf::scoped_actor self{c.sys};
  self->request(c.broker, answer_timeout, actors::console_atom::value, words,
                true)
      .receive(
          [&](rows_t& xs) {
            rows = std::move(xs);
            ok = true;
          },
          [&](caf::error& err) { report(c, err); });
  return ok;
}

const std::string& field(const console_row& r, const std::string& key) {
  static const std::string none;
  for (std::size_t i = 0; i < r.keys.size(); ++i)
    if (r.keys[i] == key) return r.values[i];
  return none;
}

void event(console& c, const std::vector<std::string>& keys,
           const std::vector<std::string>& values, const std::string& text) {
  if (c.json) {
    std::printf("%s\n", json_object(keys, values).c_str());
  } else {
    char when[16];
    auto t = std::time(nullptr);
    std::tm tm{};
    ::localtime_r(&t, &tm);
    std::strftime(when, sizeof when, "%H:%M:%S", &tm);
    std::printf("%s %s\n", when, text.c_str());
  }
  std::fflush(stdout);
}

// Whether the person typed q within ms. An input that has ended (a script
// run with stdin from /dev/null) ends nothing: watch then runs for its
// seconds, or until Ctrl-C.
bool quit_typed(int ms, bool& input_ended) {
  if (input_ended) {
    ::poll(nullptr, 0, ms);
    return false;
  }
  pollfd p{STDIN_FILENO, POLLIN, 0};
  if (::poll(&p, 1, ms) <= 0) return false;
  char ch = 0;
  if (::read(STDIN_FILENO, &ch, 1) <= 0) {
    input_ended = true;
    return false;
  }
  return ch == 'q' || ch == 'Q';
}

// One event as a line for a person: what happened, and where.
std::string event_text(const console_row& r) {
  auto& what = field(r, "event");
  auto& node = field(r, "node");
  if (what == "started")
    return "started " + field(r, "id") + " on " + field(r, "host") + ": " +
           field(r, "argv");
  if (what == "ended")
    return "ended " + field(r, "id") + ": " + field(r, "outcome");
  if (what == "node up" || what == "node down") {
    auto& address = field(r, "address");
    return "node " + (node == "-" ? address : node) + what.substr(4) +
           (address.empty() || address == "-" || node == "-"
                ? ""
                : " (" + address + ")");
  }
  if (what == "connection opened")
    return "connection opened: " + node + " to " + field(r, "host");
  if (what == "connection lost")
    return "connection lost: " + node + " to " + field(r, "host") + ": " +
           field(r, "why");
  return what + " on " + node;
}

// Subscribes to the cluster's events and prints each as the node pushes it,
// until q, Ctrl-C, seconds (0: no limit) or the node goes away. The watch
// ends with this actor: the node notices (it monitors it) and forgets it.
int watch(console& c, double seconds) {
  bool input_ended = false;
  raw_terminal raw;  // q without Enter, when a person watches
  interrupted = 0;
  auto until = std::chrono::steady_clock::now() +
               std::chrono::milliseconds(static_cast<long>(seconds * 1000));
  caf::scoped_actor self{c.sys};
  bool subscribed = false;
  self->request(c.broker, answer_timeout, actors::watch_atom::value,
                caf::actor_cast<actors::event_sink_actor>(self), true)
      .receive([&](bool ok) { subscribed = ok; },
               [&](caf::error& err) { report(c, err); });
  if (!subscribed) return 1;
  self->monitor(c.broker);
  if (!c.json) {
    std::printf("watching (q or Ctrl-C ends)\n");
    std::fflush(stdout);
  }
  int status = 0;
  for (bool done = false; !done;) {
    // Woken by an event, or every 100 ms to look at the keyboard.
    self->receive(
        [&](actors::event_atom, console_row& r) {
          event(c, r.keys, r.values, event_text(r));
        },
        [&](caf::down_msg&) {
          auto why = c.client.label() + ": connection lost";
          if (c.json)
            std::printf("%s\n", json_object({"error"}, {why}).c_str());
          else
            std::fprintf(stderr, "remex: %s\n", why.c_str());
          status = 1;
          done = true;
        },
        caf::after(std::chrono::milliseconds(100)) >> [] {});
    if (interrupted || quit_typed(0, input_ended)) break;
    if (seconds > 0 && std::chrono::steady_clock::now() >= until) break;
  }
  interrupted = 0;
  return status;
}

// Runs one command; returns its status (0 fine, 1 refused), or -1 for quit.
int run(console& c, const std::vector<std::string>& words) {
  auto& cmd = words[0];
  if (cmd == "quit" || cmd == "exit") return -1;
  if (cmd == "help") {
    std::fputs(console_help, stdout);
    return 0;
  }
  if (cmd == "watch") {
    double seconds = 0;
    if (words.size() > 2 ||
        (words.size() == 2 && (seconds = std::atof(words[1].c_str())) <= 0)) {
      std::fprintf(stderr, "remex: usage: watch [SECONDS]\n");
      return 1;
    }
    return watch(c, seconds);
  }
  rows_t rows;
  if (!ask(c, words, rows)) return 1;
  auto errors = print_rows(rows, c.json, stdout);
  std::fflush(stdout);
  return errors > 0 ? 1 : 0;
}

}  // namespace

int console_command(const std::vector<std::string>& args) {
  run_options o;
  std::string script;
  bool scripted = false, json = false;
  std::string error;
  for (std::size_t i = 0; i < args.size(); ++i) {
    auto& a = args[i];
    if (a == "--help" || a == "-h") {
      std::fputs(console_usage, stdout);
      std::fputs(console_help, stdout);
      return 0;
    }
    if (a == "-c" && i + 1 < args.size()) {
      script = args[++i];
      scripted = true;
      continue;
    }
    if (a == "--json") {
      json = true;
      continue;
    }
    auto r = parse_connection_option(args, i, o, error, false);
    if (r < 0) {
      std::fprintf(stderr, "remex: %s\n", error.c_str());
      return 255;
    }
    if (r == 0) {
      std::fprintf(stderr, "remex: console: unexpected '%s'\n%s", a.c_str(),
                   console_usage);
      return 255;
    }
  }
  caf::actor_system_config cfg;
  broker_client client;
  if (!client.ready(o, cfg)) return 255;
  caf::actor_system sys{cfg};
  auto broker = client.open_or_exit(sys);
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &sa, nullptr);
  console c{sys, broker, client, json};
  int status = 0;
  if (scripted) {
    for (auto& words : split_console_line(script)) {
      auto s = run(c, words);
      if (s < 0) break;
      status = std::max(status, s);
    }
  } else {
    line_reader reader("remex> ");
    std::string line;
    while (reader.read(line)) {
      for (auto& words : split_console_line(line)) {
        auto s = run(c, words);
        if (s < 0) {
          std::fflush(stdout);
          std::_Exit(0);
        }
      }
    }
  }
  std::fflush(stdout);
  std::fflush(stderr);
  // The link's threads need not be joined: end like run does.
  std::_Exit(status);
}

}  // namespace remex::cli
