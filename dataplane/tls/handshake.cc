// Handshake: the non-blocking TLS handshake state machine and the hand-off.
#include "dataplane/tls/handshake.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "dataplane/http2/http2_connection.h"
#include "dataplane/proxy/http1_connection.h"
#include "dataplane/tls/server_context.h"
#include "dataplane/tls/tls_transport.h"

namespace keel::tls {

Handshake::Handshake(proxy::Worker* worker, int fd, const net::Address& peer, uint16_t local_port)
    : worker_(worker), fd_(fd), peer_(peer), local_port_(local_port), timer_([this] {
        worker_->options().tls->stats().timed_out.Inc();
        KEEL_LOG(Debug, "tls") << peer_.Ip() << ": handshake timeout";
        Close();
      }) {}

Handshake::~Handshake() {
  if (fd_ >= 0) ::close(fd_);
}

void Handshake::Start() {
  const proxy::Runtime* rt = worker_->runtime();
  if (rt) certs_ = rt->certs;
  ssl_ = worker_->options().tls->NewSsl(fd_, certs_.get());
  if (!ssl_) {
    KEEL_LOG(Error, "tls") << "cannot create an SSL object";
    closed_ = true;  // never registered: just leave
    worker_->RemoveConnection(this);
    worker_->loop().Defer([this] { delete this; });
    return;
  }
  interest_ = EPOLLIN | EPOLLRDHUP;
  worker_->loop().Add(fd_, interest_, this);
  worker_->loop().Arm(&timer_, worker_->options().header_timeout_ms);
}

void Handshake::OnEvents(uint32_t) {
  if (!closed_) Advance();
}

void Handshake::Advance() {
  int ret = SSL_do_handshake(ssl_.get());
  if (ret == 1) {
    Finish();
    return;
  }
  uint32_t want = 0;
  switch (SSL_get_error(ssl_.get(), ret)) {
    case SSL_ERROR_WANT_READ:
      want = EPOLLIN | EPOLLRDHUP;
      break;
    case SSL_ERROR_WANT_WRITE:
      want = EPOLLOUT;
      break;
    default: {
      // Scanners, TLS 1.0/1.1 clients, clients that distrust our certificate: one
      // debug line each, no more (they are common on the Internet).
      uint32_t e = ERR_peek_error();
      char reason[160] = "connection closed";
      if (e) ERR_error_string_n(e, reason, sizeof reason);
      ERR_clear_error();
      worker_->options().tls->stats().failed.Inc();
      KEEL_LOG(Debug, "tls") << peer_.Ip() << ": handshake failed: " << reason;
      Close();
      return;
    }
  }
  if (want != interest_) {
    worker_->loop().Modify(fd_, want, this);
    interest_ = want;
  }
}

void Handshake::Finish() {
  auto& stats = worker_->options().tls->stats();
  (SSL_version(ssl_.get()) == TLS1_3_VERSION ? stats.tls13 : stats.tls12).Inc();
  if (SSL_session_reused(ssl_.get())) stats.resumed.Inc();
  SendSessionTickets(ssl_.get());  // else a Nagle client waits 40 ms for our ACK
  worker_->loop().Disarm(&timer_);
  worker_->loop().Remove(fd_);  // the HTTP connection registers the fd as its own handler
  bool h2 = NegotiatedH2(ssl_.get());
  auto transport = std::make_unique<TlsTransport>(std::move(ssl_));
  int fd = fd_;
  fd_ = -1;
  closed_ = true;
  if (h2) {
    auto* c = new proxy::Http2Connection(worker_, fd, peer_, local_port_, std::move(transport));
    worker_->ReplaceConnection(this, c);
    c->Start({});
  } else {
    auto* c = new proxy::Http1Connection(worker_, fd, peer_, local_port_, std::move(transport));
    worker_->ReplaceConnection(this, c);
    c->Start();
  }
  worker_->loop().Defer([this] { delete this; });
}

void Handshake::Close() {
  if (closed_) return;
  closed_ = true;
  worker_->loop().Disarm(&timer_);
  worker_->loop().Remove(fd_);
  ::shutdown(fd_, SHUT_RDWR);
  worker_->RemoveConnection(this);
  worker_->loop().Defer([this] { delete this; });
}

}  // namespace keel::tls
