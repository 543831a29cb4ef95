// IngressStatusWriter: compare, then PUT /status with optimistic concurrency.
#include "controller/status/ingress_status.h"

#include <arpa/inet.h>

#include <algorithm>
#include <tuple>

#include "common/log.h"
#include "controller/status/leader_election.h"

namespace keel::status {
namespace {

bool IsIp(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// Canonical order: IPs first, then hostnames, each sorted.
std::tuple<bool, std::string, std::string> SortKey(const std::string& ip, const std::string& hostname) {
  return {ip.empty(), ip, hostname};
}

// status.loadBalancer.ingress as we want it, in the canonical order.
nlohmann::json Desired(std::vector<LoadBalancerAddress> addresses) {
  std::sort(addresses.begin(), addresses.end(), [](const auto& a, const auto& b) {
    return SortKey(a.ip, a.hostname) < SortKey(b.ip, b.hostname);
  });
  nlohmann::json out = nlohmann::json::array();
  for (const auto& a : addresses) {
    nlohmann::json e = nlohmann::json::object();
    if (!a.ip.empty()) e["ip"] = a.ip;
    if (!a.hostname.empty()) e["hostname"] = a.hostname;
    if (!e.empty() && std::find(out.begin(), out.end(), e) == out.end()) out.push_back(e);
  }
  return out;
}

// What the object shows, in the same canonical order (another writer may have
// listed the same addresses in a different order: that is not a difference).
nlohmann::json Current(const nlohmann::json& ingress) {
  auto status = ingress.value("status", nlohmann::json::object());
  auto lb = status.value("loadBalancer", nlohmann::json::object());
  auto ing = lb.value("ingress", nlohmann::json::array());
  if (!ing.is_array()) return nlohmann::json::array();
  std::vector<nlohmann::json> entries(ing.begin(), ing.end());
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    return SortKey(a.value("ip", ""), a.value("hostname", "")) <
           SortKey(b.value("ip", ""), b.value("hostname", ""));
  });
  return entries;
}

std::string StatusPath(const std::string& ns, const std::string& name) {
  return "/apis/networking.k8s.io/v1/namespaces/" + ns + "/ingresses/" + name;
}

}  // namespace

std::vector<LoadBalancerAddress> ParseAddresses(const std::string& comma_separated) {
  std::vector<LoadBalancerAddress> out;
  size_t start = 0;
  while (start <= comma_separated.size()) {
    size_t end = comma_separated.find(',', start);
    if (end == std::string::npos) end = comma_separated.size();
    std::string item = comma_separated.substr(start, end - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty())
      out.push_back(IsIp(item) ? LoadBalancerAddress{item, ""} : LoadBalancerAddress{"", item});
    start = end + 1;
  }
  return out;
}

Result<StatusOutcome> IngressStatusWriter::Sync(const std::string& ns, const std::string& name,
                                                const std::vector<LoadBalancerAddress>& addresses) {
  if (leader_ && !leader_->IsLeader()) return StatusOutcome::kNotLeader;
  auto got = client_->Request(k8s::Method::Get, StatusPath(ns, name));
  if (!got) return Error{got.error()};
  if (got->code == 404) return StatusOutcome::kNotFound;
  if (!got->ok()) return Error{got->status().Describe()};
  return Sync(got->body, addresses);
}

Result<StatusOutcome> IngressStatusWriter::Sync(const nlohmann::json& ingress,
                                                const std::vector<LoadBalancerAddress>& addresses) {
  const nlohmann::json desired = Desired(addresses);
  nlohmann::json object = ingress;
  const auto& meta = ingress.value("metadata", nlohmann::json::object());
  const std::string ns = meta.value("namespace", ""), name = meta.value("name", "");
  if (ns.empty() || name.empty()) return Error{"ingress without metadata.namespace/name"};
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (leader_ && !leader_->IsLeader()) return StatusOutcome::kNotLeader;
    if (Current(object) == desired) {
      counters_.unchanged++;
      return StatusOutcome::kUnchanged;
    }
    object["status"]["loadBalancer"]["ingress"] = desired;
    if (desired.empty()) object["status"]["loadBalancer"].erase("ingress");
    auto put = client_->Request(k8s::Method::Put, StatusPath(ns, name) + "/status", &object);
    if (!put) {
      counters_.errors++;
      return Error{put.error()};
    }
    if (put->ok()) {
      counters_.updates++;
      KEEL_LOG(Info, "status") << "ingress " << ns << "/" << name
                               << " status.loadBalancer.ingress = " << desired.dump();
      return StatusOutcome::kUpdated;
    }
    k8s::ApiStatus st = put->status();
    if (st.reason == k8s::Reason::kNotFound) return StatusOutcome::kNotFound;
    if (st.reason != k8s::Reason::kConflict) {
      counters_.errors++;
      return Error{"ingress " + ns + "/" + name + " status: " + st.Describe()};
    }
    // Our copy was stale: read the current object and compare again.
    counters_.conflicts++;
    auto fresh = client_->Request(k8s::Method::Get, StatusPath(ns, name));
    if (!fresh) return Error{fresh.error()};
    if (fresh->code == 404) return StatusOutcome::kNotFound;
    if (!fresh->ok()) return Error{fresh->status().Describe()};
    object = fresh->body;
  }
  counters_.errors++;
  return Error{"ingress " + ns + "/" + name + " status: still conflicting after 5 attempts"};
}

}  // namespace keel::status
