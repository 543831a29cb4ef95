// Throwaway certificates for the TLS tests, minted at run time with the openssl CLI
// (this test binary carries BoringSSL, so it must not link OpenSSL itself).
#pragma once

#include <string>

namespace keel::testing {

struct Pem {
  std::string cert;
  std::string key;
};

// A self-signed leaf with CN `cn` and SANs `sans` ("DNS:a.test,DNS:*.b.test"), key
// EC P-256 or RSA 2048. Aborts the test on failure.
Pem MakeCert(const std::string& cn, const std::string& sans, bool rsa = false);

}  // namespace keel::testing
