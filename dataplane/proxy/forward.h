// What the proxy adds and strips when it passes a message on: hop-by-hop headers
// (RFC 9110 §7.6.1) both ways, the X-Forwarded-* family and X-Request-ID upstream.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "dataplane/http1/parser.h"

namespace keel::proxy {

struct ForwardInfo {
  std::string_view client_ip;
  std::string_view scheme;  // "http" or "https"
  uint16_t local_port = 0;
  std::string_view request_id;
  std::string_view host_override;  // empty: keep the client's Host
  bool trust_forwarded = false;    // append to a client's X-Forwarded-For instead of replacing it
};

// First value of a header (lower-case name), if present.
std::optional<std::string_view> FindHeader(std::span<const http1::Header> fields, std::string_view name);

// Runs a chunked body through `decoder`, calling `on_data` for each data span.
// Returns the decoder's final status for this input and sets *consumed.
template <typename Fn>
http1::ChunkedDecoder::Status FeedChunked(http1::ChunkedDecoder& decoder, std::string_view in, size_t* consumed,
                                          Fn&& on_data) {
  *consumed = 0;
  for (;;) {
    auto r = decoder.Feed(in.substr(*consumed));
    *consumed += r.consumed;
    if (r.status != http1::ChunkedDecoder::Status::Data) return r.status;
    on_data(r.data);
  }
}

// A client-supplied X-Request-ID is kept only when it is short and made of safe
// characters, so it cannot inject anything into logs or upstream headers.
bool ValidRequestId(std::string_view id);

// Appends "METHOD path HTTP/1.1\r\n" and the request's end-to-end headers plus ours
// to `out`, without framing headers and without the final CRLF (Exchange adds them).
void AppendUpstreamHead(const http1::RequestHead& head, std::string_view upstream_path, const ForwardInfo& info,
                        std::string* out);

// Appends the end-to-end headers of an upstream response (hop-by-hop and framing
// headers dropped; for a 101 the Upgrade/Connection pair is kept).
void AppendResponseHeaders(const http1::ResponseHead& head, bool upgraded, std::string* out);

// False for fields a trailer section must not carry on (RFC 9110 §6.5.1: framing,
// routing, hop-by-hop, and fields the head alone decides).
bool TrailerAllowed(std::string_view name);
// Appends the allowed trailer fields as "name: value\r\n" lines (a chunked trailer section).
void AppendTrailerFields(std::span<const http1::Header> trailers, std::string* out);

}  // namespace keel::proxy
