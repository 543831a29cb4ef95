// CertificateValidator on OpenSSL's libcrypto, for the controller process (which
// already links OpenSSL 3 through gRPC and cpprest). Target keel_translate_x509; the
// dataplane must never link it (BoringSSL lives there, see DEPS.md).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "controller/translate/certificate.h"

namespace keel::translate {

class OpenSslCertificateValidator : public CertificateValidator {
 public:
  OpenSslCertificateValidator();
  ~OpenSslCertificateValidator() override;

  // Parses every CERTIFICATE block of `chain_pem` (leaf first), the private key, and
  // checks X509_check_private_key(leaf, key). Results are memoised by a digest of the
  // inputs (translation re-validates every Secret on every run; RSA key parsing costs
  // ~50 µs), bounded to 4096 entries.
  CertificateCheck Validate(std::string_view chain_pem, std::string_view key_pem) const override;

 private:
  mutable std::mutex mu_;
  mutable std::map<std::string, CertificateCheck> memo_;
};

}  // namespace keel::translate
