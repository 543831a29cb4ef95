// Reconciler: turns store changes into published snapshots. One call per debounced
// burst; keeps the previous translation so endpoint-only bursts can take the fast path
// (no model rebuild) and so new diagnostics are logged once, not on every pass.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>

#include "controller/store/store.h"
#include "controller/translate/translate.h"

namespace keel::controller {

class Reconciler {
 public:
  using PublishFn = std::function<void(std::shared_ptr<const config::v1::Snapshot>)>;
  using ClockFn = std::function<int64_t()>;  // unix ms
  // Publishes an endpoint-only change against the last published version without
  // copying the snapshot; false when that base is no longer current (then Reconcile
  // publishes in full).
  using PublishDeltaFn = std::function<bool(const config::v1::EndpointDelta&)>;
  // Called after every full translation, on the reconciling thread (status, Events).
  using TranslatedFn = std::function<void(const store::StoreView&, const translate::TranslateResult&)>;

  Reconciler(store::Store* store, translate::TranslateOptions options, PublishFn publish, ClockFn clock);

  // Translates what changed since the last call and publishes if the version moved.
  void Reconcile();
  void SetTranslatedCallback(TranslatedFn fn) { translated_ = std::move(fn); }
  void SetPublishDelta(PublishDeltaFn fn) { publish_delta_ = std::move(fn); }

  uint64_t full_translations() const { return full_; }
  uint64_t endpoint_updates() const { return fast_; }
  // Diagnostics of the latest translation (for the admin endpoint and Events).
  std::vector<translate::Diagnostic> diagnostics() const;

 private:
  void LogNewDiagnostics(const std::vector<translate::Diagnostic>& now);

  store::Store* store_;
  translate::TranslateOptions options_;
  PublishFn publish_;
  ClockFn clock_;
  TranslatedFn translated_;
  PublishDeltaFn publish_delta_;
  bool have_prev_ = false;
  translate::TranslateResult prev_;
  std::string published_version_;
  std::set<translate::Diagnostic> logged_;
  uint64_t full_ = 0, fast_ = 0;
  mutable std::mutex diag_mu_;
  std::vector<translate::Diagnostic> diagnostics_;
};

}  // namespace keel::controller
