// Field helpers a proxy needs around the parser: case-insensitive compare, the
// hop-by-hop list (RFC 9110 §7.6.1) plus the names a Connection field adds to it,
// and reason phrases / status lines for the responses the proxy writes itself.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "dataplane/http1/chars.h"
#include "dataplane/http1/types.h"

namespace keel::http1 {

// ASCII case-insensitive equality; never allocates, ignores locale.
inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (internal::kLower[internal::U8(a[i])] != internal::kLower[internal::U8(b[i])]) return false;
  }
  return true;
}

// True for the fields RFC 9110 §7.6.1 says apply to one connection only: connection,
// keep-alive, proxy-connection, te, trailer, transfer-encoding, upgrade,
// proxy-authenticate, proxy-authorization. Any case is accepted.
bool IsHopByHop(std::string_view name);

// The options listed in Connection fields (RFC 9110 §7.6.1: `Connection: close, X-Foo`
// makes X-Foo hop-by-hop too). Views point into the parsed head. Fixed capacity, so a
// list longer than kMaxTokens is rejected rather than allocated; the head parsers
// answer such a message 400, so a head they returned Done for always fits.
class ConnectionTokens {
 public:
  static constexpr size_t kMaxTokens = 16;

  // Adds the options of one Connection field value (#token: comma-separated, OWS
  // around elements, empty elements ignored). False if an element is not a token or
  // the list overflows; the tokens added before the failure stay.
  bool Add(std::string_view field_value);
  // Adds every Connection field of a parsed head.
  bool AddAll(std::span<const Header> headers);
  bool Contains(std::string_view name) const;  // case-insensitive
  std::span<const std::string_view> tokens() const { return {tokens_.data(), size_}; }

 private:
  std::array<std::string_view, kMaxTokens> tokens_{};
  size_t size_ = 0;
};

// What a proxy drops before forwarding a field: IsHopByHop or listed in Connection.
// Apply it to the received fields only, before adding the proxy's own.
inline bool ShouldDropOnForward(std::string_view name, const ConnectionTokens& connection) {
  return IsHopByHop(name) || connection.Contains(name);
}

// "OK", "Not Found", ... for the registered codes (RFC 9110 §15); "" for others.
std::string_view ReasonPhrase(int status);

// Appends "HTTP/1.<minor> <status> <reason>\r\n". `status` must be 100..999.
void AppendStatusLine(std::string* out, int status, int minor_version = 1);

}  // namespace keel::http1
