// Worker: one thread, one event loop, its own listeners (SO_REUSEPORT), upstream
// pool, balancer state and pointer to the current Runtime. Nothing here is shared
// with other workers; a new Runtime arrives through EventLoop::Post and is swapped
// between two events, so a request sees the old or the new snapshot, never half.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "dataplane/event/loop.h"
#include "dataplane/http1/parser.h"
#include "dataplane/http2/options.h"
#include "dataplane/policy/policy.h"
#include "dataplane/proxy/decision.h"
#include "dataplane/proxy/h2_upstream.h"
#include "dataplane/proxy/runtime.h"
#include "dataplane/proxy/upstream_pool.h"
#include "dataplane/upstream/selector.h"

namespace keel::tls {
class ClientContext;
class ServerContext;
}  // namespace keel::tls
namespace keel::cache {
class Store;
}  // namespace keel::cache

namespace keel::proxy {

class Http1Connection;

// A client connection the worker tracks for draining and shutdown: HTTP/1 or h2.
class DownstreamConnection : public event::Handler {
 public:
  // Graceful shutdown: close now if idle, else once in-flight requests are answered.
  virtual void CloseWhenIdle() = 0;
};

struct ProxyOptions {
  uint32_t header_timeout_ms = 10000;
  uint32_t idle_timeout_ms = 60000;
  uint32_t body_timeout_ms = 60000;
  uint32_t send_timeout_ms = 60000;
  uint32_t max_connections = 20000;
  uint32_t upstream_idle_timeout_ms = 60000;
  uint32_t upstream_max_idle = 64;
  uint32_t default_connect_timeout_ms = 5000;
  uint32_t default_read_timeout_ms = 60000;
  uint64_t max_body_bytes = 1ull << 30;
  http1::Limits downstream_limits;
  http1::Limits upstream_limits;
  // Keep X-Forwarded-For from clients (only behind a trusted load balancer).
  bool trust_forwarded_headers = false;
  // Downstream HTTP/2 (h2c) SETTINGS and abuse limits.
  h2::SessionOptions http2;
  // The HTTPS listeners' TLS context (shared by all workers); null without one.
  std::shared_ptr<tls::ServerContext> tls;
  // Worker threads in the process: per-worker request limits are divided by it.
  uint32_t workers = 1;
  // Client TLS for clusters with upstream_tls; null: such clusters answer 502.
  std::shared_ptr<tls::ClientContext> upstream_tls;
  // The response cache all workers share (--cache-size); null: no caching.
  std::shared_ptr<cache::Store> cache;
};

struct WorkerStats {
  std::atomic<uint64_t> connections_open{0}, connections_total{0}, connections_rejected{0};
  std::atomic<uint64_t> requests{0}, responses_by_class[6]{};
  std::atomic<uint64_t> retries{0}, upstream_errors{0}, bytes_in{0}, bytes_out{0};
};

class Worker {
 public:
  Worker(int index, const ProxyOptions& options);
  ~Worker();

  // Binds this worker's listener (SO_REUSEPORT) before Start.
  // With `tls`, connections start with a TLS handshake (options().tls must be set).
  Status Listen(const std::string& address, bool tls = false);
  void Start();
  // Graceful: stop accepting, close idle connections, let in-flight requests finish
  // until `deadline_ms`, then stop the loop.
  void Drain(uint32_t deadline_ms);
  void Join();

  // Called from the config thread; the swap happens on the worker's thread.
  void SetRuntime(std::shared_ptr<const Runtime> runtime);

  // ───── used by connections and exchanges (worker thread only) ─────
  event::EventLoop& loop() { return loop_; }
  UpstreamPool& pool() { return *pool_; }
  H2Upstreams& h2() { return *h2_; }
  const ProxyOptions& options() const { return options_; }
  const http1::Limits& upstream_limits() const { return options_.upstream_limits; }
  const Runtime* runtime() const { return runtime_.get(); }
  WorkerStats& stats() { return stats_; }
  int index() const { return index_; }
  policy::WorkerPolicy& policy() { return policy_; }
  bool draining() const { return draining_; }

  // This worker's balancer/health state for a cluster of the current runtime.
  const std::shared_ptr<upstream::ClusterSelector>& selector(uint32_t cluster) const {
    return clusters_.at(cluster);
  }

  uint64_t Random() { return rng_(); }
  // 32 hex digits, for X-Request-ID.
  void NewRequestId(std::string* out);

  void AddConnection(DownstreamConnection* c);
  void RemoveConnection(DownstreamConnection* c);
  // h2c hand-off: `next` takes `prev`'s place; the connection counters do not change.
  void ReplaceConnection(DownstreamConnection* prev, DownstreamConnection* next);

 private:
  class Listener;
  void Accept(int listen_fd);
  void ApplyRuntime(std::shared_ptr<const Runtime> runtime);

  int index_;
  ProxyOptions options_;
  event::EventLoop loop_;
  std::unique_ptr<UpstreamPool> pool_;
  std::unique_ptr<H2Upstreams> h2_;  // after pool_: its connections borrow pool sockets
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::shared_ptr<const Runtime> runtime_;
  upstream::WorkerClusters clusters_;
  std::unordered_set<DownstreamConnection*> connections_;
  std::mt19937_64 rng_;
  WorkerStats stats_;
  policy::WorkerPolicy policy_;
  bool draining_ = false;
  std::unique_ptr<event::Timer> drain_timer_;
  std::thread thread_;
};

}  // namespace keel::proxy
