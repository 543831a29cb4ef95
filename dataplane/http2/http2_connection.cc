// Http2Connection: socket I/O, timers, draining and close (see the header). The
// streams — requests routed and forwarded, responses queued back — are in
// http2_streams.cc; the Stream type is in http2_stream.h.
#include "dataplane/http2/http2_connection.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "common/log.h"
#include "dataplane/cache/filter.h"
#include "dataplane/http2/http2_stream.h"
#include "dataplane/observe/request_record.h"
#include "dataplane/proxy/exchange.h"
#include "dataplane/proxy/forward.h"
#include "dataplane/tls/https_redirect.h"

namespace keel::proxy {
namespace {
constexpr size_t kReadChunk = 16384;
constexpr size_t kReadPerEvent = 256 * 1024;  // bounded work per loop turn
// Framed bytes buffered towards the socket; nghttp2 is asked for more only below it,
// so a client that does not read cannot make us frame (and buffer) whole responses.
constexpr size_t kOutLimit = 64 * 1024;
constexpr std::string_view kSwitching =
    "HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: h2c\r\n\r\n";
}  // namespace

Http2Connection::Http2Connection(Worker* worker, int fd, const net::Address& peer, uint16_t local_port,
                                 std::unique_ptr<net::Transport> transport)
    : worker_(worker),
      fd_(fd),
      io_(transport ? std::move(transport) : std::make_unique<net::PlainTransport>(fd)),
      peer_ip_(peer.Ip()),
      local_port_(local_port),
      timer_([this] { OnTimeout(); }) {}

Http2Connection::~Http2Connection() {
  session_.reset();  // nghttp2_session_del calls no callbacks
  for (Stream* s : streams_) delete s;
  if (fd_ >= 0) ::close(fd_);
}

bool Http2Connection::CanUpgrade(const http1::RequestHead& head) {
  if (!head.h2c_upgrade) return false;
  if (head.body == http1::BodyKind::Chunked ||
      (head.body == http1::BodyKind::ContentLength && head.content_length))
    return false;
  auto settings = FindHeader(head.fields(), "http2-settings");
  return settings && h2::DecodeSettingsHeader(*settings).has_value();
}

void Http2Connection::Start(std::string_view buffered, const http1::RequestHead* upgrade) {
  h2::SessionHandler* handler = this;  // private base: convert where it is accessible
  session_ = std::make_unique<h2::ServerSession>(worker_->options().http2,
                                                 worker_->options().downstream_limits, handler);
  interest_ = EPOLLIN | EPOLLRDHUP;
  worker_->loop().Add(fd_, interest_, this);
  in_events_ = true;
  bool ok = true;
  if (upgrade != nullptr) {
    out_.Append(kSwitching);  // RFC 7540 §3.2: the 101, then our SETTINGS, then stream 1's response
    auto settings = h2::DecodeSettingsHeader(FindHeader(upgrade->fields(), "http2-settings").value_or(""));
    ok = settings && session_->StartUpgraded(*settings, *upgrade);
  } else {
    session_->Start();
  }
  if (ok && !buffered.empty()) ok = session_->Receive(buffered);
  in_events_ = false;
  if (!ok) {
    WriteOut();
    Close();
    return;
  }
  if (worker_->draining()) CloseWhenIdle();
  WriteOut();
  AfterIo();
}

void Http2Connection::OnEvents(uint32_t events) {
  if (closed_) return;
  in_events_ = true;
  if (events & EPOLLOUT) write_blocked_ = false;
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) ReadSome();
  in_events_ = false;
  if (closed_) return;
  WriteOut();
  AfterIo();
}

void Http2Connection::ReadSome() {
  char buf[kReadChunk];
  size_t total = 0;
  while (total < kReadPerEvent) {
    ssize_t n = io_->Read(buf, sizeof buf);
    if (n > 0) {
      total += static_cast<size_t>(n);
      read_progress_ = true;
      worker_->stats().bytes_in.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
      if (!session_->Receive({buf, static_cast<size_t>(n)})) {
        WriteOut();  // best effort: the GOAWAY saying why
        Close();
        return;
      }
      if (closed_) return;
      if (static_cast<size_t>(n) < sizeof buf) break;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
    Close();  // EOF or error: the client is gone, and its streams with it
    return;
  }
}

void Http2Connection::WriteOut() {
  while (!closed_) {
    if (out_.size() < kOutLimit && !session_->Send(&out_, kOutLimit)) {
      Close();
      return;
    }
    if (out_.empty()) {
      write_blocked_ = false;
      break;
    }
    ssize_t n = io_->Write(out_.view().data(), out_.size());
    if (n > 0) {
      out_.Consume(static_cast<size_t>(n));
      write_progress_ = true;
      worker_->stats().bytes_out.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      write_blocked_ = true;
      break;
    }
    Close();
    return;
  }
}

void Http2Connection::AfterIo() {
  if (closed_) return;
  if (!session_->WantRead() && !session_->WantWrite() && out_.empty()) {
    Close();  // GOAWAY exchanged (or sent) and no stream left
    return;
  }
  if (!paused_for_connection_.empty() && session_->queued_bytes() < h2flow::kConnLowWater) {
    for (Stream* s : std::vector<Stream*>(paused_for_connection_.begin(), paused_for_connection_.end())) {
      paused_for_connection_.erase(s);
      if (s->queued_bytes() > h2flow::kStreamHighWater)
        s->NotifyWhenDrained();
      else
        ResumeUpstream(s);
    }
  }
  if (out_.empty() && session_->open_streams() == 0) out_.Shrink();  // idle connections stay cheap
  UpdateInterest();
  UpdateTimer();
}

void Http2Connection::ScheduleFlush() {
  if (closed_ || in_events_ || flush_scheduled_) return;
  // Coalesces every stream's output of this loop turn into one write. Runs before
  // a deferred `delete this` queued later by Close (the loop keeps Defer order).
  flush_scheduled_ = true;
  worker_->loop().Defer([this] {
    flush_scheduled_ = false;
    if (closed_) return;
    WriteOut();
    AfterIo();
  });
}

void Http2Connection::UpdateInterest() {
  uint32_t want = EPOLLRDHUP;
  if (out_.size() < kOutLimit) want |= EPOLLIN;
  if (!out_.empty()) want |= EPOLLOUT;
  if (want != interest_) {
    worker_->loop().Modify(fd_, want, this);
    interest_ = want;
  }
}

void Http2Connection::UpdateTimer() {
  const ProxyOptions& o = worker_->options();
  auto where = session_->where();
  TimerKind want = TimerKind::kNone;
  if (!out_.empty()) {
    want = TimerKind::kSend;
  } else if (where == h2::FrameTracker::Where::kControl) {
    want = TimerKind::kHeader;  // a frame or header block started and not finished: slowloris
  } else if (where == h2::FrameTracker::Where::kData || reading_bodies_ > 0) {
    want = TimerKind::kBody;
  } else if (session_->open_streams() == 0) {
    want = seen_request_ ? TimerKind::kIdle : TimerKind::kHeader;
  }
  // Header and idle deadlines run from when the state began and are never extended;
  // body and send deadlines are per stall, so progress re-arms them.
  bool rearm = want != timer_kind_ || (want == TimerKind::kBody && read_progress_) ||
               (want == TimerKind::kSend && write_progress_);
  read_progress_ = write_progress_ = false;
  if (!rearm) return;
  timer_kind_ = want;
  switch (want) {
    case TimerKind::kNone:
      worker_->loop().Disarm(&timer_);
      break;
    case TimerKind::kHeader:
      worker_->loop().Arm(&timer_, o.header_timeout_ms);
      break;
    case TimerKind::kIdle:
      worker_->loop().Arm(&timer_, o.idle_timeout_ms);
      break;
    case TimerKind::kBody:
      worker_->loop().Arm(&timer_, o.body_timeout_ms);
      break;
    case TimerKind::kSend:
      worker_->loop().Arm(&timer_, o.send_timeout_ms);
      break;
  }
}

void Http2Connection::OnTimeout() {
  TimerKind kind = timer_kind_;
  timer_kind_ = TimerKind::kNone;
  switch (kind) {
    case TimerKind::kBody:
      KEEL_LOG(Debug, "http2") << peer_ip_ << ": request body timeout";
      for (Stream* s : std::vector<Stream*>(streams_.begin(), streams_.end())) {
        if (!s->reading_body) continue;
        s->reading_body = false;
        reading_bodies_--;
        s->DropExchange();
        if (s->response_started)
          session_->Reset(s, h2::kCancel);
        else
          RespondLocal(s, 408, "request body timeout\n");
      }
      if (session_->where() != h2::FrameTracker::Where::kData) break;
      [[fallthrough]];  // a DATA frame stuck half-way blocks the whole connection
    case TimerKind::kHeader:
    case TimerKind::kIdle:
      session_->Shutdown();
      WriteOut();
      Close();
      return;
    case TimerKind::kSend:
    case TimerKind::kNone:
      Close();
      return;
  }
  WriteOut();
  AfterIo();
}

void Http2Connection::CloseWhenIdle() {
  if (closed_ || draining_) return;
  draining_ = true;
  session_->Shutdown();
  if (in_events_) return;
  WriteOut();
  AfterIo();
}

void Http2Connection::Close() {
  if (closed_) return;
  closed_ = true;
  worker_->loop().Disarm(&timer_);
  worker_->loop().Remove(fd_);
  for (Stream* s : streams_) {
    s->gone = true;
    s->DropExchange();
  }
  io_->Shutdown();
  ::shutdown(fd_, SHUT_RDWR);
  worker_->RemoveConnection(this);
  worker_->loop().Defer([this] { delete this; });
}

}  // namespace keel::proxy
