// What an accepted request head says: views, target forms, framing, keep-alive,
// upgrades, pipelining and the resumable hint.
#include <string>

#include "tests/http1/test_util.h"

namespace keel::http1 {
namespace {

ParseResult Parse(std::string_view in, RequestHead* h, const Limits& l = {}) {
  return ParseRequestHead(in, l, h);
}

TEST(RequestHead, ViewsPointIntoTheBufferAndValuesAreTrimmed) {
  const std::string in =
      "GET /a/b?x=1&y HTTP/1.1\r\nHost: a.example\r\nX-Spaced: \t v a l \t\r\nAccept:*/*\r\n\r\n";
  RequestHead h;
  ASSERT_EQ(Parse(in, &h).status, ParseStatus::Done);
  EXPECT_EQ(h.method, "GET");
  EXPECT_EQ(h.target, "/a/b?x=1&y");
  EXPECT_EQ(h.path, "/a/b");
  EXPECT_EQ(h.query, "x=1&y");
  EXPECT_EQ(h.host, "a.example");
  EXPECT_EQ(h.minor_version, 1);
  ASSERT_EQ(h.num_headers, 3u);
  EXPECT_EQ(h.headers[1].name, "X-Spaced");
  EXPECT_EQ(h.headers[1].value, "v a l");
  EXPECT_EQ(h.headers[2].value, "*/*");
  EXPECT_EQ(h.method.data(), in.data());
  EXPECT_EQ(h.headers[0].name.data(), in.data() + in.find("Host"));
  EXPECT_EQ(h.body, BodyKind::None);
}

TEST(RequestHead, AbsoluteFormGivesHostPathAndQuery) {
  struct {
    const char* target;
    const char* host;
    const char* path;
    const char* query;
  } cases[] = {
      {"http://b.example:81/p/q?r=1", "b.example:81", "/p/q", "r=1"},
      {"HTTPS://b.example", "b.example", "/", ""},
      {"http://b.example?x", "b.example", "/", "x"},
      {"http://[::1]:8080/", "[::1]:8080", "/", ""},
  };
  for (const auto& c : cases) {
    const std::string in = std::string("GET ") + c.target + " HTTP/1.1\r\nHost: ignored.example\r\n\r\n";
    RequestHead h;
    ASSERT_EQ(Parse(in, &h).status, ParseStatus::Done) << c.target;
    EXPECT_TRUE(h.absolute_form);
    EXPECT_EQ(h.host, c.host) << "RFC 9112 §3.2.2: the target's authority wins over Host";
    EXPECT_EQ(h.path, c.path);
    EXPECT_EQ(h.query, c.query);
  }
}

TEST(RequestHead, AsteriskForm) {
  RequestHead h;
  ASSERT_EQ(Parse("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", &h).status, ParseStatus::Done);
  EXPECT_EQ(h.path, "*");
  EXPECT_EQ(h.host, "a");
}

TEST(RequestHead, KeepAliveDefaultsAndConnectionOptions) {
  struct {
    const char* version;
    const char* connection;  // nullptr: no Connection field
    bool keep_alive;
  } cases[] = {
      {"1.1", nullptr, true},         {"1.1", "close", false},
      {"1.1", "Keep-Alive", true},    {"1.1", "foo, CLOSE", false},
      {"1.0", nullptr, false},        {"1.0", "keep-alive", true},
      {"1.0", "Keep-Alive, x", true}, {"1.0", "keep-alive, close", false},
      {"1.0", "upgrade", false},
  };
  for (const auto& c : cases) {
    std::string in = std::string("GET / HTTP/") + c.version + "\r\nHost: a\r\n";
    if (c.connection) in += std::string("Connection: ") + c.connection + "\r\n";
    in += "\r\n";
    RequestHead h;
    ASSERT_EQ(Parse(in, &h).status, ParseStatus::Done) << in;
    EXPECT_EQ(h.keep_alive, c.keep_alive) << in;
  }
}

TEST(RequestHead, ConnectionOptionsFromSeveralLinesCombine) {
  RequestHead h;
  ASSERT_EQ(Parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: x-a\r\nConnection: close\r\n\r\n", &h).status,
            ParseStatus::Done);
  EXPECT_FALSE(h.keep_alive);
  ConnectionTokens tokens;
  ASSERT_TRUE(tokens.AddAll(h.fields()));
  EXPECT_TRUE(tokens.Contains("X-A"));
  EXPECT_TRUE(ShouldDropOnForward("x-a", tokens));
  EXPECT_FALSE(ShouldDropOnForward("host", tokens));
}

TEST(RequestHead, BodyFraming) {
  RequestHead h;
  ASSERT_EQ(Parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 42\r\n\r\n", &h).status, ParseStatus::Done);
  EXPECT_EQ(h.body, BodyKind::ContentLength);
  EXPECT_EQ(h.content_length, 42u);
  ASSERT_EQ(Parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", &h).status, ParseStatus::Done);
  EXPECT_EQ(h.body, BodyKind::ContentLength);
  EXPECT_EQ(h.content_length, 0u);
  ASSERT_EQ(Parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", &h).status,
            ParseStatus::Done);
  EXPECT_EQ(h.body, BodyKind::Chunked);
  ASSERT_EQ(Parse("POST / HTTP/1.1\r\nHost: a\r\n\r\n", &h).status, ParseStatus::Done);
  EXPECT_EQ(h.body, BodyKind::None) << "RFC 9112 §6.3 ¶7: no framing fields, no request body";
  Limits max;
  max.max_body_bytes = UINT64_MAX;
  ASSERT_EQ(
      Parse("PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551615\r\n\r\n", &h, max).status,
      ParseStatus::Done);
  EXPECT_EQ(h.content_length, UINT64_MAX);
}

TEST(RequestHead, WebSocketUpgrade) {
  RequestHead h;
  ASSERT_EQ(
      Parse("GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n",
            &h)
          .status,
      ParseStatus::Done);
  EXPECT_TRUE(h.upgrade);
  EXPECT_EQ(h.upgrade_protocol, "websocket");
  EXPECT_FALSE(h.h2c_upgrade);
  // Upgrade without the Connection option is not an upgrade request.
  ASSERT_EQ(Parse("GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n", &h).status, ParseStatus::Done);
  EXPECT_FALSE(h.upgrade);
  EXPECT_EQ(h.upgrade_protocol, "");
  // RFC 9110 §7.8: ignored in HTTP/1.0.
  ASSERT_EQ(Parse("GET /ws HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n", &h).status,
            ParseStatus::Done);
  EXPECT_FALSE(h.upgrade);
}

TEST(RequestHead, H2cUpgradeNeedsSettingsListedInConnection) {
  const std::string base = "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\n";
  // The inputs outlive the heads: every view points into them.
  const std::string full =
      base + "Connection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n";
  const std::string unlisted = base + "Connection: Upgrade\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n";
  const std::string no_settings = base + "Connection: Upgrade, HTTP2-Settings\r\n\r\n";
  RequestHead h;
  ASSERT_EQ(Parse(full, &h).status, ParseStatus::Done);
  EXPECT_TRUE(h.upgrade);
  EXPECT_TRUE(h.h2c_upgrade);
  EXPECT_EQ(h.upgrade_protocol, "h2c");
  ASSERT_EQ(Parse(unlisted, &h).status, ParseStatus::Done);
  EXPECT_FALSE(h.h2c_upgrade) << "RFC 7540 §3.2.1: HTTP2-Settings must be a connection option";
  ASSERT_EQ(Parse(no_settings, &h).status, ParseStatus::Done);
  EXPECT_FALSE(h.h2c_upgrade);
  EXPECT_TRUE(h.upgrade);
}

TEST(RequestHead, ExpectContinue) {
  RequestHead h;
  ASSERT_EQ(
      Parse("PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n", &h).status,
      ParseStatus::Done);
  EXPECT_TRUE(h.expect_continue);
  ASSERT_EQ(Parse("PUT / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n", &h).status,
            ParseStatus::Done);
  EXPECT_FALSE(h.expect_continue) << "RFC 9110 §10.1.1: ignored in HTTP/1.0";
}

TEST(RequestHead, PipelinedRequestsAreConsumedOneAtATime) {
  const std::string in =
      "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
      "POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
      "\r\n"  // RFC 9112 §2.2: an empty line before a request line is skipped
      "GET /3 HTTP/1.1\r\nHost: a\r\n\r\n";
  std::string_view rest = in;
  RequestHead h;
  ParseResult r = Parse(rest, &h);
  ASSERT_EQ(r.status, ParseStatus::Done);
  EXPECT_EQ(h.path, "/1");
  EXPECT_EQ(r.consumed, in.find("POST"));
  rest.remove_prefix(r.consumed);
  r = Parse(rest, &h);
  ASSERT_EQ(r.status, ParseStatus::Done);
  EXPECT_EQ(h.path, "/2");
  ASSERT_EQ(h.body, BodyKind::ContentLength);
  rest.remove_prefix(r.consumed);
  EXPECT_EQ(rest.substr(0, 5), "hello") << "the body is left alone";
  rest.remove_prefix(h.content_length);
  r = Parse(rest, &h);
  ASSERT_EQ(r.status, ParseStatus::Done);
  EXPECT_EQ(h.path, "/3");
  EXPECT_EQ(r.consumed, rest.size());
}

TEST(RequestHead, HintScansEachByteOnceAndResetsAfterDone) {
  const std::string in =
      "GET / HTTP/1.1\r\nHost: a\r\nX-Long: " + std::string(1000, 'v') + "\r\n\r\nGET /next";
  const size_t head_end = in.find("GET /next");
  ParseHint hint;
  RequestHead h;
  for (size_t n = 1; n < head_end; ++n) {
    ASSERT_EQ(ParseRequestHead(std::string_view(in).substr(0, n), {}, &h, &hint).status,
              ParseStatus::NeedMore);
    // The next call resumes where this one stopped (at a trailing CR it waits for the LF).
    const bool trailing_cr = in[n - 1] == '\r';
    EXPECT_EQ(hint.pos, trailing_cr ? n - 1 : n) << n;
  }
  ParseResult r = ParseRequestHead(std::string_view(in).substr(0, head_end), {}, &h, &hint);
  ASSERT_EQ(r.status, ParseStatus::Done);
  EXPECT_EQ(r.consumed, head_end);
  EXPECT_EQ(h.headers[1].value.size(), 1000u);
  EXPECT_EQ(hint.pos, 0u) << "reset for the next request";
  EXPECT_EQ(ParseRequestHead(std::string_view(in).substr(head_end), {}, &h, &hint).status,
            ParseStatus::NeedMore);
}

TEST(RequestHead, HintIsResetAfterError) {
  ParseHint hint;
  RequestHead h;
  ASSERT_EQ(ParseRequestHead("GET / HTTP/1.1\r\nBad Name: x", {}, &h, &hint).status, ParseStatus::NeedMore);
  ASSERT_EQ(ParseRequestHead("GET / HTTP/1.1\r\nBad Name: x\r\n", {}, &h, &hint).status, ParseStatus::Error);
  EXPECT_EQ(hint.pos, 0u);
}

TEST(RequestHead, StaleHintOnAShorterBufferRescansInsteadOfReadingPastIt) {
  ParseHint hint;
  RequestHead h;
  const std::string in = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  ASSERT_EQ(ParseRequestHead(std::string_view(in).substr(0, 20), {}, &h, &hint).status,
            ParseStatus::NeedMore);
  ParseResult r = ParseRequestHead(std::string_view(in).substr(0, 10), {}, &h, &hint);
  EXPECT_EQ(r.status, ParseStatus::NeedMore);
  r = ParseRequestHead(in, {}, &h, &hint);
  EXPECT_EQ(r.status, ParseStatus::Done);
  EXPECT_EQ(r.consumed, in.size());
}

TEST(RequestHead, H2PrefaceConsumesNothing) {
  const std::string in =
      std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") + std::string("\0\0\0\4\0\0\0\0\0", 9);
  RequestHead h;
  ParseResult r = Parse(in, &h);
  EXPECT_EQ(r.status, ParseStatus::H2Preface);
  EXPECT_EQ(r.consumed, 0u);
}

}  // namespace
}  // namespace keel::http1
