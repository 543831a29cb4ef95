// Controller metrics and diagnostics, computed at scrape time from state the
// controller already keeps (store sizes, list/watch counters, config server stats,
// the latest translation's diagnostics), plus the translation duration histogram
// the reconciler feeds.
//
//   keel_controller_watched_objects{kind}
//   keel_controller_lists_total{kind}, keel_controller_relists_total{kind},
//   keel_controller_watch_restarts_total{kind}, keel_controller_watch_errors_total{kind}
//   keel_controller_translation_duration_seconds{mode="full"|"endpoints"}  (histogram)
//   keel_controller_snapshot_info{version}, keel_controller_pushes_total{type="full"|"delta"}
//   keel_controller_dataplanes_connected
//   keel_controller_dataplane_acks_total{dataplane}, keel_controller_dataplane_nacks_total{dataplane}
//   keel_controller_is_leader
//   keel_controller_rejected_objects{kind}      (diagnostics of severity Error)
//   keel_controller_diagnostics{kind,severity}
// With nginx compatibility: nginx_ingress_controller_config_hash and
// nginx_ingress_controller_success (snapshots published).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/metrics/metrics.h"
#include "controller/translate/translate.h"

namespace keel::store {
class Store;
}
namespace keel::k8s {
class ListWatcher;
}
namespace keel::serve {
class ConfigServer;
}

namespace keel::controller::observe {

struct ControllerSources {
  const store::Store* store = nullptr;
  const k8s::ListWatcher* watcher = nullptr;  // null with --manifests
  const serve::ConfigServer* server = nullptr;
  std::function<std::vector<translate::Diagnostic>()> diagnostics;
  std::function<uint64_t()> published;  // snapshots published so far
  std::function<bool()> leader;  // null: always leader (no election)
  bool nginx_compat = false;
};

void RegisterControllerCollector(metrics::Registry* registry, ControllerSources sources);

// The reconciler's hook: one translation (full, or the endpoint fast path) took `ns`.
void ObserveTranslation(bool endpoints_only, uint64_t ns);

// GET /diagnostics: {"rejected":{"Ingress":1},"diagnostics":[{kind,namespace,name,
// severity,reason,message}...]} sorted as the translator sorts them.
std::string DiagnosticsJson(const std::vector<translate::Diagnostic>& diagnostics);

}  // namespace keel::controller::observe
