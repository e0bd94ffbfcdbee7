// A workaround for CAF 0.17.6's OpenSSL sessions, which never empty the
// thread's OpenSSL error queue when CAF is built without logging (Debian's
// build: CAF_LOG_LEVEL_QUIET compiles out the only call that drains it,
// session::get_ssl_error()). OpenSSL's SSL_get_error() looks at that queue
// first, so an error left by one connection (a client that closed without
// a TLS close_notify, which is every remex client, or a hostile one) makes
// the next harmless WANT_READ of another connection on the same multiplexer
// thread look fatal, and CAF drops that healthy connection: with 20 clients
// at once, most were cut off mid-command ("connection lost").
//
// OpenSSL's rule is that the queue must be empty before a TLS I/O call. This
// file keeps it for the whole process: its definitions of the four calls CAF
// makes take precedence over libssl's (an executable's symbols interpose on
// its shared libraries'), empty the calling thread's queue, and call
// libssl's. Linked into remex and remexd through node_link.cpp.
//
// SSL_accept is also where a node learns that it refused somebody (no
// certificate, or one its CA did not sign): CAF drops such a connection
// without a word, so the wrapper tells on_tls_refusal()'s sink.
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <atomic>

#include "node/node_link.hpp"

namespace {

template <class F>
F real(const char* name) {
  return reinterpret_cast<F>(::dlsym(RTLD_NEXT, name));
}

std::atomic<void (*)(const std::string&)> refusal_sink{nullptr};

std::string peer_of(SSL* ssl) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getpeername(SSL_get_fd(ssl), reinterpret_cast<sockaddr*>(&addr),
                    &len) != 0)
    return "?";
  char host[INET6_ADDRSTRLEN] = "?";
  unsigned port = 0;
  if (addr.ss_family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    port = ntohs(a->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
    port = ntohs(a->sin6_port);
  }
  return std::string{host} + ":" + std::to_string(port);
}

}  // namespace

extern "C" {

int SSL_read(SSL* ssl, void* buf, int num) {
  static auto next = real<int (*)(SSL*, void*, int)>("SSL_read");
  ERR_clear_error();
  return next(ssl, buf, num);
}

int SSL_write(SSL* ssl, const void* buf, int num) {
  static auto next = real<int (*)(SSL*, const void*, int)>("SSL_write");
  ERR_clear_error();
  return next(ssl, buf, num);
}

int SSL_accept(SSL* ssl) {
  static auto next = real<int (*)(SSL*)>("SSL_accept");
  ERR_clear_error();
  int rc = next(ssl);
  auto sink = refusal_sink.load();
  if (rc <= 0 && sink && SSL_get_error(ssl, rc) == SSL_ERROR_SSL) {
    // Peeked, not taken: CAF looks at the same queue next.
    auto* reason = ERR_reason_error_string(ERR_peek_error());
    // The reason may be this side's ("certificate verify failed") or the
    // other's alert ("tlsv1 alert unknown ca"): either way, no connection.
    sink("refused a connection from " + peer_of(ssl) +
         " (TLS: " + (reason ? reason : "handshake failed") + ")");
  }
  return rc;
}

int SSL_connect(SSL* ssl) {
  static auto next = real<int (*)(SSL*)>("SSL_connect");
  ERR_clear_error();
  return next(ssl);
}

}  // extern "C"

namespace remex::node {

void on_tls_refusal(void (*sink)(const std::string& line)) {
  refusal_sink = sink;
}

bool openssl_error_queue_guarded() {
  return ::dlsym(RTLD_DEFAULT, "SSL_read") ==
         reinterpret_cast<void*>(&::SSL_read);
}

}  // namespace remex::node
