// StatusSync: what the controller writes back after each full translation — the
// published address in status.loadBalancer.ingress of every owned Ingress, and a
// Warning Event per new diagnostic on an Ingress or Secret. One worker thread, so the
// reconciler never waits on the API; only the leader writes (followers keep serving
// snapshots). Without an API (manifests mode) the same decisions are logged instead.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "controller/k8s/api_client.h"
#include "controller/status/events.h"
#include "controller/status/ingress_status.h"
#include "controller/status/leader_election.h"
#include "controller/store/objects.h"
#include "controller/translate/translate.h"

namespace keel::controller {

struct StatusSyncOptions {
  std::string publish_service;  // "namespace/name": its load-balancer address (or clusterIP)
  std::string publish_address;  // fixed, comma-separated; wins over publish_service
  bool leader_elect = true;
  status::LeaderElectionOptions election;  // lease name/namespace/identity
  // Re-reads --publish-service this often (its address can change without a reconcile).
  std::chrono::milliseconds resync{30000};
};

// One owned Ingress as the store last saw it.
struct OwnedIngress {
  store::ObjectRef ref;
  std::string uid;
  std::vector<store::LoadBalancerIngress> status;
};

// What one full translation asks StatusSync to make true.
struct StatusInput {
  std::vector<OwnedIngress> owned;
  std::vector<translate::Diagnostic> diagnostics;
  // For Events' involvedObject.uid.
  std::map<store::ObjectRef, std::string> ingress_uids;
  std::map<store::ObjectRef, std::string> secret_uids;
};

class StatusSync {
 public:
  // `client` null: manifests mode (log, never write, always "leader").
  StatusSync(k8s::ApiClient* client, StatusSyncOptions options);
  ~StatusSync();  // Stop()s
  StatusSync(const StatusSync&) = delete;
  StatusSync& operator=(const StatusSync&) = delete;

  void Start();
  void Stop();  // a leader releases its Lease
  // Latest wins; returns at once.
  void Update(StatusInput input);
  bool IsLeader() const;

 private:
  void Run();
  void SyncOnce(const StatusInput& input);
  std::vector<status::LoadBalancerAddress> Addresses();
  void SyncStatus(const StatusInput& input, const std::vector<status::LoadBalancerAddress>& addresses);
  void SyncEvents(const StatusInput& input);

  k8s::ApiClient* client_;
  StatusSyncOptions options_;
  std::unique_ptr<status::LeaderElector> elector_;
  std::unique_ptr<status::IngressStatusWriter> writer_;
  std::unique_ptr<status::EventRecorder> recorder_;

  std::mutex mu_;
  std::condition_variable cv_;
  StatusInput input_;
  bool have_input_ = false, dirty_ = false, stop_ = false, started_ = false;
  std::thread worker_;

  // Worker-thread state: what we wrote (or logged) so steady state costs no requests.
  std::map<store::ObjectRef, std::vector<store::LoadBalancerIngress>> written_;
  std::set<translate::Diagnostic> emitted_;
  std::string last_addresses_;  // for logging changes once
  bool was_leader_ = false;
};

}  // namespace keel::controller
