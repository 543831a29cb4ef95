// Standard base64 (RFC 4648 §4, with padding), as Kubernetes encodes Secret data.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace keel::store {

// Decodes padded standard base64. CR and LF are skipped (Go's decoder, which the API
// server uses, ignores them too); any other character outside the alphabet, or bad
// padding, yields nullopt.
std::optional<std::string> Base64Decode(std::string_view in);
std::string Base64Encode(std::string_view in);

}  // namespace keel::store
