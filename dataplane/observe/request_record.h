// RequestRecord: what the metrics and the access log need to know about one request,
// collected by the connection (HTTP/1) or stream (HTTP/2) in a few one-line calls
// and finished in one:
//
//   record.Begin(head, client_ip, protocol, head_bytes);   // head parsed
//   record.Routed(decision.labels);                        // router decided
//   record.UpstreamStarted();                              // exchange started
//   record.UpstreamDone(ex.upstream_address(), ex.upstream_status());
//   record.Finish(status, request_id, bytes_in, bytes_out); // counts, logs, resets
//
// Other stages may annotate it before Finish: set_cache_status("HIT"),
// set_tls_version("TLSv1.3") (static strings only: the record keeps the view).
// Strings are copied into buffers that keep their capacity across requests, and only
// when the access log is on.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "dataplane/http1/parser.h"
#include "dataplane/proxy/decision.h"

namespace keel::observe {

class RouteSeries;

class RequestRecord {
 public:
  void Begin(const http1::RequestHead& head, std::string_view client_ip, std::string_view protocol,
             uint64_t head_bytes);
  void Routed(const proxy::RouteLabels& labels);
  void UpstreamStarted();
  void UpstreamDone(std::string_view address, int status);
  // Response bytes counted as they pass (HTTP/2 streams); added to Finish's count.
  void AddBytesOut(uint64_t n) { bytes_out_ += n; }
  void set_cache_status(std::string_view s) { cache_status_ = s; }
  void set_tls_version(std::string_view v) { tls_version_ = v; }
  // Counts the request in its route's series, writes the access log line (if on and
  // sampled) and makes the record inactive. `status` 0: no response was sent (the
  // client went away or the stream was reset): logged as 499, like nginx.
  void Finish(int status, std::string_view request_id, uint64_t bytes_in, uint64_t bytes_out);
  bool active() const { return active_; }

  RequestRecord() = default;
  RequestRecord(const RequestRecord&) = delete;
  RequestRecord& operator=(const RequestRecord&) = delete;
  // A request still open when its connection is torn down is counted as 499.
  ~RequestRecord() { Finish(0, {}, 0, 0); }

 private:
  bool active_ = false;
  bool logging_ = false;
  int method_ = 0;
  uint64_t start_ns_ = 0;
  int64_t start_unix_us_ = 0;
  uint64_t head_bytes_ = 0, bytes_out_ = 0;
  uint64_t upstream_start_ns_ = 0, upstream_ns_ = 0;
  int upstream_status_ = 0;
  RouteSeries* series_ = nullptr;
  std::string_view protocol_, cache_status_, tls_version_;
  std::string method_text_, host_, path_, client_, user_agent_, referer_, upstream_;
};

// Monotonic nanoseconds (CLOCK_MONOTONIC), the clock all record durations use.
uint64_t MonotonicNs();

}  // namespace keel::observe
