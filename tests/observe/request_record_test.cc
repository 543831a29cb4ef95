// RequestRecord → route series and access log: the finished request is counted under
// the snapshot's labels (never the request's), timed, and logged once.
#include "dataplane/observe/request_record.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "common/metrics/metrics.h"
#include "dataplane/observe/access_log.h"
#include "dataplane/observe/route_series.h"

namespace keel::observe {
namespace {

// The head's views point into `text`: callers keep it alive.
http1::RequestHead Parse(const std::string& text) {
  http1::RequestHead head;
  auto r = http1::ParseRequestHead(text, http1::Limits{}, &head);
  EXPECT_EQ(r.status, http1::ParseStatus::Done);
  return head;
}

std::string Metrics() { return metrics::Registry::Default().Serialize(); }

TEST(RequestRecord, CountsUnderSnapshotLabelsAndLogsOnce) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  AccessLog::Default().Start({LogFormat::kJson, 1.0, p[1], 1 << 16, 1});
  const std::string text = "POST /evil/../path?x=1 HTTP/1.1\r\nHost: a.test\r\nUser-Agent: t/1\r\n\r\n";
  http1::RequestHead head = Parse(text);
  RequestRecord r;
  r.Begin(head, "127.0.0.9", "HTTP/1.1", text.size());
  r.Routed(proxy::RouteLabels{"rr-ns", "rr-ing", "rr-svc"});
  r.UpstreamStarted();
  r.UpstreamDone("127.0.0.1:1234", 201);
  r.set_cache_status("MISS");
  EXPECT_TRUE(r.active());
  r.Finish(201, "rid-1", 10, 300);
  EXPECT_FALSE(r.active());
  r.Finish(500, "rid-1", 0, 0);  // a second Finish is a no-op
  AccessLog::Default().Stop();
  ::close(p[1]);
  char buf[4096];
  ssize_t n = ::read(p[0], buf, sizeof buf);
  ::close(p[0]);
  ASSERT_GT(n, 0);
  std::string line(buf, static_cast<size_t>(n));
  EXPECT_EQ(line.find('\n'), line.size() - 1) << line;  // exactly one line
  EXPECT_NE(line.find("\"request_id\":\"rid-1\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"method\":\"POST\",\"host\":\"a.test\",\"path\":\"/evil/../path?x=1\""),
            std::string::npos)
      << line;
  EXPECT_NE(line.find("\"status\":201"), std::string::npos) << line;
  EXPECT_NE(line.find("\"bytes_in\":" + std::to_string(text.size() + 10) + ",\"bytes_out\":300"),
            std::string::npos)
      << line;
  EXPECT_NE(line.find("\"upstream\":\"127.0.0.1:1234\",\"upstream_status\":201"), std::string::npos) << line;
  EXPECT_NE(
      line.find("\"namespace\":\"rr-ns\",\"ingress\":\"rr-ing\",\"service\":\"rr-svc\",\"cache\":\"MISS\""),
      std::string::npos)
      << line;

  std::string m = Metrics();
  EXPECT_NE(m.find("keel_http_requests_total{namespace=\"rr-ns\",ingress=\"rr-ing\",service=\"rr-svc\","
                   "method=\"POST\","
                   "status_class=\"2xx\"} 1"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("keel_http_request_duration_seconds_count{namespace=\"rr-ns\",ingress=\"rr-ing\",service="
                   "\"rr-svc\"} 1"),
            std::string::npos);
  EXPECT_NE(m.find("keel_http_upstream_duration_seconds_count{namespace=\"rr-ns\",ingress=\"rr-ing\",service="
                   "\"rr-svc\"} 1"),
            std::string::npos);
  EXPECT_NE(
      m.find("keel_http_response_bytes_total{namespace=\"rr-ns\",ingress=\"rr-ing\",service=\"rr-svc\"} 300"),
      std::string::npos);
  // The request's own path never becomes a label.
  EXPECT_EQ(m.find("evil"), std::string::npos);
}

TEST(RequestRecord, AbandonedRequestCountsAs499AndUnroutedHasEmptyLabels) {
  const std::string text = "BREW /pot HTTP/1.1\r\nHost: a.test\r\n\r\n";
  http1::RequestHead head = Parse(text);
  {
    RequestRecord r;
    r.Begin(head, "127.0.0.9", "HTTP/1.1", 0);
    // Never routed, never finished: the destructor counts it.
  }
  std::string m = Metrics();
  EXPECT_NE(m.find("keel_http_requests_total{namespace=\"\",ingress=\"\",service=\"\",method=\"OTHER\","
                   "status_class=\"4xx\"} 1"),
            std::string::npos)
      << m;
}

TEST(RequestRecord, WorkersCountIntoTheSameSeries) {
  const std::string text = "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n";
  http1::RequestHead head = Parse(text);
  auto work = [&](int shard) {
    metrics::BindThisThread(shard);
    RequestRecord r;
    for (int i = 0; i < 1000; ++i) {
      r.Begin(head, "127.0.0.1", "HTTP/1.1", 0);
      r.Routed(proxy::RouteLabels{"w-ns", "w-ing", "w-svc"});
      r.Finish(i % 2 ? 200 : 503, "x", 0, 0);
    }
  };
  std::thread a(work, 1), b(work, 2);
  a.join();
  b.join();
  auto* s = RouteSeries::Get("w-ns", "w-ing", "w-svc");
  EXPECT_EQ(s->duration.Count(), 2000u);
  std::string m = Metrics();
  EXPECT_NE(
      m.find("keel_http_requests_total{namespace=\"w-ns\",ingress=\"w-ing\",service=\"w-svc\",method=\"GET\","
             "status_class=\"5xx\"} 1000"),
      std::string::npos)
      << m;
}

TEST(RouteSeries, MethodAndClassAreBounded) {
  EXPECT_EQ(MethodName(MethodIndex("GET")), "GET");
  EXPECT_EQ(MethodName(MethodIndex("get")), "OTHER");
  EXPECT_EQ(MethodName(MethodIndex("X-ANYTHING")), "OTHER");
  EXPECT_EQ(StatusClassIndex(101), 0);
  EXPECT_EQ(StatusClassIndex(599), 4);
  EXPECT_EQ(StatusClassIndex(700), 4);
  EXPECT_EQ(StatusClassIndex(0), 4);
}

}  // namespace
}  // namespace keel::observe
