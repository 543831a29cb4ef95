// WorkerPolicy::Evaluate: order (preflight before limits), 429s with Retry-After and
// CORS headers, zones per Ingress and client, response headers; Validate's refusals.
#include "dataplane/policy/policy.h"

#include <gtest/gtest.h>

namespace keel::policy {
namespace {

namespace cfg = keel::config::v1;

std::string Get(const Fields& f, std::string_view name) {
  for (const auto& x : f)
    if (x.name == name) return x.value;
  return "<absent>";
}

RequestFacts Req(std::string_view ip = "10.0.0.1", std::string_view method = "GET",
                 std::string_view origin = "", std::string_view acrm = "") {
  RequestFacts r;
  r.method = method;
  r.client_ip = ip;
  r.origin = origin;
  r.request_method = acrm;
  return r;
}

TEST(Policy, FactsFromHeaders) {
  http1::Header h[] = {
      {"Host", "a"}, {"ORIGIN", "https://a.example"}, {"Access-Control-Request-Method", "PUT"}};
  RequestFacts f = Facts(h, "OPTIONS", "1.2.3.4");
  EXPECT_EQ(f.origin, "https://a.example");
  EXPECT_EQ(f.request_method, "PUT");
  EXPECT_EQ(f.method, "OPTIONS");
  EXPECT_EQ(f.client_ip, "1.2.3.4");
}

TEST(Policy, EmptyPolicyForwardsUntouched) {
  WorkerPolicy w(1);
  Verdict v;
  EXPECT_FALSE(w.Evaluate(cfg::RoutePolicy(), "ns", "ing", Req(), 0, &v));
  EXPECT_EQ(v.status, 0);
  EXPECT_TRUE(v.response_fields.empty());
  EXPECT_FALSE(v.lease.held());
}

TEST(Policy, RateLimitPerIngressAndClient) {
  cfg::RoutePolicy p;
  p.mutable_rate_limit()->set_requests_per_second(1);
  p.mutable_rate_limit()->set_burst(1);
  WorkerPolicy w(1);
  Verdict v;
  EXPECT_FALSE(w.Evaluate(p, "ns", "ing", Req(), 0, &v));
  EXPECT_FALSE(w.Evaluate(p, "ns", "ing", Req(), 0, &v));
  ASSERT_TRUE(w.Evaluate(p, "ns", "ing", Req(), 0, &v));
  EXPECT_EQ(v.status, 429);
  EXPECT_EQ(Get(v.fields, "retry-after"), "1");
  EXPECT_FALSE(w.Evaluate(p, "ns", "ing", Req("10.0.0.2"), 0, &v));  // another client
  EXPECT_FALSE(w.Evaluate(p, "ns", "other", Req(), 0, &v));          // another Ingress
  EXPECT_FALSE(w.Evaluate(p, "ns", "ing", Req(), 1000, &v));         // refilled
}

TEST(Policy, InFlightLimitReleasedWithTheVerdict) {
  cfg::RoutePolicy p;
  p.mutable_rate_limit()->set_connections(1);
  WorkerPolicy w(1);
  Verdict first, second;
  EXPECT_FALSE(w.Evaluate(p, "ns", "ing", Req(), 0, &first));
  EXPECT_TRUE(first.lease.held());
  ASSERT_TRUE(w.Evaluate(p, "ns", "ing", Req(), 0, &second));
  EXPECT_EQ(second.status, 429);
  first.Reset();
  EXPECT_FALSE(w.Evaluate(p, "ns", "ing", Req(), 0, &second));
  EXPECT_EQ(w.inflight().InFlight(std::string("ns/ing") + '\0' + "10.0.0.1"), 1u);
}

TEST(Policy, PreflightIsAnsweredBeforeLimitsAndLimitAnswersCarryCors) {
  cfg::RoutePolicy p;
  p.mutable_cors()->set_enabled(true);
  p.mutable_cors()->add_allow_origins("https://a.example");
  p.mutable_cors()->set_allow_methods("GET");
  p.mutable_rate_limit()->set_requests_per_second(1);
  WorkerPolicy w(1);
  Verdict v;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(w.Evaluate(p, "ns", "ing", Req("1.1.1.1", "OPTIONS", "https://a.example", "GET"), 0, &v));
    EXPECT_EQ(v.status, 204);  // preflights do not spend tokens
    EXPECT_EQ(Get(v.fields, "access-control-allow-methods"), "GET");
  }
  EXPECT_FALSE(w.Evaluate(p, "ns", "ing", Req("1.1.1.1", "GET", "https://a.example"), 0, &v));
  EXPECT_EQ(Get(v.response_fields, "access-control-allow-origin"), "https://a.example");
  ASSERT_TRUE(w.Evaluate(p, "ns", "ing", Req("1.1.1.1", "GET", "https://a.example"), 0, &v));
  EXPECT_EQ(v.status, 429);
  EXPECT_EQ(Get(v.fields, "access-control-allow-origin"), "https://a.example");
}

TEST(Policy, ResponseHeadersAreAddedLowerCase) {
  cfg::RoutePolicy p;
  auto* h = p.add_response_headers_to_add();
  h->set_name("X-Frame-Options");
  h->set_value("DENY");
  WorkerPolicy w(1);
  Verdict v;
  EXPECT_FALSE(w.Evaluate(p, "ns", "ing", Req(), 0, &v));
  EXPECT_EQ(Get(v.response_fields, "x-frame-options"), "DENY");
  std::string text;
  AppendHttp1(v.response_fields, &text);
  EXPECT_EQ(text, "x-frame-options: DENY\r\n");
}

TEST(Policy, ValidateRefusesInjectionAndBasicAuth) {
  cfg::RoutePolicy p;
  EXPECT_TRUE(Validate(p).ok());
  auto* h = p.add_response_headers_to_add();
  h->set_name("x-a");
  h->set_value("ok");
  EXPECT_TRUE(Validate(p).ok());
  h->set_value("a\r\nset-cookie: x=1");
  EXPECT_FALSE(Validate(p).ok());
  h->set_value("ok");
  h->set_name("bad name");
  EXPECT_FALSE(Validate(p).ok());
  h->set_name("x-a");
  p.add_request_headers_to_add()->set_name("");
  EXPECT_FALSE(Validate(p).ok());
  p.clear_request_headers_to_add();
  p.mutable_cors()->set_allow_headers("a\nb");
  EXPECT_FALSE(Validate(p).ok());
  p.mutable_cors()->set_allow_headers("a,b");
  EXPECT_TRUE(Validate(p).ok());
  p.add_basic_auth_users("u:{SHA}x");
  auto st = Validate(p);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("basic auth"), std::string::npos);
}

}  // namespace
}  // namespace keel::policy
