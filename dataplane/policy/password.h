// Password verification against one htpasswd hash (common/htpasswd.h classifies it).
// bcrypt, SHA-512/256-crypt and MD5-crypt go through libxcrypt's crypt_r; apr1 and
// {SHA} are computed here with BoringSSL's MD5 and SHA-1 (libxcrypt has neither, and the
// dataplane must not link OpenSSL). The final comparison is constant-time.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/htpasswd.h"

struct crypt_data;

namespace keel::policy {

// One per worker: crypt_r's scratch state is ~32 KiB, allocated once.
class PasswordVerifier {
 public:
  PasswordVerifier();
  ~PasswordVerifier();
  PasswordVerifier(const PasswordVerifier&) = delete;
  PasswordVerifier& operator=(const PasswordVerifier&) = delete;

  // True when `password` hashes to `hash` (of scheme `scheme`). Passwords with a NUL
  // byte never match: crypt(3) would stop at the NUL and accept a prefix.
  bool Verify(htpasswd::Scheme scheme, std::string_view hash, std::string_view password);

 private:
  std::unique_ptr<crypt_data> data_;
  std::string setting_, key_;  // NUL-terminated copies for crypt_r
};

// Apache's apr1 (MD5-crypt with the "$apr1$" magic) of `password` with `salt` (at most
// 8 characters are used): the whole "$apr1$salt$digest" string.
std::string Apr1(std::string_view password, std::string_view salt);

// htpasswd -s: "{SHA}" + base64(SHA-1(password)).
std::string Sha1Htpasswd(std::string_view password);

}  // namespace keel::policy
