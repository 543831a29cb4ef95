// Transport: the byte stream under an HTTP/1 or h2 connection, plain TCP or TLS.
// Non-blocking and recv/send-shaped so the connections keep their epoll logic:
// EAGAIN means "wait for the fd" in both directions. TLS (dataplane/tls) maps
// SSL_ERROR_WANT_READ/WANT_WRITE onto it.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <cstddef>

namespace keel::net {

// Callers read into buffers of at least this size. A TLS record carries at most
// 16 KiB of plaintext (RFC 8446 §5.1) and one Read opens one record, so with such a
// buffer no decrypted byte is left inside the TLS library where epoll cannot see it.
inline constexpr size_t kMinReadBuffer = 16384;

class Transport {
 public:
  virtual ~Transport() = default;
  // > 0: bytes read; 0: orderly end of stream; -1: errno set (EAGAIN, EINTR or fatal).
  virtual ssize_t Read(char* buf, size_t len) = 0;
  // Bytes taken (possibly fewer than len), or -1 with errno. After EAGAIN the caller
  // retries with the same leading bytes (TLS has already sealed them into a record).
  virtual ssize_t Write(const char* buf, size_t len) = 0;
  // Best-effort orderly close before the socket is shut down (TLS close_notify).
  virtual void Shutdown() {}
  // True for TLS: the request's scheme is https.
  virtual bool secure() const = 0;
};

class PlainTransport final : public Transport {
 public:
  explicit PlainTransport(int fd) : fd_(fd) {}
  ssize_t Read(char* buf, size_t len) override { return ::recv(fd_, buf, len, 0); }
  ssize_t Write(const char* buf, size_t len) override { return ::send(fd_, buf, len, MSG_NOSIGNAL); }
  bool secure() const override { return false; }

 private:
  int fd_;
};

}  // namespace keel::net
