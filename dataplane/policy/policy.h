// Route policy evaluation: the one call a connection makes after the route decision
// and before forwarding. Order follows nginx's phases: a CORS preflight is answered
// first (rewrite phase), then the request limits (preaccess), then basic
// authentication (access; basic_auth.h). A local answer carries the CORS headers too, so a browser can read a
// 429.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/result.h"
#include "dataplane/http1/types.h"
#include "dataplane/policy/basic_auth.h"
#include "dataplane/policy/cors.h"
#include "dataplane/policy/limits.h"
#include "keel/config/v1/config.pb.h"

namespace keel::policy {

// What the policies look at, as views into the request head.
struct RequestFacts {
  std::string_view method;
  std::string_view origin;          // Origin
  std::string_view request_method;  // Access-Control-Request-Method
  std::string_view client_ip;
  std::string_view authorization;  // Authorization (the first one)
};
RequestFacts Facts(std::span<const http1::Header> fields, std::string_view method,
                   std::string_view client_ip);

// The outcome for one request; kept by the connection until the response is done
// (the lease is its in-flight slot). Reused across requests of a connection.
struct Verdict {
  int status = 0;          // non-zero: answer locally with this, do not forward
  std::string body;        // local answer's body
  Fields fields;           // local answer's extra headers
  Fields response_fields;  // forwarded: added to the upstream's response head
  Lease lease;
  void Reset();
};

// HTTP/1 text of `fields`: "name: value\r\n" each.
void AppendHttp1(const Fields& fields, std::string* out);

// Checks what the dataplane would otherwise put on the wire verbatim: header names are
// tokens and values have no CR, LF or NUL (a NACK rather than response splitting).
// Basic auth entries must all be "user:hash" with a hash this dataplane verifies
// (common/htpasswd.h); anything else is a NACK, never a route served open.
Status Validate(const keel::config::v1::RoutePolicy& policy);

// Per-worker state (rate buckets, in-flight counts); see limits.h for why per worker.
class WorkerPolicy {
 public:
  explicit WorkerPolicy(uint32_t workers) : rate_(workers), inflight_(workers) {}
  // The limits' scope is the route's Ingress (`ns`, `ingress`), as nginx keeps one
  // zone per Ingress. Returns true when `out` says to answer locally.
  bool Evaluate(const keel::config::v1::RoutePolicy& policy, std::string_view ns, std::string_view ingress,
                const RequestFacts& req, uint64_t now_ms, Verdict* out);

  const RateLimiter& rate() const { return rate_; }
  const ConcurrencyLimiter& inflight() const { return inflight_; }
  const BasicAuth& auth() const { return auth_; }
  // A new full snapshot is live on this worker: drop verified credentials.
  void NewSnapshot() { auth_.Clear(); }

 private:
  RateLimiter rate_;
  ConcurrencyLimiter inflight_;
  BasicAuth auth_;
  std::string key_;  // scratch: namespace '/' ingress '\0' client address
};

}  // namespace keel::policy
