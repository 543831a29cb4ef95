// IngressStatusWriter: publishes where an owned Ingress is reachable, in
// status.loadBalancer.ingress (the ADDRESS column of `kubectl get ingress`), through
// the /status subresource. Only the leader writes, and only when the addresses
// differ from what the object already says, so steady state costs no API calls.
#pragma once

#include <atomic>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/result.h"
#include "controller/k8s/api_client.h"

namespace keel::status {

class LeaderElector;

// One entry of status.loadBalancer.ingress: an IP or a hostname.
struct LoadBalancerAddress {
  std::string ip;
  std::string hostname;
};

// "203.0.113.10,lb.example.com" → [{ip}, {hostname}] (an entry is an IP if it parses as one).
std::vector<LoadBalancerAddress> ParseAddresses(const std::string& comma_separated);

enum class StatusOutcome { kUpdated, kUnchanged, kNotLeader, kNotFound };

struct StatusCounters {
  std::atomic<uint64_t> updates{0};
  std::atomic<uint64_t> unchanged{0};
  std::atomic<uint64_t> conflicts{0};  // 409s retried after a fresh GET
  std::atomic<uint64_t> errors{0};
};

class IngressStatusWriter {
 public:
  // `leader` null: always write (a single replica without election).
  IngressStatusWriter(k8s::ApiClient* client, const LeaderElector* leader)
      : client_(client), leader_(leader) {}

  // Makes `ingress` (as last seen, e.g. from the store) show `addresses`. Writes only
  // if they differ; on 409 Conflict re-reads the object and tries again (up to 5 times).
  Result<StatusOutcome> Sync(const nlohmann::json& ingress,
                             const std::vector<LoadBalancerAddress>& addresses);
  // Same, reading the Ingress first.
  Result<StatusOutcome> Sync(const std::string& ns, const std::string& name,
                             const std::vector<LoadBalancerAddress>& addresses);

  const StatusCounters& counters() const { return counters_; }

 private:
  k8s::ApiClient* client_;
  const LeaderElector* leader_;
  StatusCounters counters_;
};

}  // namespace keel::status
