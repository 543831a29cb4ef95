// Response heads from upstreams: status lines and RFC 9112 §6.3 body framing.
#include <string>
#include <vector>

#include "tests/fuzz/http1_driver.h"
#include "tests/http1/test_util.h"

namespace keel::http1 {
namespace {

struct Case {
  std::string name;
  std::string method;
  std::string input;
  ParseStatus status;
  BodyKind body = BodyKind::None;
  bool keep_alive = false;
  uint64_t content_length = 0;
};

constexpr auto kDone = ParseStatus::Done;
constexpr auto kError = ParseStatus::Error;

std::vector<Case> Cases() {
  return {
      {"ContentLength", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n", kDone,
       BodyKind::ContentLength, true, 12},
      {"Chunked", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", kDone, BodyKind::Chunked,
       true},
      {"NoFramingReadsUntilClose", "GET", "HTTP/1.1 200 OK\r\n\r\n", kDone, BodyKind::UntilClose, false},
      {"HeadResponseHasNoBody", "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", kDone,
       BodyKind::None, true},
      {"HeadResponseChunkedHasNoBody", "HEAD", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", kDone,
       BodyKind::None, true},
      {"NoContentHasNoBody", "GET", "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", kDone,
       BodyKind::None, true},
      {"NotModifiedHasNoBody", "GET", "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n", kDone,
       BodyKind::None, true},
      {"ContinueIsInformational", "PUT", "HTTP/1.1 100 Continue\r\n\r\n", kDone, BodyKind::None, true},
      {"EarlyHints", "GET", "HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n", kDone, BodyKind::None,
       true},
      {"Http10DefaultsToClose", "GET", "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", kDone,
       BodyKind::ContentLength, false},
      {"Http10KeepAlive", "GET", "HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n",
       kDone, BodyKind::ContentLength, true},
      {"Http11Close", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", kDone,
       BodyKind::ContentLength, false},
      {"NoReasonNoSpace", "GET", "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", kDone, BodyKind::ContentLength,
       true},
      {"EmptyReason", "GET", "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", kDone, BodyKind::ContentLength,
       true},
      {"ObsTextReason", "GET", "HTTP/1.1 200 D\xc3\xa9j\xc3\xa0\r\nContent-Length: 0\r\n\r\n", kDone,
       BodyKind::ContentLength, true},

      {"ContentLengthAndTransferEncoding", "GET",
       "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", kError},
      {"TwoContentLengths", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n",
       kError},
      {"InvalidContentLength", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 3a\r\n\r\n", kError},
      {"ContentLengthOverLimit", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 1073741825\r\n\r\n", kError},
      {"GzipTransferEncoding", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", kError},
      {"GzipChunkedTransferEncoding", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
       kError},
      {"ChunkedTwice", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", kError},
      {"TransferEncodingInHttp10", "GET", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", kError},
      {"SwitchingProtocolsWithoutUpgrade", "GET", "HTTP/1.1 101 Switching Protocols\r\n\r\n", kError},
      {"TwoDigitStatus", "GET", "HTTP/1.1 20 OK\r\n\r\n", kError},
      {"StatusOutOfRange", "GET", "HTTP/1.1 600 X\r\n\r\n", kError},
      {"NoSpaceBeforeReason", "GET", "HTTP/1.1 200OK\r\n\r\n", kError},
      {"Http2StatusLine", "GET", "HTTP/2.0 200 OK\r\n\r\n", kError},
      {"LowercaseVersion", "GET", "http/1.1 200 OK\r\n\r\n", kError},
      {"BareLf", "GET", "HTTP/1.1 200 OK\nContent-Length: 0\n\n", kError},
      {"ObsFold", "GET", "HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 0\r\n\r\n", kError},
      {"SpaceBeforeColon", "GET", "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n", kError},
      {"LeadingEmptyLine", "GET", "\r\nHTTP/1.1 200 OK\r\n\r\n", kError},
      {"HeadTooLarge", "GET", "HTTP/1.1 200 OK\r\nX-A: " + std::string(70000, 'a') + "\r\n\r\n", kError},
      {"StatusLineTooLong", "GET", "HTTP/1.1 200 " + std::string(9000, 'a') + "\r\n\r\n", kError},
  };
}

TEST(ResponseFraming, Verdicts) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    ResponseHead h;
    ParseResult r = ParseResponseHead(c.input, {}, c.method, &h);
    EXPECT_EQ(r.status, c.status) << r;
    if (r.status != c.status) continue;
    if (c.status == kError) {
      EXPECT_EQ(r.http_status, 502) << "the client sees a bad gateway";
      continue;
    }
    EXPECT_EQ(r.consumed, c.input.size());
    EXPECT_EQ(h.body, c.body);
    EXPECT_EQ(h.keep_alive, c.keep_alive);
    EXPECT_EQ(h.content_length, c.content_length);
  }
}

::testing::AssertionResult SplitsAgree(const Case& c) {
  ResponseHead h;
  const ParseResult whole = ParseResponseHead(c.input, {}, c.method, &h);
  for (size_t k = 0; k <= c.input.size(); k += c.input.size() > 1000 ? 97 : 1) {
    ResponseHead part;
    ParseResult two = ParseInTwoReads(c.input, k, [&](std::string_view b, ParseHint* hint) {
      return ParseResponseHead(b, {}, c.method, &part, hint);
    });
    if (!(two == whole))
      return ::testing::AssertionFailure() << "split at " << k << ": " << two << " vs " << whole;
  }
  return ::testing::AssertionSuccess();
}

TEST(ResponseFraming, EverySplitPointAgrees) {
  for (const Case& c : Cases()) EXPECT_TRUE(SplitsAgree(c)) << c.name;
}

TEST(ResponseFraming, FuzzDriverInvariantsHold) {
  for (const Case& c : Cases()) {
    EXPECT_EQ(fuzz::CheckResponseStream((c.method == "HEAD" ? "H" : "G") + c.input), "") << c.name;
  }
}

TEST(ResponseHead, StatusReasonAndFields) {
  ResponseHead h;
  const std::string in = "HTTP/1.1 404 Not Found Here\r\nServer: x\r\nContent-Length: 0\r\n\r\n";
  ASSERT_EQ(ParseResponseHead(in, {}, "GET", &h).status, ParseStatus::Done);
  EXPECT_EQ(h.status, 404);
  EXPECT_EQ(h.reason, "Not Found Here");
  EXPECT_EQ(h.minor_version, 1);
  ASSERT_EQ(h.num_headers, 2u);
  EXPECT_EQ(h.headers[0].name, "Server");
  EXPECT_FALSE(h.informational());
}

TEST(ResponseHead, ContinueThenFinalResponse) {
  const std::string in = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
  ResponseHead h;
  ParseResult r = ParseResponseHead(in, {}, "PUT", &h);
  ASSERT_EQ(r.status, ParseStatus::Done);
  EXPECT_TRUE(h.informational());
  EXPECT_EQ(r.consumed, in.find("HTTP/1.1 201"));
  r = ParseResponseHead(std::string_view(in).substr(r.consumed), {}, "PUT", &h);
  ASSERT_EQ(r.status, ParseStatus::Done);
  EXPECT_EQ(h.status, 201);
  EXPECT_EQ(h.body, BodyKind::ContentLength);
}

TEST(ResponseHead, SwitchingProtocols) {
  ResponseHead h;
  ASSERT_EQ(ParseResponseHead(
                "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", {},
                "GET", &h)
                .status,
            ParseStatus::Done);
  EXPECT_TRUE(h.upgrade);
  EXPECT_EQ(h.upgrade_protocol, "websocket");
  EXPECT_EQ(h.body, BodyKind::None);
}

}  // namespace
}  // namespace keel::http1
