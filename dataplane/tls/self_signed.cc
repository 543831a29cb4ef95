// Self-signed certificate generation with BoringSSL's X509 builder.
#include "dataplane/tls/self_signed.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ec_key.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/pool.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

namespace keel::tls {

Result<std::unique_ptr<CertifiedKey>> GenerateSelfSigned(const std::string& common_name) {
  bssl::UniquePtr<EC_KEY> ec(EC_KEY_new_by_curve_name(NID_X9_62_prime256v1));
  if (!ec || !EC_KEY_generate_key(ec.get())) return Error{"self-signed: EC key generation failed"};
  bssl::UniquePtr<EVP_PKEY> key(EVP_PKEY_new());
  if (!key || !EVP_PKEY_assign_EC_KEY(key.get(), ec.release())) return Error{"self-signed: EVP_PKEY"};

  bssl::UniquePtr<X509> x(X509_new());
  uint64_t serial = 0;
  RAND_bytes(reinterpret_cast<uint8_t*>(&serial), sizeof serial);
  serial &= 0x7fffffffffffffffull;  // a positive INTEGER (RFC 5280 §4.1.2.2)
  bool ok = x && X509_set_version(x.get(), 2) &&
            ASN1_INTEGER_set_uint64(X509_get_serialNumber(x.get()), serial | 1) &&
            X509_gmtime_adj(X509_getm_notBefore(x.get()), -3600) &&
            X509_gmtime_adj(X509_getm_notAfter(x.get()), 10L * 365 * 24 * 3600) &&
            X509_set_pubkey(x.get(), key.get());
  X509_NAME* name = ok ? X509_get_subject_name(x.get()) : nullptr;
  ok = ok &&
       X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const uint8_t*>("keel"), -1, -1,
                                  0) &&
       X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                  reinterpret_cast<const uint8_t*>(common_name.c_str()), -1, -1, 0) &&
       X509_set_issuer_name(x.get(), name) && X509_sign(x.get(), key.get(), EVP_sha256());
  if (!ok) return Error{"self-signed: building the certificate failed"};

  uint8_t* der = nullptr;
  int len = i2d_X509(x.get(), &der);
  if (len <= 0) return Error{"self-signed: DER encoding failed"};
  auto out = std::make_unique<CertifiedKey>();
  out->name = "(generated)";
  out->ecdsa = true;
  out->chain.emplace_back(CRYPTO_BUFFER_new(der, static_cast<size_t>(len), nullptr));
  OPENSSL_free(der);
  out->chain_view.push_back(out->chain.back().get());
  out->key = std::move(key);
  return out;
}

}  // namespace keel::tls
