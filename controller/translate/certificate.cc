// PemStructureValidator: the TLS-library-free fallback (see certificate.h).
#include "controller/translate/certificate.h"

#include "controller/store/base64.h"

namespace keel::translate {
namespace {

// The base64 bodies of every "-----BEGIN <label>-----" block whose label ends with
// `label_suffix`; false if a block is unterminated or its body is not base64.
bool PemBlocks(std::string_view pem, std::string_view label_suffix, int* count) {
  *count = 0;
  size_t pos = 0;
  while ((pos = pem.find("-----BEGIN ", pos)) != std::string_view::npos) {
    size_t label_start = pos + 11;
    size_t label_end = pem.find("-----", label_start);
    if (label_end == std::string_view::npos) return false;
    std::string_view label = pem.substr(label_start, label_end - label_start);
    std::string end_marker = "-----END " + std::string(label) + "-----";
    size_t body_start = label_end + 5;
    size_t end = pem.find(end_marker, body_start);
    if (end == std::string_view::npos) return false;
    if (label.size() >= label_suffix.size() &&
        label.substr(label.size() - label_suffix.size()) == label_suffix) {
      std::string body;
      for (char c : pem.substr(body_start, end - body_start)) {
        if (c != '\n' && c != '\r' && c != ' ' && c != '\t') body.push_back(c);
      }
      if (body.empty() || !store::Base64Decode(body)) return false;
      ++*count;
    }
    pos = end + end_marker.size();
  }
  return true;
}

}  // namespace

CertificateCheck PemStructureValidator::Validate(std::string_view chain_pem, std::string_view key_pem) const {
  CertificateCheck check;
  int certs = 0;
  if (!PemBlocks(chain_pem, "CERTIFICATE", &certs) || certs == 0) {
    check.error = CertificateCheck::Error::kBadChain;
    check.message = "tls.crt holds no well-formed PEM CERTIFICATE block";
    return check;
  }
  int keys = 0;
  if (!PemBlocks(key_pem, "PRIVATE KEY", &keys) || keys != 1) {
    check.error = CertificateCheck::Error::kBadKey;
    check.message = "tls.key must hold exactly one well-formed PEM PRIVATE KEY block";
    return check;
  }
  return check;
}

}  // namespace keel::translate
