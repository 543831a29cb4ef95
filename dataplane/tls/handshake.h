// Handshake: a client connection on the HTTPS listener until its TLS handshake is
// done. Drives SSL_do_handshake from the worker's event loop (WANT_READ → EPOLLIN,
// WANT_WRITE → EPOLLOUT) under a deadline, then hands the socket and its TlsTransport
// to an Http2Connection (ALPN "h2") or an Http1Connection, which takes its place in
// the worker. It pins the CertStore of the runtime current at accept time, so a
// snapshot applied mid-handshake does not change the certificate under it.
//
// Part of keel_proxy (it needs Worker and both connection types).
#pragma once

#include <openssl/base.h>

#include <memory>

#include "dataplane/event/loop.h"
#include "dataplane/net/socket.h"
#include "dataplane/proxy/worker.h"
#include "dataplane/tls/cert_store.h"

namespace keel::tls {

class Handshake final : public proxy::DownstreamConnection {
 public:
  Handshake(proxy::Worker* worker, int fd, const net::Address& peer, uint16_t local_port);
  ~Handshake() override;

  // Registers with the loop and arms the deadline (ProxyOptions::header_timeout_ms).
  void Start();
  void OnEvents(uint32_t events) override;
  void CloseWhenIdle() override { Close(); }

 private:
  void Advance();
  void Finish();
  void Close();

  proxy::Worker* worker_;
  int fd_;
  net::Address peer_;
  uint16_t local_port_;
  std::shared_ptr<const CertStore> certs_;
  bssl::UniquePtr<SSL> ssl_;
  event::Timer timer_;
  uint32_t interest_ = 0;
  bool closed_ = false;
};

}  // namespace keel::tls
