// HTTP Basic authentication (RFC 7617) against a route's htpasswd entries
// (RoutePolicy.basic_auth_users), as nginx's auth_basic does it for ingress-nginx's
// auth-type: basic. Runs in the access phase, after CORS preflights and the limits.
//
// Cost: a bcrypt check takes milliseconds to tens of ms of CPU on the worker's event
// loop. A keep-alive client sends the same credentials on every request, so each worker
// keeps a bounded set of credentials it already verified. The key is SHA-256 over the
// exact htpasswd entry (user and hash) and the presented password: an edited or removed
// entry, or a new snapshot that changes it, can never hit an old verification, so the
// set needs no invalidation for correctness; the worker still clears it when it applies
// a new full snapshot (Worker::ApplyRuntime) to drop what no longer applies. Only
// successes are kept, never a password.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_set>

#include "dataplane/policy/password.h"
#include "keel/config/v1/config.pb.h"

namespace keel::policy {

// "Basic <base64(user:password)>" → user and password. False for any other scheme, bad
// base64 or a missing ':'.
bool ParseBasicCredentials(std::string_view authorization, std::string* user, std::string* password);

// `WWW-Authenticate` value for `realm`: Basic realm="..." with '"' and '\' escaped
// (RFC 9110 §5.6.4 quoted-string).
std::string BasicChallenge(std::string_view realm);

class BasicAuth {
 public:
  static constexpr size_t kCacheEntries = 1024;  // per worker; 32-byte keys

  // True when `authorization` (the request's Authorization value, empty when absent)
  // names a user of `policy.basic_auth_users()` with the right password.
  bool Check(const config::v1::RoutePolicy& policy, std::string_view authorization);
  // Forgets every verified credential (a new snapshot was applied).
  void Clear();

  size_t cached() const { return verified_.size(); }
  uint64_t hash_checks() const { return hash_checks_; }  // full hash verifications done

 private:
  using Key = std::array<uint8_t, 32>;
  struct KeyHash {
    size_t operator()(const Key& k) const {
      size_t h;
      static_assert(sizeof h <= sizeof(Key));
      __builtin_memcpy(&h, k.data(), sizeof h);  // already a uniform digest
      return h;
    }
  };
  void Remember(const Key& key);

  PasswordVerifier verifier_;
  std::unordered_set<Key, KeyHash> verified_;
  std::deque<Key> order_;        // insertion order, oldest evicted first
  std::string user_, password_;  // scratch
  uint64_t hash_checks_ = 0;
};

}  // namespace keel::policy
