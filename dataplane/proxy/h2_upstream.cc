// H2Connection: one multiplexed upstream connection — socket callbacks from the pool,
// nghttp2 callbacks from the session, and the calls riding on it (see the header).
#include "dataplane/proxy/h2_upstream.h"

#include <algorithm>
#include <unordered_set>

#include "common/log.h"
#include "common/metrics/metrics.h"
#include "dataplane/http2/session.h"

namespace keel::proxy {
namespace {
// Framed bytes handed to the socket per turn; more are pulled as it drains, so a
// large upload does not sit framed in our memory.
constexpr size_t kOutLimit = 64 * 1024;
// Streams per connection before another connection to the endpoint is opened, and
// the most connections per endpoint and worker; past both, streams share the least
// busy one up to the server's SETTINGS_MAX_CONCURRENT_STREAMS.
constexpr size_t kSoftStreamsPerConnection = 16;
constexpr size_t kMaxConnectionsPerEndpoint = 4;

// How multiplexing behaves in production: connections per endpoint stay few, and
// refused/lost streams tell an overloaded or restarting backend apart from a slow one.
struct H2Metrics {
  metrics::Gauge connections;
  metrics::Counter streams, refused, reset, lost, timeout, connect;
};

const H2Metrics& Metrics() {
  static const H2Metrics m = [] {
    auto& reg = metrics::Registry::Default();
    const char* fail_help = "HTTP/2 upstream streams that ended without a complete response, by reason";
    auto failures = [&](const char* reason) {
      return reg.AddCounter("keel_upstream_h2_stream_failures_total", fail_help, {{"reason", reason}});
    };
    return H2Metrics{
        reg.AddGauge("keel_upstream_h2_connections", "Open HTTP/2 connections to upstream endpoints"),
        reg.AddCounter("keel_upstream_h2_streams_total", "Streams opened on HTTP/2 upstream connections"),
        failures("refused"),
        failures("reset"),
        failures("lost"),
        failures("timeout"),
        failures("connect")};
  }();
  return m;
}

void CountFailure(H2CallListener::Failure f) {
  const H2Metrics& m = Metrics();
  switch (f) {
    case H2CallListener::Failure::kRefused:
      m.refused.Inc();
      break;
    case H2CallListener::Failure::kReset:
      m.reset.Inc();
      break;
    case H2CallListener::Failure::kLost:
      m.lost.Inc();
      break;
    case H2CallListener::Failure::kTimeout:
      m.timeout.Inc();
      break;
    case H2CallListener::Failure::kConnect:
      m.connect.Inc();
      break;
  }
}
}  // namespace

void RegisterH2UpstreamMetrics() { Metrics(); }

class H2Connection final : public UpstreamListener, private h2::ClientHandler {
 public:
  H2Connection(H2Upstreams* owner, std::string key)
      : owner_(owner), key_(std::move(key)), session_(owner->options_, this), idle_timer_([this] {
          if (calls_.empty()) CloseNow("idle timeout");
        }) {
    session_.Start();
    Metrics().connections.Add(1);
  }
  ~H2Connection() override {
    for (H2Call* c : calls_) delete c;
  }

  Status Connect(const H2Target& t) {
    std::string pool_key = t.key + "#h2";
    if (t.tls) pool_key += "#tls:" + std::string(t.sni);
    auto raw = owner_->pool_->Acquire(*t.addr, t.addr_len, pool_key, t.connect_timeout_ms, this, t.tls, t.sni,
                                      /*alpn_h2=*/true);
    if (!raw.ok()) return Error{raw.error()};
    raw_ = *raw;
    return Status::Ok();
  }

  bool Usable() const { return !closed_ && !retired_ && session_.spare_streams() > 0; }
  size_t streams() const { return calls_.size(); }
  bool connected() const { return connected_; }
  const std::string& key() const { return key_; }
  event::EventLoop* loop() const { return owner_->pool_->loop(); }

  H2Call* Open(const h2::FieldList& fields, bool has_body, H2CallListener* listener) {
    auto* call = new H2Call(this, listener, loop());
    if (!session_.Submit(call, fields, has_body)) {
      delete call;
      return nullptr;
    }
    calls_.insert(call);
    Metrics().streams.Inc();
    loop()->Disarm(&idle_timer_);
    ScheduleFlush();
    return call;
  }

  void Release(H2Call* call) {
    call->listener_ = nullptr;
    loop()->Disarm(&call->timer_);
    if (!call->closed()) {
      // An unfinished response is cancelled; a finished one whose request body is
      // still going out (an early answer, RFC 9113 §8.1) stops the upload.
      if (!call->response_ended())
        session_.Reset(call, h2::kCancel);
      else if (!call->request_ended())
        session_.Reset(call, h2::kNoError);
    }
    ScheduleFlush();
  }

  void OnCallTimeout(H2Call* call) {
    H2CallListener* l = call->listener_;
    call->listener_ = nullptr;
    session_.Reset(call, h2::kCancel);
    ScheduleFlush();
    CountFailure(H2CallListener::Failure::kTimeout);
    if (l) l->OnH2Failed(H2CallListener::Failure::kTimeout, "upstream read timeout");
  }

  void Retire() {
    retired_ = true;
    ScheduleFlush();  // closes it now if no stream is open
  }

  void ScheduleFlush() {
    if (closed_ || flush_scheduled_) return;
    // Coalesces the frames of every stream of this loop turn into one write, and keeps
    // socket errors out of the caller's stack (an Exchange mid-Attempt).
    flush_scheduled_ = true;
    loop()->Defer([this] {
      flush_scheduled_ = false;
      if (closed_) return;
      Pump();
      UpdateIdle();
    });
  }

  // The connection fails: every call still attached hears why (unless `notify` is
  // false: the worker is being torn down and its exchanges are gone).
  void CloseNow(const char* why, bool notify = true) {
    if (closed_) return;
    closed_ = true;
    Metrics().connections.Sub(1);
    owner_->Forget(this);
    loop()->Disarm(&idle_timer_);
    if (raw_) {
      owner_->pool_->Close(raw_);
      raw_ = nullptr;
    }
    std::vector<H2Call*> calls(calls_.begin(), calls_.end());
    for (H2Call* c : calls) {
      H2CallListener* l = c->listener_;
      c->listener_ = nullptr;
      loop()->Disarm(&c->timer_);
      if (l == nullptr || !notify) continue;
      auto failure = !connected_        ? H2CallListener::Failure::kConnect
                     : c->got_response_ ? H2CallListener::Failure::kReset
                                        : H2CallListener::Failure::kLost;
      CountFailure(failure);
      l->OnH2Failed(failure, why);
    }
    // The session may still be inside a callback up the stack: delete later.
    loop()->Defer([this] { delete this; });
  }

  // ───── UpstreamListener (the socket) ─────
  void OnUpstreamConnected(UpstreamConn*) override {
    connected_ = true;
    std::vector<H2Call*> calls(calls_.begin(), calls_.end());
    for (H2Call* c : calls) {
      if (c->listener_) c->listener_->OnH2Connected();
      if (closed_) return;
    }
    Pump();
    UpdateIdle();
  }

  void OnUpstreamReadable(UpstreamConn* c) override {
    bool ok = session_.Receive(c->in().view());
    if (closed_) return;
    c->in().Clear();
    Pump();  // replies (SETTINGS ACK, WINDOW_UPDATE) and the GOAWAY of a failed session
    if (!ok) {
      CloseNow("invalid HTTP/2 from upstream");
      return;
    }
    UpdateIdle();
  }

  void OnUpstreamDrained(UpstreamConn*) override {
    if (session_.WantWrite()) Pump();
  }

  void OnUpstreamClosed(UpstreamConn*, bool eof, bool, const char* why) override {
    raw_ = nullptr;  // the pool closed it already
    CloseNow(eof ? "upstream closed the connection" : why);
  }

 private:
  void Pump() {
    if (closed_ || !connected_ || raw_ == nullptr) return;
    if (pumping_) {
      repump_ = true;
      return;
    }
    pumping_ = true;
    do {
      repump_ = false;
      if (!session_.Send(&raw_->out(), kOutLimit)) {
        pumping_ = false;
        CloseNow("HTTP/2 session error");
        return;
      }
      if (raw_->out().empty()) break;
      raw_->Flush();  // may come back through OnUpstreamDrained (repump) or fail (closed)
      if (closed_) return;
    } while (repump_);
    pumping_ = false;
    if (!session_.WantRead() && !session_.WantWrite() && raw_->out().empty()) {
      CloseNow("upstream ended the HTTP/2 session");  // GOAWAY both ways, nothing left
    }
  }

  void UpdateIdle() {
    if (closed_ || !calls_.empty()) return;
    if (retired_ || session_.going_away()) {
      CloseNow("retired");
      return;
    }
    if (!idle_timer_.armed()) loop()->Arm(&idle_timer_, owner_->idle_timeout_ms_);
  }

  // ───── h2::ClientHandler ─────
  static H2Call* Call(h2::ClientStream* s) { return static_cast<H2Call*>(s); }

  void OnResponseHead(h2::ClientStream* s, int status, const h2::FieldList& fields,
                      bool end_stream) override {
    H2Call* c = Call(s);
    c->Touch();
    if (c->listener_) c->listener_->OnH2Head(status, fields, end_stream);
  }
  void OnResponseData(h2::ClientStream* s, std::string_view data) override {
    H2Call* c = Call(s);
    c->Touch();
    if (c->listener_)
      c->listener_->OnH2Data(data);
    else
      session_.Consume(c, data.size());
  }
  void OnResponseTrailers(h2::ClientStream* s, const h2::FieldList& fields) override {
    H2Call* c = Call(s);
    c->Touch();
    if (c->listener_) c->listener_->OnH2Trailers(fields);
    if (c->listener_) c->listener_->OnH2End();
  }
  void OnResponseEnd(h2::ClientStream* s) override {
    H2Call* c = Call(s);
    if (c->listener_) c->listener_->OnH2End();
  }
  void OnStreamClose(h2::ClientStream* s, uint32_t error_code) override {
    H2Call* c = Call(s);
    calls_.erase(c);
    H2CallListener* l = c->listener_;
    c->listener_ = nullptr;
    loop()->Disarm(&c->timer_);
    if (l && c->response_ended() && error_code == h2::kNoError) {
      l->OnH2End();  // normally delivered (and the call released) already; never leave a listener holding `c`
    } else if (l) {
      auto failure = error_code == h2::kRefusedStream ? H2CallListener::Failure::kRefused
                     : c->got_response_               ? H2CallListener::Failure::kReset
                                                      : H2CallListener::Failure::kLost;
      CountFailure(failure);
      l->OnH2Failed(failure, failure == H2CallListener::Failure::kRefused ? "upstream refused the stream"
                                                                          : "upstream reset the stream");
    }
    delete c;
  }
  void OnRequestDrained(h2::ClientStream* s) override {
    H2Call* c = Call(s);
    if (c->listener_) c->listener_->OnH2Writable();
  }

  H2Upstreams* owner_;
  std::string key_;
  UpstreamConn* raw_ = nullptr;
  h2::ClientSession session_;
  std::unordered_set<H2Call*> calls_;
  event::Timer idle_timer_;
  bool connected_ = false, closed_ = false, retired_ = false;
  bool flush_scheduled_ = false, pumping_ = false, repump_ = false;

  friend class H2Call;
};

// ───── H2Call ─────

H2Call::H2Call(H2Connection* conn, H2CallListener* listener, event::EventLoop* loop)
    : conn_(conn), listener_(listener), loop_(loop), timer_([this] { conn_->OnCallTimeout(this); }) {}

H2Call::~H2Call() { loop_->Disarm(&timer_); }

bool H2Call::connected() const { return conn_->connected(); }

void H2Call::SendBody(std::string_view data) {
  conn_->session_.QueueBody(this, data);
  conn_->ScheduleFlush();
}

void H2Call::EndBody() {
  conn_->session_.EndBody(this);
  conn_->ScheduleFlush();
}

void H2Call::Consume(size_t n) {
  conn_->session_.Consume(this, n);
  conn_->ScheduleFlush();  // the WINDOW_UPDATE
}

void H2Call::SetReadTimeout(uint32_t ms) {
  timeout_ms_ = ms;
  if (ms)
    loop_->Arm(&timer_, ms);
  else
    loop_->Disarm(&timer_);
}

void H2Call::Touch() {
  got_response_ = true;
  if (timeout_ms_) loop_->Arm(&timer_, timeout_ms_);
}

// ───── H2Upstreams ─────

H2Upstreams::H2Upstreams(UpstreamPool* pool, const h2::ClientOptions& options, uint32_t idle_timeout_ms)
    : pool_(pool), options_(options), idle_timeout_ms_(idle_timeout_ms) {}

H2Upstreams::~H2Upstreams() {
  std::vector<H2Connection*> all;
  for (auto& [key, list] : conns_) all.insert(all.end(), list.begin(), list.end());
  for (H2Connection* c : all) c->CloseNow("shutting down", /*notify=*/false);
}

Result<H2Call*> H2Upstreams::Open(const H2Target& target, const h2::FieldList& fields, bool has_body,
                                  H2CallListener* listener) {
  auto it = conns_.find(target.key);
  if (it != conns_.end()) {
    // The least busy connection, unless all are past the soft cap and another may
    // be opened. Streams spread this way land on more than one backend thread: most
    // servers (gRPC's, Envoy, nginx) serve a connection on one thread, and a single
    // multiplexed connection per proxy worker made the backend's one-connection
    // rate the ceiling (bench scenario 8).
    for (int tries = 0; tries < 2; ++tries) {
      H2Connection* best = nullptr;
      for (H2Connection* c : it->second) {
        if (c->Usable() && (best == nullptr || c->streams() < best->streams())) best = c;
      }
      if (best == nullptr) break;
      if (best->streams() >= kSoftStreamsPerConnection && it->second.size() < kMaxConnectionsPerEndpoint)
        break;
      if (H2Call* call = best->Open(fields, has_body, listener)) return call;
      best->Retire();  // GOAWAY arrived or stream ids ran out
    }
  }
  auto* conn = new H2Connection(this, target.key);
  if (Status st = conn->Connect(target); !st.ok()) {
    delete conn;
    return Error{st.error()};
  }
  conns_[target.key].push_back(conn);
  H2Call* call = conn->Open(fields, has_body, listener);
  if (call == nullptr) {
    conn->CloseNow("cannot open a stream");
    return Error{"cannot open an HTTP/2 stream to the upstream"};
  }
  return call;
}

void H2Upstreams::Release(H2Call* call) { call->conn_->Release(call); }

void H2Upstreams::RetireExcept(const std::function<bool(const std::string& key)>& keep) {
  std::vector<H2Connection*> gone;
  for (auto& [key, list] : conns_) {
    if (!keep(key)) gone.insert(gone.end(), list.begin(), list.end());
  }
  for (H2Connection* c : gone) c->Retire();
}

void H2Upstreams::RetireAll() {
  RetireExcept([](const std::string&) { return false; });
}

size_t H2Upstreams::connection_count() const {
  size_t n = 0;
  for (const auto& [key, list] : conns_) n += list.size();
  return n;
}

void H2Upstreams::Forget(H2Connection* c) {
  auto it = conns_.find(c->key());
  if (it == conns_.end()) return;
  auto& list = it->second;
  list.erase(std::remove(list.begin(), list.end(), c), list.end());
  if (list.empty()) conns_.erase(it);
}

}  // namespace keel::proxy
