// A stored response (RFC 9111 §3): status, end-to-end header fields, the whole body,
// and what the freshness rules need, computed once when it is stored. Immutable once
// in the store; a 304 that freshens it makes a new Object (§4.3.4).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/cache/fields.h"

namespace keel::cache {

struct Object {
  int status = 200;
  Fields headers;  // without framing (content-length, transfer-encoding) or hop-by-hop fields
  std::string body;
  // Clock values in seconds since the epoch, as in §4.2.3.
  int64_t request_time = 0;   // when the request that fetched it was sent
  int64_t response_time = 0;  // when the response arrived
  int64_t date_value = 0;     // its Date field (response_time if absent)
  int64_t age_value = 0;      // its Age field
  int64_t freshness_lifetime = 0;
  Directives cc;                  // the response's Cache-Control
  std::vector<std::string> vary;  // lower-case field names from Vary
  std::string secondary_key;      // the request's values for `vary` (and key headers)

  size_t ByteSize() const {
    return sizeof(Object) + headers.ByteSize() + body.capacity() + secondary_key.capacity();
  }
};

}  // namespace keel::cache
