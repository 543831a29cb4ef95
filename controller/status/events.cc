// EventRecorder: queue → rate limit → deduplicate → create or patch the Event.
#include "controller/status/events.h"

#include <cstdio>

#include "common/log.h"
#include "controller/status/leader_election.h"

namespace keel::status {
namespace {

std::string TypeName(EventType t) { return t == EventType::kWarning ? "Warning" : "Normal"; }

std::string ObjectKey(const ObjectReference& o) { return o.kind + "/" + o.ns + "/" + o.name + "/" + o.uid; }

// Events of cluster-scoped objects (IngressClass) live in "default", as client-go does.
std::string EventNamespace(const ObjectReference& o) { return o.ns.empty() ? "default" : o.ns; }

}  // namespace

ObjectReference ObjectReference::From(const nlohmann::json& object) {
  ObjectReference r;
  r.kind = object.value("kind", "");
  r.api_version = object.value("apiVersion", "");
  const auto meta = object.value("metadata", nlohmann::json::object());
  r.ns = meta.value("namespace", "");
  r.name = meta.value("name", "");
  r.uid = meta.value("uid", "");
  r.resource_version = meta.value("resourceVersion", "");
  return r;
}

EventRecorder::EventRecorder(k8s::ApiClient* client, const LeaderElector* leader,
                             EventRecorderOptions options)
    : client_(client), leader_(leader), options_(std::move(options)) {
  worker_ = std::thread([this] { Run(); });
}

EventRecorder::~EventRecorder() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  worker_.join();
}

void EventRecorder::Record(const ObjectReference& object, EventType type, const std::string& reason,
                           const std::string& message) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_ || queue_.size() >= options_.queue_limit) {
      counters_.dropped++;
      return;
    }
    queue_.push_back({object, type, reason, message});
    ++enqueued_;
  }
  cv_.notify_all();
}

bool EventRecorder::Flush(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t target = enqueued_;
  return cv_.wait_for(lock, timeout, [&] { return done_ >= target; });
}

void EventRecorder::Run() {
  for (;;) {
    Item item;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      item = std::move(queue_.front());
      queue_.pop_front();
    }
    Write(item);
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++done_;
    }
    cv_.notify_all();
  }
}

bool EventRecorder::Allow(const std::string& object_key) {
  const auto now = std::chrono::steady_clock::now();
  auto refill = [&](Bucket& b) {
    double per_ms = 1.0 / static_cast<double>(std::max<int64_t>(1, options_.refill_every.count()));
    double elapsed = std::chrono::duration<double, std::milli>(now - b.last).count();
    b.tokens = std::min(options_.burst, b.tokens + elapsed * per_ms);
    b.last = now;
  };
  auto [it, inserted] = buckets_.try_emplace(object_key, Bucket{options_.burst, now});
  if (!inserted) refill(it->second);
  if (it->second.tokens < 1) return false;
  it->second.tokens -= 1;
  if (buckets_.size() > options_.dedup_entries) {
    // Forget objects whose bucket is full again: they behave as new ones anyway.
    for (auto b = buckets_.begin(); b != buckets_.end();) {
      refill(b->second);
      b = b->second.tokens >= options_.burst ? buckets_.erase(b) : std::next(b);
    }
  }
  return true;
}

bool EventRecorder::Create(const Item& item, const std::string& key) {
  const std::string now = TimeNow();
  const std::string ns = EventNamespace(item.object);
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, ".%llx",
                static_cast<unsigned long long>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                    std::chrono::system_clock::now().time_since_epoch())
                                                    .count()));
  nlohmann::json involved = {{"kind", item.object.kind}, {"name", item.object.name}};
  if (!item.object.ns.empty()) involved["namespace"] = item.object.ns;
  if (!item.object.uid.empty()) involved["uid"] = item.object.uid;
  if (!item.object.api_version.empty()) involved["apiVersion"] = item.object.api_version;
  if (!item.object.resource_version.empty()) involved["resourceVersion"] = item.object.resource_version;
  nlohmann::json source = {{"component", options_.component}};
  if (!options_.instance.empty()) source["host"] = options_.instance;
  nlohmann::json event = {{"apiVersion", "v1"},
                          {"kind", "Event"},
                          {"metadata", {{"name", item.object.name + suffix}, {"namespace", ns}}},
                          {"involvedObject", involved},
                          {"reason", item.reason},
                          {"message", item.message},
                          {"source", source},
                          {"firstTimestamp", now},
                          {"lastTimestamp", now},
                          {"count", 1},
                          {"type", TypeName(item.type)},
                          {"eventTime", nullptr},
                          {"reportingComponent", options_.component},
                          {"reportingInstance", options_.instance}};
  auto r = client_->Post("/api/v1/namespaces/" + ns + "/events", event);
  if (!r) {
    counters_.errors++;
    KEEL_LOG(Warn, "events") << "create event " << item.reason << " for " << item.object.kind << " "
                             << item.object.ns << "/" << item.object.name << ": " << r.error();
    return false;
  }
  counters_.created++;
  Known k{ns, r.value()["metadata"].value("name", ""), 1};
  lru_.push_front(key);
  known_[key] = {k, lru_.begin()};
  while (known_.size() > options_.dedup_entries) {
    known_.erase(lru_.back());
    lru_.pop_back();
  }
  return true;
}

void EventRecorder::Write(const Item& item) {
  if (leader_ && !leader_->IsLeader()) {
    counters_.dropped++;
    return;
  }
  const std::string object_key = ObjectKey(item.object);
  if (!Allow(object_key)) {
    counters_.rate_limited++;
    return;
  }
  const std::string key = object_key + "\n" + TypeName(item.type) + "\n" + item.reason + "\n" + item.message;
  auto it = known_.find(key);
  if (it == known_.end()) {
    Create(item, key);
    return;
  }
  Known& k = it->second.first;
  lru_.splice(lru_.begin(), lru_, it->second.second);
  nlohmann::json patch = {{"count", k.count + 1}, {"lastTimestamp", TimeNow()}};
  auto r = client_->Request(k8s::Method::Patch, "/api/v1/namespaces/" + k.ns + "/events/" + k.name, &patch,
                            k8s::ContentType(k8s::PatchType::StrategicMerge));
  if (r && r->ok()) {
    k.count++;
    counters_.deduplicated++;
    return;
  }
  if (r && r->status().reason == k8s::Reason::kNotFound) {
    // The Event expired (the API server's event TTL) or was deleted: start a new one.
    lru_.erase(it->second.second);
    known_.erase(it);
    Create(item, key);
    return;
  }
  counters_.errors++;
  KEEL_LOG(Warn, "events") << "update event " << k.ns << "/" << k.name << ": "
                           << (r ? r->status().Describe() : r.error());
}

}  // namespace keel::status
