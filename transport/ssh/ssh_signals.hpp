// RFC 4254 names signals without "SIG"; exit-signal and signal requests
// use those names, while remex speaks local signal numbers.
#pragma once

namespace remex::transport {

// 0 when the name is not one this machine knows.
int signal_number(const char* name);
// nullptr when the signal has no RFC 4254 name.
const char* signal_name(int signo);

}  // namespace remex::transport
