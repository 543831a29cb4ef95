// ListWatcher: the per-kind list → watch state machine.
#include "controller/k8s/list_watch.h"

#include <algorithm>
#include <random>
#include <thread>

#include "common/log.h"
#include "controller/k8s/kinds.h"
#include "controller/k8s/watch_event.h"

namespace keel::k8s {

class ListWatcher::KindLoop {
 public:
  KindLoop(ListWatcher* owner, store::Kind kind)
      : owner_(owner),
        info_(InfoOf(kind)),
        counters_(owner->counters_.of(kind)),
        rng_(std::random_device{}()) {}

  void Start() {
    thread_ = std::thread([this] { Run(); });
  }
  void Cancel() { cancel_.Cancel(); }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }
  std::string resource_version() const {
    std::lock_guard<std::mutex> lock(rv_mu_);
    return rv_;
  }

 private:
  enum class WatchEnd { kTimedOut, kExpired, kFailed, kCancelled };

  const std::string& ns() const { return owner_->options_.watch_namespace; }

  void SetRv(std::string rv) {
    std::lock_guard<std::mutex> lock(rv_mu_);
    rv_ = std::move(rv);
  }

  // Sleeps for the next backoff step; false when cancelled meanwhile.
  bool Backoff() {
    const auto& o = owner_->options_;
    auto base =
        std::min<int64_t>(o.backoff_max.count(), o.backoff_initial.count() << std::min(failures_, 20));
    ++failures_;
    // "Equal jitter": half fixed, half random, so retries of many clients spread out
    // without ever retrying immediately.
    std::uniform_int_distribution<int64_t> dist(base / 2, std::max<int64_t>(base / 2, base));
    return cancel_.SleepFor(std::chrono::milliseconds(dist(rng_)));
  }

  // Lists every page. On success the sink holds exactly the listed objects.
  bool List() {
    std::vector<nlohmann::json> items;
    std::string token, list_rv;
    for (;;) {
      auto r =
          owner_->client_->Request(Method::Get, ListTarget(info_, ns(), owner_->options_.page_size, token),
                                   nullptr, "application/json", &cancel_);
      if (!r) {
        if (!cancel_.cancelled()) {
          KEEL_LOG(Warn, "k8s") << "list " << info_.plural << ": " << r.error();
        }
        return false;
      }
      if (!r->ok()) {
        ApiStatus st = r->status();
        if (st.reason == Reason::kExpired && !token.empty()) {
          // The continue token outlived etcd compaction: start the list over.
          KEEL_LOG(Info, "k8s") << "list " << info_.plural << ": continue token expired, listing again";
          items.clear();
          token.clear();
          continue;
        }
        KEEL_LOG(Warn, "k8s") << "list " << info_.plural << ": " << st.Describe();
        return false;
      }
      counters_.list_pages++;
      auto& body = r->body;
      if (!body.is_object() || !body.contains("items") || !body["items"].is_array()) {
        KEEL_LOG(Warn, "k8s") << "list " << info_.plural << ": reply is not a list";
        return false;
      }
      for (auto& item : body["items"]) {
        // List items come without kind/apiVersion; watch objects carry them.
        item["kind"] = info_.name;
        item["apiVersion"] = info_.api_version;
        items.push_back(std::move(item));
      }
      const auto& meta = body.value("metadata", nlohmann::json::object());
      token = meta.value("continue", "");
      if (token.empty()) {
        list_rv = meta.value("resourceVersion", "");
        break;
      }
    }
    {
      std::lock_guard<std::mutex> lock(owner_->sink_mu_);
      owner_->sink_->Replace(info_.kind, items);
    }
    SetRv(list_rv);
    if (counters_.lists++ > 0) counters_.relists++;
    KEEL_LOG(Info, "k8s") << "listed " << items.size() << " " << info_.plural << " at resourceVersion "
                          << list_rv;
    return true;
  }

  // Applies one decoded event. False ends the watch with *end set.
  bool Apply(const WatchEvent& ev, WatchEnd* end) {
    if (ev.type == EventType::kError) {
      if (ev.error.reason == Reason::kExpired) {
        *end = WatchEnd::kExpired;
      } else {
        KEEL_LOG(Warn, "k8s") << "watch " << info_.plural << ": ERROR event " << ev.error.Describe();
        *end = WatchEnd::kFailed;
      }
      return false;
    }
    if (ev.type == EventType::kBookmark) {
      counters_.bookmarks++;
    } else {
      nlohmann::json object = ev.object;
      if (!object.contains("kind")) object["kind"] = info_.name;
      if (!object.contains("apiVersion")) object["apiVersion"] = info_.api_version;
      std::lock_guard<std::mutex> lock(owner_->sink_mu_);
      if (ev.type == EventType::kDeleted) {
        const auto& meta = object["metadata"];
        owner_->sink_->Remove(info_.kind, meta.value("namespace", ""), meta.value("name", ""));
        counters_.deleted++;
      } else {
        owner_->sink_->Upsert(info_.kind, object);
        (ev.type == EventType::kAdded ? counters_.added : counters_.modified)++;
      }
    }
    SetRv(ev.resource_version);
    return true;
  }

  WatchEnd Watch(bool* delivered) {
    const auto& o = owner_->options_;
    std::uniform_int_distribution<int64_t> jitter(0, o.watch_timeout.count() / 4);
    const int timeout = static_cast<int>(o.watch_timeout.count() + jitter(rng_));
    WatchEnd end = WatchEnd::kTimedOut;
    bool opened = false;
    auto r = owner_->client_->Stream(
        WatchTarget(info_, ns(), resource_version(), timeout),
        [&](std::string_view line) {
          if (!opened) {
            opened = true;
            counters_.watches++;
          }
          auto ev = ParseWatchEvent(line);
          if (!ev) {
            KEEL_LOG(Warn, "k8s") << "watch " << info_.plural << ": " << ev.error();
            end = WatchEnd::kFailed;
            return false;
          }
          *delivered = true;
          return Apply(ev.value(), &end);
        },
        &cancel_);
    if (cancel_.cancelled()) return WatchEnd::kCancelled;
    if (!r) {
      KEEL_LOG(Warn, "k8s") << "watch " << info_.plural << ": " << r.error();
      return WatchEnd::kFailed;
    }
    if (!r->ok()) {
      ApiStatus st = r->status();
      if (st.reason == Reason::kExpired) return WatchEnd::kExpired;
      KEEL_LOG(Warn, "k8s") << "watch " << info_.plural << ": " << st.Describe();
      return WatchEnd::kFailed;
    }
    if (!opened) counters_.watches++;
    return end;
  }

  void Run() {
    bool need_list = true;
    while (!cancel_.cancelled()) {
      if (need_list) {
        if (!List()) {
          if (cancel_.cancelled()) break;
          counters_.errors++;
          if (!Backoff()) break;
          continue;
        }
        need_list = false;
        failures_ = 0;
        if (!listed_once_) {
          listed_once_ = true;
          owner_->MarkSynced();
        }
      }
      const auto started = std::chrono::steady_clock::now();
      bool delivered = false;
      WatchEnd end = Watch(&delivered);
      if (end == WatchEnd::kCancelled) break;
      counters_.watch_restarts++;
      if (end == WatchEnd::kExpired) {
        KEEL_LOG(Info, "k8s") << "watch " << info_.plural << " from resourceVersion " << resource_version()
                              << " expired (410): listing again";
        need_list = true;
        continue;
      }
      if (end == WatchEnd::kFailed) {
        counters_.errors++;
        if (!Backoff()) break;
        continue;
      }
      // Ended by timeoutSeconds: watch again at once. A server that keeps ending watches
      // immediately would make that a busy loop, so an empty sub-second watch backs off.
      if (!delivered && std::chrono::steady_clock::now() - started < std::chrono::seconds(1)) {
        if (!Backoff()) break;
      } else {
        failures_ = 0;
      }
    }
  }

  ListWatcher* owner_;
  const KindInfo& info_;
  KindCounters& counters_;
  std::mt19937_64 rng_;
  Canceller cancel_;
  std::thread thread_;
  mutable std::mutex rv_mu_;
  std::string rv_;
  int failures_ = 0;
  bool listed_once_ = false;
};

ListWatcher::ListWatcher(ApiClient* client, store::ObjectSink* sink, WatchOptions options)
    : client_(client), sink_(sink), options_(std::move(options)) {
  for (store::Kind kind : options_.kinds) loops_.push_back(std::make_unique<KindLoop>(this, kind));
}

ListWatcher::~ListWatcher() { Stop(); }

void ListWatcher::Start() {
  for (auto& loop : loops_) loop->Start();
}

void ListWatcher::Stop() {
  for (auto& loop : loops_) loop->Cancel();
  for (auto& loop : loops_) loop->Join();
}

void ListWatcher::MarkSynced() {
  {
    std::lock_guard<std::mutex> lock(sync_mu_);
    ++synced_kinds_;
  }
  sync_cv_.notify_all();
}

bool ListWatcher::synced() const {
  std::lock_guard<std::mutex> lock(sync_mu_);
  return synced_kinds_ >= loops_.size();
}

bool ListWatcher::WaitForSync(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(sync_mu_);
  return sync_cv_.wait_for(lock, timeout, [this] { return synced_kinds_ >= loops_.size(); });
}

std::string ListWatcher::resource_version(store::Kind kind) const {
  for (size_t i = 0; i < options_.kinds.size(); ++i) {
    if (options_.kinds[i] == kind) return loops_[i]->resource_version();
  }
  return "";
}

}  // namespace keel::k8s
