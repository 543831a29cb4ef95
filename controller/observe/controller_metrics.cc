// Controller metrics (see controller_metrics.h).
#include "controller/observe/controller_metrics.h"

#include <prometheus/metric_family.h>

#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "common/metrics/family.h"
#include "controller/k8s/list_watch.h"
#include "controller/serve/config_server.h"
#include "controller/store/store.h"

namespace keel::controller::observe {
namespace {

using prometheus::MetricFamily;
using prometheus::MetricType;

using ::keel::metrics::Add;
using ::keel::metrics::Family;

metrics::Histogram TranslationHistogram(bool endpoints_only) {
  // Translations take micro- to milliseconds: finer buckets than request durations.
  static const std::vector<double> kBounds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                              0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5};
  static const metrics::Histogram full = metrics::Registry::Default().AddHistogram(
      "keel_controller_translation_duration_seconds", "Time to translate the store into a snapshot",
      {{"mode", "full"}}, kBounds, 1e-9);
  static const metrics::Histogram endpoints = metrics::Registry::Default().AddHistogram(
      "keel_controller_translation_duration_seconds", "Time to translate the store into a snapshot",
      {{"mode", "endpoints"}}, kBounds, 1e-9);
  return endpoints_only ? endpoints : full;
}

}  // namespace

void ObserveTranslation(bool endpoints_only, uint64_t ns) {
  TranslationHistogram(endpoints_only).Observe(ns);
}

void RegisterControllerCollector(metrics::Registry* registry, ControllerSources src) {
  TranslationHistogram(false);  // exported (at zero) before the first translation
  TranslationHistogram(true);
  registry->AddCollector([src](std::vector<MetricFamily>* out) {
    if (src.store) {
      auto f =
          Family("keel_controller_watched_objects", "Objects held in the store, by kind", MetricType::Gauge);
      for (store::Kind k : store::kAllKinds) {
        Add(&f, static_cast<double>(src.store->Size(k)), {{"kind", std::string(store::KindName(k))}});
      }
      out->push_back(f);
    }
    if (src.watcher) {
      const auto& c = src.watcher->counters();
      using Field = std::atomic<uint64_t> k8s::KindCounters::*;
      const std::pair<const char*, Field> fields[] = {
          {"keel_controller_lists_total", &k8s::KindCounters::lists},
          {"keel_controller_relists_total", &k8s::KindCounters::relists},
          {"keel_controller_watch_restarts_total", &k8s::KindCounters::watch_restarts},
          {"keel_controller_watch_errors_total", &k8s::KindCounters::errors}};
      const char* helps[] = {"Complete lists of a kind", "Lists after the first (the watch expired with 410)",
                             "Watches re-opened after one ended or failed",
                             "Failed API requests or bad events"};
      for (size_t i = 0; i < std::size(fields); ++i) {
        auto f = Family(fields[i].first, helps[i], MetricType::Counter);
        for (store::Kind k : store::kAllKinds) {
          Add(&f, static_cast<double>((c.of(k).*fields[i].second).load(std::memory_order_relaxed)),
              {{"kind", std::string(store::KindName(k))}});
        }
        out->push_back(f);
      }
    }
    if (src.server) {
      serve::ServerStats st = src.server->Stats();
      auto f = Family("keel_controller_snapshot_info", "The current snapshot version (value 1)",
                      MetricType::Gauge);
      Add(&f, 1, {{"version", st.current_version}});
      out->push_back(f);
      f = Family("keel_controller_pushes_total", "Snapshots and endpoint deltas sent to dataplanes",
                 MetricType::Counter);
      Add(&f, static_cast<double>(st.pushes_full), {{"type", "full"}});
      Add(&f, static_cast<double>(st.pushes_delta), {{"type", "delta"}});
      out->push_back(f);
      f = Family("keel_controller_dataplanes_connected", "Dataplanes with an open config stream",
                 MetricType::Gauge);
      Add(&f, static_cast<double>(st.connected));
      out->push_back(f);
      auto acks = Family("keel_controller_dataplane_acks_total", "Pushes a connected dataplane ACKed",
                         MetricType::Counter);
      auto nacks = Family("keel_controller_dataplane_nacks_total", "Pushes a connected dataplane NACKed",
                          MetricType::Counter);
      std::map<std::string, std::pair<uint64_t, uint64_t>> per_node;  // a node may reconnect: sum its streams
      for (const auto& d : src.server->Dataplanes()) {
        per_node[d.node_id].first += d.acks;
        per_node[d.node_id].second += d.nacks;
      }
      for (const auto& [node, an] : per_node) {
        Add(&acks, static_cast<double>(an.first), {{"dataplane", node}});
        Add(&nacks, static_cast<double>(an.second), {{"dataplane", node}});
      }
      if (!per_node.empty()) {
        out->push_back(acks);
        out->push_back(nacks);
      }
      if (src.nginx_compat) {
        f = Family("nginx_ingress_controller_config_hash",
                   "Running configuration hash (ingress-nginx compatible)", MetricType::Gauge);
        // Prometheus values are doubles: keep 52 bits of the hash so it stays exact.
        Add(&f, static_cast<double>(std::hash<std::string>{}(st.current_version) & ((1ull << 52) - 1)));
        out->push_back(f);
      }
    }
    auto f = Family("keel_controller_is_leader",
                    "1 when this replica writes Ingress status and Events (always 1 without --leader-elect)",
                    MetricType::Gauge);
    Add(&f, !src.leader || src.leader() ? 1 : 0);
    out->push_back(f);
    if (src.published) {
      f = Family("keel_controller_snapshots_published_total",
                 "Snapshots whose version changed and were published", MetricType::Counter);
      uint64_t published = src.published();
      Add(&f, static_cast<double>(published));
      out->push_back(f);
      if (src.nginx_compat) {
        f = Family("nginx_ingress_controller_success", "Configurations applied (ingress-nginx compatible)",
                   MetricType::Counter);
        Add(&f, static_cast<double>(published));
        out->push_back(f);
      }
    }
    if (src.diagnostics) {
      std::map<std::string, uint64_t> rejected;
      std::map<std::pair<std::string, std::string>, uint64_t> by_severity;
      for (const auto& d : src.diagnostics()) {
        if (d.severity == translate::Severity::kError) rejected[d.kind]++;
        by_severity[{d.kind, std::string(translate::SeverityName(d.severity))}]++;
      }
      f = Family("keel_controller_rejected_objects",
                 "Objects the latest translation rejected (diagnostics of severity Error), by kind",
                 MetricType::Gauge);
      rejected.emplace("Ingress", 0);  // always present, so alerts can compare with 0
      for (const auto& [kind, n] : rejected) Add(&f, static_cast<double>(n), {{"kind", kind}});
      out->push_back(f);
      if (!by_severity.empty()) {
        f = Family("keel_controller_diagnostics", "Findings of the latest translation, by kind and severity",
                   MetricType::Gauge);
        for (const auto& [key, n] : by_severity) {
          Add(&f, static_cast<double>(n), {{"kind", key.first}, {"severity", key.second}});
        }
        out->push_back(f);
      }
    }
  });
}

std::string DiagnosticsJson(const std::vector<translate::Diagnostic>& diagnostics) {
  nlohmann::json rejected = nlohmann::json::object();
  nlohmann::json list = nlohmann::json::array();
  for (const auto& d : diagnostics) {
    if (d.severity == translate::Severity::kError) {
      rejected[d.kind] = rejected.value(d.kind, 0) + 1;
    }
    list.push_back({{"kind", d.kind},
                    {"namespace", d.ns},
                    {"name", d.name},
                    {"severity", translate::SeverityName(d.severity)},
                    {"reason", d.reason},
                    {"message", d.message}});
  }
  nlohmann::json doc = {{"rejected", rejected}, {"diagnostics", list}};
  return doc.dump(2) + "\n";
}

}  // namespace keel::controller::observe
