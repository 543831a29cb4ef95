// ListWatcher: keeps a store::ObjectSink in step with the API server, one thread per
// kind, the way client-go's reflector does:
//
//   list (paginated, limit=500) → sink.Replace → watch from the list's resourceVersion
//     ADDED/MODIFIED → Upsert, DELETED → Remove, BOOKMARK → only advance resourceVersion
//     stream ends (timeoutSeconds)       → watch again from the last resourceVersion
//     connection fails / non-2xx reply   → back off (exponential, jittered, ≤ backoff_max),
//                                          then watch again from the last resourceVersion
//     ERROR 410 Expired / HTTP 410       → list again (relist)
//
// Resuming from the last resourceVersion delivered means no event is missed or
// delivered twice across reconnects. Sink calls from all kinds are serialized by the
// ListWatcher, so a sink needs no locking of its own against them.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <iterator>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "controller/k8s/api_client.h"
#include "controller/store/sink.h"

namespace keel::k8s {

// Plain atomics, read by the metrics exporter.
struct KindCounters {
  std::atomic<uint64_t> lists{0};           // complete lists handed to Replace()
  std::atomic<uint64_t> relists{0};         // lists after the first (410 Expired forced them)
  std::atomic<uint64_t> list_pages{0};      // list requests that returned a page
  std::atomic<uint64_t> watches{0};         // watch requests answered 200
  std::atomic<uint64_t> watch_restarts{0};  // watches re-opened after one ended or failed
  std::atomic<uint64_t> errors{0};          // failed requests (transport, non-2xx, bad event)
  std::atomic<uint64_t> added{0}, modified{0}, deleted{0}, bookmarks{0};
};

struct WatchCounters {
  KindCounters kinds[std::size(store::kAllKinds)];
  KindCounters& of(store::Kind k) { return kinds[static_cast<size_t>(k)]; }
  const KindCounters& of(store::Kind k) const { return kinds[static_cast<size_t>(k)]; }
};

struct WatchOptions {
  std::string watch_namespace;  // empty: all namespaces (IngressClass is always cluster-wide)
  int page_size = 500;
  // timeoutSeconds of each watch, raised by a random 0–25% so that replicas and kinds
  // do not all reconnect at once. Keep below ClientOptions::stream_idle_timeout.
  std::chrono::seconds watch_timeout{300};
  std::chrono::milliseconds backoff_initial{500};
  std::chrono::milliseconds backoff_max{30000};
  std::vector<store::Kind> kinds{std::begin(store::kAllKinds), std::end(store::kAllKinds)};
};

class ListWatcher {
 public:
  ListWatcher(ApiClient* client, store::ObjectSink* sink, WatchOptions options);
  ~ListWatcher();
  ListWatcher(const ListWatcher&) = delete;
  ListWatcher& operator=(const ListWatcher&) = delete;

  void Start();
  // Interrupts in-flight requests and joins the threads; prompt (milliseconds).
  void Stop();

  // True once every kind has been listed and replaced into the sink at least once.
  bool synced() const;
  bool WaitForSync(std::chrono::milliseconds timeout);

  const WatchCounters& counters() const { return counters_; }
  // The last resourceVersion delivered for `kind` (list, event or bookmark).
  std::string resource_version(store::Kind kind) const;

 private:
  class KindLoop;
  friend class KindLoop;

  void MarkSynced();

  ApiClient* client_;
  store::ObjectSink* sink_;
  const WatchOptions options_;
  WatchCounters counters_;
  std::mutex sink_mu_;  // serializes sink calls across kinds
  mutable std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  size_t synced_kinds_ = 0;
  std::vector<std::unique_ptr<KindLoop>> loops_;
};

}  // namespace keel::k8s
