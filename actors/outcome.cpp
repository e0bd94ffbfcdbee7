#include "actors/outcome.hpp"

#include <utility>

namespace remex::actors {

outcome outcome::from(const transport::exit_status& st) {
  outcome o;
  switch (st.kind) {
    case transport::exit_status::kind_t::exited:
      o.kind = exited;
      o.code = st.code;
      break;
    case transport::exit_status::kind_t::signaled:
      o.kind = signaled;
      o.signal = st.signal;
      o.core_dumped = st.core_dumped;
      break;
    case transport::exit_status::kind_t::failed:
      o.kind = failed;
      o.code = st.code;
      o.failure = st.failure;
      o.message = st.message;
      break;
  }
  return o;
}

outcome outcome::make_failed(transport::failure_kind failure, std::int32_t code,
                             std::string message) {
  outcome o;
  o.kind = failed;
  o.failure = failure;
  o.code = code;
  o.message = std::move(message);
  return o;
}

int outcome::exit_code() const {
  switch (kind) {
    case exited:
      return code;
    case signaled:
      return 128 + signal;
    case timed_out:
      return 124;
    case cancelled:
      return 130;
    default:
      return code != 0 ? code : 255;
  }
}

std::string outcome::to_string() const {
  switch (kind) {
    case exited:
      return "exited(" + std::to_string(code) + ")";
    case signaled:
      return "signaled(" + std::to_string(signal) +
             (core_dumped ? ", core dumped)" : ")");
    case timed_out:
      return cleanup_done ? "timed_out(cleanup done)"
                          : "timed_out(cleanup unknown)";
    case cancelled:
      return "cancelled";
    default:
      return std::string{"failed("} + transport::to_string(failure) + ": " +
             message + ")";
  }
}

}  // namespace remex::actors
