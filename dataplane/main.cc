// keel-dataplane: the reverse proxy. Receives snapshots from keel-controller and
// serves traffic by them; holds no Kubernetes credentials.
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <thread>

#include "common/flags.h"
#include "common/log.h"
#include "dataplane/app.h"
#include "dataplane/cache/store.h"

int main(int argc, char** argv) {
  std::string controller = "127.0.0.1:18000", node_id, log_level = "info";
  std::string http_listen = "0.0.0.0:8080", https_listen = "0.0.0.0:8443";
  std::string config_tls_cert, config_tls_key, config_tls_ca, config_tls_server_name;
  std::string admin_listen = "127.0.0.1:9901", metrics_listen = "0.0.0.0:9902";
  std::string access_log = "json", access_log_sample = "1", metrics_compat = "none";
  bool insecure_config_channel = false;
  int64_t workers = std::thread::hardware_concurrency();
  int64_t drain_timeout_ms = 30000, header_timeout_ms = 10000, idle_timeout_ms = 60000;
  int64_t body_timeout_ms = 60000, max_connections_per_worker = 20000;
  int64_t cache_size = 64 << 20, cache_max_object_size = 2 << 20;

  keel::Flags flags("keel-dataplane",
                    "Reverse proxy that routes HTTP/1.1 and HTTP/2 traffic by the snapshots\n"
                    "keel-controller sends it. Holds no Kubernetes credentials.");
  flags.String("controller", &controller, "Address of keel-controller's config stream");
  flags.Bool("insecure-config-channel", &insecure_config_channel, "Dial the controller without TLS (local runs only)");
  flags.String("config-tls-cert", &config_tls_cert, "PEM certificate this dataplane presents to the controller");
  flags.String("config-tls-key", &config_tls_key, "PEM private key of --config-tls-cert");
  flags.String("config-tls-ca", &config_tls_ca, "PEM CA the controller's certificate must chain to");
  flags.String("config-tls-server-name", &config_tls_server_name,
               "Name (DNS or IP) the controller's certificate must carry; empty: the host of --controller");
  flags.String("node-id", &node_id, "Name reported to the controller; empty: hostname");
  flags.Int("workers", &workers, "Event-loop worker threads");
  flags.String("http-listen", &http_listen, "Plain HTTP listener (h1 and h2c)");
  flags.String("https-listen", &https_listen, "TLS listener (h2 and http/1.1 by ALPN); empty: none");
  flags.String("admin-listen", &admin_listen, "Admin endpoints: /healthz, /readyz, config dump, cache purge");
  flags.String("metrics-listen", &metrics_listen, "Prometheus /metrics listener, separate from traffic; empty: off");
  flags.String("metrics-compat", &metrics_compat, "none, or nginx: also export ingress-nginx metric names and labels");
  flags.String("access-log", &access_log, "Access log on stdout: json, upstreaminfo (ingress-nginx's format) or off");
  flags.String("access-log-sample", &access_log_sample, "Share of requests logged, 0..1");
  flags.Int("drain-timeout-ms", &drain_timeout_ms, "On SIGTERM, how long in-flight requests may finish");
  flags.Int("header-timeout-ms", &header_timeout_ms, "Time a client has to send complete request headers");
  flags.Int("idle-timeout-ms", &idle_timeout_ms, "Idle keep-alive connections are closed after this");
  flags.Int("body-timeout-ms", &body_timeout_ms, "Maximum time between two reads of a request body");
  flags.Int("max-connections-per-worker", &max_connections_per_worker, "Open client connections per worker");
  flags.Int("cache-size", &cache_size, "Response cache memory in bytes, shared by all workers; 0 disables caching");
  flags.Int("cache-max-object-size", &cache_max_object_size,
            "Largest response body the cache stores, bytes (keel.dev/cache-max-object-size may lower it)");
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
  if (!insecure_config_channel && (config_tls_cert.empty() || config_tls_key.empty() || config_tls_ca.empty())) {
    // Snapshots carry private keys: plaintext only when asked for explicitly.
    std::cerr << "keel-dataplane: the config channel needs --config-tls-cert, --config-tls-key and "
                 "--config-tls-ca (or --insecure-config-channel for local runs)\n";
    return 2;
  }
  keel::dataplane::AppOptions app;
  if (!keel::observe::ParseLogFormat(access_log, &app.access_log.format)) {
    std::cerr << "keel-dataplane: --access-log must be json, upstreaminfo or off, not '" << access_log << "'\n";
    return 2;
  }
  char* end = nullptr;
  app.access_log.sample = std::strtod(access_log_sample.c_str(), &end);
  if (access_log_sample.empty() || *end != '\0' || !(app.access_log.sample >= 0 && app.access_log.sample <= 1)) {
    std::cerr << "keel-dataplane: --access-log-sample must be a number from 0 to 1, not '" << access_log_sample
              << "'\n";
    return 2;
  }
  if (metrics_compat != "none" && metrics_compat != "nginx") {
    std::cerr << "keel-dataplane: --metrics-compat must be none or nginx, not '" << metrics_compat << "'\n";
    return 2;
  }
  app.metrics_compat_nginx = metrics_compat == "nginx";
  app.controller = controller;
  app.node_id = node_id;
  app.http_listen = http_listen;
  app.https_listen = https_listen;
  app.config_tls_cert = config_tls_cert;
  app.config_tls_key = config_tls_key;
  app.config_tls_ca = config_tls_ca;
  app.config_tls_server_name = config_tls_server_name;
  app.admin_listen = admin_listen;
  app.metrics_listen = metrics_listen;
  app.insecure_config_channel = insecure_config_channel;
  app.workers = workers > 0 ? static_cast<int>(workers) : 1;
  app.drain_timeout_ms = static_cast<uint32_t>(drain_timeout_ms);
  app.proxy.header_timeout_ms = static_cast<uint32_t>(header_timeout_ms);
  app.proxy.idle_timeout_ms = static_cast<uint32_t>(idle_timeout_ms);
  app.proxy.body_timeout_ms = static_cast<uint32_t>(body_timeout_ms);
  app.proxy.max_connections = static_cast<uint32_t>(max_connections_per_worker);
  if (cache_size < 0 || cache_max_object_size <= 0) {
    std::cerr << "keel-dataplane: --cache-size must be >= 0 and --cache-max-object-size > 0\n";
    return 2;
  }
  if (cache_size > 0) {
    app.proxy.cache = std::make_shared<keel::cache::Store>(static_cast<uint64_t>(cache_size),
                                                           static_cast<uint64_t>(cache_max_object_size));
  }
  return keel::dataplane::Run(app);
}
