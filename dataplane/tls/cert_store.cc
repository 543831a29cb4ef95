// CertStore: PEM → DER buffers and keys, then host → certificate indexes.
#include "dataplane/tls/cert_store.h"

#include <openssl/bio.h>
#include <openssl/bytestring.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/pem.h>
#include <openssl/pool.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace keel::tls {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string LastSslError() {
  uint32_t e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown error";
  char buf[160];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

}  // namespace

Result<std::unique_ptr<CertifiedKey>> ParseCertifiedKey(std::string name, std::string_view chain_pem,
                                                        std::string_view key_pem) {
  auto out = std::make_unique<CertifiedKey>();
  out->name = std::move(name);
  ERR_clear_error();
  bssl::UniquePtr<BIO> bio(BIO_new_mem_buf(chain_pem.data(), static_cast<long>(chain_pem.size())));
  bssl::UniquePtr<X509> leaf;
  for (;;) {
    char* pem_name = nullptr;
    char* header = nullptr;
    uint8_t* der = nullptr;
    long der_len = 0;
    if (!PEM_read_bio(bio.get(), &pem_name, &header, &der, &der_len)) break;
    bool is_cert = std::strcmp(pem_name, "CERTIFICATE") == 0;
    if (is_cert) {
      if (!leaf) {
        const uint8_t* p = der;
        leaf.reset(d2i_X509(nullptr, &p, der_len));
      }
      out->chain.emplace_back(CRYPTO_BUFFER_new(der, static_cast<size_t>(der_len), nullptr));
    }
    OPENSSL_free(pem_name);
    OPENSSL_free(header);
    OPENSSL_free(der);
  }
  ERR_clear_error();  // the loop ends on a "no start line" error
  if (out->chain.empty()) return Error{"certificate chain: no PEM CERTIFICATE block"};
  if (!leaf) return Error{"certificate chain: leaf does not parse: " + LastSslError()};
  for (auto& b : out->chain) out->chain_view.push_back(b.get());

  bssl::UniquePtr<BIO> kbio(BIO_new_mem_buf(key_pem.data(), static_cast<long>(key_pem.size())));
  out->key.reset(PEM_read_bio_PrivateKey(kbio.get(), nullptr, nullptr, nullptr));
  if (!out->key) return Error{"private key does not parse: " + LastSslError()};
  int type = EVP_PKEY_id(out->key.get());
  if (type != EVP_PKEY_RSA && type != EVP_PKEY_EC) return Error{"private key is neither RSA nor ECDSA"};
  out->ecdsa = type == EVP_PKEY_EC;
  if (!X509_check_private_key(leaf.get(), out->key.get())) {
    return Error{"private key does not match the leaf certificate"};
  }
  ERR_clear_error();
  return out;
}

void CertStore::Add(CertChoice* choice, const CertifiedKey* c, bool replace) {
  const CertifiedKey*& slot = c->ecdsa ? choice->ecdsa : choice->rsa;
  if (!slot || replace) slot = c;
}

std::shared_ptr<const CertStore> CertStore::Build(const keel::config::v1::Snapshot& snapshot,
                                                  std::vector<std::string>* errors) {
  auto store = std::make_shared<CertStore>();
  std::unordered_map<std::string, const CertifiedKey*> by_name;
  for (const auto& c : snapshot.certificates()) {
    auto parsed = ParseCertifiedKey(c.name(), c.cert_chain_pem(), c.private_key_pem());
    if (!parsed.ok()) {
      errors->push_back("certificate " + c.name() + ": " + parsed.error());
      continue;
    }
    by_name[c.name()] = parsed->get();
    store->certs_.push_back(std::move(*parsed));
  }
  // A host's own certificate first; then, for the other key type, any certificate
  // whose SANs name the host (an RSA and an ECDSA Secret for one host).
  for (const auto& vh : snapshot.virtual_hosts()) {
    if (vh.certificate().empty()) continue;
    auto it = by_name.find(vh.certificate());
    if (it == by_name.end()) continue;  // left out above, or unknown (RouteTable NACKs that)
    std::string host = Lower(vh.name());
    if (host.rfind("*.", 0) == 0) {
      Add(&store->wildcard_[host.substr(2)], it->second, true);
    } else {
      Add(&store->exact_[host], it->second, true);
    }
  }
  for (const auto& c : snapshot.certificates()) {
    auto it = by_name.find(c.name());
    if (it == by_name.end()) continue;
    for (const auto& dns : c.dns_names()) {
      std::string host = Lower(dns);
      bool wild = host.rfind("*.", 0) == 0;
      auto& index = wild ? store->wildcard_ : store->exact_;
      auto slot = index.find(wild ? host.substr(2) : host);
      if (slot != index.end()) Add(&slot->second, it->second, false);
    }
  }
  if (!snapshot.default_certificate().empty()) {
    auto it = by_name.find(snapshot.default_certificate());
    if (it != by_name.end()) {
      Add(&store->default_, it->second, true);
    } else {
      errors->push_back("default certificate " + snapshot.default_certificate() +
                        " is unusable; the generated one applies");
    }
  }
  return store;
}

const CertChoice* CertStore::Find(std::string_view server_name) const {
  if (!server_name.empty()) {
    std::string host = Lower(server_name);
    if (!host.empty() && host.back() == '.') host.pop_back();  // absolute FQDN
    if (auto it = exact_.find(host); it != exact_.end()) return &it->second;
    size_t dot = host.find('.');
    if (dot != std::string::npos) {
      if (auto it = wildcard_.find(host.substr(dot + 1)); it != wildcard_.end()) return &it->second;
    }
  }
  return default_.empty() ? nullptr : &default_;
}

}  // namespace keel::tls
