#include "dataplane/proxy/worker.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "common/metrics/metrics.h"
#include "dataplane/net/socket.h"
#include "dataplane/proxy/http1_connection.h"
#include "dataplane/tls/handshake.h"

namespace keel::proxy {

class Worker::Listener : public event::Handler {
 public:
  Listener(Worker* w, int fd, uint16_t port, bool tls) : worker_(w), fd_(fd), port_(port), tls_(tls) {}
  ~Listener() override { ::close(fd_); }
  void OnEvents(uint32_t) override { worker_->Accept(fd_); }
  int fd() const { return fd_; }
  uint16_t port() const { return port_; }
  bool tls() const { return tls_; }

 private:
  Worker* worker_;
  int fd_;
  uint16_t port_;
  bool tls_;
};

Worker::Worker(int index, const ProxyOptions& options)
    : index_(index), options_(options), clusters_(0x9e3779b97f4a7c15ull * static_cast<uint64_t>(index + 1)),
      rng_(std::random_device{}() ^ (static_cast<uint64_t>(index) << 32)),
      policy_(options.workers) {
  pool_ = std::make_unique<UpstreamPool>(&loop_, options_.upstream_max_idle, options_.upstream_idle_timeout_ms);
  h2_ = std::make_unique<H2Upstreams>(pool_.get(), h2::ClientOptions{}, options_.upstream_idle_timeout_ms);
}

Worker::~Worker() {
  for (auto* c : std::vector<DownstreamConnection*>(connections_.begin(), connections_.end())) delete c;
}

Status Worker::Listen(const std::string& address, bool tls) {
  if (tls && !options_.tls) return Error{"TLS listener " + address + " without a TLS context"};
  auto addr = net::ParseHostPort(address);
  if (!addr.ok()) return Error{addr.error()};
  auto fd = net::Listen(*addr, /*reuse_port=*/true);
  if (!fd.ok()) return Error{fd.error()};
  auto local = net::LocalAddress(*fd);
  uint16_t port = local.ok() ? local->port() : addr->port();
  listeners_.push_back(std::make_unique<Listener>(this, *fd, port, tls));
  loop_.Add(*fd, EPOLLIN, listeners_.back().get());
  return Status::Ok();
}

void Worker::Start() {
  thread_ = std::thread([this] {
    metrics::BindThisThread(index_ + 1);  // this worker's own counter shard
    loop_.Run();
  });
}

void Worker::Join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::Accept(int listen_fd) {
  // Bounded per turn so one busy listener cannot starve established connections.
  for (int i = 0; i < 64; ++i) {
    net::Address peer;
    peer.len = sizeof peer.storage;
    int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&peer.storage), &peer.len,
                       SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) return;
      KEEL_LOG(Warn, "worker") << "accept: " << strerror(errno);  // EMFILE and friends
      return;
    }
    if (connections_.size() >= options_.max_connections || draining_) {
      stats_.connections_rejected.fetch_add(1, std::memory_order_relaxed);
      ::close(fd);
      continue;
    }
    net::SetNoDelay(fd);
    const Listener* from = nullptr;
    for (auto& l : listeners_) {
      if (l->fd() == listen_fd) from = l.get();
    }
    uint16_t port = from ? from->port() : 0;
    if (from && from->tls()) {
      auto* h = new tls::Handshake(this, fd, peer, port);
      AddConnection(h);
      h->Start();
      continue;
    }
    auto* c = new Http1Connection(this, fd, peer, port);
    AddConnection(c);
    c->Start();
  }
}

void Worker::AddConnection(DownstreamConnection* c) {
  connections_.insert(c);
  stats_.connections_open.fetch_add(1, std::memory_order_relaxed);
  stats_.connections_total.fetch_add(1, std::memory_order_relaxed);
}

void Worker::RemoveConnection(DownstreamConnection* c) {
  if (connections_.erase(c)) stats_.connections_open.fetch_sub(1, std::memory_order_relaxed);
  if (draining_ && connections_.empty()) loop_.Stop();
}

void Worker::ReplaceConnection(DownstreamConnection* prev, DownstreamConnection* next) {
  if (connections_.erase(prev)) connections_.insert(next);
}

void Worker::SetRuntime(std::shared_ptr<const Runtime> runtime) {
  loop_.Post([this, rt = std::move(runtime)]() mutable { ApplyRuntime(std::move(rt)); });
}

void Worker::ApplyRuntime(std::shared_ptr<const Runtime> runtime) {
  if (const auto& d = runtime->delta; d && runtime_ && runtime_->version() == d->base_version) {
    // Endpoint delta: touch only the changed clusters. An idle connection to a key that
    // left them is closed even if another cluster still has that endpoint: it costs a
    // reconnect, and saves scanning every cluster on every delta.
    clusters_.UpdateChanged(runtime->clusters, d->changed_clusters);
    runtime_ = std::move(runtime);
    if (!d->removed_endpoints.empty()) {
      auto keep = [&](const std::string& key) { return d->removed_endpoints.count(key) == 0; };
      pool_->CloseIdleExcept(keep);
      h2_->RetireExcept(keep);
    }
    return;
  }
  clusters_.Update(runtime->clusters);
  runtime_ = std::move(runtime);
  policy_.NewSnapshot();  // verified basic-auth credentials belong to the old snapshot
  // Idle connections to endpoints that left every cluster are closed now; busy ones
  // finish their request first (the exchange holds them).
  std::unordered_set<std::string> live;
  for (size_t i = 0; i < runtime_->clusters->size(); ++i) {
    for (const auto& ep : runtime_->clusters->at(i)->endpoints().endpoints()) live.insert(ep.key);
  }
  auto keep = [&](const std::string& key) { return live.count(key) > 0; };
  pool_->CloseIdleExcept(keep);
  h2_->RetireExcept(keep);  // multiplexed: they finish their streams, then close
}

void Worker::Drain(uint32_t deadline_ms) {
  loop_.Post([this, deadline_ms] {
    draining_ = true;
    for (auto& l : listeners_) loop_.Remove(l->fd());
    listeners_.clear();
    for (auto* c : std::vector<DownstreamConnection*>(connections_.begin(), connections_.end())) c->CloseWhenIdle();
    pool_->CloseAllIdle();
    h2_->RetireAll();
    if (connections_.empty()) {
      loop_.Stop();
      return;
    }
    drain_timer_ = std::make_unique<event::Timer>([this] {
      KEEL_LOG(Warn, "worker") << "worker " << index_ << ": drain timeout with " << connections_.size()
                               << " connections open";
      loop_.Stop();
    });
    loop_.Arm(drain_timer_.get(), deadline_ms);
  });
}

void Worker::NewRequestId(std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t a = rng_(), b = rng_();
  out->resize(32);
  for (int i = 0; i < 16; ++i) {
    (*out)[i] = kHex[(a >> (i * 4)) & 15];
    (*out)[16 + i] = kHex[(b >> (i * 4)) & 15];
  }
}

}  // namespace keel::proxy
