// The console's prompt: a small line editor for a terminal (typing,
// backspace, Ctrl-U, Left/Right, Up/Down through history, Ctrl-C drops the
// line, Ctrl-D on an empty line ends), plain lines when stdin is not one.
// Small enough not to need readline or libedit.
#pragma once

#include <termios.h>

#include <string>
#include <vector>

namespace remex::cli {

// Keys arrive one by one, unechoed, while it lives (stdin a terminal only).
class raw_terminal {
 public:
  raw_terminal();
  ~raw_terminal();
  raw_terminal(const raw_terminal&) = delete;
  raw_terminal& operator=(const raw_terminal&) = delete;

 private:
  bool active_ = false;
  termios saved_{};
};

class line_reader {
 public:
  explicit line_reader(std::string prompt) : prompt_(std::move(prompt)) {}
  // The next line; false at the end of input.
  bool read(std::string& line);

 private:
  void redraw(const std::string& line, std::size_t cursor);
  std::string prompt_;
  std::vector<std::string> history_;
};

}  // namespace remex::cli
