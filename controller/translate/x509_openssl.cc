// OpenSSL-backed certificate checks (see x509_openssl.h).
#include "controller/translate/x509_openssl.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <ctime>
#include <vector>

#include "controller/translate/values.h"
#include "controller/translate/version.h"

namespace keel::translate {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct NamesFree {
  void operator()(GENERAL_NAMES* n) const { GENERAL_NAMES_free(n); }
};

std::unique_ptr<BIO, BioFree> MemBio(std::string_view data) {
  return std::unique_ptr<BIO, BioFree>(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string OpenSslError() {
  unsigned long e = ERR_peek_last_error();
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  ERR_clear_error();
  return buf;
}

CertificateCheck Check(std::string_view chain_pem, std::string_view key_pem) {
  CertificateCheck check;
  ERR_clear_error();
  std::vector<std::unique_ptr<X509, X509Free>> chain;
  {
    auto bio = MemBio(chain_pem);
    while (true) {
      X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
      if (x == nullptr) break;
      chain.emplace_back(x);
    }
    // The loop ends on "no start line" at the end of the input; anything else is a
    // corrupt block.
    unsigned long err = ERR_peek_last_error();
    bool clean_end =
        err == 0 || (ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE);
    if (!clean_end) {
      check.error = CertificateCheck::Error::kBadChain;
      check.message = "tls.crt has a corrupt certificate block (" + OpenSslError() + ")";
      return check;
    }
    if (chain.empty()) {
      check.error = CertificateCheck::Error::kBadChain;
      check.message = "tls.crt holds no PEM certificate";
      return check;
    }
    ERR_clear_error();
  }
  std::unique_ptr<EVP_PKEY, PkeyFree> key;
  {
    auto bio = MemBio(key_pem);
    key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    if (!key) {
      check.error = CertificateCheck::Error::kBadKey;
      check.message = "tls.key is not a PEM private key (" + OpenSslError() + ")";
      return check;
    }
  }
  X509* leaf = chain.front().get();
  if (X509_check_private_key(leaf, key.get()) != 1) {
    ERR_clear_error();
    check.error = CertificateCheck::Error::kKeyMismatch;
    check.message = "tls.key does not match the first certificate in tls.crt";
    return check;
  }
  std::unique_ptr<GENERAL_NAMES, NamesFree> names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(leaf, NID_subject_alt_name, nullptr, nullptr)));
  if (names) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
      if (gn->type != GEN_DNS) continue;
      const ASN1_IA5STRING* s = gn->d.dNSName;
      check.dns_names.push_back(
          Lower(std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                 static_cast<size_t>(ASN1_STRING_length(s)))));
    }
  }
  std::sort(check.dns_names.begin(), check.dns_names.end());
  check.dns_names.erase(std::unique(check.dns_names.begin(), check.dns_names.end()), check.dns_names.end());
  struct tm tm {};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(leaf), &tm) == 1) check.not_after_unix_s = timegm(&tm);
  ERR_clear_error();
  return check;
}

}  // namespace

OpenSslCertificateValidator::OpenSslCertificateValidator() = default;
OpenSslCertificateValidator::~OpenSslCertificateValidator() = default;

CertificateCheck OpenSslCertificateValidator::Validate(std::string_view chain_pem,
                                                       std::string_view key_pem) const {
  std::string input;
  input.reserve(chain_pem.size() + key_pem.size() + 1);
  input.append(chain_pem).push_back('\0');
  input.append(key_pem);
  std::string memo_key = DigestHex(Hash128(input));
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = memo_.find(memo_key);
    if (it != memo_.end()) return it->second;
  }
  CertificateCheck check = Check(chain_pem, key_pem);
  std::lock_guard<std::mutex> lock(mu_);
  if (memo_.size() >= 4096) memo_.clear();
  memo_.emplace(memo_key, check);
  return check;
}

}  // namespace keel::translate
