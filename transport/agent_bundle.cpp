#include "transport/agent_bundle.hpp"

#include <openssl/evp.h>

#include <fstream>
#include <iterator>

namespace remex::transport {

namespace {

std::string hex(const unsigned char* d, unsigned n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    out += digits[d[i] >> 4];
    out += digits[d[i] & 15];
  }
  return out;
}

std::string sha256(const std::string& bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &n, EVP_sha256(), nullptr);
  return hex(md, n);
}

bool slurp(const std::string& path, std::string& out) {
  std::ifstream in{path, std::ios::binary};
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>{in}, {});
  return true;
}

std::string base_name(const std::string& p) {
  auto slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

}  // namespace

// Each file's digest and content by base name, and the bundle's digest
// (sha256 over each file's name, size and content, in bundle order), from
// one read of each file.
bool read_bundle(const agent_bundle& b, bundle_contents& out) {
  if (!b.files.empty()) out.program = base_name(b.files.front());
  std::string manifest;
  for (auto& path : b.files) {
    auto& bytes = out.bytes[base_name(path)];
    if (!slurp(path, bytes)) {
      out.unreadable = path;
      return false;
    }
    out.digests[base_name(path)] = sha256(bytes);
    manifest += base_name(path) + '\0' + std::to_string(bytes.size()) + '\0';
    manifest += bytes;
  }
  out.digest = sha256(manifest);
  return true;
}

std::string bundle_digest(const agent_bundle& b) {
  bundle_contents read;
  return read_bundle(b, read) ? read.digest : std::string{};
}

bool verified_placements::contains(const std::string& directory) const {
  std::lock_guard<std::mutex> g{mtx_};
  return directories_.count(directory) > 0;
}

void verified_placements::add(const std::string& directory) {
  std::lock_guard<std::mutex> g{mtx_};
  directories_.insert(directory);
  latest_ = directory;
}

std::string verified_placements::latest() const {
  std::lock_guard<std::mutex> g{mtx_};
  return latest_;
}

}  // namespace remex::transport
