// Parsers for annotation values: booleans, sizes, durations, CIDRs, redirect URLs and
// header names. Each returns nullopt on anything it does not fully understand.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keel::translate {

std::string Lower(std::string_view s);
std::string_view Trim(std::string_view s);
// Splits on `sep`, trims each item, drops empty items.
std::vector<std::string_view> SplitList(std::string_view s, char sep = ',');

// Go's strconv.ParseBool set, as ingress-nginx reads its annotations:
// 1 t T TRUE true True / 0 f F FALSE false False.
std::optional<bool> ParseBool(std::string_view s);
// Decimal digits only, ≤ max.
std::optional<uint64_t> ParseUint(std::string_view s, uint64_t max = UINT64_MAX);
// nginx size syntax: digits with an optional k/K, m/M, g/G suffix (powers of 1024).
std::optional<uint64_t> ParseSize(std::string_view s);
// Seconds: "30", "30s", "5m", "2h", "1d" (one unit).
std::optional<uint32_t> ParseSeconds(std::string_view s);
// An IPv4/IPv6 address or CIDR, returned canonical ("10.0.0.0/8", "2001:db8::/32");
// a bare address gets /32 or /128. Host bits are kept as written (the dataplane masks).
std::optional<std::string> ParseCidr(std::string_view s);
// True for an IPv4 or IPv6 literal.
bool IsIpLiteral(std::string_view s);

struct RedirectTarget {
  std::string scheme;  // "http" or "https"
  std::string host;    // lower-case
  uint32_t port = 0;   // 0: scheme default
  std::string path;    // path and query as written, "/" when absent
};
// Absolute http(s) URLs only ("https://example.com/x?y").
std::optional<RedirectTarget> ParseRedirectUrl(std::string_view s);

// RFC 9110 §5.6.2 token: the characters a header name may use.
bool IsHeaderName(std::string_view s);

}  // namespace keel::translate
