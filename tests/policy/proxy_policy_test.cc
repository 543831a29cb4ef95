// Route policies through a real Worker (its own thread and loop) and a loopback
// HTTP/1.1 echo upstream, for both downstream protocols: response headers added,
// CORS preflight answered without the upstream, CORS headers on proxied responses,
// 429 + Retry-After from the rate limit, and h2 streams counted as in-flight requests.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "dataplane/http2/http2_connection.h"
#include "dataplane/net/socket.h"
#include "dataplane/proxy/http1_connection.h"
#include "dataplane/proxy/runtime.h"
#include "dataplane/proxy/worker.h"
#include "tests/http2/echo_upstream.h"
#include "tests/http2/h2_client.h"

namespace keel::proxy {
namespace {

namespace v1 = keel::config::v1;
using h2::testing::Client;
using h2::testing::Pump;

v1::Snapshot MakeSnapshot(uint16_t echo_port) {
  v1::Snapshot s;
  s.set_version("policy-test");
  v1::Cluster* c = s.add_clusters();
  c->set_name("echo");
  v1::Endpoint* e = c->add_endpoints();
  e->set_address("127.0.0.1");
  e->set_port(echo_port);
  e->set_weight(1);
  e->set_ready(true);
  e->set_serving(true);
  v1::VirtualHost* vh = s.add_virtual_hosts();
  vh->set_name("p.test");
  auto add_route = [&](const std::string& prefix, const std::string& ingress) {
    v1::Route* r = vh->add_routes();
    r->mutable_match()->set_path_kind(v1::RouteMatch::PREFIX);
    r->mutable_match()->set_path(prefix);
    r->mutable_forward()->add_clusters()->set_cluster("echo");
    r->mutable_source()->set_namespace_("default");
    r->mutable_source()->set_ingress(ingress);
    return r->mutable_policy();
  };
  v1::RoutePolicy* hdr = add_route("/hdr", "hdr");
  auto* h = hdr->add_response_headers_to_add();
  h->set_name("X-Frame-Options");
  h->set_value("DENY");
  hdr->mutable_cors()->set_enabled(true);
  hdr->mutable_cors()->add_allow_origins("https://app.example");
  hdr->mutable_cors()->set_allow_methods("GET, PUT");
  hdr->mutable_rate_limit()->set_requests_per_second(1);
  hdr->mutable_rate_limit()->set_burst(2);
  add_route("/slow", "one")->mutable_rate_limit()->set_connections(1);
  return s;
}

class PolicyProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    worker_ = std::make_unique<Worker>(0, ProxyOptions{});
    auto rt = Runtime::Build(std::make_shared<const v1::Snapshot>(MakeSnapshot(upstream_.port())));
    ASSERT_TRUE(rt.ok()) << rt.error();
    worker_->SetRuntime(*rt);
    worker_->Start();
  }
  void TearDown() override {
    for (int fd : fds_) ::close(fd);
    worker_->Drain(2000);
    worker_->Join();
  }

  // Client end of a socketpair whose server end is an HTTP/1 or h2 connection.
  int Connect(bool h2) {
    int sv[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    ::fcntl(sv[1], F_SETFL, O_NONBLOCK);
    fds_.push_back(sv[0]);
    net::Address peer = *net::MakeAddress("127.0.0.1", 40000);
    Worker* w = worker_.get();
    int fd = sv[1];
    w->loop().Post([w, fd, peer, h2] {
      if (h2) {
        auto* c = new Http2Connection(w, fd, peer, 8080);
        w->AddConnection(c);
        c->Start({});
      } else {
        auto* c = new Http1Connection(w, fd, peer, 8080);
        w->AddConnection(c);
        c->Start();
      }
    });
    return sv[0];
  }

  // One HTTP/1.1 exchange on a fresh connection; returns the response head + body.
  std::string Http1(const std::string& request) {
    int fd = Connect(false);
    EXPECT_TRUE(h2::testing::WriteAll(fd, request));
    bool eof = false;
    return h2::testing::ReadUntilClose(fd, 3000, &eof);
  }

  h2::testing::EchoUpstream upstream_;
  std::unique_ptr<Worker> worker_;
  std::vector<int> fds_;
};

bool Contains(const std::string& s, std::string_view needle) { return s.find(needle) != std::string::npos; }

TEST_F(PolicyProxyTest, Http1ResponseHeadersCorsAndRateLimit) {
  const std::string get =
      "GET /hdr HTTP/1.1\r\nHost: p.test\r\nOrigin: https://app.example\r\nConnection: close\r\n\r\n";
  std::string r = Http1(get);
  EXPECT_TRUE(Contains(r, "HTTP/1.1 200")) << r;
  EXPECT_TRUE(Contains(r, "\r\nx-frame-options: DENY\r\n")) << r;
  EXPECT_TRUE(Contains(r, "\r\naccess-control-allow-origin: https://app.example\r\n")) << r;
  // Preflight: answered here, the upstream never sees it, no token spent.
  std::string pre = Http1(
      "OPTIONS /hdr HTTP/1.1\r\nHost: p.test\r\nOrigin: https://app.example\r\n"
      "Access-Control-Request-Method: PUT\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(Contains(pre, "HTTP/1.1 204")) << pre;
  EXPECT_TRUE(Contains(pre, "\r\naccess-control-allow-methods: GET, PUT\r\n")) << pre;
  EXPECT_FALSE(Contains(pre, "x-frame-options")) << pre;
  EXPECT_EQ(upstream_.requests(), 1);
  // rps 1, burst 2: three tokens, one spent above.
  EXPECT_TRUE(Contains(Http1(get), "HTTP/1.1 200"));
  EXPECT_TRUE(Contains(Http1(get), "HTTP/1.1 200"));
  std::string limited = Http1(get);
  EXPECT_TRUE(Contains(limited, "HTTP/1.1 429")) << limited;
  EXPECT_TRUE(Contains(limited, "\r\nretry-after: 1\r\n")) << limited;
  EXPECT_TRUE(Contains(limited, "\r\naccess-control-allow-origin: https://app.example\r\n")) << limited;
  EXPECT_EQ(upstream_.requests(), 3);
}

TEST_F(PolicyProxyTest, Http2ResponseHeadersAndPreflight) {
  int fd = Connect(true);
  Client c;
  c.Start();
  int32_t get = c.Get("p.test", "/hdr", {{"origin", "https://app.example"}});
  int32_t pre = c.Request({{":method", "OPTIONS"},
                           {":scheme", "http"},
                           {":authority", "p.test"},
                           {":path", "/hdr"},
                           {"origin", "https://app.example"},
                           {"access-control-request-method", "GET"}});
  ASSERT_TRUE(Pump(fd, c, [&] { return c.response(get).closed && c.response(pre).closed; }));
  EXPECT_EQ(c.response(get).status, 200);
  EXPECT_EQ(c.response(get).header("x-frame-options"), "DENY");
  EXPECT_EQ(c.response(get).header("access-control-allow-origin"), "https://app.example");
  EXPECT_EQ(c.response(pre).status, 204);
  EXPECT_EQ(c.response(pre).header("access-control-allow-methods"), "GET, PUT");
  EXPECT_EQ(upstream_.requests(), 1);
}

TEST_F(PolicyProxyTest, Http2StreamsCountAsInFlightRequests) {
  int fd = Connect(true);
  Client c;
  c.Start();
  // limit-connections 1: the slow stream holds the only slot, the second is refused.
  int32_t slow = c.Get("p.test", "/slow/400");
  ASSERT_TRUE(Pump(
      fd, c, [&] { return upstream_.requests() == 1; }, 3000));
  int32_t second = c.Get("p.test", "/slow/0");
  ASSERT_TRUE(Pump(fd, c, [&] { return c.response(slow).closed && c.response(second).closed; }));
  EXPECT_EQ(c.response(slow).status, 200);
  EXPECT_EQ(c.response(second).status, 429);
  EXPECT_EQ(c.response(second).header("retry-after"), "1");
  // The slot came back with the slow stream.
  int32_t third = c.Get("p.test", "/slow/0");
  ASSERT_TRUE(Pump(fd, c, [&] { return c.response(third).closed; }));
  EXPECT_EQ(c.response(third).status, 200);
}

}  // namespace
}  // namespace keel::proxy
