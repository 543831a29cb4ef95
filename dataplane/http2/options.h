// SessionOptions: the knobs of one downstream HTTP/2 session — what we advertise in
// SETTINGS and the abuse limits we enforce. Plain values, no nghttp2 include, so the
// worker's ProxyOptions can carry them.
#pragma once

#include <cstddef>
#include <cstdint>

namespace keel::h2 {

struct SessionOptions {
  // SETTINGS_MAX_CONCURRENT_STREAMS. nghttp2 refuses streams beyond it.
  uint32_t max_concurrent_streams = 128;
  // SETTINGS_INITIAL_WINDOW_SIZE: request body a client may send per stream before we
  // consume it. Clamped to [64 KiB, 1 MiB]: below that uploads crawl, above it a
  // stalled upstream lets one stream pin too much memory.
  uint32_t initial_window_bytes = 256 * 1024;
  // Connection-level receive window (all streams together). Every stream that stalls
  // holds up to its window of it, so it is a multiple of the stream window.
  uint32_t connection_window_bytes = 1024 * 1024;
  // SETTINGS_MAX_HEADER_LIST_SIZE, enforced too (RFC 9113 §6.5.2 counts name + value
  // + 32 per field). Past it the request gets 431 (RFC 9113 §10.5.1); the fields are
  // not stored, so an HPACK bomb costs decoding time only, never memory.
  uint32_t max_header_list_bytes = 64 * 1024;
  // CVE-2023-44487 (rapid reset): streams the client resets within one second.
  // Past it the connection gets GOAWAY(ENHANCE_YOUR_CALM). Browsers cancel a few
  // streams on navigation; hundreds per second is an attack.
  uint32_t max_resets_per_second = 200;
  // CVE-2024-27316 class (CONTINUATION flood): CONTINUATION frames after one HEADERS.
  size_t max_continuations = 8;
  // SETTINGS/PING ACKs queued for a client that does not read (CVE-2019-9512/9515).
  size_t max_outbound_ack = 1000;
  // Entries in one SETTINGS frame (CVE-2019-9515 class).
  size_t max_settings = 32;
};

}  // namespace keel::h2
