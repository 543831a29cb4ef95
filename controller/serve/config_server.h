// ConfigServer: the controller's end of the config channel (proto/keel/config/v1).
// Serves ConfigService.Stream to any number of dataplanes: the full current snapshot
// after Hello, then endpoint deltas or full snapshots on every Publish, tracking
// ACK/NACK per dataplane. gRPC stays behind the pimpl (heavy headers).
//
//   ConfigServer server;
//   server.Publish(snapshot);            // before or after Start
//   ServerOptions options;               // listen_address, tls (nullopt: plaintext)
//   Status started = server.Start(options);
//   ... server.Dataplanes(), server.Stats() for /debug and /metrics ...
//   server.Stop();
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "controller/serve/session.h"
#include "keel/config/v1/config.pb.h"

namespace keel::serve {

// Mutual TLS for the config stream: it carries private keys (DESIGN.md). The
// controller side uses gRPC's OpenSSL credentials; dataplanes dial with BoringSSL.
struct TlsOptions {
  std::string cert_chain_pem;
  std::string private_key_pem;
  // CA bundle that client certificates must chain to.
  std::string client_ca_pem;
  // Refuse dataplanes without a certificate signed by client_ca_pem.
  bool require_client_cert = true;

  // Reads the three PEM files (the controller's --config-tls-* flags).
  static Result<TlsOptions> FromFiles(const std::string& cert_path, const std::string& key_path,
                                      const std::string& ca_path);
};

struct ServerOptions {
  // "0.0.0.0:18000"; port 0 picks a free port (see ConfigServer::port()).
  std::string listen_address = "0.0.0.0:18000";
  // nullopt: plaintext, for local runs only (--insecure-config-channel).
  std::optional<TlsOptions> tls;
  // HTTP/2 keepalive pings so a vanished dataplane (no FIN) is noticed and its
  // stream freed; dataplanes may ping every keepalive_min_client_interval or slower.
  std::chrono::milliseconds keepalive_time{30000};
  std::chrono::milliseconds keepalive_timeout{10000};
  std::chrono::milliseconds keepalive_min_client_interval{10000};
};

struct ServerStats {
  uint64_t pushes_full = 0;
  uint64_t pushes_delta = 0;
  uint64_t acks = 0;
  uint64_t nacks = 0;
  uint64_t connected = 0;
  std::string current_version;
};

class ConfigServer {
 public:
  ConfigServer();
  ~ConfigServer();  // Stop()s.
  ConfigServer(const ConfigServer&) = delete;
  ConfigServer& operator=(const ConfigServer&) = delete;

  // Binds and starts serving. Once per instance.
  Status Start(const ServerOptions& options);
  // The bound port after a successful Start (useful with port 0).
  int port() const;
  // Ends every stream (dataplanes reconnect elsewhere or later) and joins the
  // handlers. Idempotent.
  void Stop();

  // Makes `snapshot` current and queues it for every stream (a delta where only
  // endpoints changed against what that dataplane ACKed). A snapshot whose version
  // equals the current one is ignored. Thread-safe; cost: one snapshot copy and hash.
  void Publish(std::shared_ptr<const config::v1::Snapshot> snapshot);
  // An endpoint-only change to the current snapshot (delta.base_version() must be the
  // current version; built_at_unix_ms set by the caller). Shares the current snapshot
  // instead of copying it: cost O(clusters) for the digests plus the changed lists.
  // False, publishing nothing, when the base is not current: publish in full then.
  bool PublishEndpointDelta(const config::v1::EndpointDelta& delta);

  std::string current_version() const;
  // One entry per open stream, in no particular order.
  std::vector<DataplaneInfo> Dataplanes() const;
  ServerStats Stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace keel::serve
