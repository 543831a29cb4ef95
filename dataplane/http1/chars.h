// Byte classes of RFC 9110 §5.6.2 / RFC 9112 §2-3 as constexpr 256-entry tables, so the
// parser's hot loops cost one load and one branch per byte (no locale, no <cctype>).
#pragma once

#include <array>
#include <cstdint>

namespace keel::http1::internal {

template <typename Pred>
constexpr std::array<bool, 256> MakeTable(Pred pred) {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = pred(static_cast<unsigned char>(c));
  return t;
}

constexpr bool IsAlpha(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }

// tchar (RFC 9110 §5.6.2): the characters of methods, field names and list tokens.
inline constexpr auto kTchar = MakeTable([](unsigned char c) {
  if (IsAlpha(c) || IsDigit(c)) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
});

// Bytes a head line may hold anywhere: HTAB, SP, VCHAR and obs-text (RFC 9110 §5.5).
// CR, LF, NUL, the other CTLs and DEL are not; the scanner handles CR/LF itself.
inline constexpr auto kLineByte =
    MakeTable([](unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); });

// request-target bytes: VCHAR except '#' (a fragment is never sent, RFC 9112 §3.2).
// Deliberately wider than RFC 3986 ("{|}^`\"<>\\" pass) because browsers and
// curl send them unescaped in queries; SP, CTLs and obs-text are rejected.
inline constexpr auto kTargetByte =
    MakeTable([](unsigned char c) { return c > 0x20 && c < 0x7f && c != '#'; });

// Host name bytes we accept (DNS names and IPv4): deliberately narrower than
// RFC 3986 reg-name, whose sub-delims ("," ";" "=" ...) only serve host confusion.
inline constexpr auto kHostByte = MakeTable(
    [](unsigned char c) { return IsAlpha(c) || IsDigit(c) || c == '-' || c == '.' || c == '_' || c == '~'; });

// Inside the brackets of an IP-literal: IPv6 (hex, ':', '.' for the IPv4 tail).
inline constexpr auto kIpLiteralByte = MakeTable([](unsigned char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.';
});

// qdtext and quoted-pair bytes of a quoted-string (RFC 9110 §5.6.4).
inline constexpr auto kQdtext = MakeTable([](unsigned char c) {
  return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) ||
         c >= 0x80;
});
inline constexpr auto kQuotedPairByte =
    MakeTable([](unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); });

inline constexpr auto kLower = [] {
  std::array<unsigned char, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = static_cast<unsigned char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  return t;
}();

// -1 when not a hex digit.
inline constexpr auto kHexValue = [] {
  std::array<int8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    t[c] = c >= '0' && c <= '9'   ? static_cast<int8_t>(c - '0')
           : c >= 'a' && c <= 'f' ? static_cast<int8_t>(c - 'a' + 10)
           : c >= 'A' && c <= 'F' ? static_cast<int8_t>(c - 'A' + 10)
                                  : int8_t{-1};
  }
  return t;
}();

inline constexpr unsigned char U8(char c) { return static_cast<unsigned char>(c); }

}  // namespace keel::http1::internal
