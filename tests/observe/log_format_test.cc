// Access log lines byte for byte: JSON (escaping, optional fields) and upstreaminfo.
#include "dataplane/observe/log_format.h"

#include <gtest/gtest.h>

namespace keel::observe {
namespace {

LogEntry Sample() {
  LogEntry e;
  e.unix_us = 1795440160919123;  // 2026-11-23T13:22:40.919Z
  e.request_id = "0123456789abcdef0123456789abcdef";
  e.client_ip = "10.0.0.7";
  e.method = "GET";
  e.host = "shop.example.com";
  e.path = "/cart?id=7";
  e.protocol = "HTTP/1.1";
  e.status = 200;
  e.bytes_in = 120;
  e.bytes_out = 2048;
  e.duration_ns = 12345678;
  e.upstream_address = "10.1.2.3:8080";
  e.upstream_status = 200;
  e.upstream_ns = 11000000;
  e.namespace_ = "shop";
  e.ingress = "web";
  e.service = "cart";
  e.user_agent = "curl/8.0";
  return e;
}

TEST(LogFormat, JsonLine) {
  std::string out;
  AppendJson(Sample(), &out);
  EXPECT_EQ(
      out,
      "{\"time\":\"2026-11-23T13:22:40.919Z\",\"request_id\":\"0123456789abcdef0123456789abcdef\","
      "\"client\":\"10.0.0.7\",\"method\":\"GET\",\"host\":\"shop.example.com\",\"path\":\"/cart?id=7\","
      "\"protocol\":\"HTTP/1.1\",\"status\":200,\"bytes_in\":120,\"bytes_out\":2048,\"duration\":0.012,"
      "\"upstream\":\"10.1.2.3:8080\",\"upstream_status\":200,\"upstream_time\":0.011,"
      "\"namespace\":\"shop\",\"ingress\":\"web\",\"service\":\"cart\",\"user_agent\":\"curl/8.0\"}\n");
}

TEST(LogFormat, JsonEscapesQuotesControlAndHighBytes) {
  LogEntry e = Sample();
  e.user_agent = "a\"b\\c\x01\xff";
  e.upstream_address = {};  // no upstream: the upstream fields are left out
  e.cache_status = "HIT";
  e.tls_version = "TLSv1.3";
  std::string out;
  AppendJson(e, &out);
  EXPECT_NE(out.find("\"user_agent\":\"a\\\"b\\\\c\\u0001\\u00ff\""), std::string::npos) << out;
  EXPECT_EQ(out.find("\"upstream"), std::string::npos) << out;
  EXPECT_NE(out.find("\"cache\":\"HIT\",\"tls\":\"TLSv1.3\""), std::string::npos) << out;
  EXPECT_EQ(out.back(), '\n');
  EXPECT_EQ(out.find('\n'), out.size() - 1);  // one line, whatever the input
}

TEST(LogFormat, UpstreamInfoLine) {
  std::string out;
  AppendUpstreamInfo(Sample(), &out);
  EXPECT_EQ(
      out,
      "10.0.0.7 - - [23/Nov/2026:13:22:40 +0000] \"GET /cart?id=7 HTTP/1.1\" 200 2048 \"-\" \"curl/8.0\" 120 "
      "0.012 [shop-cart] [] 10.1.2.3:8080 - 0.011 200 0123456789abcdef0123456789abcdef\n");
}

TEST(LogFormat, UpstreamInfoWithoutUpstreamAndWithQuotes) {
  LogEntry e = Sample();
  e.upstream_address = {};
  e.service = {};
  e.path = "/a\"b";
  e.status = 404;
  std::string out;
  AppendUpstreamInfo(e, &out);
  EXPECT_NE(out.find("\"GET /a\\x22b HTTP/1.1\" 404"), std::string::npos) << out;
  EXPECT_NE(out.find(" [] [] - - - - 0123"), std::string::npos) << out;
}

TEST(LogFormat, ParseFormat) {
  LogFormat f;
  EXPECT_TRUE(ParseLogFormat("json", &f));
  EXPECT_EQ(f, LogFormat::kJson);
  EXPECT_TRUE(ParseLogFormat("upstreaminfo", &f));
  EXPECT_EQ(f, LogFormat::kUpstreamInfo);
  EXPECT_TRUE(ParseLogFormat("off", &f));
  EXPECT_EQ(f, LogFormat::kOff);
  EXPECT_FALSE(ParseLogFormat("JSON", &f));
}

}  // namespace
}  // namespace keel::observe
