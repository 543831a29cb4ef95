// Host and path rules of Ingress v1 as we implement them (README.md, "Hosts" and
// "Paths"): host validation and normalisation, and the decision of how a rule path
// matches (Exact, element-wise Prefix, or an RE2 regex).
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "keel/config/v1/config.pb.h"

namespace keel::translate {

// A lower-cased RFC 1123 host name or a "*.suffix" wildcard (one leftmost label).
// Errors: IP literals, a port, bad characters, empty labels, a wildcard not leftmost.
Result<std::string> NormalizeHost(std::string_view host);

// "*.b.c" for "a.b.c"; empty for wildcards and single-label hosts.
std::string WildcardParent(std::string_view host);

// True when `path` holds a regex metacharacter: ^ $ * + ? ( ) [ ] { } | or backslash.
// '.' alone does not count: "/file.txt" is a literal path.
bool HasRegexMeta(std::string_view path);

struct PathMatch {
  config::v1::RouteMatch::PathKind kind = config::v1::RouteMatch::PREFIX;
  std::string path;               // Prefix: trailing '/' removed ("/" stays); Regex: leading '^' removed
  int capture_groups = 0;         // Regex only
  bool looks_like_regex = false;  // a literal path with regex metacharacters
};

struct PathResult {
  bool ok = false;
  PathMatch match;
  std::string reason;  // InvalidPathType, InvalidPath, InvalidRegex
  std::string message;
};

// `regex_mode`: the Ingress asked for regexes (use-regex, or a rewrite-target with
// capture groups). ImplementationSpecific is a regex when the path has metacharacters
// or regex_mode is on, else Prefix; Prefix is a regex only when regex_mode is on and
// the path has metacharacters (ingress-nginx treats such paths as regexes; manifests
// migrating from it depend on that); Exact is always literal.
PathResult ResolvePath(std::string_view path, std::string_view path_type, bool regex_mode);

}  // namespace keel::translate
