// Host validation and path-match decisions (see hosts_paths.h and README.md).
#include "controller/translate/hosts_paths.h"

#include <re2/re2.h>

#include "controller/translate/values.h"

namespace keel::translate {
namespace {

using config::v1::RouteMatch;

bool ValidLabel(std::string_view label) {
  if (label.empty() || label.size() > 63) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  for (char c : label) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

bool AllDigitsAndDots(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || c == '.')) return false;
  }
  return true;
}

}  // namespace

Result<std::string> NormalizeHost(std::string_view raw) {
  std::string host = Lower(raw);
  if (host.empty()) return Error{"host is empty"};
  if (host.size() > 253) return Error{"host \"" + host + "\" is longer than 253 characters"};
  if (host.find(':') != std::string::npos || host.find('[') != std::string::npos) {
    return Error{"host \"" + host + "\" must be a DNS name, not an IP address or host:port"};
  }
  if (IsIpLiteral(host) || AllDigitsAndDots(host)) {
    return Error{"host \"" + host + "\" must be a DNS name, not an IP address"};
  }
  std::string_view rest = host;
  if (rest.rfind("*.", 0) == 0) {
    rest.remove_prefix(2);
  } else if (host.find('*') != std::string::npos) {
    return Error{"host \"" + host + "\": a wildcard must be the whole leftmost label (\"*.example.com\")"};
  }
  if (rest.empty()) return Error{"host \"" + host + "\": wildcard without a domain"};
  while (true) {
    size_t dot = rest.find('.');
    std::string_view label = rest.substr(0, dot);
    if (label == "*") {
      return Error{"host \"" + host + "\": a wildcard must be the whole leftmost label (\"*.example.com\")"};
    }
    if (!ValidLabel(label)) {
      return Error{"host \"" + host + "\" is not a valid DNS name (labels: a-z, 0-9, '-', 1-63 characters)"};
    }
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  return host;
}

std::string WildcardParent(std::string_view host) {
  if (host.empty() || host[0] == '*') return {};
  size_t dot = host.find('.');
  if (dot == std::string_view::npos) return {};
  return "*" + std::string(host.substr(dot));
}

bool HasRegexMeta(std::string_view path) {
  return path.find_first_of("^$*+?()[]{}|\\") != std::string_view::npos;
}

PathResult ResolvePath(std::string_view path, std::string_view path_type, bool regex_mode) {
  PathResult r;
  bool exact = path_type == "Exact";
  bool prefix = path_type == "Prefix";
  bool impl = path_type == "ImplementationSpecific";
  if (!exact && !prefix && !impl) {
    r.reason = "InvalidPathType";
    r.message = path_type.empty() ? "pathType is required (Exact, Prefix or ImplementationSpecific)"
                                  : "unknown pathType \"" + std::string(path_type) + "\"";
    return r;
  }
  std::string p(path);
  if (p.empty()) {
    if (!impl) {
      r.reason = "InvalidPath";
      r.message = "path is required for pathType " + std::string(path_type);
      return r;
    }
    p = "/";
  }
  bool regex = !exact && HasRegexMeta(p) && (impl || regex_mode);
  if (regex && p[0] == '^') p.erase(0, 1);  // matches are anchored at the start anyway
  if (p[0] != '/') {
    r.reason = "InvalidPath";
    r.message = "must start with \"/\"";
    return r;
  }
  for (char c : p) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || (!regex && (c == ' ' || c == '#'))) {
      r.reason = "InvalidPath";
      r.message = "contains a control character, a space or '#'";
      return r;
    }
  }
  if (regex) {
    RE2::Options opts;
    opts.set_log_errors(false);
    RE2 re(p, opts);
    if (!re.ok()) {
      r.reason = "InvalidRegex";
      r.message = "is not a valid RE2 regular expression (" + re.error() + ")";
      return r;
    }
    r.match.kind = RouteMatch::REGEX;
    r.match.capture_groups = re.NumberOfCapturingGroups();
    r.match.path = std::move(p);
    r.ok = true;
    return r;
  }
  // Dot segments never match a normalised request path: reject rather than route dead.
  for (std::string_view seg : {"/./", "/../"}) {
    if (p.find(seg) != std::string::npos) {
      r.reason = "InvalidPath";
      r.message = "contains a dot segment (\"/./\" or \"/../\")";
      return r;
    }
  }
  if (p.size() >= 2 && (p.ends_with("/.") || p.ends_with("/.."))) {
    r.reason = "InvalidPath";
    r.message = "contains a dot segment (\"/./\" or \"/../\")";
    return r;
  }
  r.match.looks_like_regex = HasRegexMeta(p);
  if (exact) {
    r.match.kind = RouteMatch::EXACT;
  } else {
    r.match.kind = RouteMatch::PREFIX;
    while (p.size() > 1 && p.back() == '/') p.pop_back();
  }
  r.match.path = std::move(p);
  r.ok = true;
  return r;
}

}  // namespace keel::translate
