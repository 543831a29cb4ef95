// Test fixtures for the config channel: small snapshots that differ in chosen ways,
// a recording ApplyFn, and a polling wait with generous deadlines (the machine is a
// loaded 2-core box; a passing run never waits for the deadline).
#pragma once

#include <google/protobuf/util/message_differencer.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "controller/serve/config_server.h"
#include "keel/config/v1/config.pb.h"

namespace keel::testing {

namespace v1 = ::keel::config::v1;

// Two virtual hosts routing to two clusters. `web_seed` picks the endpoints of
// "default/web:80" (an endpoint-only change); `path` the first route's prefix (a
// structural change).
inline v1::Snapshot MakeSnapshot(const std::string& version, int web_seed = 1,
                                 const std::string& path = "/") {
  v1::Snapshot s;
  s.set_version(version);
  s.set_built_at_unix_ms(1700000000000 + web_seed);
  auto add_vhost = [&](const std::string& name, const std::string& prefix, const std::string& cluster) {
    v1::VirtualHost* vh = s.add_virtual_hosts();
    vh->set_name(name);
    v1::Route* r = vh->add_routes();
    r->mutable_match()->set_path_kind(v1::RouteMatch::PREFIX);
    r->mutable_match()->set_path(prefix);
    v1::WeightedCluster* wc = r->mutable_forward()->add_clusters();
    wc->set_cluster(cluster);
    wc->set_weight(1);
  };
  add_vhost("a.example.test", path, "default/web:80");
  add_vhost("b.example.test", "/", "default/api:8080");
  v1::Cluster* api = s.add_clusters();
  api->set_name("default/api:8080");
  v1::Endpoint* ep = api->add_endpoints();
  ep->set_address("10.0.1.1");
  ep->set_port(9000);
  ep->set_weight(1);
  ep->set_ready(true);
  v1::Cluster* web = s.add_clusters();
  web->set_name("default/web:80");
  for (int i = 0; i < 3; ++i) {
    v1::Endpoint* e = web->add_endpoints();
    e->set_address("10.0.0." + std::to_string(web_seed + i));
    e->set_port(8080);
    e->set_weight(1);
    e->set_ready(true);
  }
  return s;
}

// Plaintext server options for `address` (designated initializers would trip
// -Wmissing-field-initializers).
inline serve::ServerOptions Listen(const std::string& address) {
  serve::ServerOptions options;
  options.listen_address = address;
  return options;
}

inline std::shared_ptr<const v1::Snapshot> Shared(v1::Snapshot s) {
  return std::make_shared<const v1::Snapshot>(std::move(s));
}

inline bool SameSnapshot(const v1::Snapshot& a, const v1::Snapshot& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

// Polls `pred` until true or `timeout` passes.
inline bool WaitFor(const std::function<bool()>& pred,
                    std::chrono::milliseconds timeout = std::chrono::milliseconds(10000)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

// A stand-in for the dataplane's compile-and-swap: records what it was given,
// rejects chosen versions, and can hold a chosen version until released.
class Recorder {
 public:
  Status Apply(std::shared_ptr<const v1::Snapshot> snapshot) {
    std::unique_lock<std::mutex> lock(mu_);
    applied_.push_back(snapshot->version());
    cv_.notify_all();
    cv_.wait(lock, [&] { return !hold_.count(snapshot->version()); });
    if (auto it = reject_.find(snapshot->version()); it != reject_.end()) return Error{it->second};
    last_ = std::move(snapshot);
    return Status::Ok();
  }
  std::function<Status(std::shared_ptr<const v1::Snapshot>)> Fn() {
    return [this](std::shared_ptr<const v1::Snapshot> s) { return Apply(std::move(s)); };
  }
  void Reject(const std::string& version, const std::string& reason) {
    std::lock_guard<std::mutex> lock(mu_);
    reject_[version] = reason;
  }
  void Hold(const std::string& version) {
    std::lock_guard<std::mutex> lock(mu_);
    hold_[version] = true;
  }
  void Release(const std::string& version) {
    std::lock_guard<std::mutex> lock(mu_);
    hold_.erase(version);
    cv_.notify_all();
  }
  std::vector<std::string> applied() const {
    std::lock_guard<std::mutex> lock(mu_);
    return applied_;
  }
  std::shared_ptr<const v1::Snapshot> last() const {
    std::lock_guard<std::mutex> lock(mu_);
    return last_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> applied_;
  std::map<std::string, std::string> reject_;
  std::map<std::string, bool> hold_;
  std::shared_ptr<const v1::Snapshot> last_;
};

}  // namespace keel::testing
