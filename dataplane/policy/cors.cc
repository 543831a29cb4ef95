// CORS decisions (see cors.h).
#include "dataplane/policy/cors.h"

#include <algorithm>
#include <cctype>

namespace keel::policy {
namespace {

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

bool IEndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && IEquals(s.substr(s.size() - suffix.size()), suffix);
}

bool Matches(std::string_view pattern, std::string_view origin) {
  if (pattern == "*") return true;
  size_t star = pattern.find("://*.");
  if (star == std::string_view::npos) return IEquals(pattern, origin);
  std::string_view scheme = pattern.substr(0, star + 3);  // "https://"
  std::string_view suffix = pattern.substr(star + 4);     // ".example.com"
  if (origin.size() <= scheme.size() + suffix.size() || !IEquals(origin.substr(0, scheme.size()), scheme))
    return false;
  std::string_view host = origin.substr(scheme.size());
  // One or more labels before the suffix, and nothing that could smuggle a different
  // authority ("https://evil.com/.example.com" is not an origin; origins have no path).
  if (host.find_first_of("/@?#") != std::string_view::npos) return false;
  return IEndsWith(host, suffix) && host.size() > suffix.size();
}

}  // namespace

bool OriginAllowed(const google::protobuf::RepeatedPtrField<std::string>& allowed, std::string_view origin) {
  return std::any_of(allowed.begin(), allowed.end(),
                     [&](const std::string& p) { return Matches(p, origin); });
}

CorsOutcome EvaluateCors(const keel::config::v1::CorsPolicy& cors, std::string_view method,
                         std::string_view origin, std::string_view request_method) {
  CorsOutcome out;
  if (!cors.enabled() || origin.empty()) return out;
  const auto& allowed = cors.allow_origins();
  if (!OriginAllowed(allowed, origin)) return out;
  // "*" cannot be combined with credentials (Fetch §3.2.5): echo the origin then, and
  // say the answer varies by Origin so shared caches keep one copy per origin.
  bool any = std::find(allowed.begin(), allowed.end(), "*") != allowed.end();
  if (any && !cors.allow_credentials()) {
    out.fields.push_back({"access-control-allow-origin", "*"});
  } else {
    out.fields.push_back({"access-control-allow-origin", std::string(origin)});
    out.fields.push_back({"vary", "Origin"});
  }
  if (cors.allow_credentials()) out.fields.push_back({"access-control-allow-credentials", "true"});
  out.preflight = method == "OPTIONS" && !request_method.empty();
  if (out.preflight) {
    if (!cors.allow_methods().empty())
      out.fields.push_back({"access-control-allow-methods", cors.allow_methods()});
    if (!cors.allow_headers().empty())
      out.fields.push_back({"access-control-allow-headers", cors.allow_headers()});
    if (cors.max_age_s()) out.fields.push_back({"access-control-max-age", std::to_string(cors.max_age_s())});
  } else if (!cors.expose_headers().empty()) {
    out.fields.push_back({"access-control-expose-headers", cors.expose_headers()});
  }
  return out;
}

}  // namespace keel::policy
