// The parts of head parsing that requests and responses share: the line scanner,
// field-line syntax and the one-pass summary of the framing fields.
#include <algorithm>
#include <cstring>

#include "dataplane/http1/internal.h"

namespace keel::http1::internal {
namespace {

// True if any byte of the 8 at p is a CTL (< 0x20, so HTAB too) or DEL: the
// "hasless"/"haszero" bit tricks, exact for "any". A word at a time took bench_http1's
// 393-byte head from ~305 to ~245 ns of CPU; a hit falls back to the byte table.
inline bool WordHasCtl(const char* p) {
  constexpr uint64_t k01 = 0x0101010101010101ull;
  constexpr uint64_t k80 = 0x8080808080808080ull;
  uint64_t x;
  std::memcpy(&x, p, sizeof x);
  const uint64_t below_space = (x - k01 * 0x20) & ~x & k80;
  const uint64_t y = x ^ (k01 * 0x7f);
  const uint64_t del = (y - k01) & ~y & k80;
  return (below_space | del) != 0;
}

}  // namespace

LineEvent HeadScanner::Next(std::string_view* line) {
  const char* p = buf_.data();
  const size_t n = buf_.size();
  // Every limit is a byte index past which nothing may appear, checked where the scan
  // reaches it, so incomplete input is held to the same bounds as complete input.
  size_t end = std::min(n, config_.max_head);
  const bool start_line = !cur_.start_seen;
  const size_t start_line_end = config_.max_start_line > SIZE_MAX - cur_.line_start
                                    ? SIZE_MAX
                                    : cur_.line_start + config_.max_start_line;
  if (start_line) end = std::min(end, start_line_end);

  size_t i = cur_.pos;
  while (i + 8 <= end && !WordHasCtl(p + i)) i += 8;
  while (i < end && kLineByte[U8(p[i])]) ++i;
  if (i == n) {
    cur_.pos = i;
    return LineEvent::kNeedMore;
  }
  if (i >= config_.max_head) return Fail(config_.head_status, "header section too large");
  const unsigned char c = U8(p[i]);
  if (c == '\r') {
    if (i + 1 == n) {
      cur_.pos = i;  // look at this CR again once its LF may have arrived
      return LineEvent::kNeedMore;
    }
    if (i + 1 >= config_.max_head) return Fail(config_.head_status, "header section too large");
    if (p[i + 1] != '\n') return Fail(400, "bare CR");
    *line = std::string_view(p + cur_.line_start, i - cur_.line_start);
    cur_.line_start = cur_.pos = i + 2;
    return LineEvent::kLine;
  }
  if (start_line && i >= start_line_end) {
    return Fail(config_.start_line_status,
                config_.start_line_status == 414 ? "request line too long" : "status line too long");
  }
  if (c == '\n') return Fail(400, "bare LF line ending");
  if (c == 0) return Fail(400, "NUL byte");
  return Fail(400, "control character in head");
}

Fault ParseFieldLine(std::string_view line, Header* out) {
  // A line starting with whitespace is obs-fold, or whitespace between the start line
  // and the first field (RFC 9112 §2.2, §5.2): both are rejected rather than unfolded.
  if (line.front() == ' ' || line.front() == '\t') return {400, "obs-fold or leading whitespace"};
  size_t i = 0;
  while (i < line.size() && kTchar[U8(line[i])]) ++i;
  if (i == line.size()) return {400, "field line without colon"};
  if (line[i] != ':') {
    // RFC 9112 §5.1: whitespace before the colon MUST be rejected (smuggling vector).
    if (line[i] == ' ' || line[i] == '\t') return {400, "whitespace before colon"};
    return {400, "invalid field name"};
  }
  if (i == 0) return {400, "empty field name"};
  out->name = line.substr(0, i);
  out->value = TrimOws(line.substr(i + 1));
  return {};
}

bool ParseContentLength(std::string_view value, uint64_t* out) {
  if (value.empty()) return false;
  uint64_t v = 0;
  for (char c : value) {
    if (!IsDigit(U8(c))) return false;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

namespace {

// Codings registered for Transfer-Encoding (RFC 9112 §7, RFC 9110 §8.4.1).
bool IsRegisteredCoding(std::string_view name) {
  return EqualsIgnoreCase(name, "gzip") || EqualsIgnoreCase(name, "deflate") ||
         EqualsIgnoreCase(name, "compress") || EqualsIgnoreCase(name, "x-gzip") ||
         EqualsIgnoreCase(name, "x-compress");
}

void AddTransferCodings(std::string_view value, FieldSummary* s) {
  s->te_present = true;
  ForEachListElement(value, [s](std::string_view element) {
    std::string_view name = element;
    bool has_params = false;
    if (size_t semi = element.find(';'); semi != std::string_view::npos) {
      name = TrimOws(element.substr(0, semi));
      has_params = true;
    }
    if (!IsToken(name)) {
      s->te_malformed = true;
      return false;
    }
    ++s->te_codings;
    s->te_last_chunked = EqualsIgnoreCase(name, "chunked");
    if (s->te_last_chunked) {
      ++s->te_chunked;
      if (has_params) s->te_malformed = true;  // chunked defines no parameters
    } else if (has_params || !IsRegisteredCoding(name)) {
      s->te_unknown = true;
    } else {
      s->te_other = true;
    }
    return !s->te_malformed;
  });
}

}  // namespace

void Summarize(std::span<const Header> headers, FieldSummary* s) {
  for (const Header& h : headers) {
    // Dispatch on the name's length so most fields cost one switch.
    switch (h.name.size()) {
      case 4:
        if (EqualsIgnoreCase(h.name, "host")) {
          ++s->host_count;
          s->host = h.value;
        }
        break;
      case 6:
        if (EqualsIgnoreCase(h.name, "expect")) {
          ForEachListElement(h.value, [s](std::string_view e) {
            ++(EqualsIgnoreCase(e, "100-continue") ? s->expect_continue : s->expect_other);
            return true;
          });
          if (TrimOws(h.value).empty()) ++s->expect_other;
        }
        break;
      case 7:
        if (EqualsIgnoreCase(h.name, "upgrade")) {
          ++s->upgrade_count;
          s->upgrade = h.value;
        }
        break;
      case 10:
        if (EqualsIgnoreCase(h.name, "connection") && !s->connection.Add(h.value)) {
          s->connection_malformed = true;
        }
        break;
      case 14:
        if (EqualsIgnoreCase(h.name, "content-length")) {
          ++s->content_length_count;
          s->content_length = h.value;
        } else if (EqualsIgnoreCase(h.name, "http2-settings")) {
          ++s->http2_settings_count;
        }
        break;
      case 17:
        if (EqualsIgnoreCase(h.name, "transfer-encoding")) AddTransferCodings(h.value, s);
        break;
      default:
        break;
    }
  }
}

bool IsProtocolList(std::string_view list) {
  int count = 0;
  bool ok = ForEachListElement(list, [&count](std::string_view protocol) {
    ++count;
    size_t slash = protocol.find('/');
    if (slash == std::string_view::npos) return IsToken(protocol);
    return IsToken(protocol.substr(0, slash)) && IsToken(protocol.substr(slash + 1));
  });
  return ok && count > 0;
}

bool ListContains(std::string_view list, std::string_view token) {
  return !ForEachListElement(list, [token](std::string_view e) { return !EqualsIgnoreCase(e, token); });
}

}  // namespace keel::http1::internal
