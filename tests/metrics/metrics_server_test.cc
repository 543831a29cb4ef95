// The /metrics listener: binds port 0 on loopback, serves the registry and the
// registered handlers, 404s the rest, and reports a bind failure as an error.
#include "common/metrics/metrics_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace keel::metrics {
namespace {

std::string Get(uint16_t port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return "";
  }
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  (void)!::send(fd, req.data(), req.size(), 0);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

TEST(MetricsServer, ServesRegistryAndHandlers) {
  Registry reg;
  reg.AddCounter("keel_test_served_total", "t", {{"a", "b"}}).Inc(9);
  MetricsServer server(&reg);
  server.Handle("/healthz", [](const std::string&) { return HttpReply{200, "text/plain", "ok\n"}; });
  server.Handle("/diag", [](const std::string& q) {
    return HttpReply{503, "application/json", "{\"q\":\"" + q + "\"}"};
  });
  ASSERT_TRUE(server.Start("127.0.0.1:0").ok());
  ASSERT_NE(server.port(), 0);
  std::string m = Get(server.port(), "/metrics");
  EXPECT_NE(m.find("HTTP/1.1 200"), std::string::npos) << m;
  EXPECT_NE(m.find("text/plain; version=0.0.4"), std::string::npos) << m;
  EXPECT_NE(m.find("keel_test_served_total{a=\"b\"} 9"), std::string::npos) << m;
  EXPECT_NE(Get(server.port(), "/healthz").find("ok\n"), std::string::npos);
  std::string d = Get(server.port(), "/diag?x=1");
  EXPECT_NE(d.find("HTTP/1.1 503"), std::string::npos) << d;
  EXPECT_NE(d.find("{\"q\":\"x=1\"}"), std::string::npos) << d;
  EXPECT_NE(Get(server.port(), "/metricsx").find("404"), std::string::npos);
  server.Stop();
}

TEST(MetricsServer, BindFailureIsAnError) {
  MetricsServer a, b;
  ASSERT_TRUE(a.Start("127.0.0.1:0").ok());
  auto st = b.Start("127.0.0.1:" + std::to_string(a.port()));
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.error().find("metrics listener"), std::string::npos) << st.error();
}

}  // namespace
}  // namespace keel::metrics
