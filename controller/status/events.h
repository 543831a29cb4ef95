// EventRecorder: core/v1 Events about the objects the controller judges ("service
// wire/missing not found" on an Ingress), what `kubectl describe` shows users.
//
// Like client-go's recorder: Record() never blocks on the API (a bounded queue and
// one worker thread); a repeat of the same event (same object, type, reason, message)
// bumps count and lastTimestamp of the existing Event instead of creating another;
// each involved object has a token bucket (burst 25, one token per 5 minutes by
// default) so a flapping object cannot flood etcd. Only the leader records.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <unordered_map>

#include "controller/k8s/api_client.h"

namespace keel::status {

class LeaderElector;

struct ObjectReference {
  std::string kind, api_version, ns, name, uid, resource_version;
  // From an object as the API returns it (kind, apiVersion, metadata).
  static ObjectReference From(const nlohmann::json& object);
};

enum class EventType { kNormal, kWarning };

struct EventRecorderOptions {
  std::string component = "keel-controller";  // source.component, reportingComponent
  std::string instance;                       // source.host, reportingInstance
  double burst = 25;
  std::chrono::milliseconds refill_every{std::chrono::minutes(5)};  // one token per object
  size_t queue_limit = 1000;
  size_t dedup_entries = 4096;  // remembered Events (least recently used go first)
};

struct EventCounters {
  std::atomic<uint64_t> created{0};
  std::atomic<uint64_t> deduplicated{0};  // repeats folded into an existing Event
  std::atomic<uint64_t> rate_limited{0};
  std::atomic<uint64_t> dropped{0};  // queue full, or not the leader
  std::atomic<uint64_t> errors{0};
};

class EventRecorder {
 public:
  // `leader` null: always record. Starts the worker thread.
  EventRecorder(k8s::ApiClient* client, const LeaderElector* leader, EventRecorderOptions options = {});
  ~EventRecorder();
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;

  void Record(const ObjectReference& object, EventType type, const std::string& reason,
              const std::string& message);
  // Waits until everything recorded before the call has been written or dropped.
  bool Flush(std::chrono::milliseconds timeout);

  const EventCounters& counters() const { return counters_; }

 private:
  struct Item {
    ObjectReference object;
    EventType type;
    std::string reason, message;
  };
  struct Known {  // an Event already written, for deduplication
    std::string ns, name;
    int64_t count = 0;
  };
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point last;
  };

  void Run();
  void Write(const Item& item);
  bool Allow(const std::string& object_key);
  bool Create(const Item& item, const std::string& key);

  k8s::ApiClient* client_;
  const LeaderElector* leader_;
  const EventRecorderOptions options_;
  EventCounters counters_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  uint64_t enqueued_ = 0, done_ = 0;
  bool stop_ = false;

  // Worker-thread state.
  std::list<std::string> lru_;
  std::unordered_map<std::string, std::pair<Known, std::list<std::string>::iterator>> known_;
  std::map<std::string, Bucket> buckets_;
  std::thread worker_;
};

}  // namespace keel::status
