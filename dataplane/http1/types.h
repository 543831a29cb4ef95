// Value types shared by the HTTP/1 head parser, the chunked decoder and the field
// helpers: limits, a header field as two views into the caller's buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace keel::http1 {

// Limits apply to incomplete input too: a client cannot keep a connection busy with an
// endless request line or header block, it gets 414/431 as soon as the limit is passed.
struct Limits {
  size_t max_request_line = 8192;               // start line bytes, CRLF excluded (414; 502 for responses)
  size_t max_header_bytes = 65536;              // whole head: start line, fields, final CRLF (431); also
                                                // bounds the trailer section of a chunked body
  size_t max_headers = 100;                     // field lines, clamped to kMaxHeaders (431)
  uint64_t max_body_bytes = uint64_t{1} << 30;  // Content-Length or chunked total (413)
};

// Field lines are stored in a fixed inline array of this capacity (32 bytes each, 4 KiB
// per head) so that parsing never allocates; Limits::max_headers above it is clamped.
inline constexpr size_t kMaxHeaders = 128;

// One field line. Both views point into the caller's buffer; the value has its
// leading and trailing OWS removed and may be empty. Names keep their original case.
struct Header {
  std::string_view name;
  std::string_view value;
};

}  // namespace keel::http1
