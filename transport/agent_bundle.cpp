#include "transport/agent_bundle.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "transport/file_version.hpp"

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
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st {};
  bool ok = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  if (ok) {
    out.resize(static_cast<std::size_t>(st.st_size));
    std::size_t got = 0;
    while (ok && got < out.size()) {
      auto n = ::read(fd, &out[got], out.size() - got);
      if (n < 0 && errno == EINTR) continue;
      ok = n > 0;
      if (ok) got += static_cast<std::size_t>(n);
    }
  }
  ::close(fd);
  return ok;
}

std::string base_name(const std::string& p) {
  auto slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

std::string versions_of(const agent_bundle& b) {
  std::string out;
  for (auto& path : b.files) out += file_version(path) + '\0';
  return out;
}

// Each file's digest and content by base name, and the bundle's digest
// (sha256 over each file's name, size and content, in bundle order), from
// one read of each file.
std::shared_ptr<bundle_contents> read_files(const agent_bundle& b,
                                            std::string& unreadable) {
  auto out = std::make_shared<bundle_contents>();
  if (!b.files.empty()) out->program = base_name(b.files.front());
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> manifest{EVP_MD_CTX_new(),
                                                              EVP_MD_CTX_free};
  EVP_DigestInit_ex(manifest.get(), EVP_sha256(), nullptr);
  for (auto& path : b.files) {
    auto name = base_name(path);
    auto& bytes = out->bytes[name];
    if (!slurp(path, bytes)) {
      unreadable = path;
      return nullptr;
    }
    out->digests[name] = sha256(bytes);
    auto head = name + '\0' + std::to_string(bytes.size()) + '\0';
    EVP_DigestUpdate(manifest.get(), head.data(), head.size());
    EVP_DigestUpdate(manifest.get(), bytes.data(), bytes.size());
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_DigestFinal_ex(manifest.get(), md, &n);
  out->digest = hex(md, n);
  return out;
}

}  // namespace

std::shared_ptr<const bundle_contents> read_bundle(const agent_bundle& b,
                                                   std::string& unreadable) {
  // The last bundle read (a process ships one agent), and the versions of
  // its files as they were before the read: a change during the read makes
  // the next call read again. Callers at once wait for one read instead of
  // all reading.
  static std::mutex mtx;
  static std::string held_versions;
  static std::shared_ptr<const bundle_contents> held;
  std::lock_guard<std::mutex> g{mtx};
  auto versions = versions_of(b);
  if (held && versions == held_versions) return held;
  auto fresh = read_files(b, unreadable);
  if (!fresh) return nullptr;
  held_versions = std::move(versions);
  held = std::move(fresh);
  return held;
}

std::string bundle_digest(const agent_bundle& b) {
  std::string unreadable;
  auto read = read_bundle(b, unreadable);
  return read ? read->digest : std::string{};
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
