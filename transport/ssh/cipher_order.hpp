// The cipher order remex offers when neither the caller nor the user's
// ssh_config names one: AES-GCM first where the CPU has AES instructions
// (there it encrypts at several GB/s, ~2x chacha20-poly1305), else
// chacha20-poly1305 first, as OpenSSH's default does everywhere.
#pragma once

#include <string>

namespace remex::transport {

// Whether this CPU has AES instructions (/proc/cpuinfo: x86 "flags" or ARM
// "Features" lists "aes"); read once. False when it cannot tell.
bool cpu_has_aes();

// The preference list for libssh's SSH_OPTIONS_CIPHERS_*.
std::string default_ciphers(bool aes_in_cpu);

}  // namespace remex::transport
