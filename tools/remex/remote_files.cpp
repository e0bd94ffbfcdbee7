#include "tools/remex/remote_files.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <functional>
#include <mutex>

#include "protocol/codec.hpp"
#include "tools/remex/broker_watch.hpp"

namespace remex::cli {

namespace {

using transport::failure_kind;

// Decodes the one answer frame, or says it could not. The bytes are taken
// over: a readat answer is half a megabyte.
bool decode_answer(std::string&& bytes, protocol::frame& out) {
  protocol::frame_decoder dec;
  dec.feed(std::move(bytes));
  return dec.next(out) == protocol::frame_decoder::status::frame;
}

class remote_session : public transport::file_session {
 public:
  remote_session(caf::actor_system& sys, actors::files_actor files,
                 std::string broker, caf::actor liveness)
      : sys_(sys),
        files_(std::move(files)),
        broker_(std::move(broker)),
        liveness_(std::move(liveness)) {}

  ~remote_session() override { close(); }

  void request(protocol::file_op_request req,
               std::function<void(transport::file_answer)> done) override {
    protocol::frame f;
    f.t = protocol::frame_type::file_op;
    f.fop = std::move(req);
    ask(actors::file_atom::value, protocol::encode(f),
        [done](failure_kind k, std::string message, protocol::frame* r) {
          transport::file_answer a;
          a.failure = k;
          a.message = std::move(message);
          if (r && r->frp) a.resp = std::move(*r->frp);
          done(std::move(a));
        });
  }

  void query_paths(std::vector<std::string> dirs,
                   std::function<void(transport::paths_answer)> done) override {
    ask(actors::paths_atom::value, std::move(dirs),
        [done](failure_kind k, std::string message, protocol::frame* r) {
          transport::paths_answer a;
          a.failure = k;
          a.message = std::move(message);
          if (r && r->i) a.info = std::move(*r->i);
          done(std::move(a));
        });
  }

  // The agent's diagnostics come with the answers they preceded.
  void on_log(std::function<void(int, std::string)> sink) override {
    std::lock_guard<std::mutex> g{mtx_};
    log_ = std::make_shared<std::function<void(int, std::string)>>(
        std::move(sink));
  }

  void close() override {
    if (!closed_.exchange(true))
      caf::anon_send(files_, actors::close_atom::value);
  }

 private:
  using answer_fn =
      std::function<void(failure_kind, std::string, protocol::frame*)>;

  // Requests stay in flight together, each answered "lost" when the files
  // actor or the link to remexd goes first.
  template <class Atom, class Arg>
  void ask(Atom atom, Arg arg, answer_fn done) {
    auto broker = broker_;
    std::shared_ptr<std::function<void(int, std::string)>> log;
    {
      std::lock_guard<std::mutex> g{mtx_};
      log = log_;
    }
    auto* sys = &sys_;
    ask_watched(
        sys_, liveness_, {caf::actor_cast<caf::actor>(files_)}, files_,
        [=](std::uint8_t k, std::string& message, std::string& bytes,
            std::vector<std::int32_t>& levels,
            std::vector<std::string>& lines) {
          if (log && *log)
            for (size_t j = 0; j < levels.size() && j < lines.size(); ++j)
              (*log)(levels[j], lines[j]);
          protocol::frame r;
          if (k == 0 && !decode_answer(std::move(bytes), r)) {
            done(failure_kind::lost, broker + ": malformed answer", nullptr);
            return;
          }
          done(static_cast<failure_kind>(k), std::move(message),
               k == 0 ? &r : nullptr);
        },
        [=](const caf::error& e) {
          done(failure_kind::lost, broker + ": " + sys->render(e), nullptr);
        },
        [=](const caf::error&) {
          done(failure_kind::lost, broker + ": connection lost", nullptr);
        },
        atom, std::move(arg));
  }

  caf::actor_system& sys_;
  actors::files_actor files_;
  std::string broker_;
  caf::actor liveness_;
  std::atomic<bool> closed_{false};
  std::mutex mtx_;
  std::shared_ptr<std::function<void(int, std::string)>> log_;
};

}  // namespace

std::shared_ptr<transport::file_session> remote_file_session(
    caf::actor_system& sys, actors::files_actor files, std::string broker,
    caf::actor liveness) {
  return std::make_shared<remote_session>(
      sys, std::move(files), std::move(broker), std::move(liveness));
}

}  // namespace remex::cli
