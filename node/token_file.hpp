// The token file: what proves a client or peer may drive a node. It holds a
// private key and a self-signed certificate, which is also the only
// certificate authority the node trusts. Both ends present it in a TLS
// handshake with mutual certificates (libcaf_openssl) before BASP runs, so
// whoever cannot read the file (mode 0600, in a 0700 folder) cannot reach
// any actor of the node: a check inside BASP could be bypassed (DESIGN.md,
// field notes).
#pragma once

#include <string>

namespace remex::node {

// Creates the token file (and its folders, mode 0700) when none exists; an
// existing one is kept. Empty when the file is there, else one line saying
// why not.
std::string ensure_token_file(const std::string& path);

// Empty when path holds a key and a certificate this process can read,
// else why not (the message names the file).
std::string token_file_problem(const std::string& path);

}  // namespace remex::node
