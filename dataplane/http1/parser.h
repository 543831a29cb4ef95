// The strict HTTP/1.1 head parser (RFC 9112) at the proxy's front door: request heads
// from clients, response heads from upstreams. Zero-copy (every view points into the
// caller's buffer), no allocation, no regex. Anything that two HTTP implementations
// could frame differently (the stuff of request smuggling) is an error: the caller
// answers `http_status` and closes the connection.
//
// Choices where the RFCs leave room (each has a test in tests/http1/):
// - Two Content-Length fields are rejected even when equal (RFC 9110 §8.6 allows
//   "42, 42"; refusing it costs nothing and removes a class of desyncs).
// - Transfer-Encoding: the only accepted request list is a single `chunked` (any case,
//   empty list elements ignored). Final coding not chunked or chunked twice → 400
//   (RFC 9112 §6.3 ¶4); unregistered codings, and registered ones we do not decode
//   ("gzip, chunked") → 501 (§6.1). Responses: anything but plain chunked → 502, as
//   nginx does, rather than §6.3 ¶4's read-until-close.
// - Bare LF line endings, obs-fold and whitespace before the colon are rejected (the
//   RFC's MAY-accept options are all declined).
// - Host: one, valid (DNS name / IPv4 / [IPv6], optional port 1..65535), required in
//   HTTP/1.1; an empty value is allowed (RFC 9110 §7.2). Absolute-form targets give
//   the host (RFC 9112 §3.2.2) but a Host field is still required in HTTP/1.1.
// - CONNECT (authority-form) is recognised and answered 405: we are not a forward
//   proxy. asterisk-form is only for OPTIONS. Other forms → 400.
// - HTTP versions other than 1.0/1.1 → 505; the h2 prior-knowledge preface gets its
//   own status (H2Preface) so the caller hands the connection to the h2 codec.
// - "Expect" other than 100-continue → 417 (RFC 9110 §10.1.1); ignored in HTTP/1.0.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "dataplane/http1/chunked.h"
#include "dataplane/http1/fields.h"
#include "dataplane/http1/types.h"

namespace keel::http1 {

enum class BodyKind {
  None,           // no body follows the head
  ContentLength,  // exactly content_length bytes (possibly 0)
  Chunked,        // feed the bytes after the head to a ChunkedDecoder
  UntilClose,     // responses only: the body ends when the upstream closes
};

struct RequestHead {
  std::string_view method;  // case-sensitive token, e.g. "GET"
  std::string_view target;  // the request-target as sent
  std::string_view path;    // origin-form path, "*" for asterisk-form, "/" if absolute-form had none
  std::string_view query;   // after '?', without it; empty if none
  std::string_view host;    // authority of an absolute-form target, else the Host field
  int minor_version = 1;    // HTTP/1.<minor>: 0 or 1
  bool absolute_form = false;
  std::array<Header, kMaxHeaders> headers;
  size_t num_headers = 0;
  BodyKind body = BodyKind::None;
  uint64_t content_length = 0;        // meaningful when body == ContentLength
  bool keep_alive = true;             // HTTP/1.1 unless "close"; HTTP/1.0 only with "keep-alive"
  bool expect_continue = false;       // "Expect: 100-continue" in HTTP/1.1
  bool upgrade = false;               // HTTP/1.1 with an Upgrade field and Connection: upgrade
  std::string_view upgrade_protocol;  // the Upgrade field value, e.g. "websocket"
  bool h2c_upgrade = false;           // upgrade to "h2c" with one HTTP2-Settings field that
                                      // Connection also lists (RFC 7540 §3.2.1)

  std::span<const Header> fields() const { return {headers.data(), num_headers}; }
};

struct ResponseHead {
  int minor_version = 1;
  int status = 0;           // 100..599
  std::string_view reason;  // may be empty
  std::array<Header, kMaxHeaders> headers;
  size_t num_headers = 0;
  BodyKind body = BodyKind::None;  // RFC 9112 §6.3 given the request method
  uint64_t content_length = 0;
  bool keep_alive = true;  // false for HTTP/1.0 without keep-alive, "close", UntilClose
  bool upgrade = false;    // 101 with an Upgrade field and Connection: upgrade
  std::string_view upgrade_protocol;

  // 1xx: the final response is still to come (101 switches protocols instead).
  bool informational() const { return status < 200; }
  std::span<const Header> fields() const { return {headers.data(), num_headers}; }
};

enum class ParseStatus {
  NeedMore,   // incomplete and no fault so far: read more and call again
  Done,       // a full head occupies buf[0, consumed)
  Error,      // answer http_status (reason: a static string) and close
  H2Preface,  // buf starts with the HTTP/2 connection preface "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
              // nothing consumed: hand the connection, preface included, to the h2 codec
};

struct ParseResult {
  ParseStatus status = ParseStatus::NeedMore;
  size_t consumed = 0;      // Done: bytes of the head, final CRLF included
  int http_status = 0;      // Error: 400, 405, 413, 414, 417, 431, 501, 505; 502 for responses
  std::string_view reason;  // Error: static text for logs and the error page
};

// Progress of a head that arrives in pieces, so that a re-scan after more bytes arrive
// resumes where the last one stopped (picohttpparser's last_len idea, but the bytes
// are also validated only once). Value-initialise it per connection and pass the same
// one with the same growing buffer; bytes already scanned must not change (the buffer
// may move). It is reset on Done and Error. Without a hint each call starts at zero,
// which is right when the head usually arrives in one read. When a resumed scan
// completes, the head is parsed once more from the start to fill in the views (at
// most 2× one parse per head), so the total work stays linear in the head size even
// if a client sends one byte at a time.
struct ParseHint {
  size_t pos = 0;         // first byte not yet scanned
  size_t line_start = 0;  // start of the line being scanned
  size_t fields = 0;      // complete field lines so far
  bool start_seen = false;
};

// Parses one request head from the start of `buf`; bytes after it (a body or pipelined
// requests) are left alone. `*out` is meaningful only after Done.
ParseResult ParseRequestHead(std::string_view buf, const Limits& limits, RequestHead* out,
                             ParseHint* hint = nullptr);

// Parses one response head. `request_method` is the method of the request it answers
// ("HEAD" responses have no body). Errors are all 502: the upstream misbehaved. A 1xx
// head is returned on its own; parse the next head after it.
ParseResult ParseResponseHead(std::string_view buf, const Limits& limits, std::string_view request_method,
                              ResponseHead* out, ParseHint* hint = nullptr);

}  // namespace keel::http1
