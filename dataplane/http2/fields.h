// HTTP/2 header blocks as the proxy sees them. RequestHeaders collects one stream's
// request fields as they are decoded, checks them against RFC 9113 §8.2–8.3 and
// presents them as an http1::RequestHead (views into its own storage), so routing and
// AppendUpstreamHead work unchanged. FieldList + AppendResponseFields turn an upstream
// HTTP/1 response head into an h2 field list (lower-case, hop-by-hop dropped).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/http1/parser.h"

namespace keel::h2 {

// What became of a complete request head.
enum class HeadVerdict {
  kOk,
  kMalformed,  // RFC 9113 §8.1.1: stream error PROTOCOL_ERROR (RST_STREAM)
  kTooLarge,   // header list or field count over the limit: answer 431
  kConnect,    // CONNECT: we are not a forward proxy, answer 405 (as for HTTP/1)
};

class RequestHeaders {
 public:
  // `max_list_bytes`: RFC 9113 §6.5.2 size; `max_fields`: regular fields (cookie
  // crumbs count as one), at most http1::kMaxHeaders.
  void Reset(size_t max_list_bytes, size_t max_fields);
  // One decoded field, in arrival order. Nothing is stored once the list is too large.
  void Add(std::string_view name, std::string_view value);
  // The fields of an HTTP/1.1 request that upgraded to h2c (RFC 7540 §3.2): its
  // request line becomes the pseudo-headers, connection-specific fields are dropped.
  void AddHttp1(const http1::RequestHead& head);

  // Validates the block and, for kOk, fills `out` with views into this object; they
  // stay valid until the next Reset/Add/Release. `end_stream`: no body follows.
  HeadVerdict Finish(bool end_stream, http1::RequestHead* out);
  // Frees the storage once the request was dispatched.
  void Release();

  bool too_large() const { return too_large_; }
  size_t list_bytes() const { return list_bytes_; }

 private:
  struct Ref {
    uint32_t off = 0, name_len = 0, value_len = 0;
  };
  std::string_view Name(const Ref& r) const { return {arena_.data() + r.off, r.name_len}; }
  std::string_view Value(const Ref& r) const { return {arena_.data() + r.off + r.name_len, r.value_len}; }
  Ref Store(std::string_view name, std::string_view value);
  void AddPseudo(std::string_view name, std::string_view value);

  std::string arena_;
  std::vector<Ref> fields_;  // regular fields except cookie
  std::vector<Ref> cookies_;
  std::optional<Ref> method_, scheme_, authority_, path_;
  size_t list_bytes_ = 0, max_list_bytes_ = 0, max_fields_ = 0;
  bool too_large_ = false, malformed_ = false, regular_seen_ = false;
};

// An owned, ordered list of response fields with lower-case names.
class FieldList {
 public:
  struct Field {
    std::string_view name, value;
  };
  // Lower-cases `name` (HTTP/2 forbids upper case, RFC 9113 §8.2.1).
  void Add(std::string_view name, std::string_view value);
  void Clear();
  size_t size() const { return refs_.size(); }
  Field at(size_t i) const;
  // Value of the first field called `name` (lower-case), if any.
  std::optional<std::string_view> Find(std::string_view name) const;

 private:
  struct Ref {
    uint32_t off = 0, name_len = 0, value_len = 0;
  };
  std::string arena_;
  std::vector<Ref> refs_;
};

// The h2 equivalent of proxy::AppendResponseHeaders: end-to-end fields of `head`
// (hop-by-hop and Connection-listed ones dropped, RFC 9113 §8.2.2), plus
// content-length when the length is known. A HEAD response keeps the upstream's
// content-length (RFC 9110 §8.6); 204/304 carry none.
void AppendResponseFields(const http1::ResponseHead& head, bool head_request, FieldList* out);

// Decodes an HTTP2-Settings value (base64url without padding, RFC 7540 §3.2.1) into a
// SETTINGS payload; nullopt if it is not base64url or not whole 6-byte entries.
std::optional<std::string> DecodeSettingsHeader(std::string_view value);

}  // namespace keel::h2
