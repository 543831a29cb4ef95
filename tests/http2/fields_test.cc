// Request header rules (RFC 9113 §8.2–8.3), response field conversion, HTTP2-Settings
// decoding and frame-boundary tracking: the pure parts of keel_http2.
#include "dataplane/http2/fields.h"

#include <gtest/gtest.h>

#include <string>

#include "dataplane/http2/frame_tracker.h"
#include "tests/http2/h2_client.h"

namespace keel::h2 {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

struct Built {
  HeadVerdict verdict;
  http1::RequestHead head;
};

// Keeps the RequestHeaders alive with the head whose views point into it.
class Collector {
 public:
  explicit Collector(size_t max_bytes = 65536, size_t max_fields = 100) { rh_.Reset(max_bytes, max_fields); }
  Built Run(const Fields& fields, bool end_stream = true) {
    for (const auto& [n, v] : fields) rh_.Add(n, v);
    Built b;
    b.verdict = rh_.Finish(end_stream, &b.head);
    return b;
  }

 private:
  RequestHeaders rh_;
};

Fields Get(std::string path = "/", Fields extra = {}) {
  Fields f = {
      {":method", "GET"}, {":scheme", "http"}, {":authority", "app.test"}, {":path", std::move(path)}};
  f.insert(f.end(), extra.begin(), extra.end());
  return f;
}

std::string_view Field(const http1::RequestHead& h, std::string_view name) {
  for (const auto& f : h.fields()) {
    if (f.name == name) return f.value;
  }
  return "<none>";
}

TEST(RequestHeaders, BuildsAnHttp1ViewOfTheRequest) {
  Collector c;
  auto b = c.Run(Get("/a/b?x=1&y=2", {{"accept", "*/*"}, {"user-agent", "t"}}));
  ASSERT_EQ(b.verdict, HeadVerdict::kOk);
  EXPECT_EQ(b.head.method, "GET");
  EXPECT_EQ(b.head.target, "/a/b?x=1&y=2");
  EXPECT_EQ(b.head.path, "/a/b");
  EXPECT_EQ(b.head.query, "x=1&y=2");
  EXPECT_EQ(b.head.host, "app.test");
  EXPECT_EQ(b.head.minor_version, 1);
  EXPECT_EQ(b.head.num_headers, 2u);
  EXPECT_EQ(Field(b.head, "user-agent"), "t");
  EXPECT_EQ(b.head.body, http1::BodyKind::None);
  EXPECT_FALSE(b.head.upgrade);
}

TEST(RequestHeaders, BodyKindFollowsEndStreamAndContentLength) {
  {
    Collector c;
    auto b = c.Run({{":method", "POST"},
                    {":scheme", "http"},
                    {":authority", "a"},
                    {":path", "/"},
                    {"content-length", "42"}},
                   false);
    ASSERT_EQ(b.verdict, HeadVerdict::kOk);
    EXPECT_EQ(b.head.body, http1::BodyKind::ContentLength);
    EXPECT_EQ(b.head.content_length, 42u);
  }
  {
    Collector c;
    auto b = c.Run({{":method", "POST"},
                    {":scheme", "http"},
                    {":authority", "a"},
                    {":path", "/"},
                    {"expect", "100-continue"}},
                   false);
    ASSERT_EQ(b.verdict, HeadVerdict::kOk);
    EXPECT_EQ(b.head.body, http1::BodyKind::Chunked);  // length unknown
    EXPECT_TRUE(b.head.expect_continue);
  }
  {
    Collector c;
    auto b = c.Run(Get("/", {{"content-length", "x1"}}));
    EXPECT_EQ(b.verdict, HeadVerdict::kMalformed);
  }
}

TEST(RequestHeaders, JoinsCookieCrumbs) {
  Collector c;
  auto b = c.Run(Get("/", {{"cookie", "a=1"}, {"x", "y"}, {"cookie", "b=2"}, {"cookie", "c=3"}}));
  ASSERT_EQ(b.verdict, HeadVerdict::kOk);
  EXPECT_EQ(Field(b.head, "cookie"), "a=1; b=2; c=3");  // RFC 9113 §8.2.3
  EXPECT_EQ(b.head.num_headers, 2u);
}

TEST(RequestHeaders, HostStandsInForMissingAuthority) {
  Collector c;
  auto b = c.Run({{":method", "GET"}, {":scheme", "http"}, {":path", "/"}, {"host", "h.test:8080"}});
  ASSERT_EQ(b.verdict, HeadVerdict::kOk);
  EXPECT_EQ(b.head.host, "h.test:8080");
  Collector same;
  EXPECT_EQ(same.Run(Get("/", {{"host", "APP.test"}})).verdict, HeadVerdict::kOk);
}

TEST(RequestHeaders, MalformedBlocks) {
  const std::vector<std::pair<const char*, Fields>> cases = {
      {"no :path", {{":method", "GET"}, {":scheme", "http"}, {":authority", "a"}}},
      {"no :method", {{":scheme", "http"}, {":authority", "a"}, {":path", "/"}}},
      {"no :scheme", {{":method", "GET"}, {":authority", "a"}, {":path", "/"}}},
      {"no authority at all", {{":method", "GET"}, {":scheme", "http"}, {":path", "/"}}},
      {"empty :path", Get("")},
      {"absolute :path", Get("http://a/")},
      {"asterisk for GET", Get("*")},
      {"duplicate :path",
       {{":method", "GET"}, {":scheme", "http"}, {":path", "/x"}, {":authority", "a"}, {":path", "/"}}},
      {"pseudo after regular",
       {{":method", "GET"}, {":scheme", "http"}, {"x", "1"}, {":authority", "a"}, {":path", "/"}}},
      {"unknown pseudo",
       {{":method", "GET"},
        {":protocol", "websocket"},
        {":scheme", "http"},
        {":authority", "a"},
        {":path", "/"}}},
      {"connection", Get("/", {{"connection", "keep-alive"}})},
      {"keep-alive", Get("/", {{"keep-alive", "5"}})},
      {"transfer-encoding", Get("/", {{"transfer-encoding", "chunked"}})},
      {"upgrade", Get("/", {{"upgrade", "h2c"}})},
      {"proxy-connection", Get("/", {{"proxy-connection", "x"}})},
      {"te gzip", Get("/", {{"te", "gzip"}})},
      {"upper-case name", Get("/", {{"X-Upper", "1"}})},
      {"host differs from :authority", Get("/", {{"host", "evil.test"}})},
      {"two hosts", {{":method", "GET"}, {":scheme", "http"}, {":path", "/"}, {"host", "a"}, {"host", "b"}}},
      {"content-lengths differ", Get("/", {{"content-length", "1"}, {"content-length", "2"}})},
  };
  for (const auto& [name, fields] : cases) {
    Collector c;
    EXPECT_EQ(c.Run(fields).verdict, HeadVerdict::kMalformed) << name;
  }
  Collector ok;
  EXPECT_EQ(ok.Run(Get("/", {{"te", "trailers"}})).verdict, HeadVerdict::kOk);
  Collector options;
  EXPECT_EQ(
      options.Run({{":method", "OPTIONS"}, {":scheme", "http"}, {":authority", "a"}, {":path", "*"}}).verdict,
      HeadVerdict::kOk);
}

TEST(RequestHeaders, ConnectIsAnsweredNotForwarded) {
  Collector c;
  EXPECT_EQ(c.Run({{":method", "CONNECT"}, {":authority", "a:443"}}).verdict, HeadVerdict::kConnect);
}

TEST(RequestHeaders, HeaderListSizeIsBoundedAndNotStored) {
  RequestHeaders rh;
  rh.Reset(/*max_list_bytes=*/4096, 100);
  for (const auto& [n, v] : Get()) rh.Add(n, v);
  std::string big(1000, 'v');
  for (int i = 0; i < 10; ++i) rh.Add("x-big", big);
  EXPECT_TRUE(rh.too_large());
  // RFC 9113 §6.5.2: name + value + 32 per field.
  EXPECT_EQ(rh.list_bytes(), 4 * 32 + 7 + 3 + 7 + 4 + 10 + 8 + 5 + 1 + 10 * (5 + 1000 + 32));
  http1::RequestHead head;
  EXPECT_EQ(rh.Finish(true, &head), HeadVerdict::kTooLarge);
}

TEST(RequestHeaders, TooManyFieldsIsTooLarge) {
  Collector c(65536, /*max_fields=*/10);
  Fields extra;
  for (int i = 0; i < 11; ++i) extra.emplace_back("x-f" + std::to_string(i), "v");
  EXPECT_EQ(c.Run(Get("/", extra)).verdict, HeadVerdict::kTooLarge);
  // Cookie crumbs count as one field.
  Collector crumbs(65536, 10);
  Fields cookies;
  for (int i = 0; i < 50; ++i) cookies.emplace_back("cookie", "c" + std::to_string(i) + "=1");
  EXPECT_EQ(crumbs.Run(Get("/", cookies)).verdict, HeadVerdict::kOk);
}

TEST(RequestHeaders, Http1UpgradeRequestBecomesStreamOne) {
  std::string raw =
      "GET /up?q=1 HTTP/1.1\r\nHost: App.test\r\nConnection: Upgrade, HTTP2-Settings, X-Hop\r\n"
      "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\nX-Hop: 1\r\nAccept: */*\r\n\r\n";
  http1::RequestHead h1;
  auto r = http1::ParseRequestHead(raw, http1::Limits{}, &h1);
  ASSERT_EQ(r.status, http1::ParseStatus::Done);
  ASSERT_TRUE(h1.h2c_upgrade);
  RequestHeaders rh;
  rh.Reset(65536, 100);
  rh.AddHttp1(h1);
  http1::RequestHead head;
  ASSERT_EQ(rh.Finish(true, &head), HeadVerdict::kOk);
  EXPECT_EQ(head.method, "GET");
  EXPECT_EQ(head.target, "/up?q=1");
  EXPECT_EQ(head.host, "App.test");
  ASSERT_EQ(head.num_headers, 1u);  // connection-specific, Connection-listed, Host dropped
  EXPECT_EQ(head.headers[0].name, "accept");
  EXPECT_FALSE(head.upgrade);
}

http1::ResponseHead ParseResponse(const std::string& raw, std::string_view method = "GET") {
  http1::ResponseHead head;
  auto r = http1::ParseResponseHead(raw, http1::Limits{}, method, &head);
  EXPECT_EQ(r.status, http1::ParseStatus::Done) << raw;
  return head;
}

TEST(ResponseFields, DropsHopByHopAndLowerCases) {
  static const std::string raw =
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: keep-alive, X-Private\r\nKeep-Alive: 5\r\n"
      "X-Private: 1\r\nTransfer-Encoding: chunked\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nTrailer: "
      "x\r\n\r\n";
  auto head = ParseResponse(raw);
  FieldList f;
  AppendResponseFields(head, false, &f);
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f.at(0).name, "content-type");
  EXPECT_EQ(f.at(1).name, "set-cookie");
  EXPECT_EQ(f.at(1).value, "a=1");
  EXPECT_EQ(f.at(2).value, "b=2");
  EXPECT_FALSE(f.Find("content-length"));  // chunked upstream: length unknown
}

TEST(ResponseFields, ContentLengthWhenKnown) {
  static const std::string with_length = "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n";
  FieldList f;
  AppendResponseFields(ParseResponse(with_length), false, &f);
  EXPECT_EQ(f.Find("content-length").value_or(""), "12");
  FieldList head_response;
  AppendResponseFields(ParseResponse(with_length, "HEAD"), true, &head_response);
  EXPECT_EQ(head_response.Find("content-length").value_or(""), "12");  // RFC 9110 §8.6
  static const std::string not_modified =
      "HTTP/1.1 304 Not Modified\r\nContent-Length: 12\r\nETag: \"x\"\r\n\r\n";
  FieldList nm;
  AppendResponseFields(ParseResponse(not_modified), false, &nm);
  EXPECT_FALSE(nm.Find("content-length"));
  EXPECT_EQ(nm.Find("etag").value_or(""), "\"x\"");
}

TEST(SettingsHeader, DecodesBase64Url) {
  // What curl sends: MAX_CONCURRENT_STREAMS=100, INITIAL_WINDOW_SIZE=10 MiB, ENABLE_PUSH=0.
  auto s = DecodeSettingsHeader("AAMAAABkAAQAoAAAAAIAAAAA");
  ASSERT_TRUE(s.has_value());
  ASSERT_EQ(s->size(), 18u);
  EXPECT_EQ(static_cast<uint8_t>((*s)[1]), 0x03);
  EXPECT_EQ(static_cast<uint8_t>((*s)[5]), 100);
  EXPECT_TRUE(DecodeSettingsHeader("").has_value());  // no settings is allowed
  EXPECT_TRUE(DecodeSettingsHeader("AAMAAABk").has_value());
  EXPECT_FALSE(DecodeSettingsHeader("AAMAAAB").has_value());   // 5 bytes: not whole settings
  EXPECT_FALSE(DecodeSettingsHeader("AAMAAA+k").has_value());  // '+' is base64, not base64url
  EXPECT_FALSE(DecodeSettingsHeader("AAMAA").has_value());     // impossible length
}

TEST(FrameTracker, FollowsFrameBoundaries) {
  using testing::Frame;
  FrameTracker t;
  std::string preface(testing::kPreface);
  t.Feed(preface.substr(0, 10));
  EXPECT_EQ(t.where(), FrameTracker::Where::kControl);
  t.Feed(preface.substr(10));
  EXPECT_EQ(t.where(), FrameTracker::Where::kBoundary);
  std::string settings = Frame(0x4, 0, 0, "");
  t.Feed(settings.substr(0, 5));
  EXPECT_EQ(t.where(), FrameTracker::Where::kControl);
  t.Feed(settings.substr(5));
  EXPECT_EQ(t.where(), FrameTracker::Where::kBoundary);
  // HEADERS without END_HEADERS: the block stays open across frames.
  t.Feed(Frame(0x1, 0x0, 1, "abc"));
  EXPECT_EQ(t.where(), FrameTracker::Where::kControl);
  t.Feed(Frame(0x9, 0x4, 1, "def"));
  EXPECT_EQ(t.where(), FrameTracker::Where::kBoundary);
  std::string data = Frame(0x0, 0x0, 1, std::string(100, 'x'));
  t.Feed(data.substr(0, 50));
  EXPECT_EQ(t.where(), FrameTracker::Where::kData);
  t.Feed(data.substr(50));
  EXPECT_EQ(t.where(), FrameTracker::Where::kBoundary);
}

}  // namespace
}  // namespace keel::h2
