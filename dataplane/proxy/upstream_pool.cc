#include "dataplane/proxy/upstream_pool.h"

#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "dataplane/tls/upstream_tls.h"

namespace keel::proxy {

UpstreamConn::UpstreamConn(UpstreamPool* pool, int fd, std::string key, bool connecting)
    : pool_(pool), fd_(fd), io_(std::make_unique<net::PlainTransport>(fd)), key_(std::move(key)), connecting_(connecting), timer_([this] {
        if (idle_) {
          pool_->stats_.idle_closed++;
          pool_->Close(this);
        } else {
          Fail(false, connecting_ ? "connect timeout" : "read timeout");
        }
      }) {}

UpstreamConn::~UpstreamConn() {
  if (fd_ >= 0) ::close(fd_);
}

void UpstreamConn::UpdateInterest() {
  uint32_t want = EPOLLRDHUP;
  if (connecting_) want |= connect_interest_;
  if (!connecting_ && !out_.empty()) want |= EPOLLOUT;
  if (!connecting_ && !paused_) want |= EPOLLIN;
  if (want != interest_) {
    pool_->loop_->Modify(fd_, want, this);
    interest_ = want;
  }
}

void UpstreamConn::PauseReading(bool paused) {
  paused_ = paused;
  UpdateInterest();
}

void UpstreamConn::SetReadTimeout(uint32_t ms) {
  read_timeout_ms_ = ms;
  if (ms) pool_->loop_->Arm(&timer_, ms);
  else pool_->loop_->Disarm(&timer_);
}

void UpstreamConn::Fail(bool eof, const char* why) {
  if (closed_) return;
  closed_ = true;
  bool during_connect = connecting_;
  UpstreamListener* l = listener_;
  listener_ = nullptr;
  if (during_connect) pool_->stats_.connect_failures++;
  // Close first: the listener may immediately retry and reuse the fd number.
  pool_->Close(this);
  if (l) l->OnUpstreamClosed(this, eof, during_connect, why);
}

void UpstreamConn::Flush() {
  while (!out_.empty()) {
    ssize_t n = io_->Write(out_.view().data(), out_.size());
    if (n > 0) {
      out_.Consume(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
    Fail(false, "write failed");
    return;
  }
  UpdateInterest();
  if (out_.empty() && listener_) listener_->OnUpstreamDrained(this);
}

void UpstreamConn::OnEvents(uint32_t events) {
  if (closed_) return;
  if (connecting_) {
    if (!(events & (EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    int err = net::PendingError(fd_);
    if (err != 0) {
      Fail(false, strerror(err));
      return;
    }
    if (tls_ && !AdvanceTls()) return;
    connecting_ = false;
    pool_->loop_->Disarm(&timer_);
    if (read_timeout_ms_) pool_->loop_->Arm(&timer_, read_timeout_ms_);
    UpdateInterest();
    if (listener_) listener_->OnUpstreamConnected(this);
    return;
  }
  if (idle_) {
    // An idle keep-alive connection has nothing to say: any readiness means the
    // peer closed it (or sent garbage). Drop it so nobody borrows a dead socket.
    pool_->stats_.idle_closed++;
    pool_->Close(this);
    return;
  }
  if (events & EPOLLOUT) {
    Flush();
    if (closed_) return;
  }
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)) {
    bool got = false;
    for (;;) {
      // One read of up to kMinReadBuffer (a whole TLS record) into the free tail. A
      // short read means the socket is drained for now: epoll is level-triggered and
      // reports the rest, so reading on to EAGAIN would only add a recv per response.
      char* p = in_.Prepare(net::kMinReadBuffer);
      ssize_t n = io_->Read(p, net::kMinReadBuffer);
      if (n > 0) {
        in_.Commit(static_cast<size_t>(n));
        got = true;
        if (static_cast<size_t>(n) < net::kMinReadBuffer) break;
        if (in_.size() >= 256 * 1024) break;  // let the listener consume first
        continue;
      }
      if (n == 0) {
        if (got && listener_) listener_->OnUpstreamReadable(this);
        Fail(true, "upstream closed");
        return;
      }
      if (errno == EAGAIN || errno == EINTR) break;
      if (got && listener_) listener_->OnUpstreamReadable(this);
      Fail(false, strerror(errno));
      return;
    }
    if (got) {
      if (read_timeout_ms_) pool_->loop_->Arm(&timer_, read_timeout_ms_);
      if (listener_) listener_->OnUpstreamReadable(this);
    }
  }
}

bool UpstreamConn::AdvanceTls() {
  switch (tls_->Advance()) {
    case tls::ClientHandshake::Step::kDone:
      io_ = tls_->Finish();
      tls_.reset();
      return true;
    case tls::ClientHandshake::Step::kWantRead:
      connect_interest_ = EPOLLIN;
      break;
    case tls::ClientHandshake::Step::kWantWrite:
      connect_interest_ = EPOLLOUT;
      break;
    case tls::ClientHandshake::Step::kFailed:
      // Still "during connect": the exchange may retry another endpoint.
      Fail(false, "upstream TLS handshake failed");
      return false;
  }
  UpdateInterest();
  return false;
}

UpstreamPool::UpstreamPool(event::EventLoop* loop, uint32_t max_idle_per_endpoint, uint32_t idle_timeout_ms)
    : loop_(loop), max_idle_(max_idle_per_endpoint), idle_timeout_ms_(idle_timeout_ms) {}

UpstreamPool::~UpstreamPool() { CloseAllIdle(); }

Result<UpstreamConn*> UpstreamPool::Acquire(const sockaddr_storage& sa, socklen_t sa_len, const std::string& key,
                                            uint32_t connect_timeout_ms, UpstreamListener* listener,
                                            const tls::ClientContext* tls, std::string_view sni, bool alpn_h2) {
  auto it = idle_.find(key);
  if (it != idle_.end() && it->second.head) {
    UpstreamConn* c = it->second.head;
    RemoveIdle(c);
    c->listener_ = listener;
    c->requests_++;
    stats_.reuses++;
    c->UpdateInterest();
    return c;
  }
  net::Address addr;
  addr.storage = sa;
  addr.len = sa_len;
  auto fd = net::ConnectNonBlocking(addr);
  if (!fd.ok()) {
    stats_.connect_failures++;
    return Error{fd.error()};
  }
  stats_.connects++;
  auto* c = new UpstreamConn(this, *fd, key, true);
  if (tls) {
    c->tls_ = tls->Start(*fd, sni, alpn_h2);
    if (!c->tls_) {
      ::close(*fd);
      c->fd_ = -1;
      delete c;
      stats_.connect_failures++;
      return Error{"upstream TLS setup failed"};
    }
  }
  c->listener_ = listener;
  c->requests_ = 1;
  c->interest_ = EPOLLOUT | EPOLLRDHUP;
  loop_->Add(*fd, c->interest_, c);
  loop_->Arm(&c->timer_, connect_timeout_ms ? connect_timeout_ms : 5000);
  return c;
}

void UpstreamPool::Release(UpstreamConn* c) {
  IdleList& list = idle_[c->key_];
  if (list.size >= max_idle_ || !c->in_.empty() || !c->out_.empty()) {
    Close(c);
    return;
  }
  c->listener_ = nullptr;
  c->idle_ = true;
  c->paused_ = false;
  c->read_timeout_ms_ = 0;
  c->in_.Shrink();
  c->out_.Shrink();
  c->UpdateInterest();
  c->idle_prev_ = nullptr;
  c->idle_next_ = list.head;
  if (list.head) list.head->idle_prev_ = c;
  list.head = c;
  list.size++;
  loop_->Arm(&c->timer_, idle_timeout_ms_);
}

void UpstreamPool::RemoveIdle(UpstreamConn* c) {
  if (!c->idle_) return;
  IdleList& list = idle_.find(c->key_)->second;
  if (c->idle_prev_) c->idle_prev_->idle_next_ = c->idle_next_;
  else list.head = c->idle_next_;
  if (c->idle_next_) c->idle_next_->idle_prev_ = c->idle_prev_;
  c->idle_prev_ = c->idle_next_ = nullptr;
  list.size--;
  c->idle_ = false;
  loop_->Disarm(&c->timer_);
}

void UpstreamPool::Close(UpstreamConn* c) {
  RemoveIdle(c);
  c->closed_ = true;
  c->listener_ = nullptr;
  loop_->Disarm(&c->timer_);
  loop_->Remove(c->fd_);
  ::close(c->fd_);
  c->fd_ = -1;
  // Deferred: we may be inside c->OnEvents.
  loop_->Defer([c] { delete c; });
}

void UpstreamPool::CloseIdleExcept(const std::function<bool(const std::string&)>& keep) {
  std::vector<UpstreamConn*> doomed;
  for (auto it = idle_.begin(); it != idle_.end();) {
    if (keep(it->first.substr(0, it->first.find('#')))) {
      ++it;
      continue;
    }
    for (UpstreamConn* c = it->second.head; c; c = c->idle_next_) {
      c->idle_ = false;  // unlinked with the whole entry below
      doomed.push_back(c);
    }
    it = idle_.erase(it);  // an endpoint that left the snapshot: forget its entry too
  }
  for (auto* c : doomed) Close(c);
}

void UpstreamPool::CloseAllIdle() {
  CloseIdleExcept([](const std::string&) { return false; });
}

size_t UpstreamPool::idle_count() const {
  size_t n = 0;
  for (auto& [k, l] : idle_) n += l.size;
  return n;
}

}  // namespace keel::proxy
