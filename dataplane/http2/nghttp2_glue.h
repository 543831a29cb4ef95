// Small pieces both nghttp2 sessions (ServerSession downstream, ClientSession
// upstream) need in the same form. Internal to keel_http2.
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstddef>
#include <string_view>

#include "common/log.h"
#include "dataplane/net/buffer.h"

namespace keel::h2::glue {

inline nghttp2_nv Nv(std::string_view name, std::string_view value) {
  // nghttp2 copies the fields during submit (no NO_COPY flags), so views suffice.
  return {reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
          reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
          NGHTTP2_NV_FLAG_NONE};
}

// Appends frames to `out` until it holds `limit` bytes or nothing is pending; the
// limit keeps a peer that does not read from making us frame whole responses.
// False on a fatal session error (logged with `who`).
inline bool SendInto(nghttp2_session* session, net::Buffer* out, size_t limit, const char* who) {
  while (out->size() < limit) {
    const uint8_t* p = nullptr;
    ssize_t n = nghttp2_session_mem_send(session, &p);
    if (n < 0) {
      KEEL_LOG(Debug, "http2") << who << " send error: " << nghttp2_strerror(static_cast<int>(n));
      return false;
    }
    if (n == 0) break;
    out->Append({reinterpret_cast<const char*>(p), static_cast<size_t>(n)});
  }
  return true;
}

}  // namespace keel::h2::glue
