// TlsTransport: SSL_read/SSL_write with errno-style results.
#include "dataplane/tls/tls_transport.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <climits>

namespace keel::tls {

TlsTransport::TlsTransport(bssl::UniquePtr<SSL> ssl) : ssl_(std::move(ssl)) {}
TlsTransport::~TlsTransport() = default;

ssize_t TlsTransport::Fail(int ret) {
  int err = SSL_get_error(ssl_.get(), ret);
  ERR_clear_error();  // the error queue is per thread: leave nothing for the next connection
  switch (err) {
    case SSL_ERROR_ZERO_RETURN:
      return 0;  // close_notify
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      errno = EAGAIN;
      return -1;
    case SSL_ERROR_SYSCALL:
      // EOF without close_notify: HTTP framing (Content-Length, chunked, h2 END_STREAM)
      // already tells a truncated message from a complete one, as browsers assume.
      if (ret == 0 || errno == 0) return 0;
      return -1;
    default:
      errno = EPROTO;
      return -1;
  }
}

ssize_t TlsTransport::Read(char* buf, size_t len) {
  int n = SSL_read(ssl_.get(), buf, static_cast<int>(len > INT_MAX ? INT_MAX : len));
  return n > 0 ? n : Fail(n);
}

ssize_t TlsTransport::Write(const char* buf, size_t len) {
  if (len == 0) return 0;
  int n = SSL_write(ssl_.get(), buf, static_cast<int>(len > INT_MAX ? INT_MAX : len));
  return n > 0 ? n : Fail(n);
}

void TlsTransport::Shutdown() {
  if (shut_) return;
  shut_ = true;
  SSL_shutdown(ssl_.get());
  ERR_clear_error();
}

}  // namespace keel::tls
