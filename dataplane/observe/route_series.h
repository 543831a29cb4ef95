// RouteSeries: the request metrics of one (namespace, ingress, service) triple. Label
// values come only from the snapshot (RouteLabels), never from request input, so the
// series count is bounded by the configuration. Series live for the whole process.
//
//   keel_http_requests_total{namespace,ingress,service,method,status_class}
//   keel_http_request_duration_seconds{namespace,ingress,service}     (histogram)
//   keel_http_upstream_duration_seconds{namespace,ingress,service}    (histogram)
//   keel_http_request_bytes_total / keel_http_response_bytes_total{namespace,ingress,service}
//
// Status is a class ("2xx"), method one of ten values ("OTHER" for the rest): at most
// 50 request series per triple. With nginx compatibility on (SetNginxCompat) the same
// cells are also exported as nginx_ingress_controller_requests{...,status="2xx"},
// ..._request_duration_seconds and ..._response_duration_seconds.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/metrics/metrics.h"

namespace keel::observe {

inline constexpr int kMethods = 10;
inline constexpr int kStatusClasses = 5;

// GET HEAD POST PUT DELETE PATCH OPTIONS CONNECT TRACE, else OTHER.
int MethodIndex(std::string_view method);
std::string_view MethodName(int index);
// 1xx..5xx → 0..4; anything else counts as 5xx.
int StatusClassIndex(int status);

void SetNginxCompat(bool on);
bool NginxCompat();

class RouteSeries {
 public:
  // The series of a triple (created on first use). Takes a global mutex: callers
  // cache the pointer (ForThisThread does, per worker thread).
  static RouteSeries* Get(std::string_view ns, std::string_view ingress, std::string_view service);
  // Lock-free after the first call per triple on this thread.
  static RouteSeries* ForThisThread(std::string_view ns, std::string_view ingress, std::string_view service);

  void CountRequest(int method, int status_class);
  const std::string& namespace_() const { return ns_; }
  const std::string& ingress() const { return ingress_; }
  const std::string& service() const { return service_; }

  metrics::Histogram duration, upstream_duration;
  metrics::Counter bytes_in, bytes_out;

 private:
  RouteSeries(std::string ns, std::string ingress, std::string service);
  metrics::Labels BaseLabels() const;

  std::string ns_, ingress_, service_;
  // Registered on first use, so unused method/status pairs export nothing.
  metrics::Counter requests_[kMethods][kStatusClasses];
  std::atomic<bool> ready_[kMethods][kStatusClasses] = {};
};

}  // namespace keel::observe
