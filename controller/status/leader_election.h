// LeaderElector: leader election on a coordination.k8s.io/v1 Lease, so that of
// several controller replicas exactly one writes Ingress status and Events (all of
// them keep translating and serving snapshots).
//
// The protocol is client-go's (tools/leaderelection with a LeaseLock):
//   - a candidate creates the Lease if it is missing, or takes it over when it is
//     released (holderIdentity "") or expired;
//   - expiry is judged by the candidate's own clock: leaseDurationSeconds after the
//     candidate last saw the Lease change, never by comparing the holder's renewTime
//     with local time, so clock skew between nodes cannot make two leaders;
//   - every write is a PUT carrying the resourceVersion it read, so of two candidates
//     racing for an expired Lease one gets 409 Conflict and stays a follower;
//   - the leader renews every renew_interval and steps down if it could not renew for
//     renew_deadline (< lease_duration, so it stops acting before anyone may take over);
//   - Stop() releases the Lease (holderIdentity "", leaseDurationSeconds 1) so that a
//     successor takes over at once instead of after a full lease duration.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "controller/k8s/api_client.h"
#include "controller/k8s/cancel.h"

namespace keel::status {

struct LeaderElectionOptions {
  std::string lease_namespace = "default";
  std::string lease_name = "keel-controller-leader";
  std::string identity;  // unique per replica, e.g. the pod name
  std::chrono::seconds lease_duration{15};
  std::chrono::milliseconds renew_deadline{10000};
  std::chrono::milliseconds renew_interval{2000};  // leader: renew this often
  std::chrono::milliseconds retry_interval{2000};  // follower: try to acquire this often
  // Called on the elector's thread when leadership starts / ends.
  std::function<void()> on_started_leading;
  std::function<void()> on_stopped_leading;
};

struct ElectionCounters {
  std::atomic<uint64_t> acquired{0};   // times this replica became leader
  std::atomic<uint64_t> lost{0};       // times it stopped leading (deadline or Stop)
  std::atomic<uint64_t> renewals{0};   // successful renewals while leading
  std::atomic<uint64_t> conflicts{0};  // 409s: another replica wrote first
  std::atomic<uint64_t> errors{0};     // failed requests
};

class LeaderElector {
 public:
  LeaderElector(k8s::ApiClient* client, LeaderElectionOptions options);
  ~LeaderElector();
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  void Start();
  // Stops the loop; a leader releases the Lease first.
  void Stop();

  bool IsLeader() const { return leader_.load(); }
  // The holder last observed on the Lease ("" when released or unknown).
  std::string observed_holder() const;
  bool WaitForLeadership(std::chrono::milliseconds timeout);
  const ElectionCounters& counters() const { return counters_; }
  const std::string& identity() const { return options_.identity; }

 private:
  enum class Attempt { kLeading, kFollowing, kFailed };

  void Run();
  Attempt TryAcquireOrRenew();
  void Observe(const nlohmann::json& lease);
  bool ExpiredLocked(std::chrono::steady_clock::time_point now) const;
  void SetLeader(bool leader);
  void Release();
  std::string LeasePath(bool collection) const;

  k8s::ApiClient* client_;
  const LeaderElectionOptions options_;
  ElectionCounters counters_;
  k8s::Canceller cancel_;
  std::thread thread_;
  std::atomic<bool> leader_{false};

  mutable std::mutex mu_;
  std::condition_variable cv_;
  nlohmann::json observed_;   // the Lease as last read or written
  std::string observed_key_;  // holder + renewTime + resourceVersion: changes on every write
  std::chrono::steady_clock::time_point observed_at_{};
  std::chrono::steady_clock::time_point last_renew_{};
  bool announced_leader_ = false;  // leader_ as published to WaitForLeadership
};

// RFC 3339 with microseconds, as metav1.MicroTime ("2026-11-23T08:00:00.000000Z").
std::string MicroTimeNow();
// RFC 3339 in seconds, as metav1.Time ("2026-11-23T08:00:00Z").
std::string TimeNow();

}  // namespace keel::status
