// Basic auth: every accepted hash format against vectors made by tools (not by this
// code), wrong passwords, malformed Authorization headers, the verified-credential
// cache, the htpasswd classifier, Validate and the 401 from WorkerPolicy::Evaluate.
//
// Vectors, password "s3cret:pässwörd" (UTF-8, with a ':' that only the first split
// must honour):
//   openssl passwd -6 -salt Xy7.salt PW      openssl passwd -5 -salt Ab/12345 PW
//   openssl passwd -1 -salt abcd1234 PW      openssl passwd -apr1 -salt q1w2e3r4 PW
//   openssl passwd -apr1 -salt zz x          printf PW | openssl dgst -sha1 -binary | base64
//   python3 crypt.crypt(PW, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=32)), then the
//   same salt under $2y$ and $2a$;  crypt.crypt('x', '$6$rounds=6000$somesalt')
// OpenSSL's apr1 is an implementation independent of password.cc's.
#include "dataplane/policy/basic_auth.h"

#include <gtest/gtest.h>
#include <openssl/base64.h>

#include "common/htpasswd.h"
#include "dataplane/policy/password.h"
#include "dataplane/policy/policy.h"

namespace keel::policy {
namespace {

namespace cfg = keel::config::v1;

constexpr std::string_view kPw = "s3cret:pässwörd";
// "Basic " + base64("alice:" + kPw), and base64("alice:wrong").
constexpr std::string_view kGood = "Basic YWxpY2U6czNjcmV0OnDDpHNzd8O2cmQ=";
constexpr std::string_view kWrong = "Basic YWxpY2U6d3Jvbmc=";

struct Vector {
  const char* name;
  const char* hash;
};
const Vector kVectors[] = {
    {"sha512crypt",
     "$6$Xy7.salt$apCugoz0n6IDH/6syq3FafkU/oix0xsUvYFewgLb1weGEf72uFNUZ9hzKygLSp3i4eVyzFE3t5M4SfuDs9DOD0"},
    {"sha256crypt", "$5$Ab/12345$dlhuDJfNZgW8B4fZxMfqgR71xSg..RUB0e22Wru86I9"},
    {"md5crypt", "$1$abcd1234$Jxe2Hqe2KPpeBK7./HnUT1"},
    {"apr1", "$apr1$q1w2e3r4$SF84s0EbvoZG7ECbc7kPz1"},
    {"sha1", "{SHA}EUxJCGrxv/9U2G9jzflfGtBMRt4="},
    {"bcrypt2b", "$2b$05$8RfqcuFhLNf0GdWCFp1sceaTgsYXIdu69GMR5pYunZ7C9bc/eMc3O"},
    {"bcrypt2y", "$2y$05$8RfqcuFhLNf0GdWCFp1sceaTgsYXIdu69GMR5pYunZ7C9bc/eMc3O"},
    {"bcrypt2a", "$2a$05$8RfqcuFhLNf0GdWCFp1sceaTgsYXIdu69GMR5pYunZ7C9bc/eMc3O"},
};

class HashFormat : public ::testing::TestWithParam<Vector> {};

TEST_P(HashFormat, RightPasswordPassesWrongFails) {
  auto scheme = htpasswd::Classify(GetParam().hash);
  ASSERT_TRUE(scheme.ok()) << scheme.error();
  PasswordVerifier v;
  EXPECT_TRUE(v.Verify(*scheme, GetParam().hash, kPw));
  EXPECT_FALSE(v.Verify(*scheme, GetParam().hash, "s3cret:pässwörD"));
  EXPECT_FALSE(v.Verify(*scheme, GetParam().hash, ""));
  // A NUL would end crypt(3)'s key early: never a match, even with the right prefix.
  EXPECT_FALSE(v.Verify(*scheme, GetParam().hash, std::string(kPw) + std::string(1, '\0') + "x"));

  cfg::RoutePolicy p;
  p.add_basic_auth_users(std::string("bob:") + "$apr1$zz$nPtiSiJFVwLFJnkJT3POQ.");
  p.add_basic_auth_users(std::string("alice:") + GetParam().hash);
  ASSERT_TRUE(Validate(p).ok()) << Validate(p).error();
  BasicAuth auth;
  EXPECT_TRUE(auth.Check(p, kGood));
  EXPECT_FALSE(auth.Check(p, kWrong));
}

INSTANTIATE_TEST_SUITE_P(Vectors, HashFormat, ::testing::ValuesIn(kVectors),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(BasicAuth, Apr1ShortSaltAndShaCryptRounds) {
  EXPECT_EQ(Apr1("x", "zz"), "$apr1$zz$nPtiSiJFVwLFJnkJT3POQ.");
  EXPECT_EQ(Sha1Htpasswd(kPw), "{SHA}EUxJCGrxv/9U2G9jzflfGtBMRt4=");
  const char* rounds =
      "$6$rounds=6000$somesalt$"
      "My0ImXHkvf66pbR3W20wQZTUdj6LIFdxHPzzKzNdRdRth85ZSKu0MlqRzqYMWMJZKJKP4CCmz86CFXNaFTbV"
      "J/";
  ASSERT_TRUE(htpasswd::Classify(rounds).ok());
  PasswordVerifier v;
  EXPECT_TRUE(v.Verify(htpasswd::Scheme::kSha512Crypt, rounds, "x"));
  EXPECT_FALSE(v.Verify(htpasswd::Scheme::kSha512Crypt, rounds, "y"));
}

TEST(BasicAuth, ClassifierRefusesPlaintextDesAndExpensiveHashes) {
  for (const char* bad :
       {"hunter2", "", "abJnggxhB/yWI",                                  // DES crypt (htpasswd -d)
        "$2y$13$8RfqcuFhLNf0GdWCFp1sceaTgsYXIdu69GMR5pYunZ7C9bc/eMc3O",  // cost > 12
        "$2y$05$short", "$6$rounds=200000$somesalt$XbYsZKthbWInGsuj/vVU23n14KKtNfRSBCHpPfwrPuy",
        "$1$toolongsalt$Jxe2Hqe2KPpeBK7./HnUT1", "{SHA}notbase64", "$apr1$q1w2e3r4$short"}) {
    EXPECT_FALSE(htpasswd::Classify(bad).ok()) << bad;
  }
  auto e = htpasswd::ParseLine("carol:hunter2");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().find("user carol"), std::string::npos);
  EXPECT_EQ(e.error().find("hunter2"), std::string::npos);  // never echo a password
  EXPECT_FALSE(htpasswd::ParseLine(":{SHA}EUxJCGrxv/9U2G9jzflfGtBMRt4=").ok());
  EXPECT_FALSE(htpasswd::ParseLine("nocolon").ok());
}

TEST(BasicAuth, MalformedAuthorizationHeaders) {
  std::string u, pw;
  EXPECT_TRUE(ParseBasicCredentials("  bAsIc   YWxpY2U6czNjcmV0OnDDpHNzd8O2cmQ=  ", &u, &pw));
  EXPECT_EQ(u, "alice");
  EXPECT_EQ(pw, kPw);  // split at the first ':' only
  for (std::string_view bad : {"", "Basic", "Basic ", "Bearer YWxpY2U6eA==", "BasicYWxpY2U6eA==",
                               "Basic YWxpY2U=",      // no ':'
                               "Basic YWxpY2U6eA",    // unpadded
                               "Basic YWxp!2U6eA==",  // not base64
                               "Digest username=\"a\""}) {
    EXPECT_FALSE(ParseBasicCredentials(bad, &u, &pw)) << bad;
  }
  cfg::RoutePolicy p;
  p.add_basic_auth_users("alice:{SHA}EUxJCGrxv/9U2G9jzflfGtBMRt4=");
  BasicAuth auth;
  EXPECT_FALSE(auth.Check(p, ""));
  EXPECT_FALSE(auth.Check(p, "Basic YWxpY2U="));
  EXPECT_FALSE(auth.Check(p, std::string("Basic ") + std::string(5000, 'A')));
  // A user that is a prefix of a listed one ("alic") or a superstring does not match.
  EXPECT_FALSE(auth.Check(p, "Basic YWxpYzpzM2NyZXQ6cMOkc3N3w7ZyZA=="));
  EXPECT_EQ(auth.hash_checks(), 0u);
}

TEST(BasicAuth, CacheSkipsTheHashForRepeatedCredentialsAndIsBounded) {
  cfg::RoutePolicy p;
  p.add_basic_auth_users("alice:$2b$05$8RfqcuFhLNf0GdWCFp1sceaTgsYXIdu69GMR5pYunZ7C9bc/eMc3O");
  BasicAuth auth;
  EXPECT_TRUE(auth.Check(p, kGood));
  EXPECT_EQ(auth.hash_checks(), 1u);
  EXPECT_TRUE(auth.Check(p, kGood));
  EXPECT_TRUE(auth.Check(p, kGood));
  EXPECT_EQ(auth.hash_checks(), 1u);  // keep-alive client: bcrypt paid once
  EXPECT_EQ(auth.cached(), 1u);
  // Failures are not cached: each wrong guess pays the hash.
  EXPECT_FALSE(auth.Check(p, kWrong));
  EXPECT_FALSE(auth.Check(p, kWrong));
  EXPECT_EQ(auth.hash_checks(), 3u);
  // The key binds the entry: a changed hash for the same user is verified afresh.
  cfg::RoutePolicy changed;
  changed.add_basic_auth_users("alice:{SHA}EUxJCGrxv/9U2G9jzflfGtBMRt4=");
  EXPECT_TRUE(auth.Check(changed, kGood));
  EXPECT_EQ(auth.hash_checks(), 4u);
  changed.set_basic_auth_users(0, "alice:{SHA}AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
  EXPECT_FALSE(auth.Check(changed, kGood));
  auth.Clear();
  EXPECT_EQ(auth.cached(), 0u);
  EXPECT_TRUE(auth.Check(p, kGood));
  EXPECT_EQ(auth.hash_checks(), 6u);

  // Bounded: many distinct verified users never grow it past kCacheEntries.
  cfg::RoutePolicy many;
  std::vector<std::string> headers;
  for (size_t i = 0; i < BasicAuth::kCacheEntries + 10; ++i) {
    std::string user = "u" + std::to_string(i);
    many.add_basic_auth_users(user + ":" + Sha1Htpasswd("pw"));
  }
  BasicAuth bounded;
  for (size_t i = 0; i < BasicAuth::kCacheEntries + 10; ++i) {
    std::string cred = "u" + std::to_string(i) + ":pw";
    uint8_t b64[256];
    size_t n = EVP_EncodeBlock(b64, reinterpret_cast<const uint8_t*>(cred.data()), cred.size());
    ASSERT_TRUE(bounded.Check(many, "Basic " + std::string(reinterpret_cast<char*>(b64), n)));
  }
  EXPECT_EQ(bounded.cached(), BasicAuth::kCacheEntries);
}

TEST(BasicAuth, EvaluateAnswers401WithChallengeAndForwardsWithCredentials) {
  cfg::RoutePolicy p;
  p.add_basic_auth_users("alice:$apr1$q1w2e3r4$SF84s0EbvoZG7ECbc7kPz1");
  p.set_basic_auth_realm("Staff \"only\"");
  WorkerPolicy w(1);
  Verdict v;
  RequestFacts req;
  req.method = "GET";
  req.client_ip = "10.0.0.1";
  ASSERT_TRUE(w.Evaluate(p, "ns", "ing", req, 0, &v));
  EXPECT_EQ(v.status, 401);
  ASSERT_EQ(v.fields.size(), 1u);
  EXPECT_EQ(v.fields[0].name, "www-authenticate");
  EXPECT_EQ(v.fields[0].value, "Basic realm=\"Staff \\\"only\\\"\"");
  req.authorization = kWrong;
  ASSERT_TRUE(w.Evaluate(p, "ns", "ing", req, 0, &v));
  EXPECT_EQ(v.status, 401);
  req.authorization = kGood;
  EXPECT_FALSE(w.Evaluate(p, "ns", "ing", req, 0, &v));
  EXPECT_EQ(v.status, 0);
  // The connections feed Facts(): the first Authorization header counts.
  http1::Header h[] = {{"AUTHORIZATION", kGood}, {"authorization", kWrong}};
  EXPECT_EQ(Facts(h, "GET", "1.2.3.4").authorization, kGood);
  // A CORS preflight is answered before auth (nginx's rewrite phase runs first).
  p.mutable_cors()->set_enabled(true);
  p.mutable_cors()->add_allow_origins("*");
  req.authorization = {};
  req.method = "OPTIONS";
  req.origin = "https://a.example";
  req.request_method = "PUT";
  ASSERT_TRUE(w.Evaluate(p, "ns", "ing", req, 0, &v));
  EXPECT_EQ(v.status, 204);
}

TEST(BasicAuth, ValidateNacksUnverifiableEntries) {
  cfg::RoutePolicy p;
  p.add_basic_auth_users("alice:{SHA}EUxJCGrxv/9U2G9jzflfGtBMRt4=");
  EXPECT_TRUE(Validate(p).ok());
  p.add_basic_auth_users("bob:plaintext");
  EXPECT_FALSE(Validate(p).ok());
  p.clear_basic_auth_users();
  p.add_basic_auth_users("alice:{SHA}EUxJCGrxv/9U2G9jzflfGtBMRt4=");
  p.set_basic_auth_realm("a\r\nx: y");
  EXPECT_FALSE(Validate(p).ok());
}

}  // namespace
}  // namespace keel::policy
