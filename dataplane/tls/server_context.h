// ServerContext: the one SSL_CTX every worker's HTTPS listener shares (so the session
// cache and the session-ticket keys are common to all workers: SO_REUSEPORT may hand a
// resuming client to any of them). Policy: TLS 1.2 and 1.3 only, AEAD ECDHE suites,
// ALPN h2 then http/1.1, and the certificate chosen per handshake from the CertStore
// that handshake was started with (SNI → exact, wildcard, default, generated).
#pragma once

#include <openssl/base.h>

#include <memory>
#include <string>

#include "common/metrics/metrics.h"
#include "common/result.h"
#include "dataplane/tls/cert_store.h"

namespace keel::tls {

// Handshake counters, exported on /metrics (keel_tls_handshakes_total{protocol},
// keel_tls_resumed_handshakes_total, keel_tls_handshake_failures_total{reason}) and
// summed on the admin /stats. Process-wide series (the registry dedups).
struct HandshakeStats {
  HandshakeStats();
  metrics::Counter tls12, tls13, resumed, failed, timed_out;
};

class ServerContext {
 public:
  // Generates the fallback self-signed certificate (EC P-256, CN "keel default
  // certificate"), used when SNI matches nothing and the snapshot names no default.
  static Result<std::shared_ptr<ServerContext>> Create();
  ~ServerContext();

  // A server-side SSL on `fd`, choosing its certificate from `certs` (may be null; the
  // caller keeps it alive until the handshake is done).
  bssl::UniquePtr<SSL> NewSsl(int fd, const CertStore* certs) const;

  HandshakeStats& stats() const { return stats_; }
  const CertifiedKey& generated() const { return *generated_; }

 private:
  ServerContext() = default;
  static int CertIndex();

  SSL_CTX* ctx_ = nullptr;
  std::unique_ptr<CertifiedKey> generated_;
  mutable HandshakeStats stats_;

  friend struct Callbacks;
};

// ALPN result of a finished handshake: true for "h2".
bool NegotiatedH2(const SSL* ssl);

// Sends the TLS 1.3 NewSessionTickets of a finished server handshake now. BoringSSL
// holds them until the server's first write (do_send_new_session_ticket in its
// tls13_server.cc), so nothing would answer the client's Finished, and a client with
// Nagle on then holds its request until our delayed ACK: +40 ms to the first response
// (bench/results/ANALYSIS.md, scenario 4). If the socket cannot take them now, they
// leave with the first response instead.
void SendSessionTickets(SSL* ssl);

}  // namespace keel::tls
