// Scrape-time dataplane metrics (see dataplane_metrics.h).
#include "dataplane/observe/dataplane_metrics.h"

#include <prometheus/metric_family.h>

#include "common/metrics/family.h"
#include "dataplane/proxy/h2_upstream.h"
#include "dataplane/observe/route_series.h"

namespace keel::observe {
namespace {

using prometheus::MetricFamily;
using prometheus::MetricType;

using ::keel::metrics::Add;
using ::keel::metrics::Family;

}  // namespace

void RegisterDataplaneCollector(metrics::Registry* registry, DataplaneSources src) {
  // Counted where they happen (exchange.cc, health.cc) on first use; registered here
  // too so that they are exported at 0 from the first scrape (rate() needs a start).
  auto& reg = metrics::Registry::Default();
  reg.AddCounter("keel_upstream_connect_failures_total",
                 "Upstream connections that failed before being established");
  reg.AddCounter("keel_upstream_ejections_total",
                 "Endpoints ejected by passive health checking (outlier detection)");
  proxy::RegisterH2UpstreamMetrics();
  registry->AddCollector([src](std::vector<MetricFamily>* out) {
    uint64_t open = 0, total = 0, rejected = 0, in = 0, sent = 0, retries = 0, errors = 0;
    for (proxy::Worker* w : src.workers) {
      const auto& s = w->stats();
      open += s.connections_open.load(std::memory_order_relaxed);
      total += s.connections_total.load(std::memory_order_relaxed);
      rejected += s.connections_rejected.load(std::memory_order_relaxed);
      in += s.bytes_in.load(std::memory_order_relaxed);
      sent += s.bytes_out.load(std::memory_order_relaxed);
      retries += s.retries.load(std::memory_order_relaxed);
      errors += s.upstream_errors.load(std::memory_order_relaxed);
    }
    auto f = Family("keel_downstream_connections_open", "Client connections open now", MetricType::Gauge);
    Add(&f, static_cast<double>(open));
    out->push_back(f);
    f = Family("keel_downstream_connections_total", "Client connections accepted", MetricType::Counter);
    Add(&f, static_cast<double>(total));
    out->push_back(f);
    f = Family("keel_downstream_connections_rejected_total",
               "Client connections refused over the per-worker limit", MetricType::Counter);
    Add(&f, static_cast<double>(rejected));
    out->push_back(f);
    f = Family("keel_downstream_received_bytes_total", "Bytes read from clients", MetricType::Counter);
    Add(&f, static_cast<double>(in));
    out->push_back(f);
    f = Family("keel_downstream_sent_bytes_total", "Bytes written to clients", MetricType::Counter);
    Add(&f, static_cast<double>(sent));
    out->push_back(f);
    f = Family("keel_upstream_retries_total", "Upstream attempts retried on another endpoint",
               MetricType::Counter);
    Add(&f, static_cast<double>(retries));
    out->push_back(f);
    f = Family("keel_upstream_errors_total", "Exchanges that failed (connect, timeout, reset)",
               MetricType::Counter);
    Add(&f, static_cast<double>(errors));
    out->push_back(f);

    ConfigState cs = src.config ? src.config() : ConfigState{};
    f = Family("keel_config_info", "The applied snapshot version (value 1)", MetricType::Gauge);
    Add(&f, 1, {{"version", cs.version}});
    out->push_back(f);
    f = Family("keel_config_connected", "1 while the config stream to the controller is up",
               MetricType::Gauge);
    Add(&f, cs.connected ? 1 : 0);
    out->push_back(f);
    f = Family("keel_config_nacks_total",
               "Snapshots or deltas rejected (NACKed); the last good one kept serving", MetricType::Counter);
    Add(&f, static_cast<double>(cs.nacks));
    out->push_back(f);
    f = Family("keel_config_applies_total", "Snapshots and deltas applied", MetricType::Counter);
    Add(&f, static_cast<double>(cs.applies));
    out->push_back(f);
    f = Family("keel_config_last_apply_timestamp_seconds", "Unix time of the last applied snapshot or delta",
               MetricType::Gauge);
    Add(&f, static_cast<double>(cs.last_apply_unix_ms) / 1000.0);
    out->push_back(f);

    if (auto rt = src.runtime ? src.runtime() : nullptr) {
      f = Family(
          "keel_upstream_endpoints",
          "Endpoints per cluster of the applied snapshot: total, and routable (ready, or the fallback)",
          MetricType::Gauge);
      for (size_t i = 0; i < rt->clusters->size(); ++i) {
        const auto& c = *rt->clusters->at(i);
        Add(&f, static_cast<double>(c.endpoints().size()), {{"cluster", c.name()}, {"state", "total"}});
        Add(&f, static_cast<double>(c.endpoints().routable().size()),
            {{"cluster", c.name()}, {"state", "routable"}});
      }
      out->push_back(f);
    }

    if (NginxCompat()) {
      f = Family("nginx_ingress_controller_nginx_process_connections",
                 "Current client connections (ingress-nginx compatible)", MetricType::Gauge);
      Add(&f, static_cast<double>(open), {{"state", "active"}});
      out->push_back(f);
      f = Family("nginx_ingress_controller_config_last_reload_successful",
                 "Whether the last configuration was applied (ingress-nginx compatible)", MetricType::Gauge);
      Add(&f, cs.last_apply_ok ? 1 : 0);
      out->push_back(f);
      f = Family("nginx_ingress_controller_config_last_reload_successful_timestamp_seconds",
                 "Unix time of the last applied configuration (ingress-nginx compatible)", MetricType::Gauge);
      Add(&f, static_cast<double>(cs.last_apply_unix_ms) / 1000.0);
      out->push_back(f);
    }
  });
}

}  // namespace keel::observe
