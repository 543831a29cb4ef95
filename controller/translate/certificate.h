// CertificateValidator: how translation checks a TLS Secret without linking a TLS
// library. The controller injects the OpenSSL implementation (x509_openssl.h, target
// keel_translate_x509); the dataplane never links it. Implementations must be
// deterministic (same bytes → same answer) so that translation stays pure, and
// thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace keel::translate {

struct CertificateCheck {
  enum class Error { kNone, kBadChain, kBadKey, kKeyMismatch };
  Error error = Error::kNone;
  std::string message;  // why, when error != kNone
  // Leaf DNS subjectAltNames, lower-case, sorted, unique.
  std::vector<std::string> dns_names;
  // Leaf notAfter (unix seconds); 0 when unknown.
  int64_t not_after_unix_s = 0;

  bool ok() const { return error == Error::kNone; }
};

class CertificateValidator {
 public:
  virtual ~CertificateValidator() = default;
  // Checks that `chain_pem` holds at least one certificate (leaf first) and that
  // `key_pem` holds a private key matching the leaf.
  virtual CertificateCheck Validate(std::string_view chain_pem, std::string_view key_pem) const = 0;
};

// Used when no validator is injected: checks PEM structure only (a CERTIFICATE block
// and a PRIVATE KEY block whose bodies are valid base64). It cannot tell whether the
// key matches the certificate and extracts no names or expiry.
class PemStructureValidator : public CertificateValidator {
 public:
  CertificateCheck Validate(std::string_view chain_pem, std::string_view key_pem) const override;
};

}  // namespace keel::translate
