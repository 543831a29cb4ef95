// Client-side TLS towards upstreams (Cluster.upstream_tls, backend-protocol HTTPS):
// one SSL_CTX per process, a non-blocking handshake the upstream connection drives
// from its event loop, then a TlsTransport for the exchange's bytes.
//
// Like ingress-nginx's default (proxy_ssl_verify off), the backend's certificate is
// not verified: in-cluster backends mostly present self-signed certificates, and the
// link is inside the cluster network. SNI is sent when the cluster names one.
#pragma once

#include <openssl/base.h>

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "dataplane/net/transport.h"

namespace keel::tls {

class ClientHandshake {
 public:
  enum class Step { kDone, kWantRead, kWantWrite, kFailed };
  explicit ClientHandshake(bssl::UniquePtr<SSL> ssl);
  ~ClientHandshake();
  Step Advance();
  // After kDone: the transport for the connection's bytes.
  std::unique_ptr<net::Transport> Finish();

 private:
  bssl::UniquePtr<SSL> ssl_;
};

class ClientContext {
 public:
  static Result<std::shared_ptr<ClientContext>> Create();
  ~ClientContext();
  // A handshake on a connected socket; `sni` empty sends none; `alpn_h2` offers ALPN
  // "h2" only (HTTP/2 upstreams). Null on setup failure.
  std::unique_ptr<ClientHandshake> Start(int fd, std::string_view sni, bool alpn_h2 = false) const;

 private:
  ClientContext() = default;
  SSL_CTX* ctx_ = nullptr;
};

}  // namespace keel::tls
