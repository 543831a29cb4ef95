// Throwaway X.509 material for the mutual-TLS tests, minted in-process (OpenSSL 3,
// which this test binary already carries through secure gRPC): a CA and leaf
// certificates it signs. Nothing is written to disk.
#pragma once

#include <string>

namespace keel::testing {

struct Pem {
  std::string cert;
  std::string key;
};

// A self-signed CA (EC P-256, valid for a day).
Pem MakeCa(const std::string& common_name);
// A leaf signed by `ca` with SANs DNS:localhost and IP:127.0.0.1, usable for both
// serverAuth and clientAuth.
Pem MakeLeaf(const Pem& ca, const std::string& common_name);

}  // namespace keel::testing
