// RouteSeries registry: one global map (mutex, rare) and a per-thread cache in front.
#include "dataplane/observe/route_series.h"

#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace keel::observe {
namespace {

constexpr std::string_view kMethodNames[kMethods] = {"GET",   "HEAD",    "POST",    "PUT",   "DELETE",
                                                     "PATCH", "OPTIONS", "CONNECT", "TRACE", "OTHER"};
constexpr std::string_view kClassNames[kStatusClasses] = {"1xx", "2xx", "3xx", "4xx", "5xx"};

std::atomic<bool> g_compat{false};

std::mutex& Mu() {
  static std::mutex* mu = new std::mutex();
  return *mu;
}

std::string Key(std::string_view ns, std::string_view ingress, std::string_view service) {
  std::string k;
  k.reserve(ns.size() + ingress.size() + service.size() + 2);
  k.append(ns).push_back('\0');
  k.append(ingress).push_back('\0');
  k.append(service);
  return k;
}

}  // namespace

int MethodIndex(std::string_view m) {
  for (int i = 0; i < kMethods - 1; ++i) {
    if (kMethodNames[i] == m) return i;
  }
  return kMethods - 1;
}

std::string_view MethodName(int index) {
  return kMethodNames[index >= 0 && index < kMethods ? index : kMethods - 1];
}

int StatusClassIndex(int status) {
  if (status >= 100 && status < 600) return status / 100 - 1;
  return kStatusClasses - 1;
}

void SetNginxCompat(bool on) { g_compat.store(on); }
bool NginxCompat() { return g_compat.load(std::memory_order_relaxed); }

RouteSeries::RouteSeries(std::string ns, std::string ingress, std::string service)
    : ns_(std::move(ns)), ingress_(std::move(ingress)), service_(std::move(service)) {
  auto& reg = metrics::Registry::Default();
  auto labels = BaseLabels();
  const auto bounds = metrics::DefaultDurationBounds();
  duration = reg.AddHistogram("keel_http_request_duration_seconds",
                              "Time from the request head to the end of the response, by route", labels,
                              bounds, 1e-9);
  upstream_duration = reg.AddHistogram(
      "keel_http_upstream_duration_seconds",
      "Time from sending to the upstream to the end of its response, by route", labels, bounds, 1e-9);
  bytes_in = reg.AddCounter("keel_http_request_bytes_total",
                            "Request bytes received (head and body), by route", labels);
  bytes_out = reg.AddCounter("keel_http_response_bytes_total",
                             "Response bytes sent (head and body), by route", labels);
  if (NginxCompat()) {
    metrics::Labels nl = {{"namespace", ns_}, {"ingress", ingress_}, {"service", service_}};
    reg.AliasHistogram(duration, "nginx_ingress_controller_request_duration_seconds",
                       "The request processing time in seconds (ingress-nginx compatible)", nl);
    reg.AliasHistogram(
        upstream_duration, "nginx_ingress_controller_response_duration_seconds",
        "The time spent on receiving the response from the upstream (ingress-nginx compatible)", nl);
  }
}

metrics::Labels RouteSeries::BaseLabels() const {
  return {{"namespace", ns_}, {"ingress", ingress_}, {"service", service_}};
}

RouteSeries* RouteSeries::Get(std::string_view ns, std::string_view ingress, std::string_view service) {
  static auto* all = new std::map<std::string, std::unique_ptr<RouteSeries>>();
  std::lock_guard<std::mutex> lock(Mu());
  auto& slot = (*all)[Key(ns, ingress, service)];
  if (!slot) slot.reset(new RouteSeries(std::string(ns), std::string(ingress), std::string(service)));
  return slot.get();
}

RouteSeries* RouteSeries::ForThisThread(std::string_view ns, std::string_view ingress,
                                        std::string_view service) {
  thread_local std::unordered_map<std::string, RouteSeries*> cache;
  thread_local std::string key;
  key.clear();
  key.append(ns).push_back('\0');
  key.append(ingress).push_back('\0');
  key.append(service);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  RouteSeries* s = Get(ns, ingress, service);
  cache.emplace(key, s);
  return s;
}

void RouteSeries::CountRequest(int method, int status_class) {
  if (method < 0 || method >= kMethods) method = kMethods - 1;
  if (status_class < 0 || status_class >= kStatusClasses) status_class = kStatusClasses - 1;
  if (!ready_[method][status_class].load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> lock(Mu());
    if (!ready_[method][status_class].load(std::memory_order_relaxed)) {
      auto& reg = metrics::Registry::Default();
      auto labels = BaseLabels();
      labels.emplace_back("method", std::string(kMethodNames[method]));
      labels.emplace_back("status_class", std::string(kClassNames[status_class]));
      requests_[method][status_class] = reg.AddCounter(
          "keel_http_requests_total", "Requests answered, by route, method and status class", labels);
      if (NginxCompat()) {
        reg.AliasCounter(requests_[method][status_class], "nginx_ingress_controller_requests",
                         "The total number of client requests (ingress-nginx compatible; status is a class)",
                         {{"namespace", ns_},
                          {"ingress", ingress_},
                          {"service", service_},
                          {"method", std::string(kMethodNames[method])},
                          {"status", std::string(kClassNames[status_class])}});
      }
      ready_[method][status_class].store(true, std::memory_order_release);
    }
  }
  requests_[method][status_class].Inc();
}

}  // namespace keel::observe
