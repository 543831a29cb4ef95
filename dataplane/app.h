// The dataplane process as a whole: flags → workers, config client, admin server,
// signal handling. main.cc only parses flags and calls Run.
#pragma once

#include <cstdint>
#include <string>

#include "dataplane/observe/access_log.h"
#include "dataplane/proxy/worker.h"

namespace keel::dataplane {

struct AppOptions {
  std::string controller = "127.0.0.1:18000";
  std::string node_id;
  std::string http_listen = "0.0.0.0:8080";
  // Empty: no TLS listener.
  std::string https_listen = "0.0.0.0:8443";
  std::string admin_listen = "127.0.0.1:9901";
  std::string metrics_listen;  // empty: no /metrics listener
  bool metrics_compat_nginx = false;
  observe::AccessLogOptions access_log;
  bool insecure_config_channel = false;
  // Mutual TLS to the controller (dataplane/tls/config_dialer.h); required unless
  // insecure_config_channel.
  std::string config_tls_cert, config_tls_key, config_tls_ca, config_tls_server_name;
  int workers = 1;
  uint32_t drain_timeout_ms = 30000;
  proxy::ProxyOptions proxy;
};

// Runs until SIGTERM/SIGINT, then drains. Returns the process exit code.
int Run(const AppOptions& options);

}  // namespace keel::dataplane
