// HTTP Basic authentication (see basic_auth.h).
#include "dataplane/policy/basic_auth.h"

#include <openssl/base64.h>
#include <openssl/mem.h>
#include <openssl/sha.h>

#include "common/htpasswd.h"
#include "dataplane/http1/fields.h"

namespace keel::policy {
namespace {

bool Blank(char c) { return c == ' ' || c == '\t'; }

}  // namespace

bool ParseBasicCredentials(std::string_view v, std::string* user, std::string* password) {
  while (!v.empty() && Blank(v.front())) v.remove_prefix(1);
  while (!v.empty() && Blank(v.back())) v.remove_suffix(1);
  // The scheme is case-insensitive (RFC 9110 §11.1), then 1*SP token68.
  if (v.size() < 7 || !http1::EqualsIgnoreCase(v.substr(0, 5), "basic") || !Blank(v[5])) return false;
  v.remove_prefix(6);
  while (!v.empty() && Blank(v.front())) v.remove_prefix(1);
  size_t max = 0;
  if (v.empty() || v.size() > 4096 || !EVP_DecodedLength(&max, v.size())) return false;
  std::string decoded(max, '\0');
  size_t n = 0;
  if (!EVP_DecodeBase64(reinterpret_cast<uint8_t*>(decoded.data()), &n, max,
                        reinterpret_cast<const uint8_t*>(v.data()), v.size()))
    return false;
  decoded.resize(n);
  size_t colon = decoded.find(':');  // RFC 7617 §2: a user-id cannot contain ':'
  if (colon == std::string::npos) {
    OPENSSL_cleanse(decoded.data(), decoded.size());
    return false;
  }
  user->assign(decoded, 0, colon);
  password->assign(decoded, colon + 1);
  OPENSSL_cleanse(decoded.data(), decoded.size());
  return true;
}

std::string BasicChallenge(std::string_view realm) {
  std::string out = "Basic realm=\"";
  for (char c : realm) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

void BasicAuth::Clear() {
  verified_.clear();
  order_.clear();
}

void BasicAuth::Remember(const Key& key) {
  if (!verified_.insert(key).second) return;
  order_.push_back(key);
  if (order_.size() > kCacheEntries) {
    verified_.erase(order_.front());
    order_.pop_front();
  }
}

bool BasicAuth::Check(const config::v1::RoutePolicy& policy, std::string_view authorization) {
  if (authorization.empty() || !ParseBasicCredentials(authorization, &user_, &password_)) return false;
  const std::string* line = nullptr;
  for (const std::string& l : policy.basic_auth_users()) {
    if (l.size() > user_.size() && l[user_.size()] == ':' && l.compare(0, user_.size(), user_) == 0) {
      line = &l;
      break;
    }
  }
  bool ok = false;
  if (line != nullptr) {
    Key key;
    SHA256_CTX sha;
    SHA256_Init(&sha);
    SHA256_Update(&sha, line->data(), line->size());
    SHA256_Update(&sha, "\0", 1);
    SHA256_Update(&sha, password_.data(), password_.size());
    SHA256_Final(key.data(), &sha);
    if (verified_.count(key) != 0) {
      ok = true;
    } else {
      // Validate() accepted every line of this snapshot, so this parse succeeds.
      auto entry = htpasswd::ParseLine(*line);
      ++hash_checks_;
      ok = entry.ok() && verifier_.Verify(entry->scheme, entry->hash, password_);
      if (ok) Remember(key);
    }
  }
  OPENSSL_cleanse(password_.data(), password_.size());
  return ok;
}

}  // namespace keel::policy
