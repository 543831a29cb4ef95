// The client against real API-server bytes (testdata/ holds captures from a 1.26
// server): chunked watch framing through cpprest, event decoding, Status bodies, and
// the list → watch → relist state machine driven by a scripted server.
#include <gtest/gtest.h>

#include "controller/k8s/api_client.h"
#include "controller/k8s/kinds.h"
#include "controller/k8s/list_watch.h"
#include "controller/k8s/watch_event.h"
#include "tests/k8s/fake_api_server.h"
#include "tests/k8s/recording_sink.h"
#include "tests/k8s/scripted_server.h"

namespace keel::k8s {
namespace {

using testing::ReadTestdata;
using testing::RecordingSink;
using testing::ScriptedServer;

// The oracle: a deliberately naive decoder of HTTP/1.1 chunked framing (RFC 9112
// section 7.1), then split into lines.
std::vector<std::string> DechunkLines(const std::string& raw) {
  std::string body;
  size_t i = 0;
  for (;;) {
    size_t eol = raw.find("\r\n", i);
    size_t n = std::stoul(raw.substr(i, eol - i), nullptr, 16);
    if (n == 0) break;
    body += raw.substr(eol + 2, n);
    i = eol + 2 + n + 2;
  }
  std::vector<std::string> lines;
  for (size_t start = 0, nl; (nl = body.find('\n', start)) != std::string::npos; start = nl + 1) {
    lines.push_back(body.substr(start, nl - start));
  }
  return lines;
}

// A captured Status reply file: the JSON body followed by an "HTTP <code>" line.
std::string CapturedStatusBody(const std::string& name) {
  std::string text = ReadTestdata(name);
  return text.substr(0, text.rfind("HTTP "));
}

std::string CapturedWatch(const std::string& stem) {
  return ReadTestdata(stem + ".headers") + ReadTestdata(stem + ".raw");
}

std::unique_ptr<ApiClient> ClientFor(const ScriptedServer& s) {
  ClusterConfig c;
  c.server = "http://127.0.0.1:" + std::to_string(s.port());
  auto client = ApiClient::Create(c);
  EXPECT_TRUE(client) << client.error();
  return client ? std::move(client.value()) : nullptr;
}

TEST(CaptureTest, ChunkedWatchStreamYieldsEveryLine) {
  const std::string raw = ReadTestdata("02-watch-ingress.raw");
  ASSERT_FALSE(raw.empty());
  ScriptedServer server({CapturedWatch("02-watch-ingress")}, 97);  // odd slices split lines
  auto client = ClientFor(server);
  std::vector<std::string> lines;
  auto r = client->Stream("/apis/networking.k8s.io/v1/namespaces/wire/ingresses?watch=true",
                          [&](std::string_view line) {
                            lines.emplace_back(line);
                            return true;
                          });
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->code, 200);
  EXPECT_EQ(lines, DechunkLines(raw));

  std::vector<std::pair<EventType, std::string>> got;
  for (const auto& line : lines) {
    auto ev = ParseWatchEvent(line);
    ASSERT_TRUE(ev) << ev.error();
    got.emplace_back(ev->type, ev->resource_version);
  }
  using E = EventType;
  std::vector<std::pair<EventType, std::string>> want = {
      {E::kAdded, "212"},    {E::kModified, "213"}, {E::kModified, "226"}, {E::kModified, "227"},
      {E::kModified, "228"}, {E::kModified, "229"}, {E::kModified, "230"}, {E::kDeleted, "234"},
      {E::kBookmark, "234"}, {E::kBookmark, "234"}};
  EXPECT_EQ(got, want);
}

TEST(CaptureTest, WatchExpiredAfterRestartIsAnErrorEvent) {
  ScriptedServer server({CapturedWatch("16-watch-expired-after-restart")});
  auto client = ClientFor(server);
  std::vector<WatchEvent> events;
  auto r = client->Stream("/apis/networking.k8s.io/v1/ingresses?watch=true&resourceVersion=150",
                          [&](std::string_view line) {
                            auto ev = ParseWatchEvent(line);
                            EXPECT_TRUE(ev) << ev.error();
                            if (ev) events.push_back(ev.value());
                            return true;
                          });
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->code, 200);  // the HTTP reply succeeds; the event inside says 410
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, EventType::kError);
  EXPECT_EQ(events[0].error.code, 410);
  EXPECT_EQ(events[0].error.reason, Reason::kExpired);
  EXPECT_EQ(events[0].error.message, "too old resource version: 150 (243)");
}

TEST(CaptureTest, MalformedEventsAreErrors) {
  EXPECT_FALSE(ParseWatchEvent("not json"));
  EXPECT_FALSE(ParseWatchEvent(R"({"type":"ADDED"})"));
  EXPECT_FALSE(ParseWatchEvent(R"({"type":"RENAMED","object":{"metadata":{"resourceVersion":"1"}}})"));
  EXPECT_FALSE(ParseWatchEvent(R"({"type":"ADDED","object":{"metadata":{"name":"x"}}})"));
  EXPECT_FALSE(ParseWatchEvent(R"({"type":"ADDED","object":{"metadata":{"resourceVersion":7,"name":"x"}}})"));
  EXPECT_TRUE(ParseWatchEvent(R"({"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9"}}})"));
}

TEST(CaptureTest, StatusBodiesMapToReasons) {
  struct Case {
    const char* file;
    int code;
    Reason reason;
    const char* describe_prefix;
  } cases[] = {
      {"12-unauthorized-401.txt", 401, Reason::kUnauthorized, "HTTP 401 Unauthorized: Unauthorized"},
      {"11-notfound-404.txt", 404, Reason::kNotFound,
       "HTTP 404 NotFound: ingresses.networking.k8s.io \"nope\" not found"},
      {"08-conflict-409.txt", 409, Reason::kConflict,
       "HTTP 409 Conflict: Operation cannot be fulfilled on ingresses.networking.k8s.io \"web\""},
      {"15-list-too-old-410.txt", 410, Reason::kExpired,
       "HTTP 410 Expired: The resourceVersion for the provided list is too old."},
      {"13-invalid-422.txt", 422, Reason::kInvalid,
       "HTTP 422 Invalid: Ingress.extensions \"bad\" is invalid"},
  };
  for (const auto& c : cases) {
    auto body = nlohmann::json::parse(CapturedStatusBody(c.file));
    ApiStatus s = ParseStatus(c.code, body);
    EXPECT_EQ(s.code, c.code) << c.file;
    EXPECT_EQ(s.reason, c.reason) << c.file;
    EXPECT_EQ(s.Describe().rfind(c.describe_prefix, 0), 0u) << c.file << ": " << s.Describe();
  }
  EXPECT_EQ(ParseStatus(409, {{"kind", "Status"}, {"reason", "AlreadyExists"}, {"code", 409}}).reason,
            Reason::kAlreadyExists);
  EXPECT_EQ(ParseStatus(503, "upstream connect error").Describe(), "HTTP 503: upstream connect error");
}

// list → watch (captured stream, ends) → watch (HTTP 410) → relist (two pages) →
// watch (captured ERROR 410 event) → relist → watch held open.
TEST(CaptureTest, ListWatcherFollowsCapturedServer) {
  auto list = [](const std::string& rv, const nlohmann::json& items) {
    nlohmann::json l = {{"kind", "IngressList"},
                        {"apiVersion", "networking.k8s.io/v1"},
                        {"metadata", {{"resourceVersion", rv}}},
                        {"items", items}};
    return ScriptedServer::JsonReply(200, "OK", l.dump());
  };
  const auto page1 = nlohmann::json::parse(ReadTestdata("14-list-ingresses-limit1.json"));
  const std::string token = page1["metadata"]["continue"];
  ScriptedServer server({
      list("211", nlohmann::json::array()),
      CapturedWatch("02-watch-ingress"),
      ScriptedServer::JsonReply(410, "Gone", CapturedStatusBody("15-list-too-old-410.txt")),
      ScriptedServer::JsonReply(200, "OK", page1.dump()),
      list("233", nlohmann::json::array()),
      CapturedWatch("16-watch-expired-after-restart"),
      list("300", nlohmann::json::array()),
  });
  auto client = ClientFor(server);
  RecordingSink sink;
  WatchOptions opts;
  opts.kinds = {store::Kind::Ingress};
  opts.backoff_initial = std::chrono::milliseconds(10);
  ListWatcher watcher(client.get(), &sink, opts);
  watcher.Start();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (server.requests().size() < 8 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  watcher.Stop();

  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 8u);
  const std::string base = "GET /apis/networking.k8s.io/v1/ingresses?";
  EXPECT_EQ(reqs[0], base + "limit=500 HTTP/1.1");
  EXPECT_EQ(
      reqs[1].rfind(base + "watch=true&allowWatchBookmarks=true&resourceVersion=211&timeoutSeconds=", 0), 0u)
      << reqs[1];
  EXPECT_NE(reqs[2].find("watch=true&allowWatchBookmarks=true&resourceVersion=234&"), std::string::npos)
      << reqs[2];
  EXPECT_EQ(reqs[3], base + "limit=500 HTTP/1.1");
  EXPECT_EQ(reqs[4], base + "limit=500&continue=" + QueryEscape(token) + " HTTP/1.1");
  EXPECT_NE(reqs[5].find("resourceVersion=233&"), std::string::npos) << reqs[5];
  EXPECT_EQ(reqs[6], base + "limit=500 HTTP/1.1");
  EXPECT_NE(reqs[7].find("resourceVersion=300&"), std::string::npos) << reqs[7];

  using Op = RecordingSink::Op;
  std::vector<std::pair<Op, size_t>> shape;
  for (const auto& c : sink.CallsSnapshot()) shape.emplace_back(c.op, c.op == Op::kReplace ? c.count : 0);
  std::vector<std::pair<Op, size_t>> want = {{Op::kReplace, 0}};
  for (int i = 0; i < 7; ++i) want.emplace_back(Op::kUpsert, 0);
  want.emplace_back(Op::kRemove, 0);
  want.emplace_back(Op::kReplace, 1);  // lab/web from the captured first page
  want.emplace_back(Op::kReplace, 0);
  EXPECT_EQ(shape, want);
  auto calls = sink.CallsSnapshot();
  EXPECT_EQ(calls[1].key, "wire/web");
  EXPECT_EQ(calls[8].key, "wire/web");

  const auto& c = watcher.counters().of(store::Kind::Ingress);
  EXPECT_EQ(c.lists.load(), 3u);
  EXPECT_EQ(c.relists.load(), 2u);
  EXPECT_EQ(c.list_pages.load(), 4u);
  EXPECT_EQ(c.added.load(), 1u);
  EXPECT_EQ(c.modified.load(), 6u);
  EXPECT_EQ(c.deleted.load(), 1u);
  EXPECT_EQ(c.bookmarks.load(), 2u);
  EXPECT_EQ(c.errors.load(), 0u);
}

}  // namespace
}  // namespace keel::k8s
