#include "transport/ssh/agent_transfer.hpp"

#include <fcntl.h>
#include <libssh/libssh.h>
#include <libssh/sftp.h>

#include <map>
#include <random>
#include <sstream>

#include "transport/shell_command.hpp"
#include "transport/ssh/ssh_provider.hpp"

namespace remex::transport {

namespace {

// Runs a sh script on a blocking session; stdout and the exit code, or -1.
int remote(ssh_session s, const std::string& line, std::string& out) {
  out.clear();
  ssh_channel ch = ssh_channel_new(s);
  if (ch == nullptr) return -1;
  int code = -1;
  auto payload = sh_payload(line);
  if (ssh_channel_open_session(ch) == SSH_OK &&
      ssh_channel_request_exec(ch, sh_bootstrap_line().c_str()) == SSH_OK &&
      ssh_channel_write(ch, payload.data(),
                        static_cast<std::uint32_t>(payload.size())) ==
          static_cast<int>(payload.size()) &&
      ssh_channel_send_eof(ch) == SSH_OK) {
    char buf[16384];
    int n;
    while ((n = ssh_channel_read(ch, buf, sizeof buf, 0)) > 0)
      out.append(buf, static_cast<std::size_t>(n));
    code = ssh_channel_get_exit_status(ch);
  }
  ssh_channel_close(ch);
  ssh_channel_free(ch);
  return code;
}

using digests = std::map<std::string, std::string>;  // file name → sha256

std::string verify_line(const std::string& dir, const digests& want) {
  std::string line = "cd " + shell_quote(dir) + " 2>/dev/null && sha256sum";
  for (auto& [name, digest] : want) line += " " + shell_quote(name);
  return line;
}

// True when sha256sum's output lists exactly the expected digests.
bool matches(const std::string& out, const digests& want) {
  digests got;
  std::istringstream in{out};
  std::string digest, name;
  while (in >> digest >> name) got[name] = digest;
  return got == want;
}

bool verified(ssh_session s, const std::string& dir, const digests& want) {
  std::string out;
  return remote(s, verify_line(dir, want), out) == 0 && matches(out, want);
}

// Collects the check's stdout; decides when the command ends.
class check_listener : public channel_listener {
 public:
  check_listener(verified_placements* memo, agent_placement where, digests want,
                 std::function<void(agent_placement)> done)
      : memo_(memo),
        where_(std::move(where)),
        want_(std::move(want)),
        done_(std::move(done)) {}

  void on_data(std::uint32_t s, std::string bytes) override {
    if (s == 1 && out_.size() < 64 * 1024) out_ += bytes;
  }
  void on_eof(std::uint32_t) override {}
  void on_drained(std::uint32_t, std::size_t) override {}
  // The check made the host's connection: its notices are for the
  // requests that wait for the placement.
  void on_notice(std::string line) override {
    where_.notices.push_back(std::move(line));
  }
  void on_exit(exit_status st) override {
    if (st.kind == exit_status::kind_t::failed) {
      where_.failure = std::move(st);
    } else if (st.kind == exit_status::kind_t::exited && st.code == 0 &&
               matches(out_, want_)) {
      if (memo_) memo_->add(where_.directory);
      where_.ok = true;
    } else {
      where_.missing = true;
    }
    done_(std::move(where_));
  }

 private:
  verified_placements* memo_;
  agent_placement where_;
  digests want_;
  std::function<void(agent_placement)> done_;
  std::string out_;
};

bool upload(sftp_session sftp, const std::string& path,
            const std::string& bytes) {
  sftp_file f =
      sftp_open(sftp, path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (f == nullptr) return false;
  bool ok = true;
  for (std::size_t off = 0; ok && off < bytes.size();) {
    auto n = std::min<std::size_t>(32768, bytes.size() - off);
    auto w = sftp_write(f, bytes.data() + off, n);
    if (w <= 0) ok = false;
    off += static_cast<std::size_t>(std::max<ssize_t>(w, 0));
  }
  return sftp_close(f) == SSH_NO_ERROR && ok;
}

}  // namespace

agent_placement ensure_agent(ssh_session_provider& p, const agent_bundle& b,
                             const std::string& cache_dir) {
  agent_placement out;
  auto failed = [&](const std::string& what) {
    out.ok = false;
    out.failure =
        exit_status::failed_with(failure_kind::agent, 255, "agent: " + what);
    return out;
  };
  if (b.files.empty()) return failed("empty agent bundle");
  std::string unreadable;
  auto read = read_bundle(b, unreadable);
  if (!read) return failed("cannot read " + unreadable);
  const digests& want = read->digests;
  out.directory = cache_dir + "/agent-" + read->digest;
  out.program = out.directory + "/" + read->program;
  if (p.placements().contains(out.directory)) {
    out.ok = true;
    return out;
  }
  auto conn = p.connect_like();
  for (auto& line : conn.notices) connect_notice(line);
  if (conn.session == nullptr) {
    out.failure = conn.failure;
    return out;
  }
  ssh_session s = conn.session;
  auto done = [&](bool ok, const std::string& why = {}) {
    ssh_disconnect(s);
    ssh_free(s);
    if (!ok) return failed(why);
    p.placements().add(out.directory);
    out.ok = true;
    return out;
  };
  // A directory with the right name is trusted only after its content is.
  if (verified(s, out.directory, want)) return done(true);

  std::mt19937_64 rng{std::random_device{}()};
  auto tmp = out.directory + ".tmp." + std::to_string(rng());
  std::string ignored;
  if (remote(s,
             "mkdir -p " + shell_quote(cache_dir) + " && mkdir -m 0700 " +
                 shell_quote(tmp),
             ignored) != 0)
    return done(false, "cannot create " + tmp);
  sftp_session sftp = sftp_new(s);
  bool sent = sftp != nullptr && sftp_init(sftp) == SSH_OK;
  for (auto& [name, bytes] : read->bytes)
    sent = sent && upload(sftp, tmp + "/" + name, bytes);
  if (sftp) sftp_free(sftp);
  auto cleanup = "rm -rf " + shell_quote(tmp);
  if (!sent) {
    remote(s, cleanup, ignored);
    return done(false, "upload to " + tmp + " failed");
  }
  if (!verified(s, tmp, want)) {
    remote(s, cleanup, ignored);
    return done(false, "sha256 mismatch after upload to " + tmp);
  }
  // Each mv is an atomic rename: the final name only ever holds a checked
  // bundle; a bad one is moved aside and removed, never run.
  auto dir = shell_quote(out.directory);
  auto old = shell_quote(tmp + ".old");
  std::string swap = "chmod 0755 " + shell_quote(tmp) + " " +
                     shell_quote(tmp + "/" + read->program) + " && { [ ! -e " +
                     dir + " ] || mv -T " + dir + " " + old + "; } && mv -T " +
                     shell_quote(tmp) + " " + dir + " && rm -rf " + old;
  if (remote(s, swap, ignored) != 0) {
    remote(s, cleanup, ignored);
    return done(false, "cannot move the bundle into " + out.directory);
  }
  out.uploaded = true;
  return done(true);
}

void check_agent(session_provider& p, const agent_bundle& b,
                 std::function<void(agent_placement)> done,
                 verified_placements* memo, const std::string& cache_dir) {
  agent_placement where;
  std::string unreadable;
  auto read = b.files.empty() ? nullptr : read_bundle(b, unreadable);
  if (!read) {
    // ensure_agent says precisely what is wrong with the bundle.
    where.missing = true;
    done(std::move(where));
    return;
  }
  where.directory = cache_dir + "/agent-" + read->digest;
  where.program = where.directory + "/" + read->program;
  if (memo && memo->contains(where.directory)) {
    where.ok = true;
    done(std::move(where));
    return;
  }
  auto script = verify_line(where.directory, read->digests);
  open_sh_script(p, script,
                 std::make_shared<check_listener>(
                     memo, std::move(where), read->digests, std::move(done)),
                 false);
}

}  // namespace remex::transport
