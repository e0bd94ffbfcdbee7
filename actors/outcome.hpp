// How one execution ended, as the requester sees it (DESIGN.md "Outcomes").
#pragma once

#include <caf/meta/type_name.hpp>
#include <cstdint>
#include <string>

#include "transport/exec_channel.hpp"

namespace remex::actors {

struct outcome {
  enum kind_t : std::uint8_t {
    exited,     // code
    signaled,   // signal, core_dumped
    timed_out,  // cleanup_done
    cancelled,
    failed,  // failure, message
  };
  kind_t kind = exited;
  std::int32_t code = 0;
  std::int32_t signal = 0;
  bool core_dumped = false;
  bool cleanup_done = false;
  transport::failure_kind failure = transport::failure_kind::none;
  std::string message;  // one line: what went wrong (the CLI says where)

  static outcome from(const transport::exit_status& st);
  static outcome make_failed(transport::failure_kind failure, std::int32_t code,
                             std::string message);
  static outcome of(kind_t k) {
    outcome o;
    o.kind = k;
    return o;
  }

  // The CLI's exit code (DESIGN.md table): code, 128+N, 124, 130, 255.
  int exit_code() const;
  // "exited(3)", "signaled(15)", "failed(connect: ...)" for logs and consoles.
  std::string to_string() const;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, outcome& x) {
  return f(caf::meta::type_name("remex.outcome"), x.kind, x.code, x.signal,
           x.core_dumped, x.cleanup_done, x.failure, x.message);
}

}  // namespace remex::actors
