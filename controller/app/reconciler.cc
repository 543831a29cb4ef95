#include "controller/app/reconciler.h"

#include <chrono>

#include "common/log.h"
#include "controller/observe/controller_metrics.h"

namespace keel::controller {

Reconciler::Reconciler(store::Store* store, translate::TranslateOptions options, PublishFn publish,
                       ClockFn clock)
    : store_(store), options_(std::move(options)), publish_(std::move(publish)), clock_(std::move(clock)) {}

void Reconciler::Reconcile() {
  store::StoreChanges changes;
  store::StoreView view = store_->View(&changes);
  if (have_prev_ && !changes.Any()) return;
  auto started = std::chrono::steady_clock::now();
  bool fast = false;
  translate::EndpointUpdate update;
  if (have_prev_ && changes.OnlyEndpointSlices()) {
    std::vector<store::ObjectRef> services(changes.endpoint_services.begin(),
                                           changes.endpoint_services.end());
    update = translate::UpdateEndpoints(view, prev_, services);
    if (!update.needs_full_translation) {
      translate::ApplyEndpointUpdate(update, &prev_);
      fast = true;
      fast_++;
    }
  }
  if (!fast) {
    prev_ = translate::Translate(view, options_);
    have_prev_ = true;
    full_++;
    LogNewDiagnostics(prev_.diagnostics);
    if (translated_) translated_(view, prev_);
    std::lock_guard<std::mutex> lock(diag_mu_);
    diagnostics_ = prev_.diagnostics;
  }
  auto took_us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count();
  observe::ObserveTranslation(fast, static_cast<uint64_t>(took_us) * 1000);
  const std::string& version = prev_.snapshot.version();
  if (version == published_version_) {
    KEEL_LOG(Debug, "reconcile") << "no effective change (version " << version << ")";
    return;
  }
  if (fast && publish_delta_ && update.delta.base_version() == published_version_) {
    // Endpoint-only: the config server shares the snapshot it already holds and
    // overlays the changed clusters (a full copy costs ~100 ms at 10k Ingresses).
    update.delta.set_built_at_unix_ms(clock_());
    if (publish_delta_(update.delta)) {
      published_version_ = version;
      KEEL_LOG(Info, "reconcile") << "endpoint update → version " << version << " ("
                                  << update.delta.clusters_size() << " clusters changed) in " << took_us
                                  << " us";
      return;
    }
  }
  // A full translation (or a delta the server could not take): one copy, shared from
  // here on by every stream.
  auto snapshot = std::make_shared<config::v1::Snapshot>(prev_.snapshot);
  snapshot->set_built_at_unix_ms(clock_());
  published_version_ = version;
  KEEL_LOG(Info, "reconcile") << (fast ? "endpoint update" : "translation") << " → version " << version
                              << " (" << snapshot->virtual_hosts_size() << " hosts, "
                              << snapshot->clusters_size() << " clusters) in " << took_us << " us";
  publish_(std::move(snapshot));
}

void Reconciler::LogNewDiagnostics(const std::vector<translate::Diagnostic>& now) {
  std::set<translate::Diagnostic> current(now.begin(), now.end());
  for (const auto& d : current) {
    if (logged_.count(d)) continue;
    KEEL_LOG(Warn, "translate") << translate::SeverityName(d.severity) << " " << d.kind << " " << d.ns << "/"
                                << d.name << ": " << d.reason << ": " << d.message;
  }
  logged_ = std::move(current);
}

std::vector<translate::Diagnostic> Reconciler::diagnostics() const {
  std::lock_guard<std::mutex> lock(diag_mu_);
  return diagnostics_;
}

}  // namespace keel::controller
