// MetricsServer: the --metrics-listen HTTP listener of both binaries (civetweb, the
// server prometheus-cpp's own exposer uses, plain HTTP, no OpenSSL). Serves GET
// /metrics from a Registry plus the handlers a binary registers (controller
// diagnostics, health). It is a separate listener from any traffic listener, so the
// public side never exposes it.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/metrics/metrics.h"
#include "common/result.h"

namespace keel::metrics {

struct HttpReply {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

class MetricsServer {
 public:
  // Called on a server thread with the query string (may be empty).
  using HandlerFn = std::function<HttpReply(const std::string& query)>;

  explicit MetricsServer(const Registry* registry = &Registry::Default());
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // /metrics also shows this registry's families (must outlive Stop). Before Start.
  void AlsoServe(const Registry* registry);
  // Exact path → handler for GET. Register before Start.
  void Handle(const std::string& path, HandlerFn fn);
  // "host:port"; port 0 picks a free one (see port()).
  Status Start(const std::string& listen_address);
  uint16_t port() const { return port_; }
  void Stop();

 private:
  class Handler;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  uint16_t port_ = 0;
};

}  // namespace keel::metrics
