// keel-dataplane: the reverse proxy. Receives snapshots from keel-controller and
// serves traffic by them; holds no Kubernetes credentials.
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <thread>

#include "common/flags.h"
#include "common/log.h"
#include "dataplane/app.h"

int main(int argc, char** argv) {
  std::string controller = "127.0.0.1:18000", node_id, log_level = "info";
  std::string http_listen = "0.0.0.0:8080", https_listen;
  std::string admin_listen = "127.0.0.1:9901", metrics_listen = "0.0.0.0:9902";
  bool insecure_config_channel = false;
  int64_t workers = std::thread::hardware_concurrency();
  int64_t drain_timeout_ms = 30000, header_timeout_ms = 10000, idle_timeout_ms = 60000;
  int64_t body_timeout_ms = 60000, max_connections_per_worker = 20000;

  keel::Flags flags("keel-dataplane",
                    "Reverse proxy that routes HTTP/1.1 and HTTP/2 traffic by the snapshots\n"
                    "keel-controller sends it. Holds no Kubernetes credentials.");
  flags.String("controller", &controller, "Address of keel-controller's config stream");
  flags.Bool("insecure-config-channel", &insecure_config_channel, "Dial the controller without TLS (local runs only)");
  flags.String("node-id", &node_id, "Name reported to the controller; empty: hostname");
  flags.Int("workers", &workers, "Event-loop worker threads");
  flags.String("http-listen", &http_listen, "Plain HTTP listener (h1 and h2c)");
  flags.String("https-listen", &https_listen, "TLS listener (h2 and http/1.1 by ALPN); not implemented yet, must stay empty");
  flags.String("admin-listen", &admin_listen, "Admin endpoints: /healthz, /readyz, config dump, cache purge");
  flags.String("metrics-listen", &metrics_listen, "Prometheus /metrics (not served yet; counters are on the admin /stats)");
  flags.Int("drain-timeout-ms", &drain_timeout_ms, "On SIGTERM, how long in-flight requests may finish");
  flags.Int("header-timeout-ms", &header_timeout_ms, "Time a client has to send complete request headers");
  flags.Int("idle-timeout-ms", &idle_timeout_ms, "Idle keep-alive connections are closed after this");
  flags.Int("body-timeout-ms", &body_timeout_ms, "Maximum time between two reads of a request body");
  flags.Int("max-connections-per-worker", &max_connections_per_worker, "Open client connections per worker");
  flags.String("log-level", &log_level, "debug, info, warn or error");

  bool help = false;
  if (!flags.Parse(argc, argv, &help)) return 2;
  if (help) return 0;
  keel::log::Level level;
  if (!keel::log::ParseLevel(log_level, &level)) {
    std::cerr << "keel-dataplane: bad --log-level '" << log_level << "'\n";
    return 2;
  }
  keel::log::SetLevel(level);
  if (!https_listen.empty()) {
    std::cerr << "keel-dataplane: --https-listen: TLS termination is not implemented yet\n";
    return 2;
  }
  if (!insecure_config_channel) {
    // The mutually authenticated config channel is not implemented yet; refuse to
    // pretend. Local runs and tests pass --insecure-config-channel explicitly.
    std::cerr << "keel-dataplane: only --insecure-config-channel is supported so far\n";
    return 2;
  }
  keel::dataplane::AppOptions app;
  app.controller = controller;
  app.node_id = node_id;
  app.http_listen = http_listen;
  app.admin_listen = admin_listen;
  app.insecure_config_channel = insecure_config_channel;
  app.workers = workers > 0 ? static_cast<int>(workers) : 1;
  app.drain_timeout_ms = static_cast<uint32_t>(drain_timeout_ms);
  app.proxy.header_timeout_ms = static_cast<uint32_t>(header_timeout_ms);
  app.proxy.idle_timeout_ms = static_cast<uint32_t>(idle_timeout_ms);
  app.proxy.body_timeout_ms = static_cast<uint32_t>(body_timeout_ms);
  app.proxy.max_connections = static_cast<uint32_t>(max_connections_per_worker);
  return keel::dataplane::Run(app);
}
