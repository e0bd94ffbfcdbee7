#include "transport/ssh/cipher_order.hpp"

#include <fstream>
#include <sstream>

namespace remex::transport {

namespace {

bool read_cpu_has_aes() {
  std::ifstream in{"/proc/cpuinfo"};
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0 && line.rfind("Features", 0) != 0) continue;
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::istringstream words{line.substr(colon + 1)};
    std::string w;
    while (words >> w)
      if (w == "aes") return true;
    return false;  // every CPU lists the same flags: the first line decides
  }
  return false;
}

}  // namespace

bool cpu_has_aes() {
  static const bool has = read_cpu_has_aes();
  return has;
}

std::string default_ciphers(bool aes_in_cpu) {
  return aes_in_cpu ? "aes128-gcm@openssh.com,aes256-gcm@openssh.com,"
                      "chacha20-poly1305@openssh.com,aes128-ctr,aes256-ctr"
                    : "chacha20-poly1305@openssh.com,aes128-gcm@openssh.com,"
                      "aes256-gcm@openssh.com,aes128-ctr,aes256-ctr";
}

}  // namespace remex::transport
