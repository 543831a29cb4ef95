// The dataplane's own certificate for handshakes nothing else covers: generated at
// start, never written anywhere, so an HTTPS listener always answers (like
// ingress-nginx's "Kubernetes Ingress Controller Fake Certificate").
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "dataplane/tls/cert_store.h"

namespace keel::tls {

// EC P-256, SHA-256 signature, valid from an hour ago for ten years.
Result<std::unique_ptr<CertifiedKey>> GenerateSelfSigned(const std::string& common_name);

}  // namespace keel::tls
