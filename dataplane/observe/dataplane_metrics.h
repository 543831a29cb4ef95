// Dataplane-wide metrics computed at scrape time from state that already exists:
// the workers' own WorkerStats atomics (summed, no hot-path change), the config
// client's state, and the applied Runtime's clusters.
//
//   keel_downstream_connections_open / _total / _rejected_total
//   keel_downstream_received_bytes_total / keel_downstream_sent_bytes_total
//   keel_upstream_retries_total, keel_upstream_errors_total
//   keel_upstream_endpoints{cluster,state="total"|"routable"}
//   keel_config_info{version}, keel_config_connected, keel_config_nacks_total,
//   keel_config_applies_total, keel_config_last_apply_timestamp_seconds
// plus, with nginx compatibility, nginx_ingress_controller_nginx_process_connections
// and nginx_ingress_controller_config_last_reload_successful(_timestamp_seconds).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/metrics/metrics.h"
#include "dataplane/proxy/runtime.h"
#include "dataplane/proxy/worker.h"

namespace keel::observe {

struct ConfigState {
  std::string version;
  bool connected = false;
  uint64_t nacks = 0;
  uint64_t applies = 0;
  int64_t last_apply_unix_ms = 0;  // 0: never
  bool last_apply_ok = false;      // the latest snapshot or delta was applied, not NACKed
};

struct DataplaneSources {
  std::vector<proxy::Worker*> workers;  // outlive the registry's scrapes (process lifetime)
  std::function<ConfigState()> config;
  std::function<std::shared_ptr<const proxy::Runtime>()> runtime;
};

void RegisterDataplaneCollector(metrics::Registry* registry, DataplaneSources sources);

}  // namespace keel::observe
