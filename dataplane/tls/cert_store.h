// CertStore: the certificates of one snapshot, parsed once on the config thread into
// BoringSSL's handshake form (DER CRYPTO_BUFFERs + EVP_PKEY) and indexed by the host
// names that use them. Immutable and shared: every worker's handshakes read it without
// locks, and a handshake keeps the store it started with (hot rotation never swaps a
// certificate under a running handshake).
#pragma once

#include <openssl/base.h>
#include <openssl/evp.h>
#include <openssl/pool.h>

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "keel/config/v1/config.pb.h"

namespace keel::tls {

// One certificate chain and its private key.
struct CertifiedKey {
  std::string name;  // "namespace/secret"
  bool ecdsa = false;
  std::vector<bssl::UniquePtr<CRYPTO_BUFFER>> chain;  // leaf first
  std::vector<CRYPTO_BUFFER*> chain_view;             // same, for SSL_set_chain_and_key
  bssl::UniquePtr<EVP_PKEY> key;
};

// What a host may present: an RSA and/or an ECDSA certificate (RFC 8446 §4.4.2.2:
// the server picks what the client's signature_algorithms allow).
struct CertChoice {
  const CertifiedKey* rsa = nullptr;
  const CertifiedKey* ecdsa = nullptr;
  const CertifiedKey* Pick(bool client_takes_ecdsa) const {
    if (ecdsa && (client_takes_ecdsa || !rsa)) return ecdsa;
    return rsa;
  }
  bool empty() const { return !rsa && !ecdsa; }
};

// Parses one PEM chain + key; checks that the key matches the leaf and is RSA or EC.
Result<std::unique_ptr<CertifiedKey>> ParseCertifiedKey(std::string name, std::string_view chain_pem,
                                                        std::string_view key_pem);

class CertStore {
 public:
  // Never fails as a whole: a certificate that does not parse (the controller already
  // rejects those, this is defence in depth) is left out with its reason appended to
  // `errors`, and its hosts fall through to the wildcard or default certificate.
  static std::shared_ptr<const CertStore> Build(const keel::config::v1::Snapshot& snapshot,
                                                std::vector<std::string>* errors);

  // SNI (any case) → exact host, then "*.<host minus first label>", then the snapshot's
  // default certificate. nullptr: none (the listener's generated certificate applies).
  const CertChoice* Find(std::string_view server_name) const;
  size_t size() const { return certs_.size(); }

 private:
  static void Add(CertChoice* choice, const CertifiedKey* c, bool replace);

  std::vector<std::unique_ptr<CertifiedKey>> certs_;
  std::unordered_map<std::string, CertChoice> exact_;
  std::unordered_map<std::string, CertChoice> wildcard_;  // key: suffix after "*."
  CertChoice default_;
};

}  // namespace keel::tls
