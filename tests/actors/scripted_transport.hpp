// A transport the test drives by hand: it records what the actors ask of the
// channel and lets the test play the remote side through the listener. Used
// with CAF's deterministic test coordinator, where real I/O threads cannot run.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "transport/session_provider.hpp"

namespace remex::test {

struct scripted_channel : transport::exec_channel {
  std::map<std::uint32_t, std::string> written;
  std::vector<std::uint32_t> closed;
  std::vector<int> signals;
  std::map<std::uint32_t, std::size_t> credit;
  int terminated = 0;
  int killed = 0;

  void write(std::uint32_t s, std::string bytes) override {
    written[s] += bytes;
  }
  void close_stream(std::uint32_t s) override { closed.push_back(s); }
  void signal(int signo) override { signals.push_back(signo); }
  void consumed(std::uint32_t s, std::size_t n) override { credit[s] += n; }
  void terminate() override { ++terminated; }
  void kill() override { ++killed; }
};

struct scripted_provider : transport::session_provider {
  std::shared_ptr<scripted_channel> channel;
  std::shared_ptr<transport::channel_listener> listener;
  std::string command_line;
  int opened = 0;

  std::shared_ptr<transport::exec_channel> open_exec(
      std::string cmd, std::vector<std::string>,
      std::shared_ptr<transport::channel_listener> l) override {
    ++opened;
    command_line = std::move(cmd);
    listener = std::move(l);
    channel = std::make_shared<scripted_channel>();
    listener->on_open(channel);  // a real transport does it on its thread
    return channel;
  }
  std::string host() const override { return "scripted"; }
};

}  // namespace remex::test
