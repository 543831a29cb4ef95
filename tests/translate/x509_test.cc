// The OpenSSL certificate validator against the committed test certificates, and the
// PEM-structure fallback.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "controller/translate/x509_openssl.h"

namespace keel::translate {
namespace {

std::string Pem(const std::string& name) {
  std::ifstream in(std::string(KEEL_CERTS) + "/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_FALSE(ss.str().empty()) << name;
  return ss.str();
}

using Err = CertificateCheck::Error;

TEST(X509, ValidPairsGiveNamesAndExpiry) {
  OpenSslCertificateValidator v;
  CertificateCheck ec = v.Validate(Pem("ec.crt"), Pem("ec.key"));
  ASSERT_TRUE(ec.ok()) << ec.message;
  EXPECT_EQ(ec.dns_names, (std::vector<std::string>{"*.wild.example.test", "secure.example.test"}));
  EXPECT_GT(ec.not_after_unix_s, 4'000'000'000);  // the test certificates run to 2126
  CertificateCheck rsa = v.Validate(Pem("rsa.crt"), Pem("rsa.key"));
  ASSERT_TRUE(rsa.ok()) << rsa.message;
  EXPECT_EQ(rsa.dns_names, (std::vector<std::string>{"rsa.example.test", "www.rsa.example.test"}));
  // A chain (leaf first, then another certificate) is fine; the leaf must match.
  EXPECT_TRUE(v.Validate(Pem("ec.crt") + Pem("rsa.crt"), Pem("ec.key")).ok());
  EXPECT_EQ(v.Validate(Pem("rsa.crt") + Pem("ec.crt"), Pem("ec.key")).error, Err::kKeyMismatch);
  // Memoised answers are the same answers.
  EXPECT_EQ(v.Validate(Pem("ec.crt"), Pem("ec.key")).dns_names, ec.dns_names);
}

TEST(X509, BrokenInputsAreClassified) {
  OpenSslCertificateValidator v;
  EXPECT_EQ(v.Validate(Pem("ec.crt"), Pem("mismatch.key")).error, Err::kKeyMismatch);
  EXPECT_EQ(v.Validate(Pem("rsa.crt"), Pem("ec.key")).error, Err::kKeyMismatch);
  EXPECT_EQ(v.Validate(Pem("corrupt.crt"), Pem("ec.key")).error, Err::kBadChain);
  EXPECT_EQ(v.Validate("", Pem("ec.key")).error, Err::kBadChain);
  EXPECT_EQ(v.Validate("not pem at all", Pem("ec.key")).error, Err::kBadChain);
  EXPECT_EQ(v.Validate(Pem("ec.crt"), "").error, Err::kBadKey);
  EXPECT_EQ(v.Validate(Pem("ec.crt"), "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").error,
            Err::kBadKey);
  EXPECT_EQ(v.Validate(Pem("ec.crt"), Pem("ec.crt")).error, Err::kBadKey);
}

TEST(PemStructure, ChecksShapeOnly) {
  PemStructureValidator v;
  EXPECT_TRUE(v.Validate(Pem("ec.crt"), Pem("ec.key")).ok());
  // It cannot see a mismatch: that is what the OpenSSL validator is for.
  EXPECT_TRUE(v.Validate(Pem("ec.crt"), Pem("mismatch.key")).ok());
  EXPECT_EQ(v.Validate(Pem("corrupt.crt"), Pem("ec.key")).error, Err::kBadChain);
  EXPECT_EQ(v.Validate("", Pem("ec.key")).error, Err::kBadChain);
  EXPECT_EQ(v.Validate(Pem("ec.crt"), Pem("ec.key") + Pem("rsa.key")).error, Err::kBadKey);
  EXPECT_EQ(v.Validate(Pem("ec.crt"), Pem("ec.crt")).error, Err::kBadKey);
}

}  // namespace
}  // namespace keel::translate
