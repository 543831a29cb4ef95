// What the proxy strips and adds on the way up and down.
#include "dataplane/proxy/forward.h"

#include <gtest/gtest.h>

namespace keel::proxy {
namespace {

http1::RequestHead Parse(std::string_view raw) {
  http1::RequestHead head;
  auto r = http1::ParseRequestHead(raw, http1::Limits{}, &head);
  EXPECT_EQ(r.status, http1::ParseStatus::Done) << r.reason;
  return head;
}

TEST(Forward, StripsHopByHopAndSetsForwardedHeaders) {
  std::string raw =
      "GET /a?b=1 HTTP/1.1\r\nHost: shop.test\r\nConnection: keep-alive, x-private\r\nX-Private: 1\r\n"
      "Keep-Alive: timeout=5\r\nTE: trailers\r\nX-Forwarded-For: 6.6.6.6\r\nAccept: */*\r\n"
      "Proxy-Authorization: Basic x\r\n\r\n";
  auto head = Parse(raw);
  ForwardInfo info;
  info.client_ip = "10.0.0.9";
  info.scheme = "http";
  info.local_port = 8080;
  info.request_id = "rid";
  std::string out;
  AppendUpstreamHead(head, "/a?b=1", info, &out);
  EXPECT_EQ(out.rfind("GET /a?b=1 HTTP/1.1\r\nhost: shop.test\r\n", 0), 0u) << out;
  for (const char* gone : {"x-private", "X-Private", "Keep-Alive", "TE:", "6.6.6.6", "Proxy-Authorization",
                           "Connection"}) {
    EXPECT_EQ(out.find(gone), std::string::npos) << gone << " in\n" << out;
  }
  EXPECT_NE(out.find("Accept: */*\r\n"), std::string::npos);
  EXPECT_NE(out.find("x-forwarded-for: 10.0.0.9\r\n"), std::string::npos);
  EXPECT_NE(out.find("x-forwarded-proto: http\r\n"), std::string::npos);
  EXPECT_NE(out.find("x-forwarded-host: shop.test\r\n"), std::string::npos);
  EXPECT_NE(out.find("x-forwarded-port: 8080\r\n"), std::string::npos);
  EXPECT_NE(out.find("x-request-id: rid\r\n"), std::string::npos);
  EXPECT_EQ(out.substr(out.size() - 2), "\r\n");  // no final empty line: the exchange adds framing
}

TEST(Forward, TrustedForwardedForIsAppended) {
  auto head = Parse("GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.1.1.1\r\nX-Forwarded-Proto: https\r\n\r\n");
  ForwardInfo info;
  info.client_ip = "10.0.0.9";
  info.scheme = "http";
  info.request_id = "r";
  info.trust_forwarded = true;
  std::string out;
  AppendUpstreamHead(head, "/", info, &out);
  EXPECT_NE(out.find("x-forwarded-for: 1.1.1.1, 10.0.0.9\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("x-forwarded-proto: https\r\n"), std::string::npos) << out;
}

TEST(Forward, UpgradeKeepsItsHeadersAndHostOverride) {
  auto head = Parse(
      "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n\r\n");
  ForwardInfo info;
  info.client_ip = "1.2.3.4";
  info.scheme = "http";
  info.request_id = "r";
  info.host_override = "internal.svc";
  std::string out;
  AppendUpstreamHead(head, "/ws", info, &out);
  EXPECT_NE(out.find("host: internal.svc\r\n"), std::string::npos);
  EXPECT_NE(out.find("connection: upgrade\r\nupgrade: websocket\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Sec-WebSocket-Key: k\r\n"), std::string::npos);
}

TEST(Forward, ResponseDropsHopByHopButKeepsUpgradeOn101) {
  http1::ResponseHead resp;
  std::string raw = "HTTP/1.1 200 OK\r\nConnection: close, x-drop\r\nX-Drop: 1\r\nContent-Length: 3\r\nX-Keep: y\r\n\r\n";
  ASSERT_EQ(http1::ParseResponseHead(raw, http1::Limits{}, "GET", &resp).status, http1::ParseStatus::Done);
  std::string out;
  AppendResponseHeaders(resp, false, &out);
  EXPECT_EQ(out, "X-Keep: y\r\n");
  http1::ResponseHead up;
  std::string raw101 = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n";
  ASSERT_EQ(http1::ParseResponseHead(raw101, http1::Limits{}, "GET", &up).status, http1::ParseStatus::Done);
  out.clear();
  AppendResponseHeaders(up, true, &out);
  EXPECT_EQ(out, "Connection: Upgrade\r\nUpgrade: websocket\r\n");
}

TEST(Forward, RequestIdValidation) {
  EXPECT_TRUE(ValidRequestId("abc-123_X.y"));
  EXPECT_FALSE(ValidRequestId(""));
  EXPECT_FALSE(ValidRequestId("a b"));
  EXPECT_FALSE(ValidRequestId("a\r\nx: y"));
  EXPECT_FALSE(ValidRequestId(std::string(201, 'a')));
}

}  // namespace
}  // namespace keel::proxy
