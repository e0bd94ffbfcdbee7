#include "node/token_file.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace remex::node {

namespace {

template <class T, void (*Free)(T*)>
struct freer {
  void operator()(T* p) const { Free(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, freer<EVP_PKEY, EVP_PKEY_free>>;
using x509_ptr = std::unique_ptr<X509, freer<X509, X509_free>>;

// mkdir -p for the folders above path, each new one 0700.
std::string make_parents(const std::string& path) {
  for (auto slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    auto dir = path.substr(0, slash);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
      return "cannot create " + dir + ": " + std::strerror(errno);
  }
  return {};
}

bool add_extension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  auto* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext) return false;
  auto ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// A fresh P-256 key and a certificate for it, signed by itself, valid for a
// century: the token never expires on its own; deleting the file revokes it.
x509_ptr make_certificate(EVP_PKEY* key) {
  x509_ptr cert{X509_new()};
  if (!cert) return nullptr;
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return nullptr;
  serial[0] &= 0x7f;  // a positive serial number
  auto* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  auto ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  auto* name = X509_get_subject_name(cert.get());
  ok = ok && X509_set_version(cert.get(), 2) &&
       X509_gmtime_adj(X509_getm_notBefore(cert.get()), -86400) &&
       X509_gmtime_adj(X509_getm_notAfter(cert.get()), 100L * 365 * 86400) &&
       X509_set_pubkey(cert.get(), key) &&
       X509_NAME_add_entry_by_txt(
           name, "CN", MBSTRING_ASC,
           reinterpret_cast<const unsigned char*>("remex node token"), -1, -1,
           0) &&
       X509_set_issuer_name(cert.get(), name) &&
       add_extension(cert.get(), NID_basic_constraints, "critical,CA:TRUE") &&
       add_extension(cert.get(), NID_key_usage,
                     "critical,digitalSignature,keyCertSign") &&
       X509_sign(cert.get(), key, EVP_sha256()) > 0;
  return ok ? std::move(cert) : nullptr;
}

// Writes key and certificate to a new file that nobody else can read, from
// the first byte on (O_EXCL, 0600).
std::string write_new(const std::string& path, EVP_PKEY* key, X509* cert) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return "cannot create " + path + ": " + std::strerror(errno);
  auto* f = ::fdopen(fd, "w");
  if (!f) {
    ::close(fd);
    return "cannot write " + path + ": " + std::strerror(errno);
  }
  auto ok = PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr,
                                 nullptr) == 1 &&
            PEM_write_X509(f, cert) == 1;
  ok = (std::fflush(f) == 0) && ok && ::fsync(fd) == 0;
  std::fclose(f);
  return ok ? "" : "cannot write " + path;
}

}  // namespace

std::string ensure_token_file(const std::string& path) {
  if (::access(path.c_str(), F_OK) == 0) return token_file_problem(path);
  if (auto why = make_parents(path); !why.empty()) return why;
  pkey_ptr key{EVP_EC_gen("P-256")};
  x509_ptr cert = key ? make_certificate(key.get()) : nullptr;
  if (!cert) return "cannot make a token for " + path + ": OpenSSL failed";
  // Written aside, then linked into place: a reader never sees half a
  // token, and of two nodes starting at once one token wins.
  auto tmp = path + ".new." + std::to_string(::getpid());
  ::unlink(tmp.c_str());
  if (auto why = write_new(tmp, key.get(), cert.get()); !why.empty()) {
    ::unlink(tmp.c_str());
    return why;
  }
  auto linked = ::link(tmp.c_str(), path.c_str()) == 0 || errno == EEXIST;
  auto err = errno;
  ::unlink(tmp.c_str());
  if (!linked) return "cannot create " + path + ": " + std::strerror(err);
  return token_file_problem(path);
}

std::string token_file_problem(const std::string& path) {
  // Like ssh with a private key: a token others can read proves nothing.
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077))
    return "token file " + path + " is accessible by others (mode 0" +
           std::to_string((st.st_mode >> 6 & 7) * 100 +
                          (st.st_mode >> 3 & 7) * 10 + (st.st_mode & 7)) +
           "): chmod 600 it";
  auto* f = std::fopen(path.c_str(), "r");
  if (!f) return "cannot read token file " + path + ": " + std::strerror(errno);
  pkey_ptr key{PEM_read_PrivateKey(f, nullptr, nullptr, nullptr)};
  x509_ptr cert{key ? PEM_read_X509(f, nullptr, nullptr, nullptr) : nullptr};
  std::fclose(f);
  if (!key || !cert)
    return "token file " + path + " holds no key and certificate";
  return {};
}

}  // namespace remex::node
