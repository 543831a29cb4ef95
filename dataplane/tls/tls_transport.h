// TlsTransport: net::Transport over a BoringSSL connection whose handshake is done.
// SSL_ERROR_WANT_READ/WANT_WRITE become EAGAIN, so the HTTP/1 and h2 connections keep
// their epoll logic unchanged (see net/transport.h for the buffer-size contract).
#pragma once

#include <openssl/base.h>

#include "dataplane/net/transport.h"

namespace keel::tls {

class TlsTransport final : public net::Transport {
 public:
  explicit TlsTransport(bssl::UniquePtr<SSL> ssl);
  ~TlsTransport() override;

  ssize_t Read(char* buf, size_t len) override;
  ssize_t Write(const char* buf, size_t len) override;
  // Sends close_notify once, without waiting for the peer's (RFC 8446 §6.1 allows it).
  void Shutdown() override;
  bool secure() const override { return true; }

  SSL* ssl() const { return ssl_.get(); }

 private:
  ssize_t Fail(int ret);

  bssl::UniquePtr<SSL> ssl_;
  bool shut_ = false;
};

}  // namespace keel::tls
