// StatusSync: leader election + Ingress status + Events, driven by translations.
#include "controller/app/status_sync.h"

#include <algorithm>

#include "common/log.h"

namespace keel::controller {
namespace {

std::vector<store::LoadBalancerIngress> ToStore(const std::vector<status::LoadBalancerAddress>& in) {
  std::vector<store::LoadBalancerIngress> out;
  for (const auto& a : in) out.push_back({a.ip, a.hostname});
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::tie(a.ip, a.hostname) < std::tie(b.ip, b.hostname);
  });
  return out;
}

std::vector<store::LoadBalancerIngress> Sorted(std::vector<store::LoadBalancerIngress> v) {
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
    return std::tie(a.ip, a.hostname) < std::tie(b.ip, b.hostname);
  });
  return v;
}

std::string Describe(const std::vector<status::LoadBalancerAddress>& addresses) {
  std::string out;
  for (const auto& a : addresses) out += (out.empty() ? "" : ",") + (a.ip.empty() ? a.hostname : a.ip);
  return out.empty() ? "(none)" : out;
}

// The address users reach a Service at, as ingress-nginx's --publish-service reads it:
// the load balancer's, else spec.externalIPs, else the clusterIP.
std::vector<status::LoadBalancerAddress> ServiceAddresses(const nlohmann::json& svc) {
  std::vector<status::LoadBalancerAddress> out;
  const auto lb =
      svc.value("status", nlohmann::json::object()).value("loadBalancer", nlohmann::json::object());
  for (const auto& e : lb.value("ingress", nlohmann::json::array())) {
    out.push_back({e.value("ip", ""), e.value("hostname", "")});
  }
  if (!out.empty()) return out;
  const auto spec = svc.value("spec", nlohmann::json::object());
  for (const auto& ip : spec.value("externalIPs", nlohmann::json::array())) {
    if (ip.is_string()) out.push_back({ip.get<std::string>(), ""});
  }
  if (!out.empty()) return out;
  const std::string cluster_ip = spec.value("clusterIP", "");
  if (!cluster_ip.empty() && cluster_ip != "None") out.push_back({cluster_ip, ""});
  return out;
}

}  // namespace

StatusSync::StatusSync(k8s::ApiClient* client, StatusSyncOptions options)
    : client_(client), options_(std::move(options)) {
  if (client_ == nullptr) return;
  if (options_.leader_elect) {
    status::LeaderElectionOptions lo = options_.election;
    auto wake = [this] {
      {
        std::lock_guard<std::mutex> lock(mu_);
        dirty_ = true;
      }
      cv_.notify_all();
    };
    lo.on_started_leading = wake;
    lo.on_stopped_leading = wake;
    elector_ = std::make_unique<status::LeaderElector>(client_, lo);
  }
  writer_ = std::make_unique<status::IngressStatusWriter>(client_, elector_.get());
  status::EventRecorderOptions eo;
  eo.instance = options_.election.identity;
  recorder_ = std::make_unique<status::EventRecorder>(client_, elector_.get(), eo);
}

StatusSync::~StatusSync() { Stop(); }

void StatusSync::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_) return;
  started_ = true;
  if (elector_) elector_->Start();
  worker_ = std::thread([this] { Run(); });
}

void StatusSync::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!started_ || stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  worker_.join();
  if (recorder_) (void)recorder_->Flush(std::chrono::milliseconds(2000));
  if (elector_) elector_->Stop();
}

void StatusSync::Update(StatusInput input) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    input_ = std::move(input);
    have_input_ = true;
    dirty_ = true;
  }
  cv_.notify_all();
}

bool StatusSync::IsLeader() const { return elector_ == nullptr || elector_->IsLeader(); }

void StatusSync::Run() {
  for (;;) {
    StatusInput input;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, options_.resync, [this] { return stop_ || dirty_; });
      if (stop_) return;
      dirty_ = false;
      if (!have_input_) continue;
      input = input_;  // copied: Update() may replace it while we talk to the API
    }
    SyncOnce(input);
  }
}

void StatusSync::SyncOnce(const StatusInput& input) {
  const bool leader = IsLeader();
  if (leader != was_leader_) {
    // A new term starts from the objects as they are, not from what an earlier term wrote.
    written_.clear();
    emitted_.clear();
    was_leader_ = leader;
  }
  if (!leader) return;
  SyncStatus(input, Addresses());
  SyncEvents(input);
}

std::vector<status::LoadBalancerAddress> StatusSync::Addresses() {
  std::vector<status::LoadBalancerAddress> out;
  if (!options_.publish_address.empty()) {
    out = status::ParseAddresses(options_.publish_address);
  } else if (!options_.publish_service.empty() && client_ != nullptr) {
    const auto slash = options_.publish_service.find('/');
    const std::string ns = slash == std::string::npos ? "default" : options_.publish_service.substr(0, slash);
    const std::string name =
        slash == std::string::npos ? options_.publish_service : options_.publish_service.substr(slash + 1);
    auto svc = client_->Get("/api/v1/namespaces/" + ns + "/services/" + name);
    if (!svc) {
      KEEL_LOG(Warn, "status") << "--publish-service " << options_.publish_service << ": " << svc.error();
      return {};
    }
    out = ServiceAddresses(*svc);
  }
  const std::string described = Describe(out);
  if (described != last_addresses_) {
    KEEL_LOG(Info, "status") << "published address: " << described;
    last_addresses_ = described;
    written_.clear();
  }
  return out;
}

void StatusSync::SyncStatus(const StatusInput& input,
                            const std::vector<status::LoadBalancerAddress>& addresses) {
  if (addresses.empty() && options_.publish_address.empty() && options_.publish_service.empty()) return;
  const auto desired = ToStore(addresses);
  std::map<store::ObjectRef, std::vector<store::LoadBalancerIngress>> next;
  for (const OwnedIngress& ing : input.owned) {
    auto it = written_.find(ing.ref);
    const bool known = it != written_.end() ? it->second == desired : Sorted(ing.status) == desired;
    if (known) {
      next[ing.ref] = desired;
      continue;
    }
    if (client_ == nullptr) {
      KEEL_LOG(Info, "status") << "ingress " << ing.ref.str() << " address " << Describe(addresses)
                               << " (manifests mode: logged, not written)";
      next[ing.ref] = desired;
      continue;
    }
    auto r = writer_->Sync(ing.ref.ns, ing.ref.name, addresses);
    if (!r) {
      KEEL_LOG(Warn, "status") << r.error();
      continue;  // retried on the next pass
    }
    if (*r == status::StatusOutcome::kUpdated || *r == status::StatusOutcome::kUnchanged)
      next[ing.ref] = desired;
  }
  // An Ingress we addressed but no longer own (its class changed): take our address back.
  for (const auto& [ref, was] : written_) {
    if (next.count(ref) || was.empty()) continue;
    if (client_ == nullptr) continue;
    auto r = writer_->Sync(ref.ns, ref.name, {});
    if (!r) {
      KEEL_LOG(Warn, "status") << r.error();
    }
  }
  written_ = std::move(next);
}

void StatusSync::SyncEvents(const StatusInput& input) {
  std::set<translate::Diagnostic> current;
  for (const translate::Diagnostic& d : input.diagnostics) {
    if (d.severity == translate::Severity::kInfo) continue;
    if (d.kind != "Ingress" && d.kind != "Secret") continue;
    current.insert(d);
    // Only what is new since the last pass: the recorder would fold repeats into a
    // count anyway, but a reconcile per endpoint change must not cost an API call each.
    if (emitted_.count(d) || client_ == nullptr) continue;  // manifests mode: the reconciler logs it
    status::ObjectReference ref;
    ref.kind = d.kind;
    ref.api_version = d.kind == "Ingress" ? "networking.k8s.io/v1" : "v1";
    ref.ns = d.ns;
    ref.name = d.name;
    const auto& uids = d.kind == "Ingress" ? input.ingress_uids : input.secret_uids;
    auto it = uids.find({d.ns, d.name});
    if (it != uids.end()) ref.uid = it->second;
    recorder_->Record(ref, status::EventType::kWarning, d.reason, d.message);
  }
  emitted_ = std::move(current);
}

}  // namespace keel::controller
