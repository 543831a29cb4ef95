// CORS: origin matching (exact, "*", wildcard subdomains) and the headers of preflight
// and actual responses, including the credentials rule (never "*" with credentials).
#include "dataplane/policy/cors.h"

#include <gtest/gtest.h>

namespace keel::policy {
namespace {

namespace cfg = keel::config::v1;

cfg::CorsPolicy Cors(std::initializer_list<const char*> origins, bool credentials = false) {
  cfg::CorsPolicy c;
  c.set_enabled(true);
  for (const char* o : origins) c.add_allow_origins(o);
  c.set_allow_methods("GET, POST");
  c.set_allow_headers("Content-Type,Authorization");
  c.set_expose_headers("X-Total");
  c.set_allow_credentials(credentials);
  c.set_max_age_s(600);
  return c;
}

std::string Get(const Fields& f, std::string_view name) {
  for (const auto& x : f)
    if (x.name == name) return x.value;
  return "<absent>";
}

TEST(Cors, OriginMatching) {
  cfg::CorsPolicy c = Cors({"https://a.example", "https://*.example.com"});
  EXPECT_TRUE(OriginAllowed(c.allow_origins(), "https://a.example"));
  EXPECT_TRUE(OriginAllowed(c.allow_origins(), "HTTPS://A.EXAMPLE"));
  EXPECT_FALSE(OriginAllowed(c.allow_origins(), "http://a.example"));
  EXPECT_FALSE(OriginAllowed(c.allow_origins(), "https://a.example.evil"));
  EXPECT_TRUE(OriginAllowed(c.allow_origins(), "https://x.example.com"));
  EXPECT_TRUE(OriginAllowed(c.allow_origins(), "https://y.x.example.com"));
  EXPECT_FALSE(OriginAllowed(c.allow_origins(), "https://example.com"));
  EXPECT_FALSE(OriginAllowed(c.allow_origins(), "https://.example.com"));
  EXPECT_FALSE(OriginAllowed(c.allow_origins(), "https://evilexample.com"));
  EXPECT_FALSE(OriginAllowed(c.allow_origins(), "https://evil.com/.example.com"));
  EXPECT_FALSE(OriginAllowed(c.allow_origins(), "http://x.example.com"));
  EXPECT_TRUE(OriginAllowed(Cors({"*"}).allow_origins(), "null"));
}

TEST(Cors, PreflightFromAllowedOriginIsAnswered) {
  auto out = EvaluateCors(Cors({"https://a.example"}), "OPTIONS", "https://a.example", "POST");
  ASSERT_TRUE(out.preflight);
  EXPECT_EQ(Get(out.fields, "access-control-allow-origin"), "https://a.example");
  EXPECT_EQ(Get(out.fields, "vary"), "Origin");
  EXPECT_EQ(Get(out.fields, "access-control-allow-methods"), "GET, POST");
  EXPECT_EQ(Get(out.fields, "access-control-allow-headers"), "Content-Type,Authorization");
  EXPECT_EQ(Get(out.fields, "access-control-max-age"), "600");
  EXPECT_EQ(Get(out.fields, "access-control-allow-credentials"), "<absent>");
  EXPECT_EQ(Get(out.fields, "access-control-expose-headers"), "<absent>");
}

TEST(Cors, ActualRequestGetsAllowAndExposeHeaders) {
  auto out = EvaluateCors(Cors({"*"}), "GET", "https://b.example", "");
  EXPECT_FALSE(out.preflight);
  EXPECT_EQ(Get(out.fields, "access-control-allow-origin"), "*");
  EXPECT_EQ(Get(out.fields, "vary"), "<absent>");
  EXPECT_EQ(Get(out.fields, "access-control-expose-headers"), "X-Total");
  EXPECT_EQ(Get(out.fields, "access-control-allow-methods"), "<absent>");
  // OPTIONS without Access-Control-Request-Method is an ordinary request.
  EXPECT_FALSE(EvaluateCors(Cors({"*"}), "OPTIONS", "https://b.example", "").preflight);
}

TEST(Cors, WildcardWithCredentialsEchoesTheOrigin) {
  auto out = EvaluateCors(Cors({"*"}, true), "GET", "https://b.example", "");
  EXPECT_EQ(Get(out.fields, "access-control-allow-origin"), "https://b.example");
  EXPECT_EQ(Get(out.fields, "access-control-allow-credentials"), "true");
  EXPECT_EQ(Get(out.fields, "vary"), "Origin");
}

TEST(Cors, OtherOriginsNoOriginOrDisabledGetNothing) {
  EXPECT_TRUE(
      EvaluateCors(Cors({"https://a.example"}), "OPTIONS", "https://c.example", "GET").fields.empty());
  EXPECT_FALSE(EvaluateCors(Cors({"https://a.example"}), "OPTIONS", "https://c.example", "GET").preflight);
  EXPECT_TRUE(EvaluateCors(Cors({"*"}), "GET", "", "").fields.empty());
  cfg::CorsPolicy off = Cors({"*"});
  off.set_enabled(false);
  EXPECT_FALSE(EvaluateCors(off, "OPTIONS", "https://a.example", "GET").preflight);
}

}  // namespace
}  // namespace keel::policy
