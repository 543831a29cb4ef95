// Password verification (see password.h).
#include "dataplane/policy/password.h"

#include <crypt.h>
#include <openssl/base64.h>
#include <openssl/md5.h>
#include <openssl/mem.h>
#include <openssl/sha.h>

#include <cstdint>

namespace keel::policy {
namespace {

constexpr char kCrypt64[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

// crypt(3)'s base-64: `n` characters, least significant 6 bits first.
void To64(uint32_t v, int n, std::string* out) {
  while (n-- > 0) {
    out->push_back(kCrypt64[v & 0x3f]);
    v >>= 6;
  }
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  // The lengths are those of public hash formats; only the bytes must not leak.
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

std::string Apr1(std::string_view pw, std::string_view salt) {
  // The MD5-crypt construction (Poul-Henning Kamp's, as Apache's apr_md5_encode does it
  // with its own magic string): 1000 rounds that mix password, salt and the previous
  // digest in a fixed pattern.
  constexpr std::string_view kMagic = "$apr1$";
  salt = salt.substr(0, std::min<size_t>(salt.find('$'), 8));
  auto bytes = [](std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); };
  uint8_t alt[MD5_DIGEST_LENGTH];
  MD5_CTX ctx;
  MD5_Init(&ctx);
  MD5_Update(&ctx, bytes(pw), pw.size());
  MD5_Update(&ctx, bytes(salt), salt.size());
  MD5_Update(&ctx, bytes(pw), pw.size());
  MD5_Final(alt, &ctx);

  MD5_Init(&ctx);
  MD5_Update(&ctx, bytes(pw), pw.size());
  MD5_Update(&ctx, bytes(kMagic), kMagic.size());
  MD5_Update(&ctx, bytes(salt), salt.size());
  for (size_t left = pw.size(); left > 0; left -= std::min<size_t>(left, MD5_DIGEST_LENGTH))
    MD5_Update(&ctx, alt, std::min<size_t>(left, MD5_DIGEST_LENGTH));
  const uint8_t zero = 0;
  for (size_t i = pw.size(); i != 0; i >>= 1) MD5_Update(&ctx, (i & 1) ? &zero : bytes(pw), 1);
  uint8_t fin[MD5_DIGEST_LENGTH];
  MD5_Final(fin, &ctx);

  for (int i = 0; i < 1000; ++i) {
    MD5_Init(&ctx);
    if (i & 1) {
      MD5_Update(&ctx, bytes(pw), pw.size());
    } else {
      MD5_Update(&ctx, fin, sizeof fin);
    }
    if (i % 3) MD5_Update(&ctx, bytes(salt), salt.size());
    if (i % 7) MD5_Update(&ctx, bytes(pw), pw.size());
    if (i & 1) {
      MD5_Update(&ctx, fin, sizeof fin);
    } else {
      MD5_Update(&ctx, bytes(pw), pw.size());
    }
    MD5_Final(fin, &ctx);
  }

  std::string out(kMagic);
  out.append(salt);
  out.push_back('$');
  auto group = [&](int a, int b, int c) {
    To64((uint32_t{fin[a]} << 16) | (uint32_t{fin[b]} << 8) | fin[c], 4, &out);
  };
  group(0, 6, 12);
  group(1, 7, 13);
  group(2, 8, 14);
  group(3, 9, 15);
  group(4, 10, 5);
  To64(fin[11], 2, &out);
  OPENSSL_cleanse(alt, sizeof alt);
  OPENSSL_cleanse(fin, sizeof fin);
  return out;
}

std::string Sha1Htpasswd(std::string_view pw) {
  uint8_t digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const uint8_t*>(pw.data()), pw.size(), digest);
  uint8_t b64[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
  size_t n = EVP_EncodeBlock(b64, digest, sizeof digest);
  return "{SHA}" + std::string(reinterpret_cast<const char*>(b64), n);
}

PasswordVerifier::PasswordVerifier() : data_(std::make_unique<crypt_data>()) {}
PasswordVerifier::~PasswordVerifier() { OPENSSL_cleanse(data_.get(), sizeof(crypt_data)); }

bool PasswordVerifier::Verify(htpasswd::Scheme scheme, std::string_view hash, std::string_view password) {
  if (password.find('\0') != std::string_view::npos) return false;
  switch (scheme) {
    case htpasswd::Scheme::kApr1: {
      std::string_view salt = hash.substr(6);
      return ConstantTimeEqual(Apr1(password, salt.substr(0, salt.find('$'))), hash);
    }
    case htpasswd::Scheme::kSha1:
      return ConstantTimeEqual(Sha1Htpasswd(password), hash);
    case htpasswd::Scheme::kBcrypt:
    case htpasswd::Scheme::kSha512Crypt:
    case htpasswd::Scheme::kSha256Crypt:
    case htpasswd::Scheme::kMd5Crypt:
      break;
  }
  setting_.assign(hash);
  key_.assign(password);
  // crypt_r reads the salt and parameters from the stored hash and returns the full
  // hash string; on error libxcrypt returns a "*0"/"*1" token (or NULL), never a match.
  const char* got = crypt_r(key_.c_str(), setting_.c_str(), data_.get());
  OPENSSL_cleanse(key_.data(), key_.size());
  return got != nullptr && ConstantTimeEqual(got, hash);
}

}  // namespace keel::policy
