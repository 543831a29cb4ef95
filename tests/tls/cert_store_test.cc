// CertStore: SNI → exact, wildcard (one label), default; bad certificates left out;
// an RSA and an ECDSA certificate for one host.
#include "dataplane/tls/cert_store.h"

#include <gtest/gtest.h>

#include "tests/tls/test_certs.h"

namespace keel::tls {
namespace {

using keel::config::v1::Snapshot;
using testing::MakeCert;
using testing::Pem;

void AddCert(Snapshot* s, const std::string& name, const Pem& pem, std::initializer_list<std::string> dns) {
  auto* c = s->add_certificates();
  c->set_name(name);
  c->set_cert_chain_pem(pem.cert);
  c->set_private_key_pem(pem.key);
  for (const auto& d : dns) c->add_dns_names(d);
}

void AddHost(Snapshot* s, const std::string& host, const std::string& cert) {
  auto* vh = s->add_virtual_hosts();
  vh->set_name(host);
  vh->set_certificate(cert);
}

std::string Picked(const CertStore& store, std::string_view sni, bool ecdsa = true) {
  const CertChoice* c = store.Find(sni);
  if (!c) return "(none)";
  return c->Pick(ecdsa)->name;
}

TEST(CertStore, ExactThenWildcardThenDefault) {
  Snapshot s;
  AddCert(&s, "ns/a", MakeCert("a.test", "DNS:a.test"), {"a.test"});
  AddCert(&s, "ns/wild", MakeCert("wild", "DNS:*.wild.test"), {"*.wild.test"});
  AddCert(&s, "ns/default", MakeCert("default", "DNS:default.test"), {"default.test"});
  AddHost(&s, "a.test", "ns/a");
  AddHost(&s, "*.wild.test", "ns/wild");
  AddHost(&s, "plain.test", "");
  s.set_default_certificate("ns/default");
  std::vector<std::string> errors;
  auto store = CertStore::Build(s, &errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(Picked(*store, "a.test"), "ns/a");
  EXPECT_EQ(Picked(*store, "A.Test."), "ns/a");  // case and a trailing dot do not matter
  EXPECT_EQ(Picked(*store, "x.wild.test"), "ns/wild");
  EXPECT_EQ(Picked(*store, "y.x.wild.test"), "ns/default");  // a wildcard covers one label
  EXPECT_EQ(Picked(*store, "wild.test"), "ns/default");
  EXPECT_EQ(Picked(*store, "plain.test"), "ns/default");
  EXPECT_EQ(Picked(*store, ""), "ns/default");  // no SNI at all
}

TEST(CertStore, NoDefaultMeansNone) {
  Snapshot s;
  AddCert(&s, "ns/a", MakeCert("a.test", "DNS:a.test"), {"a.test"});
  AddHost(&s, "a.test", "ns/a");
  std::vector<std::string> errors;
  auto store = CertStore::Build(s, &errors);
  EXPECT_EQ(Picked(*store, "a.test"), "ns/a");
  EXPECT_EQ(store->Find("b.test"), nullptr);
}

TEST(CertStore, BrokenCertificateIsLeftOutAndOthersStay) {
  Pem good = MakeCert("good.test", "DNS:good.test");
  Pem other = MakeCert("other.test", "DNS:other.test");
  Snapshot s;
  AddCert(&s, "ns/good", good, {"good.test"});
  AddCert(&s, "ns/mismatch", Pem{good.cert, other.key}, {"bad.test"});
  AddCert(&s, "ns/garbage", Pem{"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", other.key},
          {"garbage.test"});
  AddCert(&s, "ns/nokey", Pem{other.cert, "not a key"}, {"nokey.test"});
  AddHost(&s, "good.test", "ns/good");
  AddHost(&s, "bad.test", "ns/mismatch");
  AddHost(&s, "garbage.test", "ns/garbage");
  AddHost(&s, "nokey.test", "ns/nokey");
  s.set_default_certificate("ns/mismatch");
  std::vector<std::string> errors;
  auto store = CertStore::Build(s, &errors);
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_NE(errors[0].find("ns/mismatch"), std::string::npos);
  EXPECT_NE(errors[0].find("does not match"), std::string::npos);
  EXPECT_NE(errors[1].find("ns/garbage"), std::string::npos);
  EXPECT_NE(errors[2].find("ns/nokey"), std::string::npos);
  EXPECT_NE(errors[3].find("default certificate ns/mismatch"), std::string::npos);
  EXPECT_EQ(store->size(), 1u);
  EXPECT_EQ(Picked(*store, "good.test"), "ns/good");
  EXPECT_EQ(store->Find("bad.test"), nullptr);  // → the generated certificate
}

TEST(CertStore, RsaAndEcdsaForOneHost) {
  Snapshot s;
  AddCert(&s, "ns/ec", MakeCert("both-ec", "DNS:both.test"), {"both.test"});
  AddCert(&s, "ns/rsa", MakeCert("both-rsa", "DNS:both.test", /*rsa=*/true), {"both.test"});
  AddHost(&s, "both.test", "ns/rsa");
  std::vector<std::string> errors;
  auto store = CertStore::Build(s, &errors);
  EXPECT_TRUE(errors.empty());
  const CertChoice* c = store->Find("both.test");
  ASSERT_NE(c, nullptr);
  ASSERT_NE(c->rsa, nullptr);
  ASSERT_NE(c->ecdsa, nullptr);
  EXPECT_EQ(c->Pick(true)->name, "ns/ec");
  EXPECT_EQ(c->Pick(false)->name, "ns/rsa");
}

TEST(CertStore, ParseRejectsUnusableInput) {
  Pem ec = MakeCert("x", "DNS:x.test");
  EXPECT_TRUE(ParseCertifiedKey("ok", ec.cert, ec.key).ok());
  EXPECT_FALSE(ParseCertifiedKey("empty", "", ec.key).ok());
  EXPECT_FALSE(ParseCertifiedKey("key-as-chain", ec.key, ec.key).ok());
  auto r = ParseCertifiedKey("ok", ec.cert, ec.key);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE((*r)->ecdsa);
  EXPECT_EQ((*r)->chain.size(), 1u);
}

}  // namespace
}  // namespace keel::tls
