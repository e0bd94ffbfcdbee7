#include "actors/file_service.hpp"

#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>
#include <map>
#include <tuple>

#include "actors/wire_guard.hpp"
#include "protocol/codec.hpp"

namespace remex::actors {

namespace {

// The session answers on its I/O thread; the answer comes back here as a
// message, and only this actor touches its promises.
using service_impl_actor =
    files_actor::extend<caf::reacts_to<answer_atom, std::uint64_t, std::uint8_t,
                                       std::string, std::string>,
                        caf::reacts_to<log_atom, std::int32_t, std::string>>;

using answer_promise =
    caf::typed_response_promise<std::uint8_t, std::string, std::string,
                                std::vector<std::int32_t>,
                                std::vector<std::string>>;
using answer_result =
    caf::result<std::uint8_t, std::string, std::string,
                std::vector<std::int32_t>, std::vector<std::string>>;

struct service_state {
  file_session_ptr session;
  caf::actor requester;
  std::uint64_t next = 1;
  std::map<std::uint64_t, answer_promise> waiting;
  // The agent's log lines since the last answer: they go with the next.
  std::vector<std::int32_t> log_levels;
  std::vector<std::string> log_lines;
  static inline const char* name = "file_service";
};

using self_ptr = guarded_pointer<service_impl_actor, service_state>;

std::uint8_t failure_code(transport::failure_kind k) {
  return static_cast<std::uint8_t>(k);
}

// The one frame in bytes, of type want; else why not.
std::string decode_one(const std::string& bytes, protocol::frame_type want,
                       protocol::frame& out) {
  protocol::frame_decoder dec;
  dec.feed(bytes);
  if (dec.next(out) != protocol::frame_decoder::status::frame)
    return "malformed request frame" +
           (dec.error_message().empty() ? "" : ": " + dec.error_message());
  if (out.t != want) return "unexpected request frame";
  return {};
}

// From the session's I/O thread to the service's mailbox: the answer frame
// encoded, or nothing when the session failed.
void post_answer(const service_impl_actor& me, std::uint64_t key,
                 transport::failure_kind failure, std::string message,
                 const protocol::frame& answer) {
  auto ok = failure == transport::failure_kind::none;
  caf::anon_send(me, answer_atom::value, key, failure_code(failure),
                 std::move(message),
                 ok ? protocol::encode(answer) : std::string{});
}

answer_promise wait_for(self_ptr self, std::uint64_t& key) {
  key = self->state.next++;
  auto rp = self->make_response_promise<std::uint8_t, std::string, std::string,
                                        std::vector<std::int32_t>,
                                        std::vector<std::string>>();
  self->state.waiting.emplace(key, rp);
  return rp;
}

void close_session(self_ptr self) {
  auto& st = self->state;
  if (st.session) st.session->close();
  st.session = nullptr;
  self->quit();
}

service_impl_actor::behavior_type service(self_ptr self,
                                          file_session_ptr session,
                                          caf::actor requester) {
  self->state.session = std::move(session);
  self->state.requester = requester;
  if (requester) self->monitor(requester);
  self->set_down_handler([self](caf::down_msg& dm) {
    if (dm.source == self->state.requester) close_session(self);
  });
  service_impl_actor me = self;
  // Log frames come on the I/O thread before the answer they precede, and
  // reach this mailbox in that order.
  self->state.session->on_log([me](int level, std::string line) {
    caf::anon_send(me, log_atom::value, std::int32_t{level}, std::move(line));
  });
  return {
      [self, me](file_atom, const std::string& bytes) -> answer_result {
        protocol::frame f;
        if (auto why = decode_one(bytes, protocol::frame_type::file_op, f);
            !why.empty() || !f.fop)
          return {failure_code(transport::failure_kind::request),
                  why.empty() ? "no file operation" : why, std::string{},
                  std::vector<std::int32_t>{}, std::vector<std::string>{}};
        std::uint64_t key = 0;
        auto rp = wait_for(self, key);
        self->state.session->request(
            std::move(*f.fop), [me, key](transport::file_answer a) {
              protocol::frame r;
              r.t = protocol::frame_type::file_resp;
              r.frp = std::move(a.resp);
              post_answer(me, key, a.failure, std::move(a.message), r);
            });
        return rp;
      },
      [self, me](paths_atom, std::vector<std::string>& dirs) -> answer_result {
        std::uint64_t key = 0;
        auto rp = wait_for(self, key);
        self->state.session->query_paths(
            std::move(dirs), [me, key](transport::paths_answer a) {
              protocol::frame r;
              r.t = protocol::frame_type::path_info;
              r.i = std::move(a.info);
              post_answer(me, key, a.failure, std::move(a.message), r);
            });
        return rp;
      },
      [self](close_atom) { close_session(self); },
      [self](answer_atom, std::uint64_t key, std::uint8_t failure,
             std::string& message, std::string& frame) {
        auto i = self->state.waiting.find(key);
        if (i == self->state.waiting.end()) return;
        auto& st = self->state;
        i->second.deliver(failure, std::move(message), std::move(frame),
                          std::move(st.log_levels), std::move(st.log_lines));
        st.log_levels.clear();
        st.log_lines.clear();
        st.waiting.erase(i);
      },
      [self](log_atom, std::int32_t level, std::string& line) {
        self->state.log_levels.push_back(level);
        self->state.log_lines.push_back(std::move(line));
      },
  };
}

}  // namespace

files_actor spawn_file_service(caf::local_actor* parent,
                               file_session_ptr session, caf::actor requester) {
  return parent->spawn(service, std::move(session), std::move(requester));
}

}  // namespace remex::actors
