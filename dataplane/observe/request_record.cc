// RequestRecord (see request_record.h): the one place a finished request becomes
// metrics and an access log line.
#include "dataplane/observe/request_record.h"

#include <time.h>

#include "dataplane/http1/fields.h"
#include "dataplane/observe/access_log.h"
#include "dataplane/observe/route_series.h"

namespace keel::observe {

uint64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

namespace {
int64_t UnixUs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}
}  // namespace

void RequestRecord::Begin(const http1::RequestHead& head, std::string_view client_ip,
                          std::string_view protocol, uint64_t head_bytes) {
  active_ = true;
  start_ns_ = MonotonicNs();
  head_bytes_ = head_bytes;
  bytes_out_ = 0;
  method_ = MethodIndex(head.method);
  protocol_ = protocol;
  series_ = nullptr;
  upstream_start_ns_ = upstream_ns_ = 0;
  upstream_status_ = 0;
  upstream_.clear();
  cache_status_ = tls_version_ = {};
  AccessLog& log = AccessLog::Default();
  logging_ = log.format() != LogFormat::kOff && log.Sampled();
  if (!logging_) return;
  start_unix_us_ = UnixUs();
  method_text_.assign(head.method);
  host_.assign(head.host);
  path_.assign(head.target);
  client_.assign(client_ip);
  user_agent_.clear();
  referer_.clear();
  for (const auto& h : head.fields()) {
    if (http1::EqualsIgnoreCase(h.name, "user-agent"))
      user_agent_.assign(h.value);
    else if (http1::EqualsIgnoreCase(h.name, "referer"))
      referer_.assign(h.value);
  }
}

void RequestRecord::Routed(const proxy::RouteLabels& labels) {
  series_ = RouteSeries::ForThisThread(labels.namespace_, labels.ingress, labels.service);
}

void RequestRecord::UpstreamStarted() { upstream_start_ns_ = MonotonicNs(); }

void RequestRecord::UpstreamDone(std::string_view address, int status) {
  if (upstream_start_ns_ == 0 || upstream_ns_ != 0) return;  // first report wins
  upstream_ns_ = MonotonicNs() - upstream_start_ns_;
  if (upstream_ns_ == 0) upstream_ns_ = 1;
  upstream_status_ = status;
  if (logging_) upstream_.assign(address);
}

void RequestRecord::Finish(int status, std::string_view request_id, uint64_t bytes_in, uint64_t bytes_out) {
  if (!active_) return;
  active_ = false;
  if (status == 0) status = 499;
  bytes_out += bytes_out_;
  uint64_t duration = MonotonicNs() - start_ns_;
  if (upstream_start_ns_ != 0 && upstream_ns_ == 0) UpstreamDone({}, 0);  // aborted mid-exchange
  RouteSeries* s = series_ ? series_ : RouteSeries::ForThisThread({}, {}, {});
  s->CountRequest(method_, StatusClassIndex(status));
  s->duration.Observe(duration);
  if (upstream_start_ns_ != 0) s->upstream_duration.Observe(upstream_ns_);
  s->bytes_in.Inc(head_bytes_ + bytes_in);
  s->bytes_out.Inc(bytes_out);
  if (!logging_) return;
  AccessLog& log = AccessLog::Default();
  LogEntry e;
  e.unix_us = start_unix_us_;
  e.request_id = request_id;
  e.client_ip = client_;
  e.method = method_text_;
  e.host = host_;
  e.path = path_;
  e.protocol = protocol_;
  e.user_agent = user_agent_;
  e.referer = referer_;
  e.status = status;
  e.bytes_in = head_bytes_ + bytes_in;
  e.bytes_out = bytes_out;
  e.duration_ns = duration;
  e.upstream_address = upstream_;
  e.upstream_status = upstream_status_;
  e.upstream_ns = upstream_ns_;
  e.namespace_ = s->namespace_();
  e.ingress = s->ingress();
  e.service = s->service();
  e.cache_status = cache_status_;
  e.tls_version = tls_version_;
  thread_local std::string line;
  line.clear();
  if (log.format() == LogFormat::kUpstreamInfo)
    AppendUpstreamInfo(e, &line);
  else
    AppendJson(e, &line);
  log.Append(line);
}

}  // namespace keel::observe
