// htpasswd line parsing and hash classification (see htpasswd.h). Pure string checks:
// no crypto here, so the controller can use it without linking a crypto library.
#include "common/htpasswd.h"

#include <algorithm>

namespace keel::htpasswd {
namespace {

// crypt(3)'s alphabet for salts and digests.
bool CryptChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '/';
}
bool AllCrypt(std::string_view s) { return std::all_of(s.begin(), s.end(), CryptChar); }

bool Base64Char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

// "<salt>$<digest>" with salt of 1..max_salt crypt characters and a digest of exactly
// `digest` characters.
bool SaltDigest(std::string_view rest, size_t max_salt, size_t digest) {
  size_t dollar = rest.find('$');
  if (dollar == std::string_view::npos || dollar == 0 || dollar > max_salt) return false;
  std::string_view salt = rest.substr(0, dollar), d = rest.substr(dollar + 1);
  return AllCrypt(salt) && d.size() == digest && AllCrypt(d);
}

Result<Scheme> ShaCrypt(std::string_view rest, Scheme scheme, size_t digest) {
  // Optional "rounds=N$" (crypt(3), default 5000).
  if (rest.rfind("rounds=", 0) == 0) {
    size_t dollar = rest.find('$');
    if (dollar == std::string_view::npos) return Error{"malformed rounds= field"};
    std::string_view n = rest.substr(7, dollar - 7);
    if (n.empty() || n.size() > 9 ||
        !std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return Error{"malformed rounds= field"};
    long rounds = std::stol(std::string(n));
    if (rounds > kMaxShaCryptRounds)
      return Error{"rounds=" + std::string(n) + " is above " + std::to_string(kMaxShaCryptRounds) +
                   " (each request would stall the worker)"};
    rest.remove_prefix(dollar + 1);
  }
  if (!SaltDigest(rest, 16, digest)) return Error{"malformed " + std::string(SchemeName(scheme)) + " hash"};
  return scheme;
}

}  // namespace

std::string_view SchemeName(Scheme scheme) {
  switch (scheme) {
    case Scheme::kBcrypt:
      return "bcrypt";
    case Scheme::kSha512Crypt:
      return "SHA-512-crypt";
    case Scheme::kSha256Crypt:
      return "SHA-256-crypt";
    case Scheme::kMd5Crypt:
      return "MD5-crypt";
    case Scheme::kApr1:
      return "apr1";
    case Scheme::kSha1:
      return "{SHA}";
  }
  return "unknown";
}

Result<Scheme> Classify(std::string_view h) {
  if (h.size() == 60 && h[0] == '$' && h[1] == '2' && (h[2] == 'a' || h[2] == 'b' || h[2] == 'y') &&
      h[3] == '$' && h[6] == '$') {
    if (h[4] < '0' || h[4] > '9' || h[5] < '0' || h[5] > '9' || !AllCrypt(h.substr(7)))
      return Error{"malformed bcrypt hash"};
    int cost = (h[4] - '0') * 10 + (h[5] - '0');
    if (cost < 4) return Error{"malformed bcrypt hash (cost below 4)"};
    if (cost > kMaxBcryptCost)
      return Error{"bcrypt cost " + std::to_string(cost) + " is above " + std::to_string(kMaxBcryptCost) +
                   " (each request would stall the worker)"};
    return Scheme::kBcrypt;
  }
  if (h.rfind("$6$", 0) == 0) return ShaCrypt(h.substr(3), Scheme::kSha512Crypt, 86);
  if (h.rfind("$5$", 0) == 0) return ShaCrypt(h.substr(3), Scheme::kSha256Crypt, 43);
  if (h.rfind("$1$", 0) == 0) {
    if (!SaltDigest(h.substr(3), 8, 22)) return Error{"malformed MD5-crypt hash"};
    return Scheme::kMd5Crypt;
  }
  if (h.rfind("$apr1$", 0) == 0) {
    if (!SaltDigest(h.substr(6), 8, 22)) return Error{"malformed apr1 hash"};
    return Scheme::kApr1;
  }
  if (h.rfind("{SHA}", 0) == 0) {
    std::string_view b = h.substr(5);
    if (b.size() != 28 || b[27] != '=' || !std::all_of(b.begin(), b.end() - 1, Base64Char))
      return Error{"malformed {SHA} hash"};
    return Scheme::kSha1;
  }
  if (h.size() == 13 && AllCrypt(h))
    return Error{"DES crypt hashes are refused (only 8 password bytes count)"};
  if (h.rfind("$2", 0) == 0) return Error{"malformed bcrypt hash"};
  return Error{
      "not a supported hash (bcrypt $2y$/$2b$/$2a$, $6$, $5$, $1$, $apr1$ or {SHA}); plaintext passwords are "
      "refused"};
}

Result<Entry> ParseLine(std::string_view line) {
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return Error{"line without \"user:hash\""};
  Entry e;
  e.user = line.substr(0, colon);
  e.hash = line.substr(colon + 1);
  if (e.user.empty()) return Error{"empty user name"};
  for (char c : line) {
    if (c == '\r' || c == '\n' || c == '\0')
      return Error{"user " + std::string(e.user) + ": control character"};
  }
  auto scheme = Classify(e.hash);
  if (!scheme.ok()) return Error{"user " + std::string(e.user) + ": " + scheme.error()};
  e.scheme = *scheme;
  return e;
}

}  // namespace keel::htpasswd
