// htpasswd entries ("user:hash") as basic auth carries them from the controller to the
// dataplane (RoutePolicy.basic_auth_users). One classifier shared by both binaries, so
// the controller refuses at translation exactly what the dataplane would NACK.
//
// Accepted hashes: bcrypt ($2y$, $2b$, $2a$), SHA-512-crypt ($6$), SHA-256-crypt ($5$),
// MD5-crypt ($1$), Apache MD5 ($apr1$) and {SHA} (unsalted SHA-1, htpasswd -s).
// Refused: plaintext (htpasswd -p) and DES crypt (truncates passwords to 8 bytes), and
// work factors above kMaxBcryptCost / kMaxShaCryptRounds: a hash is verified on the
// worker's event loop, so one Secret with cost 16 would stall every connection of that
// worker for seconds per request.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace keel::htpasswd {

enum class Scheme { kBcrypt, kSha512Crypt, kSha256Crypt, kMd5Crypt, kApr1, kSha1 };

inline constexpr int kMaxBcryptCost = 12;
inline constexpr long kMaxShaCryptRounds = 100000;

struct Entry {
  std::string_view user;
  std::string_view hash;
  Scheme scheme = Scheme::kBcrypt;
};

// Splits "user:hash" at the first ':' and classifies the hash. Errors name the user and
// the reason, never the hash.
Result<Entry> ParseLine(std::string_view line);

// Classifies a hash alone (as an auth-map Secret's values hold them).
Result<Scheme> Classify(std::string_view hash);

std::string_view SchemeName(Scheme scheme);

}  // namespace keel::htpasswd
