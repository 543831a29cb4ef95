// RecordingSink: an ObjectSink for tests that keeps the current objects per kind and
// the ordered log of every call, and lets a test wait for a condition on them.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "controller/store/sink.h"

namespace keel::k8s::testing {

class RecordingSink : public store::ObjectSink {
 public:
  enum class Op { kReplace, kUpsert, kRemove };
  struct Call {
    Op op;
    store::Kind kind;
    std::string key;  // "ns/name" ("name" cluster-scoped); empty for Replace
    std::string resource_version;
    size_t count = 0;  // Replace: number of objects
  };

  static std::string KeyOf(const nlohmann::json& object) {
    const auto& m = object.at("metadata");
    std::string ns = m.value("namespace", "");
    return ns.empty() ? m.value("name", "") : ns + "/" + m.value("name", "");
  }

  void Replace(store::Kind kind, const std::vector<nlohmann::json>& objects) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto& m = objects_[kind];
    m.clear();
    for (const auto& o : objects) m[KeyOf(o)] = o;
    calls_.push_back({Op::kReplace, kind, "", "", objects.size()});
    cv_.notify_all();
  }
  void Upsert(store::Kind kind, const nlohmann::json& object) override {
    std::lock_guard<std::mutex> lock(mu_);
    objects_[kind][KeyOf(object)] = object;
    calls_.push_back({Op::kUpsert, kind, KeyOf(object), object["metadata"].value("resourceVersion", ""), 0});
    cv_.notify_all();
  }
  void Remove(store::Kind kind, const std::string& ns, const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::string key = ns.empty() ? name : ns + "/" + name;
    objects_[kind].erase(key);
    calls_.push_back({Op::kRemove, kind, key, "", 0});
    cv_.notify_all();
  }

  // Waits until `pred` (called under the lock with this sink) holds.
  bool WaitFor(const std::function<bool(const RecordingSink&)>& pred,
               std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return pred(*this); });
  }

  // Accessors for use inside WaitFor predicates (lock held) or after Stop().
  const std::map<std::string, nlohmann::json>& objects(store::Kind kind) const {
    static const std::map<std::string, nlohmann::json> empty;
    auto it = objects_.find(kind);
    return it == objects_.end() ? empty : it->second;
  }
  bool Has(store::Kind kind, const std::string& key) const { return objects(kind).count(key) > 0; }
  const std::vector<Call>& calls() const { return calls_; }
  size_t Count(Op op, store::Kind kind) const {
    size_t n = 0;
    for (const auto& c : calls_) n += (c.op == op && c.kind == kind);
    return n;
  }

  // Thread-safe snapshots.
  std::vector<Call> CallsSnapshot() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  std::map<std::string, nlohmann::json> ObjectsSnapshot(store::Kind kind) const {
    std::lock_guard<std::mutex> lock(mu_);
    return objects(kind);
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<store::Kind, std::map<std::string, nlohmann::json>> objects_;
  std::vector<Call> calls_;
};

}  // namespace keel::k8s::testing
