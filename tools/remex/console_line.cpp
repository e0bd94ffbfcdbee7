#include "tools/remex/console_line.hpp"

#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <iostream>

namespace remex::cli {

raw_terminal::raw_terminal() {
  if (!::isatty(STDIN_FILENO) || ::tcgetattr(STDIN_FILENO, &saved_) != 0)
    return;
  auto raw = saved_;
  // ISIG stays: Ctrl-C still raises SIGINT.
  raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
  raw.c_cc[VMIN] = 1;
  raw.c_cc[VTIME] = 0;
  active_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
}

raw_terminal::~raw_terminal() {
  if (active_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
}

void line_reader::redraw(const std::string& line, std::size_t cursor) {
  // Back to the line's start, prompt and text, erase the rest, cursor back.
  std::string out = "\r" + prompt_ + line + "\x1b[K";
  if (cursor < line.size())
    out += "\x1b[" + std::to_string(line.size() - cursor) + "D";
  std::fputs(out.c_str(), stdout);
  std::fflush(stdout);
}

bool line_reader::read(std::string& line) {
  line.clear();
  if (!::isatty(STDIN_FILENO))
    return static_cast<bool>(std::getline(std::cin, line));
  raw_terminal raw;
  // Ctrl-C must interrupt the read to drop the line: whatever handles
  // SIGINT, not restarted while the prompt waits.
  struct sigaction restartable {};
  ::sigaction(SIGINT, nullptr, &restartable);
  auto interrupting = restartable;
  interrupting.sa_flags &= ~SA_RESTART;
  ::sigaction(SIGINT, &interrupting, nullptr);
  struct restore {
    struct sigaction& saved;
    ~restore() { ::sigaction(SIGINT, &saved, nullptr); }
  } restore_sigint{restartable};
  std::size_t cursor = 0;
  std::size_t at = history_.size();  // history_.size(): the new line
  std::string fresh;                 // what was typed before going Up
  redraw(line, cursor);
  for (;;) {
    char ch = 0;
    auto n = ::read(STDIN_FILENO, &ch, 1);
    if (n < 0 && errno == EINTR) {  // Ctrl-C: drop the line
      std::fputs("^C\n", stdout);
      line.clear();
      cursor = 0;
      redraw(line, cursor);
      continue;
    }
    if (n <= 0) {
      std::fputs("\n", stdout);
      return false;
    }
    if (ch == '\r' || ch == '\n') {
      std::fputs("\n", stdout);
      std::fflush(stdout);
      if (!line.empty() && (history_.empty() || history_.back() != line))
        history_.push_back(line);
      return true;
    }
    if (ch == 4 && line.empty()) {  // Ctrl-D
      std::fputs("\n", stdout);
      return false;
    }
    if (ch == 127 || ch == 8) {
      if (cursor > 0) line.erase(--cursor, 1);
    } else if (ch == 21) {  // Ctrl-U
      line.erase(0, cursor);
      cursor = 0;
    } else if (ch == 27) {  // ESC [ A/B/C/D: arrows
      char seq[2];
      if (::read(STDIN_FILENO, &seq[0], 1) != 1 || seq[0] != '[' ||
          ::read(STDIN_FILENO, &seq[1], 1) != 1)
        continue;
      if (seq[1] == 'A' && at > 0) {
        if (at == history_.size()) fresh = line;
        line = history_[--at];
        cursor = line.size();
      } else if (seq[1] == 'B' && at < history_.size()) {
        line = ++at == history_.size() ? fresh : history_[at];
        cursor = line.size();
      } else if (seq[1] == 'C' && cursor < line.size()) {
        ++cursor;
      } else if (seq[1] == 'D' && cursor > 0) {
        --cursor;
      }
    } else if (static_cast<unsigned char>(ch) >= 0x20) {
      line.insert(cursor++, 1, ch);
    }
    redraw(line, cursor);
  }
}

}  // namespace remex::cli
