// Request-target helpers for routing: path normalisation (what the router matches on
// and what is forwarded), query stripping, element-wise prefix comparison, and Host
// header normalisation.
//
// Matching contract: the router compares the *normalised* path. The proxy calls
// NormalizePath once per request, routes on the result and forwards the same bytes
// upstream, so the route decision and the backend see one path. Matching the raw path
// would let "/public/%2e%2e/admin" or "/public/../admin" slip past a "/admin" rule
// that the backend then resolves (the path-confusion class behind Envoy's
// normalize_path default and CVE-2019-9901).
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace keel::router {

struct NormalizeOptions {
  // Collapse "//" into "/" (Envoy's merge_slashes; off by default because some backends
  // give empty segments meaning).
  bool merge_slashes = false;
};

// Normalises an origin-form request target into `out` (replacing its contents; reuse
// one string per worker and it stops allocating once warm):
//  1. Percent-encodings of unreserved characters (ALPHA DIGIT - . _ ~) are decoded and
//     every other percent-encoding gets upper-case hex (RFC 3986 §6.2.2.1, §6.2.2.2).
//     "%2F" stays encoded: decoding it would change the path's structure.
//  2. Dot segments are removed (RFC 3986 §5.2.4), after decoding, so "%2e%2e" counts.
//  3. Optionally, empty segments are merged.
// The query ("?..." onwards) is copied unchanged. Fails (answer 400) if the target does
// not start with '/' or carries a malformed percent-encoding.
Status NormalizePath(std::string_view target, std::string* out, NormalizeOptions options = {});

// The path without its query.
inline std::string_view StripQuery(std::string_view target) {
  const size_t q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

// Ingress "Prefix" semantics: `prefix` has no trailing '/' ("" stands for "/", which
// matches everything); `path` matches when it equals `prefix` or continues with '/'.
inline bool PathPrefixMatches(std::string_view prefix, std::string_view path) {
  if (prefix.empty()) return true;
  if (path.size() < prefix.size() || path.compare(0, prefix.size(), prefix) != 0) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '/';
}

// Host header / :authority → the name vhosts are keyed by, written into `buf`: port
// stripped ("[v6]:port" keeps its brackets), one trailing dot dropped, ASCII
// lower-cased. No allocation. False if longer than kMaxHost (no vhost can match).
constexpr size_t kMaxHost = 255;
bool NormalizeHost(std::string_view host, char (&buf)[kMaxHost], std::string_view* out);

// Whether `name` is a valid VirtualHost name: a lower-case DNS-1123 subdomain, or
// "*." followed by one. Sets `why` when not.
bool ValidVirtualHostName(std::string_view name, std::string* why);

}  // namespace keel::router
