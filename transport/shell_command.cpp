#include "transport/shell_command.hpp"

#include <mutex>

namespace remex::transport {

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  out += '\'';
  return out;
}

namespace {

// Watches the command's process group from a session of its own (so the
// group's signals miss it and it can tell when the group is empty): while
// anything of the group lives, it checks once a second that the group's
// parent (sshd's session, or the local provider) is still there, and kills
// the group when it is gone, since a plain exec channel that drops leaves
// its command and its background jobs running. Without setsid(1) it watches
// from inside the group and only while the command itself runs. It is a
// fork of the bootstrap's sh, so `ps` shows no part of the request.
const char* orphan_guard =
    "g='trap \"\" INT TERM HUP QUIT USR1 USR2 PIPE; "
    "while kill -0 $0 && kill -0 -$1; do sleep 1; done 2>/dev/null; "
    "kill -0 $0 2>/dev/null || kill -KILL -$1 2>/dev/null'; "
    "if command -v setsid >/dev/null 2>&1; then "
    "setsid /bin/sh -c \"$g\" $PPID $$ </dev/null >/dev/null 2>&1 & "
    "else (trap '' INT TERM HUP QUIT USR1 USR2 PIPE; "
    "while kill -0 $PPID && kill -0 $$; do sleep 1; done 2>/dev/null; "
    "kill -0 $PPID 2>/dev/null || kill -KILL -$$ 2>/dev/null) "
    "</dev/null >/dev/null 2>&1 & fi; ";

bool is_name(const std::string& k) {
  if (k.empty() || (k[0] >= '0' && k[0] <= '9')) return false;
  for (char c : k)
    if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9')))
      return false;
  return true;
}

// The shell's own `read` takes one byte at a time from a pipe or socket, so
// it never consumes the command's input that follows the script. Inside the
// single quotes there is no quote, no backslash pair, no `!` and no newline:
// the only sequences fish, tcsh, zsh, bash and sh treat differently there.
const std::string bootstrap =
    "exec /bin/sh -c 'IFS= read -r n || exit 255; nl=$(printf \"\\n_\"); "
    "nl=${nl%_}; s=; while [ \"$n\" -gt 0 ]; do IFS= read -r l || exit 255; "
    "s=$s$l$nl; n=$((n-1)); done; eval \"$s\"'";

// Writes the payload ahead of everything else and hides its bytes from the
// stdin credit the caller sees.
class script_listener : public channel_listener {
 public:
  script_listener(std::shared_ptr<channel_listener> inner, std::string payload,
                  bool with_stdin)
      : inner_(std::move(inner)),
        payload_(std::move(payload)),
        with_stdin_(with_stdin),
        hidden_(payload_.size()) {}
  // The script goes out before anything the caller writes or closes,
  // whether the caller acts on the channel open_exec returned or on the one
  // on_open hands over (a stdin at EOF at once would otherwise close the
  // channel's stdin before the script): whichever comes first sends it.
  void send_payload(exec_channel& ch) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (sent_) return;
    sent_ = true;
    ch.write(0, std::move(payload_));
    if (!with_stdin_) ch.close_stream(0);
  }
  void on_open(std::shared_ptr<exec_channel> ch) override {
    send_payload(*ch);
    inner_->on_open(std::move(ch));
  }
  void on_data(std::uint32_t s, std::string bytes) override {
    inner_->on_data(s, std::move(bytes));
  }
  void on_eof(std::uint32_t s) override { inner_->on_eof(s); }
  void on_drained(std::uint32_t s, std::size_t n) override {
    if (s == 0) {
      auto skip = std::min(hidden_, n);
      hidden_ -= skip;
      n -= skip;
      if (n == 0) return;
    }
    inner_->on_drained(s, n);
  }
  void on_log(int level, std::string message) override {
    inner_->on_log(level, std::move(message));
  }
  void on_notice(std::string line) override {
    inner_->on_notice(std::move(line));
  }
  void on_exit(exit_status status) override {
    inner_->on_exit(std::move(status));
  }

 private:
  std::shared_ptr<channel_listener> inner_;
  std::mutex mtx_;
  bool sent_ = false;
  std::string payload_;
  bool with_stdin_;
  std::size_t hidden_;  // the transport's I/O thread only
};

}  // namespace

const std::string& sh_bootstrap_line() {
  return bootstrap;
}

std::string sh_payload(const std::string& script) {
  std::size_t lines = 1;
  for (char c : script) lines += c == '\n';
  return std::to_string(lines) + "\n" + script + "\n";
}

std::shared_ptr<exec_channel> open_sh_script(
    session_provider& p, const std::string& script,
    std::shared_ptr<channel_listener> listener, bool with_stdin) {
  auto l = std::make_shared<script_listener>(std::move(listener),
                                             sh_payload(script), with_stdin);
  auto ch = p.open_exec(bootstrap, {}, l);
  if (ch) l->send_payload(*ch);
  return ch;
}

std::string ssh_command_script(const command& cmd) {
  std::string script = orphan_guard;
  if (!cmd.cwd.empty()) {
    auto dir = shell_quote(cmd.cwd);
    script += "cd -- " + dir + " 2>/dev/null || { echo \"cannot change to " +
              "directory \"" + dir + "\": no such directory or not " +
              "accessible\" >&2; exit 127; }; ";
  }
  // Exported by the shell, not given to env(1): values stay out of argv.
  // A name sh cannot export still goes through env (and so its argv).
  std::string odd;
  for (auto& kv : cmd.env) {
    auto eq = kv.find('=');
    auto name = kv.substr(0, eq);
    if (eq != std::string::npos && is_name(name))
      script += "export " + name + "=" + shell_quote(kv.substr(eq + 1)) + "; ";
    else
      odd += " " + shell_quote(kv);
  }
  script += "exec";
  if (!odd.empty()) script += " env" + odd;
  auto path = cmd.path.empty() && !cmd.argv.empty() ? cmd.argv[0] : cmd.path;
  script += " " + shell_quote(path);
  for (size_t i = 1; i < cmd.argv.size(); ++i)
    script += " " + shell_quote(cmd.argv[i]);
  return script;
}

}  // namespace remex::transport
