// Internals shared by the request and response head parsers and the chunked decoder:
// the line scanner, field-line syntax, list splitting and the framing-field summary.
// Not part of the public API.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "dataplane/http1/chars.h"
#include "dataplane/http1/fields.h"
#include "dataplane/http1/parser.h"

namespace keel::http1::internal {

// A rejection: the status the proxy answers and a static reason. status 0 = no fault.
struct Fault {
  int status = 0;
  std::string_view reason;
  explicit operator bool() const { return status != 0; }
};

inline ParseResult ToResult(Fault f) { return {ParseStatus::Error, 0, f.status, f.reason}; }

inline bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!kTchar[U8(c)]) return false;
  }
  return true;
}

inline std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls fn(element) for each non-empty element of a #list (RFC 9110 §5.6.1), OWS
// trimmed; empty elements are skipped as the RFC asks recipients to. Stops and
// returns false as soon as fn does.
template <typename Fn>
bool ForEachListElement(std::string_view value, Fn&& fn) {
  while (true) {
    size_t comma = value.find(',');
    std::string_view element = TrimOws(value.substr(0, comma));
    if (!element.empty() && !fn(element)) return false;
    if (comma == std::string_view::npos) return true;
    value.remove_prefix(comma + 1);
  }
}

// Splits a complete field line (CRLF removed) into name and OWS-trimmed value.
// The scanner has already rejected CTLs, so only the name and colon need checks.
Fault ParseFieldLine(std::string_view line, Header* out);

// Per-message statuses for scanner faults: 414/431 for requests, 502 for responses.
struct ScanConfig {
  size_t max_start_line;
  size_t max_head;
  size_t max_fields;
  int start_line_status;
  int head_status;
  bool skip_leading_empty_lines;  // RFC 9112 §2.2, requests only
};

enum class LineEvent { kLine, kNeedMore, kError };

// Cuts a head into lines, validating every byte as it first sees it (NUL, CTLs, bare CR,
// bare LF) and enforcing the size limits in byte order, so that a prefix of the input
// can only ever yield NeedMore or the very fault the whole input yields. Progress lives
// in the ParseHint, so a resumed scan never looks at a byte twice.
class HeadScanner {
 public:
  HeadScanner(std::string_view buf, const ScanConfig& config, ParseHint* cursor)
      : buf_(buf), config_(config), cur_(*cursor) {}

  LineEvent Next(std::string_view* line);
  Fault fault() const { return fault_; }

 private:
  LineEvent Fail(int status, std::string_view reason) {
    fault_ = {status, reason};
    return LineEvent::kError;
  }

  std::string_view buf_;
  const ScanConfig& config_;
  ParseHint& cur_;
  Fault fault_;
};

// Drives the scanner over a whole head: start line via `start_line(line)`, field lines
// into `headers`. Returns Done (consumed set), NeedMore or Error.
template <typename StartLineFn>
ParseResult ScanHead(std::string_view buf, const ScanConfig& config, ParseHint* cursor, Header* headers,
                     size_t* num_headers, StartLineFn&& start_line) {
  HeadScanner scanner(buf, config, cursor);
  std::string_view line;
  while (true) {
    switch (scanner.Next(&line)) {
      case LineEvent::kNeedMore:
        return {ParseStatus::NeedMore, 0, 0, {}};
      case LineEvent::kError:
        return ToResult(scanner.fault());
      case LineEvent::kLine:
        break;
    }
    if (!cursor->start_seen) {
      if (line.empty() && config.skip_leading_empty_lines) continue;
      if (Fault f = start_line(line)) return ToResult(f);
      cursor->start_seen = true;
      continue;
    }
    if (line.empty()) {
      *num_headers = cursor->fields;
      return {ParseStatus::Done, cursor->pos, 0, {}};
    }
    if (cursor->fields >= config.max_fields) return ToResult({config.head_status, "too many header fields"});
    if (Fault f = ParseFieldLine(line, &headers[cursor->fields])) return ToResult(f);
    ++cursor->fields;
  }
}

// 1*DIGIT without sign, spaces or commas; false on anything else or on uint64 overflow.
bool ParseContentLength(std::string_view value, uint64_t* out);

// What the framing-relevant fields of a head say, gathered in one pass over the fields.
struct FieldSummary {
  int host_count = 0;
  std::string_view host;
  int content_length_count = 0;
  std::string_view content_length;
  // Transfer-Encoding, all field lines concatenated as one list.
  bool te_present = false;
  bool te_malformed = false;  // a non-token coding, or parameters on chunked
  int te_codings = 0;
  int te_chunked = 0;
  bool te_last_chunked = false;
  bool te_unknown = false;  // a coding not registered in RFC 9110 §8.4.1 / 9112 §7
  bool te_other = false;    // a registered coding other than chunked (gzip, ...)
  ConnectionTokens connection;
  bool connection_malformed = false;
  int upgrade_count = 0;
  std::string_view upgrade;
  int http2_settings_count = 0;
  int expect_continue = 0;
  int expect_other = 0;
};

void Summarize(std::span<const Header> headers, FieldSummary* out);

// True if `list` (an Upgrade value) is a valid #protocol list.
bool IsProtocolList(std::string_view list);
bool ListContains(std::string_view list, std::string_view token);

}  // namespace keel::http1::internal
