// ApiStatus: what a failed API call means, read from the metav1.Status body the
// server sends with 4xx/5xx replies (and inside watch ERROR events), e.g.
//   {"kind":"Status","status":"Failure","reason":"Conflict","code":409,"message":"..."}
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

namespace keel::k8s {

enum class Reason {
  kNone,           // 2xx
  kUnauthorized,   // 401: the token is wrong or expired
  kForbidden,      // 403: no token, or RBAC denies
  kNotFound,       // 404
  kConflict,       // 409 Conflict: stale resourceVersion, re-read and retry
  kAlreadyExists,  // 409 AlreadyExists
  kExpired,        // 410: resourceVersion / continue token too old, relist
  kInvalid,        // 422: the object fails validation
  kTooManyRequests,
  kServerError,  // 5xx
  kOther,
};

struct ApiStatus {
  int code = 0;
  Reason reason = Reason::kNone;
  std::string reason_text;  // the Status "reason" as sent ("NotFound"), or the HTTP code
  std::string message;      // the Status "message", or the raw body for non-Status replies

  // "HTTP 409 Conflict: Operation cannot be fulfilled on ingresses ..."
  std::string Describe() const;
};

// `body` may be null or a non-Status document; the HTTP code then decides.
ApiStatus ParseStatus(int http_code, const nlohmann::json& body);

}  // namespace keel::k8s
