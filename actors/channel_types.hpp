// The transport objects actors pass around in-process: the channel of one
// execution and its listener. Never serialised (they are local by nature).
#pragma once

#include <caf/allowed_unsafe_message_type.hpp>
#include <memory>

#include "transport/exec_channel.hpp"

namespace remex::actors {

using listener_ptr = std::shared_ptr<transport::channel_listener>;
using channel_ptr = std::shared_ptr<transport::exec_channel>;

}  // namespace remex::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(remex::actors::listener_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(remex::actors::channel_ptr)
