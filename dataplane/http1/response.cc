// Response heads from upstreams: the status line (RFC 9112 §4) and body framing by
// RFC 9112 §6.3 given the request method. Every fault is a 502 for the client.
#include <algorithm>

#include "dataplane/http1/internal.h"

namespace keel::http1 {
namespace {

using internal::Fault;
using internal::U8;

constexpr Fault Bad(std::string_view reason) { return {502, reason}; }

// status-line = HTTP-version SP status-code SP [ reason-phrase ]. The SP before an
// empty reason is optional here: many servers omit it and it cannot change framing.
Fault ParseStatusLine(std::string_view line, ResponseHead* out) {
  if (line.size() < 12 || line.substr(0, 5) != "HTTP/" || !internal::IsDigit(U8(line[5])) || line[6] != '.' ||
      !internal::IsDigit(U8(line[7])) || line[8] != ' ') {
    return Bad("invalid upstream status line");
  }
  if (line[5] != '1' || line[7] > '1') return Bad("unsupported upstream HTTP version");
  int status = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (!internal::IsDigit(U8(line[i]))) return Bad("invalid upstream status code");
    status = status * 10 + (line[i] - '0');
  }
  if (status < 100 || status > 599) return Bad("invalid upstream status code");
  if (line.size() > 12 && line[12] != ' ') return Bad("invalid upstream status line");
  out->minor_version = line[7] - '0';
  out->status = status;
  // The scanner already limited the reason to HTAB, SP, VCHAR and obs-text.
  out->reason = line.size() > 13 ? line.substr(13) : std::string_view();
  return {};
}

Fault Analyze(const Limits& limits, std::string_view method, ResponseHead* out) {
  internal::FieldSummary s;
  internal::Summarize(out->fields(), &s);
  const bool http11 = out->minor_version == 1;

  // RFC 9112 §6.3 ¶3 lets TE override CL but calls the pair a smuggling sign; refuse it.
  if (s.te_present && s.content_length_count > 0)
    return Bad("upstream sent Content-Length and Transfer-Encoding");
  if (s.te_present && !http11) return Bad("upstream sent Transfer-Encoding in HTTP/1.0");
  if (s.content_length_count > 1) return Bad("upstream sent multiple Content-Length fields");
  uint64_t length = 0;
  if (s.content_length_count == 1 && !internal::ParseContentLength(s.content_length, &length)) {
    return Bad("upstream sent invalid Content-Length");
  }
  // Only plain chunked is decodable; anything else would reach the client with a
  // transfer coding we stripped the announcement of.
  if (s.te_present && (s.te_malformed || s.te_codings != 1 || s.te_chunked != 1)) {
    return Bad("upstream sent unsupported Transfer-Encoding");
  }
  if (s.connection_malformed) return Bad("upstream sent malformed Connection field");
  if (s.upgrade_count > 1) return Bad("upstream sent multiple Upgrade fields");

  const int st = out->status;
  out->content_length = 0;
  if (st < 200 || st == 204 || st == 304 || method == "HEAD") {
    out->body = BodyKind::None;  // RFC 9112 §6.3 ¶1, whatever the fields say
  } else if (s.te_present) {
    out->body = BodyKind::Chunked;
  } else if (s.content_length_count == 1) {
    if (length > limits.max_body_bytes) return Bad("upstream body larger than allowed");
    out->body = BodyKind::ContentLength;
    out->content_length = length;
  } else {
    out->body = BodyKind::UntilClose;
  }
  out->keep_alive = out->body != BodyKind::UntilClose && !s.connection.Contains("close") &&
                    (http11 || s.connection.Contains("keep-alive"));
  out->upgrade = st == 101 && s.upgrade_count == 1 && s.connection.Contains("upgrade");
  out->upgrade_protocol = out->upgrade ? s.upgrade : std::string_view();
  if (st == 101 && !out->upgrade) return Bad("upstream sent 101 without an upgrade");
  return {};
}

ParseResult Scan(std::string_view buf, const Limits& limits, ResponseHead* out, ParseHint* cursor) {
  const internal::ScanConfig config{limits.max_request_line,
                                    limits.max_header_bytes,
                                    std::min(limits.max_headers, kMaxHeaders),
                                    502,
                                    502,
                                    /*skip_leading_empty_lines=*/false};
  return internal::ScanHead(buf, config, cursor, out->headers.data(), &out->num_headers,
                            [out](std::string_view line) { return ParseStatusLine(line, out); });
}

}  // namespace

ParseResult ParseResponseHead(std::string_view buf, const Limits& limits, std::string_view request_method,
                              ResponseHead* out, ParseHint* hint) {
  ParseHint local;
  ParseHint& cursor = hint != nullptr ? *hint : local;
  if (cursor.pos > buf.size() || cursor.line_start > cursor.pos) cursor = ParseHint{};  // misuse: rescan
  const bool resumed = cursor.pos > 0;
  ParseResult r = Scan(buf, limits, out, &cursor);
  if (r.status == ParseStatus::Done && resumed) {
    ParseHint fresh;
    r = Scan(buf, limits, out, &fresh);
  }
  if (r.status == ParseStatus::Done) {
    if (Fault f = Analyze(limits, request_method, out)) r = internal::ToResult(f);
  }
  if (r.status == ParseStatus::Error) r.http_status = 502;  // the client sees a bad gateway
  if (r.status != ParseStatus::NeedMore) cursor = ParseHint{};
  return r;
}

}  // namespace keel::http1
