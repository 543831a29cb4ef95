// Request heads: the request line and its target forms (RFC 9112 §3), then the
// message-level rules that decide framing (Host, Content-Length, Transfer-Encoding,
// Connection, Upgrade, Expect).
#include <algorithm>

#include "dataplane/http1/internal.h"

namespace keel::http1 {
namespace {

using internal::Fault;
using internal::U8;

constexpr std::string_view kH2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

// "HTTP/" DIGIT "." DIGIT, case-sensitive (RFC 9112 §2.3).
Fault ParseVersion(std::string_view v, int* minor) {
  if (v.size() != 8 || v.substr(0, 5) != "HTTP/" || !internal::IsDigit(U8(v[5])) || v[6] != '.' ||
      !internal::IsDigit(U8(v[7]))) {
    return {400, "invalid HTTP version"};
  }
  if (v[5] != '1' || v[7] > '1') return {505, "HTTP version not supported"};
  *minor = v[7] - '0';
  return {};
}

bool IsValidPort(std::string_view port) {
  if (port.empty() || port.size() > 5) return false;
  uint64_t v = 0;
  return internal::ParseContentLength(port, &v) && v >= 1 && v <= 65535;
}

// uri-host [ ":" port ] with the narrowed host charset of chars.h; no userinfo.
bool IsValidAuthority(std::string_view a, bool require_port) {
  size_t i = 0;
  if (!a.empty() && a.front() == '[') {
    size_t close = a.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    for (size_t j = 1; j < close; ++j) {
      if (!internal::kIpLiteralByte[U8(a[j])]) return false;
    }
    i = close + 1;
  } else {
    while (i < a.size() && internal::kHostByte[U8(a[i])]) ++i;
    if (i == 0) return false;
  }
  if (i == a.size()) return !require_port;
  return a[i] == ':' && IsValidPort(a.substr(i + 1));
}

bool HasValidPercentEncoding(std::string_view target) {
  for (size_t i = target.find('%'); i != std::string_view::npos; i = target.find('%', i + 1)) {
    if (i + 2 >= target.size() || internal::kHexValue[U8(target[i + 1])] < 0 ||
        internal::kHexValue[U8(target[i + 2])] < 0) {
      return false;
    }
  }
  return true;
}

void SplitPathQuery(std::string_view s, RequestHead* out) {
  size_t q = s.find('?');
  out->path = s.substr(0, q);
  out->query = q == std::string_view::npos ? std::string_view() : s.substr(q + 1);
}

Fault ParseTarget(RequestHead* out) {
  std::string_view t = out->target;
  const bool connect = out->method == "CONNECT";
  if (connect) {
    // authority-form (RFC 9112 §3.2.3) is the only form CONNECT may use.
    if (!IsValidAuthority(t, /*require_port=*/true)) return {400, "invalid CONNECT target"};
    out->host = t;
    return {};
  }
  if (!HasValidPercentEncoding(t)) return {400, "invalid percent-encoding in request-target"};
  if (t.front() == '/') {
    SplitPathQuery(t, out);
    return {};
  }
  if (t == "*") {
    if (out->method != "OPTIONS") return {400, "asterisk-form is only for OPTIONS"};
    out->path = t;
    return {};
  }
  // absolute-form (RFC 9112 §3.2.2): only http and https, and no userinfo (deprecated
  // by RFC 9110 §4.2.4 and a classic host-confusion vector).
  size_t sep = t.find("://");
  if (sep == std::string_view::npos) return {400, "invalid request-target form"};
  std::string_view scheme = t.substr(0, sep);
  if (!EqualsIgnoreCase(scheme, "http") && !EqualsIgnoreCase(scheme, "https")) {
    return {400, "unsupported scheme in absolute-form"};
  }
  std::string_view rest = t.substr(sep + 3);
  size_t auth_end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, auth_end);
  if (!IsValidAuthority(authority, /*require_port=*/false))
    return {400, "invalid authority in request-target"};
  out->host = authority;
  out->absolute_form = true;
  if (auth_end == std::string_view::npos || rest[auth_end] == '?') {
    out->path = "/";  // RFC 9112 §3.2.1: an empty path is sent as "/"
    out->query = auth_end == std::string_view::npos ? std::string_view() : rest.substr(auth_end + 1);
  } else {
    SplitPathQuery(rest.substr(auth_end), out);
  }
  return {};
}

// request-line = method SP request-target SP HTTP-version, single spaces only.
Fault ParseRequestLine(std::string_view line, RequestHead* out) {
  size_t i = 0;
  while (i < line.size() && internal::kTchar[U8(line[i])]) ++i;
  if (i == 0 || i == line.size() || line[i] != ' ') return {400, "invalid method"};
  const size_t t = i + 1;
  size_t j = t;
  while (j < line.size() && internal::kTargetByte[U8(line[j])]) ++j;
  if (j == t || j == line.size() || line[j] != ' ') return {400, "invalid request-target"};
  int minor = 1;
  if (Fault f = ParseVersion(line.substr(j + 1), &minor)) return f;
  out->method = line.substr(0, i);
  out->target = line.substr(t, j - t);
  out->minor_version = minor;
  out->path = out->query = out->host = {};
  out->absolute_form = false;
  return ParseTarget(out);
}

// Message-level rules, in a fixed order so every input has exactly one answer.
Fault Analyze(const Limits& limits, RequestHead* out) {
  internal::FieldSummary s;
  internal::Summarize(out->fields(), &s);
  const bool http11 = out->minor_version == 1;

  // RFC 9112 §3.2: one Host, valid, present in HTTP/1.1.
  if (s.host_count > 1) return {400, "multiple Host fields"};
  if (s.host_count == 0 && http11) return {400, "missing Host field"};
  if (s.host_count == 1 && !s.host.empty() && !IsValidAuthority(s.host, false))
    return {400, "invalid Host field"};
  if (!out->absolute_form && out->method != "CONNECT") out->host = s.host;

  // RFC 9112 §6.1 and §6.3: the framing checks that stop request smuggling.
  if (s.te_present && !http11) return {400, "Transfer-Encoding in HTTP/1.0 request"};
  if (s.te_present && s.content_length_count > 0) return {400, "both Content-Length and Transfer-Encoding"};
  if (s.content_length_count > 1) return {400, "multiple Content-Length fields"};
  out->body = BodyKind::None;
  out->content_length = 0;
  if (s.content_length_count == 1) {
    if (!internal::ParseContentLength(s.content_length, &out->content_length)) {
      return {400, "invalid Content-Length"};
    }
    if (out->content_length > limits.max_body_bytes) return {413, "body larger than allowed"};
    out->body = BodyKind::ContentLength;
  }
  if (s.te_present) {
    if (s.te_malformed) return {400, "malformed Transfer-Encoding"};
    if (s.te_codings == 0) return {400, "empty Transfer-Encoding"};
    if (!s.te_last_chunked) return {400, "final transfer-coding is not chunked"};
    if (s.te_chunked > 1) return {400, "chunked applied more than once"};
    if (s.te_unknown) return {501, "unknown transfer-coding"};
    if (s.te_other) return {501, "transfer-coding not implemented"};
    out->body = BodyKind::Chunked;
  }

  if (s.connection_malformed) return {400, "malformed Connection field"};
  if (s.upgrade_count > 1) return {400, "multiple Upgrade fields"};
  if (s.upgrade_count == 1 && !internal::IsProtocolList(s.upgrade)) return {400, "malformed Upgrade field"};
  if (http11 && s.expect_other > 0) return {417, "unsupported expectation"};
  if (out->method == "CONNECT") return {405, "CONNECT is not supported"};

  const bool close = s.connection.Contains("close");
  out->keep_alive = !close && (http11 || s.connection.Contains("keep-alive"));
  out->expect_continue = http11 && s.expect_continue > 0;
  // RFC 9110 §7.8: Upgrade in an HTTP/1.0 request is ignored.
  out->upgrade = http11 && s.upgrade_count == 1 && s.connection.Contains("upgrade");
  out->upgrade_protocol = out->upgrade ? s.upgrade : std::string_view();
  out->h2c_upgrade = out->upgrade && internal::ListContains(s.upgrade, "h2c") &&
                     s.http2_settings_count == 1 && s.connection.Contains("http2-settings");
  return {};
}

ParseResult Scan(std::string_view buf, const Limits& limits, RequestHead* out, ParseHint* cursor) {
  const internal::ScanConfig config{limits.max_request_line,
                                    limits.max_header_bytes,
                                    std::min(limits.max_headers, kMaxHeaders),
                                    414,
                                    431,
                                    /*skip_leading_empty_lines=*/true};
  return internal::ScanHead(buf, config, cursor, out->headers.data(), &out->num_headers,
                            [out](std::string_view line) { return ParseRequestLine(line, out); });
}

}  // namespace

ParseResult ParseRequestHead(std::string_view buf, const Limits& limits, RequestHead* out, ParseHint* hint) {
  ParseHint local;
  ParseHint& cursor = hint != nullptr ? *hint : local;
  if (cursor.pos > buf.size() || cursor.line_start > cursor.pos) cursor = ParseHint{};  // misuse: rescan
  const bool resumed = cursor.pos > 0;
  if (!resumed) {
    // The h2 prior-knowledge preface (RFC 9113 §3.3) would otherwise get a 505.
    const size_t n = std::min(buf.size(), kH2Preface.size());
    if (buf.substr(0, n) == kH2Preface.substr(0, n)) {
      if (n < kH2Preface.size()) return {ParseStatus::NeedMore, 0, 0, {}};
      return {ParseStatus::H2Preface, 0, 0, {}};
    }
  }
  ParseResult r = Scan(buf, limits, out, &cursor);
  if (r.status == ParseStatus::Done && resumed) {
    // Lines seen by earlier calls may point into a buffer that has since moved.
    ParseHint fresh;
    r = Scan(buf, limits, out, &fresh);
  }
  if (r.status == ParseStatus::Done) {
    if (Fault f = Analyze(limits, out)) r = internal::ToResult(f);
  }
  if (r.status != ParseStatus::NeedMore) cursor = ParseHint{};
  return r;
}

}  // namespace keel::http1
