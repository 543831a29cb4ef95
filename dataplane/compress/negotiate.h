// Content negotiation for response compression: which coding a client accepts best
// (Accept-Encoding with q-values, RFC 9110 §12.5.3), which media types are worth
// compressing, and the normalised Accept-Encoding the cache keys variants by.
#pragma once

#include <string>
#include <string_view>

namespace keel::compress {

enum class Coding { kIdentity, kGzip, kBrotli };

std::string_view CodingName(Coding c);  // "identity", "gzip", "br"

// The coding we would use for a client sending `accept_encoding` (absent: identity,
// RFC 9110 §12.5.3 allows any but old clients mislabel). Highest q wins; brotli on
// a tie (smaller output); q=0 forbids; "*" covers codings not named.
Coding Negotiate(std::string_view accept_encoding);

// The set of codings a client accepts (q > 0), lower-case, sorted, comma-joined: the
// cache's secondary key for `Vary: Accept-Encoding`. Two clients with the same set
// get the same answer from any origin, so variants are shared without ever handing
// a client a coding it did not accept.
std::string NormalizeAcceptEncoding(std::string_view accept_encoding);

// text/*, JSON, JavaScript, XML, SVG, WASM and similar; not images, video or archives
// (already compressed).
bool CompressibleType(std::string_view content_type);

// Responses smaller than this are sent as they are: the coding overhead and the
// CPU are not worth it below one TCP segment or so.
inline constexpr uint64_t kMinCompressBytes = 1024;

}  // namespace keel::compress
