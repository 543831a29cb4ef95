// LeaderElector: the acquire/renew/release loop over the Lease.
#include "controller/status/leader_election.h"

#include <ctime>
#include <random>

#include "common/log.h"

namespace keel::status {
namespace {

std::string FormatNow(bool micro) {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = buf;
  if (micro) {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() % 1000000;
    char frac[16];
    std::snprintf(frac, sizeof frac, ".%06lld", static_cast<long long>(us));
    out += frac;
  }
  return out + "Z";
}

}  // namespace

std::string MicroTimeNow() { return FormatNow(true); }
std::string TimeNow() { return FormatNow(false); }

LeaderElector::LeaderElector(k8s::ApiClient* client, LeaderElectionOptions options)
    : client_(client), options_(std::move(options)) {}

LeaderElector::~LeaderElector() { Stop(); }

void LeaderElector::Start() {
  thread_ = std::thread([this] { Run(); });
}

void LeaderElector::Stop() {
  cancel_.Cancel();
  if (thread_.joinable()) thread_.join();
}

std::string LeaderElector::LeasePath(bool collection) const {
  std::string p = "/apis/coordination.k8s.io/v1/namespaces/" + options_.lease_namespace + "/leases";
  return collection ? p : p + "/" + options_.lease_name;
}

std::string LeaderElector::observed_holder() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!observed_.is_object()) return "";
  return observed_.value("spec", nlohmann::json::object()).value("holderIdentity", "");
}

bool LeaderElector::WaitForLeadership(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [this] { return announced_leader_; });
}

void LeaderElector::Observe(const nlohmann::json& lease) {
  const auto spec = lease.value("spec", nlohmann::json::object());
  std::string key = spec.value("holderIdentity", "") + "|" + spec.value("renewTime", "") + "|" +
                    lease["metadata"].value("resourceVersion", "");
  std::lock_guard<std::mutex> lock(mu_);
  observed_ = lease;
  if (key != observed_key_) {
    observed_key_ = std::move(key);
    observed_at_ = std::chrono::steady_clock::now();
  }
}

bool LeaderElector::ExpiredLocked(std::chrono::steady_clock::time_point now) const {
  int64_t seconds = observed_.value("spec", nlohmann::json::object())
                        .value("leaseDurationSeconds", static_cast<int64_t>(options_.lease_duration.count()));
  return now >= observed_at_ + std::chrono::seconds(seconds);
}

LeaderElector::Attempt LeaderElector::TryAcquireOrRenew() {
  const std::string now = MicroTimeNow();
  auto got = client_->Request(k8s::Method::Get, LeasePath(false), nullptr, "application/json", &cancel_);
  if (!got) {
    counters_.errors++;
    return Attempt::kFailed;
  }
  if (got->code == 404) {
    nlohmann::json lease = {
        {"apiVersion", "coordination.k8s.io/v1"},
        {"kind", "Lease"},
        {"metadata", {{"name", options_.lease_name}, {"namespace", options_.lease_namespace}}},
        {"spec",
         {{"holderIdentity", options_.identity},
          {"leaseDurationSeconds", options_.lease_duration.count()},
          {"acquireTime", now},
          {"renewTime", now},
          {"leaseTransitions", 0}}}};
    auto created = client_->Request(k8s::Method::Post, LeasePath(true), &lease, "application/json", &cancel_);
    if (created && created->ok()) {
      Observe(created->body);
      return Attempt::kLeading;
    }
    if (created && created->status().reason == k8s::Reason::kAlreadyExists) {
      counters_.conflicts++;
      return Attempt::kFollowing;
    }
    counters_.errors++;
    KEEL_LOG(Warn, "leader") << "create lease: "
                             << (created ? created->status().Describe() : created.error());
    return Attempt::kFailed;
  }
  if (!got->ok()) {
    counters_.errors++;
    KEEL_LOG(Warn, "leader") << "get lease: " << got->status().Describe();
    return Attempt::kFailed;
  }
  Observe(got->body);
  nlohmann::json lease = got->body;
  auto& spec = lease["spec"];
  if (!spec.is_object()) spec = nlohmann::json::object();
  const std::string holder = spec.value("holderIdentity", "");
  const bool mine = holder == options_.identity;
  if (!mine && !holder.empty()) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!ExpiredLocked(std::chrono::steady_clock::now())) return Attempt::kFollowing;
  }
  if (!mine) {
    if (!holder.empty()) {
      KEEL_LOG(Info, "leader") << "lease held by " << holder << " expired; taking over";
    }
    spec["holderIdentity"] = options_.identity;
    spec["acquireTime"] = now;
    spec["leaseTransitions"] = spec.value("leaseTransitions", 0) + 1;
  }
  spec["renewTime"] = now;
  spec["leaseDurationSeconds"] = options_.lease_duration.count();
  auto put = client_->Request(k8s::Method::Put, LeasePath(false), &lease, "application/json", &cancel_);
  if (put && put->ok()) {
    Observe(put->body);
    return Attempt::kLeading;
  }
  if (put && put->status().reason == k8s::Reason::kConflict) {
    counters_.conflicts++;
    return Attempt::kFollowing;
  }
  counters_.errors++;
  KEEL_LOG(Warn, "leader") << "update lease: " << (put ? put->status().Describe() : put.error());
  return Attempt::kFailed;
}

void LeaderElector::SetLeader(bool leader) {
  if (leader_.load() == leader) return;
  leader_ = leader;
  if (leader) {
    counters_.acquired++;
    KEEL_LOG(Info, "leader") << options_.identity << " is now the leader (lease " << options_.lease_namespace
                             << "/" << options_.lease_name << ")";
    if (options_.on_started_leading) options_.on_started_leading();
  } else {
    counters_.lost++;
    KEEL_LOG(Info, "leader") << options_.identity << " stopped leading";
    if (options_.on_stopped_leading) options_.on_stopped_leading();
  }
  // Waiters wake only after the counters and callbacks reflect the change.
  {
    std::lock_guard<std::mutex> lock(mu_);
    announced_leader_ = leader;
  }
  cv_.notify_all();
}

void LeaderElector::Release() {
  nlohmann::json lease;
  {
    std::lock_guard<std::mutex> lock(mu_);
    lease = observed_;
  }
  // Requests here are not cancellable: Stop() has cancelled the loop's, and these must
  // go out. A renewal that Stop() interrupted may still have landed, leaving our copy
  // stale (409): then re-read and release what is there, if it is still ours.
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (!lease.is_object() || !lease["spec"].is_object() ||
        lease["spec"].value("holderIdentity", "") != options_.identity) {
      return;
    }
    const std::string now = MicroTimeNow();
    auto& spec = lease["spec"];
    spec["holderIdentity"] = "";
    spec["leaseDurationSeconds"] = 1;
    spec["acquireTime"] = now;
    spec["renewTime"] = now;
    auto put = client_->Request(k8s::Method::Put, LeasePath(false), &lease);
    if (put && put->ok()) return;
    if (!put || put->status().reason != k8s::Reason::kConflict) {
      KEEL_LOG(Warn, "leader") << "release lease: " << (put ? put->status().Describe() : put.error());
      return;
    }
    auto got = client_->Request(k8s::Method::Get, LeasePath(false));
    if (!got || !got->ok()) return;
    lease = got->body;
  }
}

void LeaderElector::Run() {
  std::mt19937 rng(std::random_device{}());
  while (!cancel_.cancelled()) {
    Attempt a = TryAcquireOrRenew();
    if (cancel_.cancelled()) break;
    const auto now = std::chrono::steady_clock::now();
    if (a == Attempt::kLeading) {
      if (leader_) counters_.renewals++;
      last_renew_ = now;
      SetLeader(true);
    } else if (leader_ && (a == Attempt::kFollowing || now - last_renew_ >= options_.renew_deadline)) {
      // Someone else holds the Lease now, or it could not be renewed in time: stop
      // acting as leader before another replica may take over.
      SetLeader(false);
    }
    auto wait = leader_ ? options_.renew_interval : options_.retry_interval;
    if (!leader_) {
      // Followers spread their attempts (client-go's JitterFactor 1.2).
      std::uniform_int_distribution<int64_t> jitter(0, wait.count() / 5);
      wait += std::chrono::milliseconds(jitter(rng));
    }
    if (!cancel_.SleepFor(wait)) break;
  }
  if (leader_) {
    Release();
    SetLeader(false);
  }
}

}  // namespace keel::status
