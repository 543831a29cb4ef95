// CORS at the proxy (nginx enable-cors semantics, Fetch standard §3.2): preflights
// from an allowed origin are answered here with 204 and never reach the upstream;
// actual requests from an allowed origin get the allow/expose headers on the response.
// Requests from other origins pass untouched (as ingress-nginx does): the browser then
// blocks the response, the server is not asked to.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "keel/config/v1/config.pb.h"

namespace keel::policy {

// Lower-case name and value; lower-case so the same list serves HTTP/1 and HTTP/2.
struct Field {
  std::string name;
  std::string value;
};
using Fields = std::vector<Field>;

// True when `origin` is allowed by one of `allowed`: "*", an exact origin
// ("https://a.example", scheme and host compared case-insensitively) or a wildcard
// ("https://*.example.com" matches any subdomain, not example.com itself).
bool OriginAllowed(const google::protobuf::RepeatedPtrField<std::string>& allowed, std::string_view origin);

struct CorsOutcome {
  bool preflight = false;  // answer 204 with `fields`, do not forward
  Fields fields;           // preflight: the answer's headers; else: add to the response
};

// `origin` empty when the request has none. `request_method` is
// Access-Control-Request-Method (empty when absent).
CorsOutcome EvaluateCors(const keel::config::v1::CorsPolicy& cors, std::string_view method,
                         std::string_view origin, std::string_view request_method);

}  // namespace keel::policy
