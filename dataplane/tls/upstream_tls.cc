// Upstream TLS client: SSL_CTX policy and the handshake steps.
#include "dataplane/tls/upstream_tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <string>

#include "dataplane/tls/tls_transport.h"

namespace keel::tls {

ClientHandshake::ClientHandshake(bssl::UniquePtr<SSL> ssl) : ssl_(std::move(ssl)) {}
ClientHandshake::~ClientHandshake() = default;

ClientHandshake::Step ClientHandshake::Advance() {
  int r = SSL_do_handshake(ssl_.get());
  if (r == 1) return Step::kDone;
  int e = SSL_get_error(ssl_.get(), r);
  ERR_clear_error();
  if (e == SSL_ERROR_WANT_READ) return Step::kWantRead;
  if (e == SSL_ERROR_WANT_WRITE) return Step::kWantWrite;
  return Step::kFailed;
}

std::unique_ptr<net::Transport> ClientHandshake::Finish() {
  return std::make_unique<TlsTransport>(std::move(ssl_));
}

Result<std::shared_ptr<ClientContext>> ClientContext::Create() {
  std::shared_ptr<ClientContext> self(new ClientContext());
  self->ctx_ = SSL_CTX_new(TLS_method());
  if (!self->ctx_) return Error{"SSL_CTX_new failed"};
  SSL_CTX_set_min_proto_version(self->ctx_, TLS1_2_VERSION);
  SSL_CTX_set_verify(self->ctx_, SSL_VERIFY_NONE, nullptr);
  SSL_CTX_set_mode(self->ctx_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  static const uint8_t kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};  // the exchange speaks HTTP/1.1
  if (SSL_CTX_set_alpn_protos(self->ctx_, kAlpn, sizeof kAlpn) != 0) return Error{"ALPN setup failed"};
  return self;
}

ClientContext::~ClientContext() {
  if (ctx_) SSL_CTX_free(ctx_);
}

std::unique_ptr<ClientHandshake> ClientContext::Start(int fd, std::string_view sni, bool alpn_h2) const {
  bssl::UniquePtr<SSL> ssl(SSL_new(ctx_));
  if (!ssl || !SSL_set_fd(ssl.get(), fd)) return nullptr;
  SSL_set_connect_state(ssl.get());
  if (!sni.empty() && !SSL_set_tlsext_host_name(ssl.get(), std::string(sni).c_str())) return nullptr;
  // gRPC servers refuse TLS connections that did not negotiate h2 (RFC 9113 §3.2).
  static constexpr uint8_t kH2[] = {2, 'h', '2'};
  if (alpn_h2 && SSL_set_alpn_protos(ssl.get(), kH2, sizeof kH2) != 0) return nullptr;
  return std::make_unique<ClientHandshake>(std::move(ssl));
}

}  // namespace keel::tls
